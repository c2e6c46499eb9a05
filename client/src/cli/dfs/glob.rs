//! Hadoop's glob patterns (`GlobPattern`, `GlobExpander`), matched against one path component:
//! `*`, `?`, `[abc]`, `[a-c]`, `[^a]` (or `[!a]`), `{a,b}` (nested too) and `\` escapes.
//!
//! A `{…}` whose alternatives hold a `/` spans components; [`expand_slash_braces`] turns such
//! a pattern into one pattern per alternative first, as Hadoop's `GlobExpander` does.

#[derive(Debug, Clone)]
enum Tok {
    Lit(char),
    /// `*`: any run of characters.
    Any,
    /// `?`: one character.
    One,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `{a,b}`: one of the alternatives.
    Alt(Vec<Vec<Tok>>),
}

/// A compiled pattern for one path component.
#[derive(Debug, Clone)]
pub struct Glob {
    toks: Vec<Tok>,
    fold_case: bool,
}

/// Whether `s` holds an unescaped wildcard (`*`, `?`, `[`, `{`).
pub fn has_wildcard(s: &str) -> bool {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '*' | '?' | '[' | '{' => return true,
            _ => {}
        }
    }
    false
}

/// `s` without its escaping backslashes (a path component that is no glob).
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

impl Glob {
    /// Compiles `pattern`; the error is Hadoop's `Illegal file pattern: …`.
    pub fn new(pattern: &str, fold_case: bool) -> Result<Glob, String> {
        let pattern = if fold_case { pattern.to_lowercase() } else { pattern.to_string() };
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let mut alts =
            parse(&chars, &mut pos, 0).map_err(|e| format!("Illegal file pattern: {e} for glob {pattern}"))?;
        Ok(Glob { toks: alts.pop().unwrap_or_default(), fold_case })
    }

    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> =
            if self.fold_case { name.to_lowercase().chars().collect() } else { name.chars().collect() };
        matches(&self.toks, &name)
    }
}

fn parse(chars: &[char], pos: &mut usize, depth: usize) -> Result<Vec<Vec<Tok>>, &'static str> {
    let mut alts: Vec<Vec<Tok>> = vec![Vec::new()];
    while let Some(&c) = chars.get(*pos) {
        *pos += 1;
        let tok = match c {
            '\\' => {
                let &next = chars.get(*pos).ok_or("Missing escaped character")?;
                *pos += 1;
                Tok::Lit(next)
            }
            '*' => Tok::Any,
            '?' => Tok::One,
            '[' => class(chars, pos)?,
            '{' => Tok::Alt(parse(chars, pos, depth + 1)?),
            '}' if depth > 0 => return Ok(alts),
            ',' if depth > 0 => {
                alts.push(Vec::new());
                continue;
            }
            c => Tok::Lit(c),
        };
        alts.last_mut().expect("at least one alternative").push(tok);
    }
    if depth > 0 { Err("Unclosed group") } else { Ok(alts) }
}

/// A character class after its `[`, up to and including its `]`.
fn class(chars: &[char], pos: &mut usize) -> Result<Tok, &'static str> {
    let negated = matches!(chars.get(*pos), Some('^' | '!'));
    if negated {
        *pos += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let &c = chars.get(*pos).ok_or("Unclosed character class")?;
        *pos += 1;
        if c == ']' && !first {
            return Ok(Tok::Class { negated, ranges });
        }
        first = false;
        let lo = if c == '\\' {
            let &e = chars.get(*pos).ok_or("Unclosed character class")?;
            *pos += 1;
            e
        } else {
            c
        };
        if chars.get(*pos) == Some(&'-') && chars.get(*pos + 1).is_some_and(|&n| n != ']') {
            let hi = chars[*pos + 1];
            *pos += 2;
            if hi < lo {
                return Err("Illegal character range");
            }
            ranges.push((lo, hi));
        } else {
            ranges.push((lo, lo));
        }
    }
}

fn matches(toks: &[Tok], s: &[char]) -> bool {
    let Some((tok, rest)) = toks.split_first() else { return s.is_empty() };
    match tok {
        Tok::Lit(c) => s.first() == Some(c) && matches(rest, &s[1..]),
        Tok::One => !s.is_empty() && matches(rest, &s[1..]),
        Tok::Class { negated, ranges } => s.first().is_some_and(|c| {
            ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(c)) != *negated && matches(rest, &s[1..])
        }),
        Tok::Any => (0..=s.len()).any(|skip| matches(rest, &s[skip..])),
        Tok::Alt(alts) => alts.iter().any(|alt| {
            let joined: Vec<Tok> = alt.iter().chain(rest).cloned().collect();
            matches(&joined, s)
        }),
    }
}

/// `s` with every `{…}` group whose alternatives hold a `/` expanded into separate patterns
/// (each of them expanded again); patterns without such a group come back as they are.
pub fn expand_slash_braces(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '{' => {
                let Some((end, alts)) = group(&chars, i) else { return vec![s.to_string()] };
                if alts.iter().any(|a| a.contains('/')) {
                    let (head, tail): (String, String) =
                        (chars[..i].iter().collect(), chars[end + 1..].iter().collect());
                    return alts.iter().flat_map(|a| expand_slash_braces(&format!("{head}{a}{tail}"))).collect();
                }
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    vec![s.to_string()]
}

/// The group opening at `open`: the index of its `}` and its top-level alternatives.
fn group(chars: &[char], open: usize) -> Option<(usize, Vec<String>)> {
    let (mut depth, mut alts, mut cur, mut i) = (0usize, Vec::new(), String::new(), open + 1);
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                cur.push(c);
                cur.extend(chars.get(i + 1));
                i += 2;
                continue;
            }
            '{' => depth += 1,
            '}' if depth == 0 => {
                alts.push(cur);
                return Some((i, alts));
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                alts.push(std::mem::take(&mut cur));
                i += 1;
                continue;
            }
            _ => {}
        }
        cur.push(c);
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> bool {
        Glob::new(pattern, false).unwrap().matches(name)
    }

    #[test]
    fn wildcards_classes_and_groups() {
        assert!(m("*", "") && m("*", "abc") && m("a*c", "abbbc") && !m("a*c", "abd"));
        assert!(m("?b", "ab") && !m("?b", "b"));
        assert!(m("[a-c]x", "bx") && !m("[a-c]x", "dx"));
        assert!(m("[^a]", "b") && !m("[^a]", "a") && m("[!a]", "z"));
        assert!(m("{a,bc}.txt", "bc.txt") && m("{a,bc}.txt", "a.txt") && !m("{a,bc}.txt", "b.txt"));
        assert!(m("x{a,{b,c}d}", "xcd") && !m("x{a,{b,c}d}", "xc"));
        assert!(m(r"a\*", "a*") && !m(r"a\*", "ab"));
        assert!(Glob::new("FILE*", true).unwrap().matches("file1"));
        assert!(Glob::new("[a-", false).is_err() && Glob::new("{a,b", false).is_err());
    }

    #[test]
    fn wildcard_detection_and_slash_groups() {
        assert!(has_wildcard("/a/*") && has_wildcard("{a,b}") && !has_wildcard(r"/a/\*") && !has_wildcard("/a/b"));
        assert_eq!(unescape(r"a\*b"), "a*b");
        assert_eq!(expand_slash_braces("/x/{a/b,c}/d"), ["/x/a/b/d", "/x/c/d"]);
        assert_eq!(expand_slash_braces("/x/{a,b}"), ["/x/{a,b}"]);
    }
}
