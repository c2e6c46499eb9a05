//! Bad bytes in configuration files (issue 15): the XML reader, fed random text and valid
//! configurations cut, with characters dropped, inserted or repeated, answers a document or an
//! error at a line and column inside the text, and never panics. `PROPTEST_CASES` overrides the
//! bounded number of cases; no failure files are written.

use proptest::prelude::*;
use proptest::test_runner::Config;

use super::xml::parse;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2000);
    Config { cases, failure_persistence: None, ..Config::default() }
}

const VALID: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE configuration>\n\
<!-- a comment -->\n<configuration xmlns:xi=\"http://www.w3.org/2001/XInclude\">\n  <property>\n    \
<name>fs.defaultFS</name>\n    <value>hdfs://nn:8020&amp;&lt;&gt;&quot;&apos;&#65;&#x42;é</value>\n    \
<final>true</final>\n  </property>\n  <property name='x'><![CDATA[<b> & ]]></property>\n  \
<?pi data?>\n  <xi:include href=\"other.xml\"/>\n</configuration>\n";

/// Parses `text`; an error names a position inside it.
fn check(text: &str) -> Result<(), TestCaseError> {
    if let Err(e) = parse(text) {
        let lines = text.split('\n').count();
        prop_assert!(e.line >= 1 && e.line <= lines && e.column >= 1, "{:?} in {:?}", e, text);
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Edit {
    Cut(usize),
    Drop(usize),
    Insert(usize, char),
    Repeat(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let c = prop::sample::select(vec![
        '<', '>', '/', '?', '!', '&', '#', ';', '"', '\'', '=', '[', ']', '-', 'x', 'é', '\n',
    ]);
    prop_oneof![
        any::<usize>().prop_map(Edit::Cut),
        any::<usize>().prop_map(Edit::Drop),
        (any::<usize>(), c).prop_map(|(at, c)| Edit::Insert(at, c)),
        (any::<usize>(), 1usize..20).prop_map(|(at, n)| Edit::Repeat(at, n)),
    ]
}

fn apply(chars: &mut Vec<char>, e: &Edit) {
    let at = |i: usize, n: usize| if n == 0 { 0 } else { i % n };
    match *e {
        Edit::Cut(i) => chars.truncate(at(i, chars.len() + 1)),
        Edit::Drop(i) if !chars.is_empty() => {
            let i = at(i, chars.len());
            chars.remove(i);
        }
        Edit::Drop(_) => {}
        Edit::Insert(i, c) => chars.insert(at(i, chars.len() + 1), c),
        Edit::Repeat(i, n) => {
            let i = at(i, chars.len() + 1);
            let piece: Vec<char> = chars[i..(i + n).min(chars.len())].to_vec();
            chars.splice(i..i, piece);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_text_parses_or_fails_at_a_position(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn markup_like_text_parses_or_fails_at_a_position(text in "[<>?!/=\"' a-cé&#x;\\[\\]CDATA\n-]{0,80}") {
        check(&text)?;
    }

    #[test]
    fn an_edited_configuration_parses_or_fails_at_a_position(edits in prop::collection::vec(edit(), 1..6)) {
        prop_assert!(parse(VALID).is_ok());
        let mut chars: Vec<char> = VALID.chars().collect();
        for e in &edits {
            apply(&mut chars, e);
        }
        check(&chars.into_iter().collect::<String>())?;
    }
}
