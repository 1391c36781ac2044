//! ICE GreenTrace, the registry platform serving several registries as tenants of one API
//! (ACR is `ACR_REGISTRY`, ART TREES is `ART_REGISTRY`).
//!
//! Every tenant pages the same way: a POST of `offset`, `pageNumber` and `max` as a form body
//! to `project-summaries` (projects) or `holding-summaries` (credit blocks, filtered by
//! `holdingStatus`), answered by `{"datasets":{"<key>":{"rows":[…],"totalCount":n}}}`. Rows
//! share their member names across tenants; [`Rows`] reads them into the common model with the
//! few readings a registry does its own way.

use carbonmesh_model::{
    CreditRecord, Normalized, Project, RegistryId, SerialRange, TransactionType, UnitStatus,
};
use carbonmesh_normalize::{
    DateOrder, country_alpha2, parse_date, parse_quantity, parse_year, project_status,
    transaction_type, unit_status,
};

use crate::http::Request;
use crate::{Feed, FetchError, FileError, HttpClient, Page, RawBody, RawRecord, Rejection};

/// The production GreenTrace host.
pub const PRODUCTION_URL: &str = "https://greentrace.ice.com";

/// The path of the GreenTrace API under the host.
pub const API_PREFIX: &str = "/api/greentraceservice/v1";

/// The largest page GreenTrace serves: a larger `max` is silently clamped to it.
pub const MAX_PAGE: u32 = 2000;

/// The feeds every GreenTrace tenant publishes.
pub const FEEDS: [Feed; 4] = [
    Feed::Projects,
    Feed::Issuances,
    Feed::Retirements,
    Feed::Cancellations,
];

/// The `datasets` member holding the rows of each feed.
pub fn dataset(feed: Feed) -> Option<&'static str> {
    match feed {
        Feed::Projects => Some("projects"),
        Feed::Issuances => Some("issuedCredits"),
        Feed::Retirements => Some("retiredCredits"),
        Feed::Cancellations => Some("cancelledCredits"),
        Feed::Transactions => None,
    }
}

/// The `holdingStatus` form value of each credit feed.
pub fn holding_status(feed: Feed) -> Option<&'static str> {
    match feed {
        Feed::Issuances => Some("ISSUED"),
        Feed::Retirements => Some("RETIRED"),
        Feed::Cancellations => Some("CANCELED"),
        Feed::Projects | Feed::Transactions => None,
    }
}

/// One tenant of a GreenTrace host, as a connector reads it.
#[derive(Debug, Clone, Copy)]
pub struct Tenant<'a> {
    /// The registry's short name, in error messages (`ACR`).
    pub name: &'a str,
    /// Scheme and host without a trailing slash.
    pub host: &'a str,
    /// The tenant path segment (`ACR_REGISTRY`).
    pub tenant: &'a str,
    /// Rows per page as configured; sent within GreenTrace's 1..=[`MAX_PAGE`].
    pub page_size: u32,
}

impl<'a> Tenant<'a> {
    /// The tenant `tenant` of the GreenTrace host `host`, read for the registry `name`.
    pub fn new(name: &'a str, host: &'a str, tenant: &'a str, page_size: u32) -> Self {
        Self {
            name,
            host,
            tenant,
            page_size,
        }
    }

    /// The API base: host followed by [`API_PREFIX`].
    pub fn api_url(&self) -> String {
        format!("{}{API_PREFIX}", self.host)
    }

    /// Rows per page as sent in `max`, within GreenTrace's 1..=[`MAX_PAGE`].
    pub fn max(&self) -> u64 {
        u64::from(self.page_size.clamp(1, MAX_PAGE))
    }

    /// The request for page `page` (1-based; 0 reads as 1) of `feed`: a POST whose paging
    /// fields travel as a form body, the only encoding GreenTrace accepts (a JSON body or a
    /// query string gives HTTP 500). `None` for a feed GreenTrace does not publish.
    pub fn page_request(&self, feed: Feed, page: u64) -> Option<Request> {
        let api = self.api_url();
        let size = self.max();
        let offset = page.max(1).saturating_sub(1).saturating_mul(size);
        let mut fields = vec![
            ("offset".to_owned(), offset.to_string()),
            ("pageNumber".to_owned(), page.max(1).to_string()),
            ("max".to_owned(), size.to_string()),
        ];
        let url = match (feed, holding_status(feed)) {
            (Feed::Projects, _) => format!(
                "{api}/project/registry/{}/project-summaries/results",
                self.tenant
            ),
            (_, Some(status)) => {
                fields.push(("holdingStatus".to_owned(), status.to_owned()));
                format!(
                    "{api}/credit/registry/{}/holding-summaries/results",
                    self.tenant
                )
            }
            _ => return None,
        };
        Some(Request::post_form(url, fields))
    }

    /// One page of `feed` through `http`. Pages are numbered from 1; the cursor is the page
    /// number. GreenTrace has no sort key, so a page is complete only when it holds every row
    /// `totalCount` leaves for it.
    pub async fn fetch_page(
        &self,
        http: &HttpClient,
        feed: Feed,
        cursor: Option<&str>,
    ) -> Result<Page, FetchError> {
        let page: u64 = match cursor {
            None => 1,
            // Pages count from 1: a cursor of 0 would ask for a page before the first.
            Some(c) => c
                .parse()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| FetchError::Malformed {
                    url: self.api_url(),
                    reason: format!("cursor `{c}` is not a page number"),
                })?,
        };
        let request = self
            .page_request(feed, page)
            .ok_or_else(|| FetchError::Malformed {
                url: self.api_url(),
                reason: format!("{} publishes no {feed} feed", self.name),
            })?;
        let url = format!("{} (page {page})", request.url());
        let malformed = |reason: String| FetchError::Malformed {
            url: url.clone(),
            reason,
        };
        let response = http.send(&request).await?;
        let body: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| malformed(format!("response is not valid JSON: {e}")))?;
        let size = self.max();
        let offset = (page - 1).saturating_mul(size);
        let (records, total) = json_rows(feed, &url, &body, offset + 1).map_err(malformed)?;
        let total = total.ok_or_else(|| malformed("no `totalCount`".to_owned()))?;
        let expected = total.saturating_sub(offset).min(size);
        let got = records.len() as u64;
        if got != expected {
            return Err(malformed(format!(
                "{got} rows where totalCount {total} announces {expected} for page {page}"
            )));
        }
        Ok(Page {
            records,
            next: (offset + got < total).then(|| (page + 1).to_string()),
            ..Page::default()
        })
    }
}

/// The rows of a GreenTrace response: `{"datasets":{"<key>":{"rows":[…],"totalCount":n}}}`.
/// Returns the page's raw records, numbered from `first_line`, and the announced total.
pub fn json_rows(
    feed: Feed,
    source: &str,
    value: &serde_json::Value,
    first_line: u64,
) -> Result<(Vec<RawRecord>, Option<u64>), String> {
    let key = dataset(feed).ok_or_else(|| format!("GreenTrace publishes no {feed} dataset"))?;
    let datasets = value
        .get("datasets")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| {
            format!(
                "not a GreenTrace response: no `datasets` object (a {feed} page is \
                 `{{\"datasets\":{{\"{key}\":{{\"rows\":[…]}}}}}}`)"
            )
        })?;
    let dataset = datasets.get(key).ok_or_else(|| {
        let held: Vec<String> = datasets.keys().map(|k| format!("`{k}`")).collect();
        let held = match held.is_empty() {
            true => "none".to_owned(),
            false => held.join(", "),
        };
        format!(
            "no `datasets.{key}` member, which holds the {feed} rows: the response holds {held}"
        )
    })?;
    let rows = dataset
        .get("rows")
        .and_then(|r| r.as_array())
        .ok_or_else(|| format!("`datasets.{key}.rows` is not an array"))?;
    let total = dataset
        .get("totalCount")
        .and_then(serde_json::Value::as_u64);
    let records = rows
        .iter()
        .zip(first_line..)
        .map(|(row, line)| RawRecord {
            feed,
            source: source.to_owned(),
            line,
            body: RawBody::Json(row.clone()),
        })
        .collect();
    Ok((records, total))
}

/// A tenant's canonical project id: `prefix` and the number without zero padding (`ACR885`,
/// `ART102`). Accepts the id with or without the prefix (any case) and with padding
/// (`ACR0885`, as GreenTrace writes it); `None` unless the rest is digits.
pub fn canonical_id(prefix: &str, raw: &str) -> Option<String> {
    let s = raw.trim();
    let digits = match s.get(..prefix.len()) {
        Some(head) if s.len() > prefix.len() && head.eq_ignore_ascii_case(prefix) => {
            &s[prefix.len()..]
        }
        _ => s,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(format!("{prefix}{n}"))
}

/// Whether a file or its head is JSON (its first non-blank byte after any UTF-8 byte order
/// mark opens an object or an array) rather than a CSV export. JSON that is not a GreenTrace
/// response is refused by [`read_file`] with the reason.
pub fn is_json(bytes: &[u8]) -> bool {
    crate::looks_like_json(bytes)
}

/// A tenant's [`Connector::detect_feed`](crate::Connector::detect_feed): a saved GreenTrace
/// response by its dataset key, else the tenant's own CSV export as `csv` tells it.
pub fn detect_saved_feed(head: &[u8], csv: impl FnOnce(&[u8]) -> Option<Feed>) -> Option<Feed> {
    if is_json(head) {
        detect_feed(head)
    } else {
        csv(head)
    }
}

/// A tenant's [`Connector::read_file`](crate::Connector::read_file): a saved GreenTrace
/// response, else the tenant's own CSV export read by `csv` (which says what is wrong with
/// it). Feeds GreenTrace does not publish are refused.
pub fn read_saved_file(
    feed: Feed,
    source: &str,
    bytes: &[u8],
    csv: impl FnOnce(Feed, &str, &[u8]) -> Result<Page, String>,
) -> Result<Page, FileError> {
    if dataset(feed).is_none() {
        return Err(FileError::Unsupported {
            file: source.to_owned(),
            feed,
        });
    }
    if is_json(bytes) {
        return read_file(feed, source, bytes);
    }
    csv(feed, source, bytes).map_err(|reason| FileError::Malformed {
        file: source.to_owned(),
        reason,
    })
}

/// The feed of a saved GreenTrace response, from its head. A JSON head may be cut anywhere;
/// the dataset key comes first in every response.
pub fn detect_feed(head: &[u8]) -> Option<Feed> {
    let text = String::from_utf8_lossy(head);
    FEEDS
        .into_iter()
        .find(|f| dataset(*f).is_some_and(|k| text.contains(&format!("\"{k}\""))))
}

/// The rows of a saved GreenTrace response `bytes` (the file `source`), numbered from 1.
pub fn read_file(feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
    let malformed = |reason: String| FileError::Malformed {
        file: source.to_owned(),
        reason,
    };
    // A file saved by an editor that writes a byte order mark.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| malformed(format!("not valid JSON: {e}")))?;
    let (records, _) = json_rows(feed, source, &value, 1).map_err(malformed)?;
    Ok(Page {
        records,
        ..Page::default()
    })
}

/// Reads a serial as published and its integer range from the first present member of
/// `names`, rejecting it as `field`.
pub type ReadSerial =
    fn(&RawRecord, &str, &[&str]) -> Result<(String, Option<SerialRange>), Rejection>;

/// How one registry's GreenTrace rows read: the member names are GreenTrace's, the readings
/// of ids, serials and quantities the registry's.
#[derive(Debug, Clone, Copy)]
pub struct Rows {
    /// The registry the records belong to; it picks the vocabulary of statuses and types.
    pub registry: RegistryId,
    /// Reads the canonical project id from the first present member of `names`, rejecting it
    /// as `field`.
    pub project_id: fn(&RawRecord, &str, &[&str]) -> Result<String, Rejection>,
    /// Reads a serial as published and its integer range, rejecting it as `field`.
    pub serial: ReadSerial,
    /// The unit status of a cancelled block, from its transaction type and raw status.
    pub cancelled_status: fn(TransactionType, &str) -> Normalized<UnitStatus>,
    /// Whether a quantity must be a whole number of credits.
    pub whole_credits: bool,
}

impl Rows {
    /// A `project-summaries` row: everything but the methodology and the crediting-program
    /// label, which each registry words its own way.
    pub fn project(&self, raw: &RawRecord) -> Result<Project, Rejection> {
        let id = (self.project_id)(raw, "projectId", &["projectId"])?;
        let name = required(raw, "projectName")?;
        let mut p = Project::new(self.registry, &id, &name);
        p.developer = raw.clean_field(&["projectDeveloper"]);
        let country = raw.clean_field(&["country"]);
        p.country = country
            .as_deref()
            .and_then(country_alpha2)
            .map(str::to_owned);
        p.country_raw = country;
        p.project_type = raw.clean_field(&["projectType"]);
        p.status = raw
            .clean_field(&["projectStatus"])
            .map(|s| Normalized::new(project_status(self.registry, &s), s));
        p.registry_url = raw
            .clean_field(&["details.url"])
            .map(|u| format!("{PRODUCTION_URL}{u}"));
        Ok(p)
    }

    /// A `holding-summaries` row of an issuance, retirement or cancellation feed.
    /// `holdingQuantity` is the block's size; `issuanceQuantity` repeats the parent issuance's
    /// total on every block and is not used.
    pub fn holding(&self, raw: &RawRecord) -> Result<CreditRecord, Rejection> {
        let project = (self.project_id)(raw, "projectReferenceId", &["projectReferenceId"])?;
        let (serial, range) = (self.serial)(raw, "holdingSerialNumber", &["holdingSerialNumber"])?;
        let implied = holding_status(raw.feed).unwrap_or_default();
        let status_raw = raw
            .clean_field(&["holdingStatus"])
            .unwrap_or_else(|| implied.to_owned());
        // GreenTrace writes ISO dates; month-first is the order of the registries' older exports.
        let date = |field: &str| match raw.clean_field(&[field]) {
            None => Ok(None),
            Some(v) => parse_date(&v, DateOrder::MonthFirst)
                .map(Some)
                .map_err(|e| Rejection::field(field, e.to_string())),
        };
        // `holdingQuantity`: present, not negative, and whole when the registry says so.
        let value = raw
            .clean_field(&["holdingQuantity"])
            .ok_or_else(|| Rejection::field("holdingQuantity", "is blank"))?;
        let quantity = parse_quantity(&value)
            .map_err(|e| Rejection::field("holdingQuantity", e.to_string()))?;
        if quantity.is_sign_negative() {
            return Err(Rejection::field(
                "holdingQuantity",
                format!("`{value}` is negative"),
            ));
        }
        if self.whole_credits && !quantity.fract().is_zero() {
            return Err(Rejection::field(
                "holdingQuantity",
                format!("`{value}` is not a whole number of credits"),
            ));
        }
        let vintage = required(raw, "vintage")?;
        let vintage =
            parse_year(&vintage).map_err(|e| Rejection::field("vintage", e.to_string()))?;
        let mut c = CreditRecord {
            registry: self.registry,
            record_key: String::new(),
            registry_project_id: project,
            transaction_type: Normalized::new(TransactionType::Unknown, ""),
            quantity,
            serial: Some(serial.clone()),
            serial_range: range,
            vintage: Some(vintage),
            monitoring_period: None,
            event_date: None,
            status: Normalized::new(unit_status(self.registry, &status_raw), &status_raw),
            account: raw.clean_field(&["registryAccountName", "accountHolderProfileName"]),
            beneficiary: None,
            reason: None,
            note: None,
        };
        match raw.feed {
            Feed::Issuances => {
                c.record_key = format!("issued:{serial}");
                c.transaction_type = Normalized::new(
                    self.kind(&status_raw, TransactionType::Issuance),
                    &status_raw,
                );
                c.event_date = date("issuanceDate")?;
            }
            Feed::Retirements => {
                c.record_key = format!("retired:{serial}");
                c.transaction_type = Normalized::new(
                    self.kind(&status_raw, TransactionType::Retirement),
                    &status_raw,
                );
                c.event_date = date("retirementDate")?;
                c.reason = raw.clean_field(&["retirementReasonDisplayName", "retirementReason"]);
                c.beneficiary = raw.clean_field(&["retirementOnBehalfOfName"]);
                c.note = raw.clean_field(&["retirementPurpose"]);
            }
            _ => {
                let reason = raw
                    .clean_field(&["cancellationReasonDisplayName", "cancellationReason"])
                    .unwrap_or_else(|| status_raw.clone());
                c.record_key = format!("cancelled:{serial}");
                c.transaction_type =
                    Normalized::new(self.kind(&reason, TransactionType::Cancellation), &reason);
                c.status = (self.cancelled_status)(c.transaction_type.value, &status_raw);
                c.event_date = date("cancellationDate")?;
                c.beneficiary = raw.clean_field(&["cancellationOnBehalfOfName"]);
                c.reason = Some(reason);
            }
        }
        Ok(c)
    }

    /// The registry's word mapped through carbonmesh's vocabulary; the feed decides when the
    /// word alone says nothing.
    fn kind(&self, raw: &str, default: TransactionType) -> TransactionType {
        match transaction_type(self.registry, raw) {
            TransactionType::Unknown => default,
            t => t,
        }
    }
}

fn required(raw: &RawRecord, field: &str) -> Result<String, Rejection> {
    raw.clean_field(&[field])
        .ok_or_else(|| Rejection::field(field, "is blank or missing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_from_the_page_offset() {
        let body = serde_json::json!({"datasets": {"retiredCredits": {
            "rows": [{"holdingKey": "a"}, {"holdingKey": "b"}], "totalCount": 7}}});
        let (rows, total) = json_rows(Feed::Retirements, "u", &body, 5).expect("rows");
        assert_eq!(total, Some(7));
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [5, 6]);
        assert!(json_rows(Feed::Issuances, "u", &body, 1).is_err());
    }

    #[test]
    fn a_file_of_another_shape_is_refused_naming_what_it_holds() {
        let projects = br#"{"datasets": {"projects": {"rows": [], "totalCount": 0}}}"#;
        let error = read_file(Feed::Retirements, "p.json", projects).expect_err("projects");
        assert!(
            error.to_string().contains(
                "no `datasets.retiredCredits` member, which holds the retirements rows: the \
                 response holds `projects`"
            ),
            "{error}"
        );
        let error = read_file(Feed::Projects, "a.json", br#"[{"id": 1}]"#).expect_err("array");
        assert!(
            error
                .to_string()
                .starts_with("a.json: not a GreenTrace response: no `datasets` object"),
            "{error}"
        );
        let bom = b"\xEF\xBB\xBF{\"datasets\": {\"projects\": {\"rows\": [{\"a\": 1}]}}}";
        assert_eq!(
            read_file(Feed::Projects, "b.json", bom)
                .expect("BOM")
                .records
                .len(),
            1
        );
    }

    #[test]
    fn a_json_head_names_its_feed() {
        assert!(is_json(b"  {\"datasets\""));
        assert!(is_json(b"\xEF\xBB\xBF["));
        assert!(!is_json(b"Vintage,Quantity\n"));
        let head = br#"{"datasets":{"cancelledCredits":{"rows":[{"a"#;
        assert_eq!(detect_feed(head), Some(Feed::Cancellations));
        assert_eq!(detect_feed(b"{"), None);
    }
}
