//! Simple JSON paths: member names and array indexes joined by dots (`data.items`,
//! `links.next`, `batches.0.serial`). A leading `$` or `$.` is allowed; `$` alone (or an empty
//! path) is the document itself.

use serde_json::Value;

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonPath {
    text: String,
    parts: Vec<String>,
}

impl JsonPath {
    /// Parses `text`; an empty segment (`a..b`) is an error.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let body = t.strip_prefix('$').unwrap_or(t);
        let body = body.strip_prefix('.').unwrap_or(body);
        let parts: Vec<String> = if body.is_empty() {
            Vec::new()
        } else {
            body.split('.').map(str::to_owned).collect()
        };
        if parts.iter().any(|p| p.trim().is_empty()) {
            return Err(format!("`{text}` has an empty segment"));
        }
        Ok(Self {
            text: t.to_owned(),
            parts,
        })
    }

    /// The document itself.
    pub(crate) fn root() -> Self {
        Self {
            text: "$".to_owned(),
            parts: Vec::new(),
        }
    }

    /// The path as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at the path. A member literally named like the whole dotted path wins over
    /// the nested reading, so keys containing dots still work.
    pub(crate) fn get<'a>(&self, value: &'a Value) -> Option<&'a Value> {
        if self.parts.len() > 1
            && let Some(v) = value.get(self.parts.join(".").as_str())
        {
            return Some(v);
        }
        self.parts.iter().try_fold(value, |v, part| match v {
            Value::Object(map) => map.get(part),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }

    /// The last member name, used to sniff a file's head.
    pub(crate) fn leaf(&self) -> Option<&str> {
        self.parts.last().map(String::as_str)
    }
}

/// A scalar as text: strings verbatim, numbers and booleans as JSON writes them, `null` as
/// an empty string; arrays and objects as JSON.
pub(crate) fn as_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_walk_members_and_indexes() {
        let doc = json!({"data": {"items": [{"id": 1}, {"id": 2}]}, "a.b": 3});
        let p = JsonPath::parse("data.items.1.id").expect("path");
        assert_eq!(p.get(&doc), Some(&json!(2)));
        assert_eq!(
            JsonPath::parse("$.a.b").expect("path").get(&doc),
            Some(&json!(3))
        );
        assert_eq!(JsonPath::parse("$").expect("path").get(&doc), Some(&doc));
        assert_eq!(JsonPath::parse("data.nope").expect("path").get(&doc), None);
        assert!(JsonPath::parse("a..b").is_err());
        assert_eq!(as_text(&json!(null)), "");
        assert_eq!(as_text(&json!(12.5)), "12.5");
    }
}
