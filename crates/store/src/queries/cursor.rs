//! Page cursors: the sort key of a row, encoded as one opaque token.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{StoreError, StoreResult};

/// The sort key of a row, as a page cursor: a JSON array of the key values, hex-encoded so it
/// is one opaque token that any transport carries unchanged.
pub(crate) fn cursor(values: &[serde_json::Value]) -> String {
    let json = serde_json::Value::Array(values.to_vec()).to_string();
    let mut out = String::with_capacity(json.len() * 2);
    for byte in json.bytes() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// A decoded cursor.
#[derive(Debug)]
pub(crate) struct Cursor(Vec<serde_json::Value>);

impl Cursor {
    /// Decodes a cursor of `arity` values made by [`cursor`].
    pub(crate) fn parse(text: &str, arity: usize) -> StoreResult<Self> {
        let invalid = || StoreError::InvalidCursor(text.chars().take(64).collect());
        if !text.len().is_multiple_of(2) || !text.is_ascii() {
            return Err(invalid());
        }
        let bytes = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| invalid())?;
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Array(values)) if values.len() == arity => Ok(Self(values)),
            _ => Err(invalid()),
        }
    }

    fn invalid(&self) -> StoreError {
        StoreError::InvalidCursor(serde_json::Value::Array(self.0.clone()).to_string())
    }

    pub(crate) fn text(&self, i: usize) -> StoreResult<String> {
        self.0[i]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.invalid())
    }

    pub(crate) fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        match &self.0[i] {
            serde_json::Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub(crate) fn int(&self, i: usize) -> StoreResult<i64> {
        self.0[i].as_i64().ok_or_else(|| self.invalid())
    }

    pub(crate) fn date(&self, text: &str) -> StoreResult<NaiveDate> {
        text.parse().map_err(|_| self.invalid())
    }

    pub(crate) fn time(&self, i: usize) -> StoreResult<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.text(i)?)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| self.invalid())
    }
}

/// A timestamp in a cursor: the text SQLite stores, which PostgreSQL's microseconds match.
pub(crate) fn time_value(at: DateTime<Utc>) -> serde_json::Value {
    crate::db::timestamp(at).into()
}

/// A page from rows (each with its cursor) fetched with a limit one above `limit`.
pub(crate) fn page<T>(mut items: Vec<(String, T)>, limit: u32) -> crate::Page<T> {
    let has_next_page = items.len() > limit as usize;
    items.truncate(limit as usize);
    crate::Page {
        items,
        has_next_page,
    }
}

/// The `LIMIT` of a page: one row more than asked, which tells whether another page follows.
pub(crate) fn page_limit(limit: u32) -> i64 {
    i64::from(limit) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_any_text() {
        let text = "a\"b\\c,d\u{e9}\n🌱";
        let c = cursor(&[text.into(), serde_json::Value::Null, 42.into()]);
        assert!(c.bytes().all(|b| b.is_ascii_hexdigit()));
        let parsed = Cursor::parse(&c, 3).expect("parse");
        assert_eq!(parsed.text(0).expect("text"), text);
        assert_eq!(parsed.opt_text(1).expect("null"), None);
        assert_eq!(parsed.int(2).expect("int"), 42);
        assert!(Cursor::parse(&c, 2).is_err());
        assert!(Cursor::parse("zz", 1).is_err());
        assert!(Cursor::parse("abc", 1).is_err());
    }
}
