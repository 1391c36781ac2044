//! Splitting pages and files into raw records, and the page URLs of each pagination style.

use carbonmesh_connector::{Completeness, Feed, Page, csv_page, looks_like_json};
use carbonmesh_normalize::HeaderMap;
use serde_json::Value;

use crate::config::FormatConfig;
use crate::json_path::JsonPath;
use crate::spec::{FeedSpec, Paging};

/// `url` with query parameters appended.
pub(crate) fn with_query(url: &str, params: &[(&str, String)]) -> String {
    let mut out = url.to_owned();
    for (name, value) in params {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// A parsed JSON body.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))
}

/// The records of a JSON document: the array at the feed's `records` path, one raw record per
/// element, numbered from `first_line`. Elements that are not objects are unreadable.
pub(crate) fn json_records(
    spec: &FeedSpec,
    source: &str,
    doc: &Value,
    first_line: u64,
) -> Result<Page, String> {
    let items = match spec.records.get(doc) {
        Some(Value::Array(items)) => items,
        Some(Value::Null) | None => {
            return Err(format!(
                "no array of records at `{}`",
                spec.records.as_str()
            ));
        }
        Some(other) => {
            let shown: String = other.to_string().chars().take(120).collect();
            return Err(format!(
                "expected an array of records at `{}`, found {shown}",
                spec.records.as_str()
            ));
        }
    };
    let page = Page::of_json(spec.feed, source, items.to_vec(), first_line);
    Ok(page)
}

/// The records of a CSV body; fails when a required column is missing.
pub(crate) fn csv_records(
    spec: &FeedSpec,
    source: &str,
    bytes: &[u8],
    completeness: Completeness,
) -> Result<Page, String> {
    csv_page(
        spec.feed,
        source,
        bytes,
        completeness,
        |headers: &HeaderMap| {
            spec.required
                .iter()
                .filter(|(_, names)| headers.find(&names.as_strs()).is_none())
                .map(|(field, names)| format!("{} (fields.{field})", names.0.join(" | ")))
                .collect::<Vec<_>>()
        },
    )
}

/// A body of a feed, either format, numbered from `first_line` (JSON) .
pub(crate) fn body_records(
    spec: &FeedSpec,
    source: &str,
    bytes: &[u8],
    completeness: Completeness,
    first_line: u64,
) -> Result<(Page, Option<Value>), String> {
    match spec.format {
        FormatConfig::Csv => {
            if looks_like_json(bytes) {
                return Err("expected CSV, got JSON".to_owned());
            }
            Ok((csv_records(spec, source, bytes, completeness)?, None))
        }
        FormatConfig::Json => {
            let doc = parse_json(bytes)?;
            let page = json_records(spec, source, &doc, first_line)?;
            Ok((page, Some(doc)))
        }
    }
}

/// A count at `path` in `doc`.
pub(crate) fn count_at(doc: &Value, path: &JsonPath) -> Result<u64, String> {
    match path.get(doc) {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| format!("`{}` is {n}, not a count", path.as_str())),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| format!("`{}` is `{s}`, not a count", path.as_str())),
        _ => Err(format!("no count at `{}`", path.as_str())),
    }
}

/// The paging of one request: its URL, the 1-based number of its first record in the feed,
/// and its page index (0 for the first page).
pub(crate) struct Window {
    pub url: String,
    pub first_line: u64,
    pub index: u64,
}

/// Where page `cursor` of `feed` is.
pub(crate) fn window(
    paging: &Paging,
    feed_url: &str,
    cursor: Option<&str>,
) -> Result<Window, String> {
    let number = |c: &str, what: &str| -> Result<u64, String> {
        c.trim()
            .parse::<u64>()
            .map_err(|_| format!("cursor `{c}` is not {what}"))
    };
    Ok(match paging {
        Paging::None => Window {
            url: feed_url.to_owned(),
            first_line: 1,
            index: 0,
        },
        Paging::Offset {
            offset_param,
            limit_param,
            size,
        } => {
            let offset = cursor
                .map(|c| number(c, "an offset"))
                .transpose()?
                .unwrap_or(0);
            Window {
                url: with_query(
                    feed_url,
                    &[
                        (offset_param, offset.to_string()),
                        (limit_param, size.to_string()),
                    ],
                ),
                first_line: offset + 1,
                index: offset / u64::from(*size),
            }
        }
        Paging::Page {
            page_param,
            size_param,
            size,
            first,
        } => {
            let page = cursor
                .map(|c| number(c, "a page number"))
                .transpose()?
                .unwrap_or(*first);
            if page < *first {
                return Err(format!("page {page} comes before the first page {first}"));
            }
            let index = page - first;
            Window {
                url: with_query(
                    feed_url,
                    &[
                        (page_param, page.to_string()),
                        (size_param, size.to_string()),
                    ],
                ),
                first_line: index * u64::from(*size) + 1,
                index,
            }
        }
        Paging::NextLink { .. } => Window {
            url: cursor.unwrap_or(feed_url).to_owned(),
            first_line: 1,
            index: 0,
        },
    })
}

/// The cursor after a page of `got` records, or `None` after the last one.
pub(crate) fn next_cursor(
    paging: &Paging,
    spec: &FeedSpec,
    window: &Window,
    got: u64,
    doc: Option<&Value>,
) -> Result<Option<String>, String> {
    let before = window.first_line - 1;
    let sized = |size: u32| -> Result<bool, String> {
        let size = u64::from(size);
        if got > size {
            return Err(format!("{got} records on a page of {size}"));
        }
        match (&spec.total, doc) {
            (Some(path), Some(doc)) => {
                let total = count_at(doc, path)?;
                let expected = total.saturating_sub(before).min(size);
                if got != expected {
                    return Err(format!(
                        "{got} records where a total of {total} announces {expected} at record {}",
                        before + 1
                    ));
                }
                Ok(before + got < total)
            }
            // Without a total, a full page means there may be more.
            _ => Ok(got == size && got > 0),
        }
    };
    Ok(match paging {
        Paging::None => None,
        Paging::Offset { size, .. } => sized(*size)?.then(|| (before + got).to_string()),
        Paging::Page { size, first, .. } => {
            sized(*size)?.then(|| (first + window.index + 1).to_string())
        }
        Paging::NextLink { next } => {
            let Some(doc) = doc else {
                return Err("next-link pagination needs a JSON page".to_owned());
            };
            let link = match next.get(doc) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.trim().is_empty() => None,
                Some(Value::String(s)) => Some(s.trim().to_owned()),
                Some(other) => {
                    return Err(format!("`{}` is {other}, not a link", next.as_str()));
                }
            };
            match link {
                None => None,
                Some(link) => {
                    let base = reqwest::Url::parse(&window.url)
                        .map_err(|e| format!("`{}` is not a URL: {e}", window.url))?;
                    let url = base
                        .join(&link)
                        .map_err(|e| format!("next link `{link}` is not a URL: {e}"))?;
                    if url.as_str() == window.url || url == base {
                        return Err(format!("the next link `{link}` points at this same page"));
                    }
                    Some(url.to_string())
                }
            }
        }
    })
}

/// How well a file's head fits a feed: `None` when a signature name is missing, else the
/// number of mapped names present minus those absent, plus a bonus for a matching file name.
pub(crate) fn score(spec: &FeedSpec, file_name: &str, head: &[u8]) -> Option<i64> {
    let name = file_name.to_lowercase();
    let name_bonus = if spec.detect_file_names.iter().any(|n| name.contains(n)) {
        1000
    } else {
        0
    };
    let json = looks_like_json(head);
    let present: Box<dyn Fn(&crate::config::Names) -> bool> = match (json, spec.format) {
        (true, FormatConfig::Json) => {
            let text = String::from_utf8_lossy(head).into_owned();
            Box::new(move |names| {
                names.0.iter().any(|n| {
                    JsonPath::parse(n)
                        .ok()
                        .and_then(|p| p.leaf().map(|l| text.contains(&format!("\"{l}\""))))
                        .unwrap_or(false)
                })
            })
        }
        (false, FormatConfig::Csv) => {
            let headers = carbonmesh_normalize::read_csv(head)
                .ok()
                .map(|rows| rows.headers().clone())
                .unwrap_or_default();
            Box::new(move |names| headers.find(&names.as_strs()).is_some())
        }
        _ => return None,
    };
    if name_bonus == 0 && !spec.signature.iter().all(&*present) {
        return None;
    }
    let (hits, misses) = spec.mapped.iter().fold((0i64, 0i64), |(h, m), n| {
        if present(n) { (h + 1, m) } else { (h, m + 1) }
    });
    Some(name_bonus + hits - misses)
}

/// The feed a file of `feeds` most likely holds.
pub(crate) fn detect<'a>(
    feeds: impl Iterator<Item = &'a FeedSpec>,
    file_name: &str,
    head: &[u8],
) -> Option<Feed> {
    let mut best: Option<(i64, Feed)> = None;
    for spec in feeds {
        if let Some(s) = score(spec, file_name, head)
            && best.is_none_or(|(b, _)| s > b)
        {
            best = Some((s, spec.feed));
        }
    }
    best.map(|(_, f)| f)
}
