//! A small XML reader, enough for Hadoop's configuration files: one root element, elements with
//! attributes, text with the five predefined entities and character references, CDATA sections,
//! comments, processing instructions (the `<?xml …?>` header) and a DOCTYPE without entity
//! definitions. Anything else is an error with its line and column, never a guess.
//!
//! No XML crate is used: the files are small and their shape fixed, and the client's dependency
//! tree stays lean. Namespaces are not resolved (`xi:include` is just that name); encodings
//! other than UTF-8 are refused.

/// An element: its name, attributes, and what it holds, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// Where its start tag is, 1-based (line, column).
    pub at: (usize, usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Element(Element),
    /// Character data, entities decoded (CDATA sections included as they are).
    Text(String),
}

impl Element {
    /// The elements it holds.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The text it holds (its child elements' text not included).
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) => Some(t.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// What is wrong with a document, and where (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub struct XmlError {
    pub line: usize,
    pub column: usize,
    pub what: String,
}

/// Elements nested deeper than this are refused: a configuration is three levels deep, and the
/// reader recurses.
const MAX_DEPTH: usize = 64;

/// Parses a whole document; returns its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = Reader { s: text, pos: 0 };
    r.misc()?;
    if r.rest().starts_with("<!DOCTYPE") {
        r.doctype()?;
        r.misc()?;
    }
    if !r.rest().starts_with('<') {
        return Err(r.error(if r.rest().is_empty() {
            "no root element (the file is empty)"
        } else {
            "text before the root element"
        }));
    }
    let root = r.element(0)?;
    r.misc()?;
    if !r.rest().is_empty() {
        return Err(r.error("content after the root element"));
    }
    Ok(root)
}

struct Reader<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn error(&self, what: impl Into<String>) -> XmlError {
        self.error_at(self.pos, what)
    }

    fn error_at(&self, pos: usize, what: impl Into<String>) -> XmlError {
        let (line, column) = self.line_column(pos);
        XmlError { line, column, what: what.into() }
    }

    fn line_column(&self, pos: usize) -> (usize, usize) {
        let before = &self.s[..pos];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
    }

    /// Moves past `end`, which must come; `what` names the construct for the error.
    fn skip_past(&mut self, end: &str, what: &str) -> Result<&'a str, XmlError> {
        match self.rest().find(end) {
            Some(i) => {
                let inner = &self.rest()[..i];
                self.pos += i + end.len();
                Ok(inner)
            }
            None => Err(self.error(format!("{what} is not closed (no {end:?})"))),
        }
    }

    /// Whitespace, comments and processing instructions, outside the root element.
    fn misc(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_space();
            if self.rest().starts_with("<!--") {
                self.comment()?;
            } else if self.rest().starts_with("<?") {
                self.instruction()?;
            } else {
                return Ok(());
            }
        }
    }

    fn comment(&mut self) -> Result<(), XmlError> {
        self.pos += "<!--".len();
        let start = self.pos;
        let body = self.skip_past("-->", "a comment")?;
        if let Some(i) = body.find("--") {
            return Err(self.error_at(start + i, "\"--\" inside a comment"));
        }
        Ok(())
    }

    /// `<?target …?>`; the `<?xml …?>` header must declare UTF-8 if it declares an encoding.
    fn instruction(&mut self) -> Result<(), XmlError> {
        let start = self.pos;
        self.pos += "<?".len();
        let body = self.skip_past("?>", "a processing instruction")?;
        let target = body.split([' ', '\t', '\r', '\n']).next().unwrap_or_default();
        if target.is_empty() {
            return Err(self.error_at(start, "a processing instruction without a name"));
        }
        if target.eq_ignore_ascii_case("xml") {
            if start != 0 {
                return Err(self.error_at(start, "the <?xml ...?> declaration must come first"));
            }
            if let Some(i) = body.find("encoding") {
                let enc = body[i + "encoding".len()..].trim_start().trim_start_matches('=').trim_start();
                let enc = enc.trim_start_matches(['"', '\'']);
                let enc = &enc[..enc.find(['"', '\'']).unwrap_or(enc.len())];
                if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("us-ascii") {
                    return Err(self.error_at(start, format!("encoding {enc:?} is not supported (only UTF-8)")));
                }
            }
        }
        Ok(())
    }

    /// `<!DOCTYPE …>`, skipped; an internal subset may not define entities.
    fn doctype(&mut self) -> Result<(), XmlError> {
        let start = self.pos;
        let mut depth = 0usize;
        for (i, c) in self.rest().char_indices() {
            match c {
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                '>' if depth == 0 => {
                    let body = &self.rest()[..i];
                    if body.contains("<!ENTITY") {
                        return Err(self.error_at(start, "entity definitions are not supported"));
                    }
                    self.pos += i + 1;
                    return Ok(());
                }
                _ => {}
            }
        }
        Err(self.error_at(start, "<!DOCTYPE is not closed"))
    }

    fn name(&mut self) -> Result<&'a str, XmlError> {
        let rest = self.rest();
        let len = rest
            .char_indices()
            .find(|&(i, c)| !(is_name_start(c) || (i > 0 && (c.is_ascii_digit() || c == '-' || c == '.'))))
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 {
            return Err(self.error(match rest.chars().next() {
                Some(c) => format!("expected a name, found {c:?}"),
                None => "expected a name, found the end of the file".to_string(),
            }));
        }
        self.pos += len;
        Ok(&rest[..len])
    }

    /// An element, from its `<` to the end of its end tag.
    fn element(&mut self, depth: usize) -> Result<Element, XmlError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(format!("elements nested more than {MAX_DEPTH} deep")));
        }
        let at = self.line_column(self.pos);
        self.pos += 1;
        let name = self.name()?.to_string();
        let mut attrs: Vec<(String, String)> = Vec::new();
        loop {
            let before = self.pos;
            self.skip_space();
            if self.rest().starts_with("/>") {
                self.pos += 2;
                return Ok(Element { name, attrs, children: Vec::new(), at });
            }
            if self.rest().starts_with('>') {
                self.pos += 1;
                break;
            }
            if self.pos == before {
                return Err(self.error(match self.rest().chars().next() {
                    Some(c) => format!("unexpected {c:?} in the tag <{name}>"),
                    None => format!("the tag <{name}> is not closed"),
                }));
            }
            let attr_at = self.pos;
            let key = self.name()?.to_string();
            self.skip_space();
            if !self.rest().starts_with('=') {
                return Err(self.error(format!("attribute {key} of <{name}> has no value")));
            }
            self.pos += 1;
            self.skip_space();
            let value = self.attr_value()?;
            if attrs.iter().any(|(k, _)| *k == key) {
                return Err(self.error_at(attr_at, format!("attribute {key} repeated in <{name}>")));
            }
            attrs.push((key, value));
        }
        let children = self.content(&name, depth)?;
        Ok(Element { name, attrs, children, at })
    }

    fn attr_value(&mut self) -> Result<String, XmlError> {
        let Some(quote) = self.rest().chars().next().filter(|c| *c == '"' || *c == '\'') else {
            return Err(self.error("an attribute value must be quoted"));
        };
        self.pos += 1;
        let start = self.pos;
        let Some(len) = self.rest().find(quote) else {
            return Err(self.error("an attribute value is not closed"));
        };
        let raw = &self.rest()[..len];
        if let Some(i) = raw.find('<') {
            return Err(self.error_at(start + i, "'<' in an attribute value"));
        }
        let value = self.decode(raw, start)?;
        self.pos += len + 1;
        Ok(value)
    }

    /// What an element holds, up to and including its end tag.
    fn content(&mut self, name: &str, depth: usize) -> Result<Vec<Node>, XmlError> {
        let mut children = Vec::new();
        let mut text = String::new();
        loop {
            let rest = self.rest();
            let Some(lt) = rest.find('<') else {
                return Err(self.error(format!("<{name}> is not closed at the end of the file")));
            };
            if lt > 0 {
                text += &self.decode(&rest[..lt], self.pos)?;
                self.pos += lt;
            }
            let rest = self.rest();
            if rest.starts_with("</") {
                let end_at = self.pos;
                self.pos += 2;
                let end = self.name()?;
                self.skip_space();
                if !self.rest().starts_with('>') {
                    return Err(self.error(format!("the end tag </{end}> is not closed")));
                }
                self.pos += 1;
                if end != name {
                    return Err(self.error_at(end_at, format!("</{end}> closes <{name}>")));
                }
                break;
            } else if rest.starts_with("<!--") {
                self.comment()?;
            } else if rest.starts_with("<![CDATA[") {
                self.pos += "<![CDATA[".len();
                text += self.skip_past("]]>", "a CDATA section")?;
            } else if rest.starts_with("<?") {
                self.instruction()?;
            } else if rest.starts_with("<!") {
                return Err(self.error("unexpected markup declaration inside an element"));
            } else {
                if !text.is_empty() {
                    children.push(Node::Text(std::mem::take(&mut text)));
                }
                children.push(Node::Element(self.element(depth + 1)?));
            }
        }
        if !text.is_empty() {
            children.push(Node::Text(text));
        }
        Ok(children)
    }

    /// `raw` (starting at byte `at` of the document) with its references decoded.
    fn decode(&self, raw: &str, at: usize) -> Result<String, XmlError> {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(amp) = rest.find('&') {
            out += &rest[..amp];
            let here = at + (raw.len() - rest.len()) + amp;
            let after = &rest[amp + 1..];
            let Some(semi) = after.find(';').filter(|&i| i <= 12) else {
                return Err(self.error_at(here, "'&' that starts no entity (write &amp;)"));
            };
            let entity = &after[..semi];
            let c = match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                e if e.starts_with('#') => {
                    let code = match e.strip_prefix("#x") {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => e[1..].parse::<u32>().ok(),
                    };
                    code.and_then(char::from_u32)
                        .filter(|c| *c != '\0')
                        .ok_or_else(|| self.error_at(here, format!("&{e}; is not a character")))?
                }
                e => return Err(self.error_at(here, format!("unknown entity &{e};"))),
            };
            out.push(c);
            rest = &after[semi + 1..];
        }
        out += rest;
        Ok(out)
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':' || !c.is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (usize, usize, String) {
        let e = parse(text).unwrap_err();
        (e.line, e.column, e.what)
    }

    #[test]
    fn reads_elements_attributes_text_and_entities() {
        let doc = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?xml-stylesheet type=\"text/xsl\" \
                   href=\"configuration.xsl\"?>\n<!DOCTYPE configuration>\n<!-- licence -->\n<configuration a='1' \
                   b=\"x&amp;y\">\n  <p>a &lt;b&gt; &quot;c&quot; &apos;d&apos; &#65;&#x42; <![CDATA[<raw & \
                   kept>]]><!-- gone --></p>\n  <empty/>\n</configuration>\n<!-- trailing -->\n";
        let root = parse(doc).unwrap();
        assert_eq!((root.name.as_str(), root.attr("a"), root.attr("b")), ("configuration", Some("1"), Some("x&y")));
        assert_eq!(root.at, (5, 1));
        let kids: Vec<&Element> = root.elements().collect();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[0].text(), "a <b> \"c\" 'd' AB <raw & kept>");
        assert_eq!((kids[1].name.as_str(), kids[1].children.len()), ("empty", 0));
    }

    #[test]
    fn malformed_documents_say_where_and_what() {
        assert_eq!(err(""), (1, 1, "no root element (the file is empty)".into()));
        assert_eq!(err("<a>\n  <b>x</c>\n</a>"), (2, 7, "</c> closes <b>".into()));
        assert_eq!(err("<a>x"), (1, 4, "<a> is not closed at the end of the file".into()));
        assert_eq!(err("<a>&nbsp;</a>"), (1, 4, "unknown entity &nbsp;".into()));
        assert_eq!(err("<a>fish & chips</a>"), (1, 9, "'&' that starts no entity (write &amp;)".into()));
        assert_eq!(err("<a b=1/>"), (1, 6, "an attribute value must be quoted".into()));
        assert_eq!(err("<a b='1' b='2'/>"), (1, 10, "attribute b repeated in <a>".into()));
        assert_eq!(err("<a/><b/>"), (1, 5, "content after the root element".into()));
        assert_eq!(err("<a><!-- x </a>").2, "a comment is not closed (no \"-->\")");
        assert_eq!(err("<a><!-- x -- y --></a>"), (1, 11, "\"--\" inside a comment".into()));
        assert_eq!(err("\n<?xml version='1.0'?><a/>").0, 2);
        assert!(err("<?xml version='1.0' encoding='ISO-8859-1'?><a/>").2.contains("ISO-8859-1"));
        assert_eq!(err("<!DOCTYPE a [<!ENTITY x 'y'>]><a/>").2, "entity definitions are not supported");
        assert_eq!(err("<a>&#0;</a>").2, "&#0; is not a character");
        assert_eq!(err("hello").2, "text before the root element");
        assert_eq!(err("<a <b/>").2, "expected a name, found '<'");
        let deep = "<a>".repeat(100);
        assert!(err(&deep).2.contains("nested more than"));
    }
}
