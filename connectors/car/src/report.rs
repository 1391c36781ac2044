//! CAR's APX report page: the hidden form fields the bulk download must send back, and the
//! session cookie it must carry.
//!
//! The page is Classic ASP HTML. Only `<input>` tags matter, so a small tag scanner is enough:
//! attributes in any order and case, quoted with `"` or `'` or unquoted, entities decoded.

/// The anti-forgery field the download refuses to serve without.
pub(crate) const TOKEN_FIELD: &str = "c16e";

/// The `(name, value)` of every hidden `<input>` of `html`, in page order; a repeated name
/// keeps its first value, as the first form field is the one a browser's form posts first.
pub(crate) fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<input") {
        let start = at + found + "<input".len();
        let end = tag_end(html, start);
        let attributes = attributes(&html[start..end]);
        at = end;
        let get = |key: &str| {
            attributes
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str())
        };
        let hidden = get("type").is_some_and(|t| t.eq_ignore_ascii_case("hidden"));
        let Some(name) = get("name").filter(|n| !n.is_empty()) else {
            continue;
        };
        if hidden && !fields.iter().any(|(n, _)| n == name) {
            fields.push((name.to_owned(), get("value").unwrap_or_default().to_owned()));
        }
    }
    fields
}

/// The token when a script sets it instead of the markup (`….c16e.value = '…'` or
/// `getElementById("c16e").value = "…"`): the quoted text assigned to the field's `.value`.
pub(crate) fn scripted_token(html: &str) -> Option<String> {
    let mut rest = html;
    while let Some(i) = rest.find(TOKEN_FIELD) {
        rest = &rest[i + TOKEN_FIELD.len()..];
        // `.value` right after the name, past at most a closing quote and bracket or two.
        let Some(v) = rest[..floor_boundary(rest, 10)].find(".value") else {
            continue;
        };
        if v > 4 {
            continue;
        }
        let after = rest[v + ".value".len()..].trim_start();
        let Some(after) = after.strip_prefix('=').map(str::trim_start) else {
            continue;
        };
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let body = &after[1..];
        if let Some(token) = body.find(quote).map(|close| &body[..close])
            && !token.is_empty()
        {
            return Some(token.to_owned());
        }
    }
    None
}

/// The `Cookie` header value echoing every `Set-Cookie` of a response (`name=value` pairs,
/// attributes dropped), or `None` when none was set.
pub(crate) fn cookie_header<'a>(set_cookies: impl Iterator<Item = &'a str>) -> Option<String> {
    let pairs: Vec<&str> = set_cookies
        .filter_map(|c| c.split(';').next())
        .map(str::trim)
        .filter(|pair| pair.contains('='))
        .collect();
    (!pairs.is_empty()).then(|| pairs.join("; "))
}

/// The largest char boundary of `s` at or below `n`.
fn floor_boundary(s: &str, n: usize) -> usize {
    let mut n = n.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// Where the tag opened before `from` ends: the first `>` outside quotes.
fn tag_end(html: &str, from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (i, b) in html.as_bytes()[from..].iter().enumerate() {
        match (quote, *b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(*b),
            (None, b'>') => return from + i,
            (None, _) => {}
        }
    }
    html.len()
}

/// The attributes of a tag's inside (`type="hidden" name=c16e value='x'`), values decoded.
fn attributes(inside: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = inside.trim_start_matches('/');
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return out;
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        let Some(after_eq) = rest.strip_prefix('=') else {
            // A bare attribute (`disabled`).
            if !name.is_empty() {
                out.push((name.to_owned(), String::new()));
            }
            if name_end == 0 {
                // A stray character: skip it so the scan always advances.
                rest = rest.get(1..).unwrap_or_default();
            }
            continue;
        };
        let after_eq = after_eq.trim_start();
        let (value, remaining) = match after_eq.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let body = &after_eq[1..];
                match body.find(q) {
                    Some(close) => (&body[..close], &body[close + 1..]),
                    None => (body, ""),
                }
            }
            _ => {
                let end = after_eq.find(char::is_whitespace).unwrap_or(after_eq.len());
                (&after_eq[..end], &after_eq[end..])
            }
        };
        out.push((name.to_owned(), decode_entities(value)));
        rest = remaining;
    }
}

/// Decodes the HTML entities an attribute value may hold: the named five and numeric ones.
fn decode_entities(value: &str) -> String {
    if !value.contains('&') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').filter(|end| *end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "lt" => Some('<'),
                "gt" => Some('>'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_inputs_in_any_attribute_order_and_quoting() {
        let html = r#"<HTML><form method=post action="/myModule/include/rptdownload.asp">
<INPUT TYPE="hidden" NAME="c16e" VALUE="ab12">
<input value='r=206' name='Parameters' type='HIDDEN' />
<input type=hidden name=FormatType value=csv>
<input type="hidden" name="Title" value="Retired &amp; &quot;Canceled&quot; &#8211; x">
<input type="hidden" name="myFilter" value="">
<input type="hidden" name="Empty">
<input type="text" name="search" value="not hidden">
<input type="hidden" name="c16e" value="second">
<input type="hidden" value="no name">
</form>"#;
        assert_eq!(
            hidden_inputs(html),
            vec![
                ("c16e".to_owned(), "ab12".to_owned()),
                ("Parameters".to_owned(), "r=206".to_owned()),
                ("FormatType".to_owned(), "csv".to_owned()),
                ("Title".to_owned(), "Retired & \"Canceled\" – x".to_owned()),
                ("myFilter".to_owned(), String::new()),
                ("Empty".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn a_value_holding_a_closing_bracket_stays_whole() {
        let html = r#"<input type="hidden" name="Masks" value="a>b"><input type="hidden" name="x" value="y">"#;
        assert_eq!(
            hidden_inputs(html),
            vec![
                ("Masks".to_owned(), "a>b".to_owned()),
                ("x".to_owned(), "y".to_owned())
            ]
        );
    }

    #[test]
    fn broken_markup_does_not_panic() {
        for html in [
            "<input",
            "<input type=",
            "<input name=\"x",
            "<input =>",
            "<input &#xZZ;",
        ] {
            let _ = hidden_inputs(html);
        }
        assert_eq!(
            decode_entities("a &b; &#99999999; &"),
            "a &b; &#99999999; &"
        );
    }

    #[test]
    fn a_scripted_token_is_found() {
        let html = r#"<script>document.forms[0].c16e.value = 'T0K3N';</script>"#;
        assert_eq!(scripted_token(html).as_deref(), Some("T0K3N"));
        let html = r#"<script>document.getElementById("c16e").value="abc";</script>"#;
        assert_eq!(scripted_token(html).as_deref(), Some("abc"));
        assert_eq!(scripted_token("<p>c16e</p><p>x.value = 'far'</p>"), None);
    }

    #[test]
    fn cookies_are_echoed_without_attributes() {
        let set = ["ASPSESSIONIDQS=ABC; path=/; secure", "other=1"];
        assert_eq!(
            cookie_header(set.into_iter()).as_deref(),
            Some("ASPSESSIONIDQS=ABC; other=1")
        );
        assert_eq!(cookie_header(std::iter::empty()), None);
    }
}
