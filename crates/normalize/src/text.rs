//! Free-text cleanup and the Python literals that pandas leaves in CSV exports.

use serde_json::{Map, Number, Value};

/// Missing-value spellings left by pandas, spreadsheets and registry placeholders.
///
/// `NA` is deliberately absent: it is Namibia's country code (Puro). The en dash is CARB's
/// placeholder for an empty text cell.
const NULL_TOKENS: [&str; 12] = [
    "nan",
    "none",
    "null",
    "n/a",
    "nat",
    "<na>",
    "-",
    "–",
    "—",
    "n.a.",
    "#n/a",
    "undefined",
];

/// Whether the trimmed value is a missing-value token (`nan`, `None`, `N/A`, `-`, …).
pub fn is_null_token(raw: &str) -> bool {
    let s = raw.trim();
    NULL_TOKENS.iter().any(|t| s.eq_ignore_ascii_case(t))
}

/// Trims, collapses runs of whitespace (including newlines and no-break spaces) to one space,
/// and maps blanks and missing-value tokens to `None`.
pub fn clean_text(raw: &str) -> Option<String> {
    let collapsed = if is_collapsed(raw) {
        raw.to_owned()
    } else {
        raw.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    if collapsed.is_empty() || is_null_token(&collapsed) {
        None
    } else {
        Some(collapsed)
    }
}

/// Whether `raw` is ASCII with single spaces between words and none around them: what
/// [`clean_text`] would make of it already (most values are), so it is copied as it is.
fn is_collapsed(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    bytes.first() != Some(&b' ')
        && bytes.last() != Some(&b' ')
        && bytes.iter().all(|&b| b == b' ' || b.is_ascii_graphic())
        && !raw.contains("  ")
}

/// Why a Python literal could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a Python literal: {reason} at byte {at}")]
pub struct PyLiteralError {
    /// The raw value (shortened to 200 characters).
    pub value: String,
    /// What went wrong.
    pub reason: &'static str,
    /// Byte offset of the problem.
    pub at: usize,
}

/// Parses a Python literal as pandas writes it into CSV (`['a', 'b']`,
/// `[{'description': 'Colombian Carbon Tax', 'code': 'ICC'}]`, `True`, `None`, `1.5`) into JSON.
pub fn parse_py_literal(raw: &str) -> Result<Value, PyLiteralError> {
    let mut p = PyParser {
        src: raw,
        b: raw.as_bytes(),
        i: 0,
        depth: 0,
    };
    p.skip_ws();
    let v = p.value()?;
    p.skip_ws();
    if p.i != p.b.len() {
        return Err(p.err("unexpected text after the literal"));
    }
    Ok(v)
}

/// Parses a Python list of strings (`['corporate_targets', 'other']`); blank or `[]` is empty.
pub fn parse_py_str_list(raw: &str) -> Result<Vec<String>, PyLiteralError> {
    if clean_text(raw).is_none() {
        return Ok(Vec::new());
    }
    match parse_py_literal(raw)? {
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(PyLiteralError {
                    value: shorten(raw),
                    reason: "a list item is not a string",
                    at: 0,
                }),
            })
            .collect(),
        _ => Err(PyLiteralError {
            value: shorten(raw),
            reason: "not a list",
            at: 0,
        }),
    }
}

fn shorten(raw: &str) -> String {
    raw.chars().take(200).collect()
}

/// Nesting deeper than this is not something a registry export produces.
const MAX_DEPTH: usize = 64;

struct PyParser<'a> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl PyParser<'_> {
    fn err(&self, reason: &'static str) -> PyLiteralError {
        PyLiteralError {
            value: shorten(self.src),
            reason,
            at: self.i,
        }
    }

    fn skip_ws(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Value, PyLiteralError> {
        match self.b.get(self.i) {
            None => Err(self.err("unexpected end")),
            Some(b'[') => self.sequence(b']').map(Value::Array),
            Some(b'(') => self.sequence(b')').map(Value::Array),
            Some(b'{') => self.dict(),
            Some(b'\'' | b'"') => self.string().map(Value::String),
            Some(c) if c.is_ascii_digit() || *c == b'-' || *c == b'+' || *c == b'.' => {
                self.number()
            }
            Some(_) => self.word(),
        }
    }

    fn enter(&mut self) -> Result<(), PyLiteralError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.i += 1;
        Ok(())
    }

    fn sequence(&mut self, close: u8) -> Result<Vec<Value>, PyLiteralError> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.b.get(self.i) == Some(&close) {
                self.i += 1;
                break;
            }
            items.push(self.value()?);
            self.skip_ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(c) if *c == close => {}
                _ => return Err(self.err("expected `,` or the closing bracket")),
            }
        }
        self.depth -= 1;
        Ok(items)
    }

    fn dict(&mut self) -> Result<Value, PyLiteralError> {
        self.enter()?;
        let mut map = Map::new();
        loop {
            self.skip_ws();
            if self.b.get(self.i) == Some(&b'}') {
                self.i += 1;
                break;
            }
            let key = match self.value()? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            self.skip_ws();
            if self.b.get(self.i) != Some(&b':') {
                return Err(self.err("expected `:` after a dict key"));
            }
            self.i += 1;
            self.skip_ws();
            let v = self.value()?;
            map.insert(key, v);
            self.skip_ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
        self.depth -= 1;
        Ok(Value::Object(map))
    }

    fn string(&mut self) -> Result<String, PyLiteralError> {
        let quote = self.b[self.i];
        self.i += 1;
        let mut out = String::new();
        loop {
            let rest = &self.src[self.i..];
            let Some(c) = rest.chars().next() else {
                return Err(self.err("unterminated string"));
            };
            self.i += c.len_utf8();
            if c as u32 == u32::from(quote) {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.src[self.i..].chars().next() else {
                return Err(self.err("unterminated escape"));
            };
            self.i += e.len_utf8();
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                'x' => out.push(self.hex_escape(2)?),
                'u' => out.push(self.hex_escape(4)?),
                'U' => out.push(self.hex_escape(8)?),
                // `\\`, `\'`, `\"` and anything else Python keeps as the character itself.
                other => out.push(other),
            }
        }
    }

    fn hex_escape(&mut self, len: usize) -> Result<char, PyLiteralError> {
        let digits = self
            .src
            .get(self.i..self.i + len)
            .ok_or_else(|| self.err("short hex escape"))?;
        let code = u32::from_str_radix(digits, 16).map_err(|_| self.err("bad hex escape"))?;
        self.i += len;
        char::from_u32(code).ok_or_else(|| self.err("escape is not a character"))
    }

    fn number(&mut self) -> Result<Value, PyLiteralError> {
        let start = self.i;
        while self
            .b
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.' | b'_'))
        {
            self.i += 1;
        }
        let text = self.src[start..self.i].replace('_', "");
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Number::from_f64(f)
                .map(Value::Number)
                .ok_or_else(|| self.err("number out of range")),
            _ => Err(self.err("malformed number")),
        }
    }

    fn word(&mut self) -> Result<Value, PyLiteralError> {
        let start = self.i;
        while self
            .b
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += 1;
        }
        match &self.src[start..self.i] {
            "True" => Ok(Value::Bool(true)),
            "False" => Ok(Value::Bool(false)),
            "None" | "nan" => Ok(Value::Null),
            _ => {
                self.i = start;
                Err(self.err("unknown word"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cleans_text() {
        assert_eq!(
            clean_text("  Status Effective \n (GMT) "),
            Some("Status Effective (GMT)".into())
        );
        for blank in [
            "", "  ", "nan", "NaN", "None", "N/A", "-", "–", "null", "NaT",
        ] {
            assert_eq!(clean_text(blank), None, "{blank:?}");
        }
        // Namibia, not "not available".
        assert_eq!(clean_text("NA"), Some("NA".into()));
        assert_eq!(clean_text("A\u{a0}B"), Some("A B".into()));
        // Values already clean are copied; any other whitespace is collapsed as before.
        for (raw, clean) in [
            ("Acme Holdings Ltd.", "Acme Holdings Ltd."),
            ("Acme  Holdings", "Acme Holdings"),
            ("Acme\tHoldings", "Acme Holdings"),
            ("Acme\u{b}Holdings", "Acme Holdings"),
            (" Acme", "Acme"),
            ("Acme ", "Acme"),
            ("Émile\u{2003}Zola", "Émile Zola"),
        ] {
            assert_eq!(clean_text(raw).as_deref(), Some(clean), "{raw:?}");
        }
    }

    #[test]
    fn python_lists() {
        assert_eq!(
            parse_py_str_list("['corporate_targets', 'public_environmental_claims']"),
            Ok(vec![
                "corporate_targets".to_owned(),
                "public_environmental_claims".to_owned()
            ])
        );
        assert_eq!(parse_py_str_list("[]"), Ok(vec![]));
        assert_eq!(parse_py_str_list(""), Ok(vec![]));
        assert_eq!(
            parse_py_str_list(r#"["it's", 'a \'b\'', 'Bogotá']"#),
            Ok(vec!["it's".into(), "a 'b'".into(), "Bogotá".into()])
        );
        assert!(parse_py_str_list("['a'").is_err());
        assert!(parse_py_str_list("[1, 2]").is_err());
        assert!(parse_py_str_list("'a'").is_err());
    }

    #[test]
    fn python_dicts() {
        let v = parse_py_literal(
            "[{'description': 'Colombian Carbon Tax', 'code': 'ICC'}, {'n': 1.5, 'ok': True, 'x': None}]",
        );
        assert_eq!(
            v,
            Ok(json!([
                {"description": "Colombian Carbon Tax", "code": "ICC"},
                {"n": 1.5, "ok": true, "x": null}
            ]))
        );
        assert!(parse_py_literal("{'a' 1}").is_err());
        assert!(parse_py_literal("os.system('x')").is_err());
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse_py_literal(&deep).is_err());
    }
}
