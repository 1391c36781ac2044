//! Pulling the record array out of a registry page or a file, and splitting it into raw records.
//!
//! `registry.puro.earth` is a Next.js app without an API. Each page carries its data in the
//! React server-component stream: a series of `self.__next_f.push([1,"…"])` scripts whose string
//! arguments, joined in order, form the stream. The records are the first `{"data":[…]}` object
//! in it. Files are read in any of three shapes: that HTML page, the `{"data":[…]}` object, or
//! the bare array.

use carbonmesh_connector::Feed;
use serde_json::Value;

/// The call that appends one chunk to the server-component stream.
const PUSH: &str = "self.__next_f.push(";

/// The start of the object holding a page's records.
const DATA_OBJECT: &str = "{\"data\":[";

/// The server-component stream of a page: the string argument of every
/// `self.__next_f.push([1,"…"])`, decoded and joined in order. Other pushes (`[0]`, form
/// state, binary chunks) are skipped.
pub(crate) fn flight_stream(html: &str) -> String {
    let mut stream = String::new();
    let mut rest = html;
    while let Some(at) = rest.find(PUSH) {
        rest = &rest[at + PUSH.len()..];
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        if let Some(Ok(Value::Array(args))) = values.next()
            && args.first().and_then(Value::as_u64) == Some(1)
            && let Some(Value::String(chunk)) = args.get(1)
        {
            stream.push_str(chunk);
        }
    }
    stream
}

/// The first `{"data":[…]}` object of a server-component stream, as its array.
fn data_array(stream: &str) -> Result<Vec<Value>, String> {
    let mut rest = stream;
    while let Some(at) = rest.find(DATA_OBJECT) {
        let mut values = serde_json::Deserializer::from_str(&rest[at..]).into_iter::<Value>();
        if let Some(Ok(Value::Object(mut object))) = values.next()
            && let Some(Value::Array(items)) = object.remove("data")
        {
            return Ok(items);
        }
        rest = &rest[at + DATA_OBJECT.len()..];
    }
    Err("no `{\"data\":[…]}` object in the page's server-component stream".into())
}

/// The record array of a page or file: the bare array, the `data` member of an object, or the
/// first `{"data":[…]}` object of an HTML page's server-component stream.
pub(crate) fn items(bytes: &[u8]) -> Result<Vec<Value>, String> {
    if carbonmesh_connector::looks_like_json(bytes) {
        return match carbonmesh_connector::from_saved_json(bytes) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(Value::Object(mut object)) => match object.remove("data") {
                Some(Value::Array(items)) => Ok(items),
                _ => Err("a JSON object without a `data` array".into()),
            },
            Ok(_) => Err("expected a JSON array of records".into()),
            Err(e) => Err(format!("not valid JSON: {e}")),
        };
    }
    let html = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let stream = flight_stream(html);
    if stream.is_empty() {
        return Err("neither JSON nor a page with a Next.js server-component stream".into());
    }
    data_array(&stream)
}

/// The feed of a JSON head: the first record's `type`, or the members only a project has.
pub(crate) fn detect_json(head: &str) -> Option<Feed> {
    if let Some(value) = first_string_member(head, "type") {
        return match value {
            "Issuance" => Some(Feed::Issuances),
            "Retirement" => Some(Feed::Retirements),
            _ => None,
        };
    }
    (head.contains("\"gsrn\"") || head.contains("\"creditingPeriodStart\""))
        .then_some(Feed::Projects)
}

/// The string value of the first `"name": "…"` member in `text` (whitespace allowed around the
/// colon); `None` when absent or not a string.
fn first_string_member<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("\"{name}\"");
    let at = text.find(&key)? + key.len();
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    rest.find('"').map(|end| &rest[..end])
}

/// The feed a file name suggests.
pub(crate) fn detect_name(file_name: &str) -> Option<Feed> {
    let name = file_name.to_ascii_lowercase();
    [
        ("retirement", Feed::Retirements),
        ("issuance", Feed::Issuances),
        ("project", Feed::Projects),
    ]
    .into_iter()
    .find(|(k, _)| name.contains(k))
    .map(|(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_pushes_before_parsing() {
        let html = concat!(
            "<html><script>self.__next_f.push([0])</script>",
            r#"<script>self.__next_f.push([1,"0:[\"$\",\"div\",null,{\"da"])</script>"#,
            r#"<script>self.__next_f.push([1,"ta\":[{\"id\":\"a\"},{\"id\":\"b\"}]}]\n"])</script>"#,
            "</html>"
        );
        let items = items(html.as_bytes()).expect("records");
        assert_eq!(items.len(), 2);
        assert_eq!(items[1]["id"], "b");
    }

    #[test]
    fn pages_without_data_are_refused() {
        let html = r#"<script>self.__next_f.push([1,"0:{\"other\":1}"])</script>"#;
        assert!(items(html.as_bytes()).is_err());
        assert!(items(b"<html>maintenance</html>").is_err());
        assert!(items(b"{\"status\":403}").is_err());
    }

    #[test]
    fn detects_by_first_type() {
        assert_eq!(
            detect_json(
                r#"[{"id":"x","type": "Retirement","bundles":[{"issuance":{"type":"Issuance"}}]}]"#
            ),
            Some(Feed::Retirements)
        );
        assert_eq!(
            detect_json(r#"[{"projectId":"1","gsrn":null}]"#),
            Some(Feed::Projects)
        );
    }
}
