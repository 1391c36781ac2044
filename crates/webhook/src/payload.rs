//! The three payloads a registry may push, in the Standard Webhooks shape
//! (`{"type": …, "timestamp": …, "data": {…}}`). Their JSON Schemas are exported to
//! `schema/webhooks/`.

use carbonmesh_connector::{Changed, Feed};
use carbonmesh_model::{CreditRecord, Project, RegistryId, WebhookKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `"type": "change_hint"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ChangeHintType {
    /// The only value.
    #[serde(rename = "change_hint")]
    ChangeHint,
}

/// `"type": "registry_format"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RegistryFormatType {
    /// The only value.
    #[serde(rename = "registry_format")]
    RegistryFormat,
}

/// `"type": "common_format"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CommonFormatType {
    /// The only value.
    #[serde(rename = "common_format")]
    CommonFormat,
}

/// Projects or serials changed at the registry; carbonmesh fetches them itself (through the
/// connector's per-record fetch where it has one, otherwise a sync of its feeds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeHint {
    /// Always `change_hint`.
    #[serde(rename = "type")]
    pub kind: ChangeHintType,
    /// When the sender produced the event (RFC 3339); informative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// What changed.
    pub data: ChangeHintData,
}

/// What changed, by the registry's own identifiers; at least one id or serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeHintData {
    /// Registry project ids, e.g. `VCS1507`.
    #[serde(default)]
    pub project_ids: Vec<String>,
    /// Serial numbers or blocks, as the registry writes them.
    #[serde(default)]
    pub serials: Vec<String>,
}

/// Records in the registry's own format, normalized by its connector exactly as if polled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryFormat {
    /// Always `registry_format`.
    #[serde(rename = "type")]
    pub kind: RegistryFormatType,
    /// When the sender produced the event (RFC 3339); informative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The records.
    pub data: RegistryFormatData,
}

/// One feed's records: `records` (JSON objects as the registry's API returns them) or `file`
/// (the text of an export file, e.g. CSV), not both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryFormatData {
    /// The feed: `projects`, `issuances`, `retirements`, `cancellations` or `transactions`.
    pub feed: String,
    /// Records as JSON objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
    /// The text of an export file in the registry's format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// Records already in carbonmesh's common format, all of the connector's registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommonFormat {
    /// Always `common_format`.
    #[serde(rename = "type")]
    pub kind: CommonFormatType,
    /// When the sender produced the event (RFC 3339); informative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The records.
    pub data: CommonFormatData,
}

/// Projects and credit records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommonFormatData {
    /// Projects.
    #[serde(default)]
    pub projects: Vec<Project>,
    /// Credit records.
    #[serde(default)]
    pub credits: Vec<CreditRecord>,
}

/// A delivery's payload, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Ids that changed.
    ChangeHint(ChangeHint),
    /// Records in the registry's format.
    RegistryFormat(RegistryFormat),
    /// Records in the common format.
    CommonFormat(CommonFormat),
}

/// Records at most in one delivery (the body cap bounds it too).
pub const MAX_RECORDS: usize = 10_000;

/// Why a payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PayloadError(pub String);

/// Holds each common-format credit to the rules every stored record passes: its range is
/// derived from its serial when absent and may not contradict it, and nothing happened in the
/// future. The first credit that fails refuses the delivery, naming it.
fn admit(credits: &mut [CreditRecord], today: chrono::NaiveDate) -> Result<(), PayloadError> {
    for (i, credit) in credits.iter_mut().enumerate() {
        carbonmesh_serials::reconcile_serial(credit)
            .and_then(|()| credit.check_event_date(today))
            .map_err(|e| {
                PayloadError(format!(
                    "credit {i} (record_key `{}`): {e}",
                    credit.record_key
                ))
            })?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: Option<String>,
}

impl Payload {
    /// Parses and checks a body addressed to `registry`'s connector, whose feeds are `feeds`.
    pub fn parse(body: &[u8], registry: RegistryId, feeds: &[Feed]) -> Result<Self, PayloadError> {
        let bad = |e: serde_json::Error| PayloadError(format!("malformed payload: {e}"));
        let envelope: Envelope = serde_json::from_slice(body).map_err(bad)?;
        let payload = match envelope.kind.as_deref() {
            Some("change_hint") => Payload::ChangeHint(serde_json::from_slice(body).map_err(bad)?),
            Some("registry_format") => {
                Payload::RegistryFormat(serde_json::from_slice(body).map_err(bad)?)
            }
            Some("common_format") => {
                Payload::CommonFormat(serde_json::from_slice(body).map_err(bad)?)
            }
            Some(other) => {
                return Err(PayloadError(format!(
                    "unknown payload type `{other}` (known: change_hint, registry_format, common_format)"
                )));
            }
            None => {
                return Err(PayloadError(
                    "the payload has no `type` (change_hint, registry_format or common_format)"
                        .into(),
                ));
            }
        };
        payload.check(registry, feeds)?;
        let mut payload = payload;
        if let Payload::CommonFormat(common) = &mut payload {
            admit(&mut common.data.credits, chrono::Utc::now().date_naive())?;
        }
        Ok(payload)
    }

    fn check(&self, registry: RegistryId, feeds: &[Feed]) -> Result<(), PayloadError> {
        match self {
            Payload::ChangeHint(hint) => {
                let n = hint.data.project_ids.len() + hint.data.serials.len();
                if n == 0 {
                    return Err(PayloadError(
                        "a change hint names at least one project id or serial".into(),
                    ));
                }
                if n > MAX_RECORDS {
                    return Err(PayloadError(format!(
                        "at most {MAX_RECORDS} ids per change hint"
                    )));
                }
            }
            Payload::RegistryFormat(records) => {
                let feed = records.data.feed()?;
                if !feeds.contains(&feed) {
                    return Err(PayloadError(format!(
                        "{registry} publishes no `{feed}` feed (its feeds: {})",
                        feeds
                            .iter()
                            .map(|f| f.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                match (&records.data.records, &records.data.file) {
                    (Some(r), None) if r.len() > MAX_RECORDS => {
                        return Err(PayloadError(format!(
                            "at most {MAX_RECORDS} records per delivery"
                        )));
                    }
                    (Some(_), None) | (None, Some(_)) => {}
                    _ => {
                        return Err(PayloadError(
                            "registry_format data holds either `records` or `file`".into(),
                        ));
                    }
                }
            }
            Payload::CommonFormat(common) => {
                let data = &common.data;
                if data.projects.len() + data.credits.len() > MAX_RECORDS {
                    return Err(PayloadError(format!(
                        "at most {MAX_RECORDS} records per delivery"
                    )));
                }
                let foreign = data
                    .projects
                    .iter()
                    .map(|p| p.registry)
                    .chain(data.credits.iter().map(|c| c.registry))
                    .find(|r| *r != registry);
                if let Some(other) = foreign {
                    return Err(PayloadError(format!(
                        "a record of registry {other} was sent to the {registry} connector"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Which kind of payload this is.
    pub fn kind(&self) -> WebhookKind {
        match self {
            Payload::ChangeHint(_) => WebhookKind::ChangeHint,
            Payload::RegistryFormat(_) => WebhookKind::RegistryFormat,
            Payload::CommonFormat(_) => WebhookKind::CommonFormat,
        }
    }
}

impl RegistryFormatData {
    /// The feed named.
    pub fn feed(&self) -> Result<Feed, PayloadError> {
        self.feed
            .parse()
            .map_err(|e: carbonmesh_connector::UnknownFeed| PayloadError(e.to_string()))
    }
}

impl ChangeHintData {
    /// The connector's view of the hint.
    pub fn changed(&self) -> Changed {
        Changed {
            project_ids: self.project_ids.clone(),
            serials: self.serials.clone(),
        }
    }
}

/// `(file name, pretty JSON Schema)` of each payload, exported to `schema/webhooks/`.
pub fn json_schemas() -> Vec<(&'static str, String)> {
    fn one<T: JsonSchema>(file: &'static str) -> (&'static str, String) {
        let schema = schemars::schema_for!(T);
        let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        text.push('\n');
        (file, text)
    }
    vec![
        one::<ChangeHint>("change-hint.schema.json"),
        one::<RegistryFormat>("registry-format.schema.json"),
        one::<CommonFormat>("common-format.schema.json"),
    ]
}
