//! The columns of the record tables, in one order that the writers bind and the readers
//! decode, and a record's values for them (with its strings still to be numbered).

use carbonmesh_model::{CreditRecord, Project};
use chrono::NaiveDate;

use crate::db::Arg;
use crate::records::encode::{HAS_PERIOD, SERIAL_IS_KEY, quantity_parts, serial_bucket};

/// The content columns of a credit record, shared by `credits` and `credit_versions`.
pub(crate) const CREDIT_CONTENT: [&str; 20] = [
    "project",
    "kind",
    "kind_raw",
    "quantity",
    "quantity_text",
    "serial",
    "namespace",
    "serial_start",
    "serial_end",
    "vintage",
    "period_start",
    "period_end",
    "event_day",
    "status",
    "status_raw",
    "account",
    "beneficiary",
    "reason",
    "note",
    "flags",
];

/// The content columns of a project, shared by `projects` and `project_versions`.
pub(crate) const PROJECT_CONTENT: [&str; 13] = [
    "name",
    "developer",
    "country",
    "country_raw",
    "sector",
    "category",
    "project_type",
    "methodology",
    "status",
    "status_raw",
    "corresponding_adjustment",
    "registry_url",
    "extra",
];

/// `prefix.a, prefix.b, …`.
pub(crate) fn list(prefix: &str, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| {
            if prefix.is_empty() {
                (*c).to_owned()
            } else {
                format!("{prefix}.{c}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The strings of a credit record that are stored as terms: those that repeat over thousands
/// of records (an account holder, a buyer named as beneficiary, a retirement reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CreditTerms<'a> {
    pub registry: &'a str,
    pub project: &'a str,
    pub kind: &'a str,
    pub kind_raw: &'a str,
    pub namespace: Option<&'a str>,
    pub status: &'a str,
    pub status_raw: &'a str,
    pub account: Option<&'a str>,
    pub beneficiary: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// The numbers of [`CreditTerms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CreditIds {
    pub registry: i64,
    pub project: i64,
    pub kind: i64,
    pub kind_raw: i64,
    pub namespace: Option<i64>,
    pub status: i64,
    pub status_raw: i64,
    pub account: Option<i64>,
    pub beneficiary: Option<i64>,
    pub reason: Option<i64>,
}

/// A credit record's values for the content columns, borrowed from it.
#[derive(Debug, Clone)]
pub(crate) struct CreditValues<'a> {
    pub quantity: Option<i64>,
    pub quantity_text: Option<String>,
    pub serial: Option<&'a str>,
    pub serial_start: Option<i64>,
    pub serial_end: Option<i64>,
    pub serial_bucket: Option<i64>,
    pub vintage: Option<i64>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub event_day: Option<NaiveDate>,
    pub note: Option<&'a str>,
    pub flags: i64,
}

impl<'a> CreditValues<'a> {
    pub(crate) fn of(r: &'a CreditRecord) -> Self {
        let (quantity, quantity_text) = quantity_parts(r.quantity);
        let serial_is_key = r.serial.as_deref() == Some(r.record_key.as_str());
        let mut flags = 0;
        if serial_is_key {
            flags |= SERIAL_IS_KEY;
        }
        if r.monitoring_period.is_some() {
            flags |= HAS_PERIOD;
        }
        let range = r.serial_range.as_ref();
        Self {
            quantity,
            quantity_text,
            serial: if serial_is_key {
                None
            } else {
                r.serial.as_deref()
            },
            // validate() keeps bounds within the signed 64-bit range.
            serial_start: range.map(|s| s.start as i64),
            serial_end: range.map(|s| s.end as i64),
            serial_bucket: range.map(|s| serial_bucket(s.start, s.end)),
            vintage: r.vintage.map(i64::from),
            period_start: r.monitoring_period.as_ref().and_then(|p| p.start),
            period_end: r.monitoring_period.as_ref().and_then(|p| p.end),
            event_day: r.event_date,
            note: r.note.as_deref(),
            flags,
        }
    }

    /// The arguments of [`CREDIT_CONTENT`] in order.
    pub(crate) fn args(&self, ids: &CreditIds) -> Vec<Arg> {
        vec![
            ids.project.into(),
            ids.kind.into(),
            ids.kind_raw.into(),
            self.quantity.into(),
            self.quantity_text.clone().into(),
            self.serial.into(),
            ids.namespace.into(),
            self.serial_start.into(),
            self.serial_end.into(),
            self.vintage.into(),
            Arg::Day(self.period_start),
            Arg::Day(self.period_end),
            Arg::Day(self.event_day),
            ids.status.into(),
            ids.status_raw.into(),
            ids.account.into(),
            ids.beneficiary.into(),
            ids.reason.into(),
            self.note.into(),
            self.flags.into(),
        ]
    }
}

/// The term strings of a credit record; `project` is its project id.
pub(crate) fn credit_terms<'a>(r: &'a CreditRecord, project: &'a str) -> CreditTerms<'a> {
    CreditTerms {
        registry: r.registry.as_str(),
        project,
        kind: r.transaction_type.value.as_str(),
        kind_raw: &r.transaction_type.raw,
        namespace: r.serial_range.as_ref().map(|s| s.namespace.as_str()),
        status: r.status.value.as_str(),
        status_raw: &r.status.raw,
        account: r.account.as_deref(),
        beneficiary: r.beneficiary.as_deref(),
        reason: r.reason.as_deref(),
    }
}

/// The strings of a project that are stored as terms: its id, registry and status.
pub(crate) struct ProjectTerms<'a> {
    pub key: &'a str,
    pub registry: &'a str,
    pub status: Option<&'a str>,
    pub status_raw: Option<&'a str>,
}

pub(crate) fn project_terms<'a>(p: &'a Project, key: &'a str) -> ProjectTerms<'a> {
    ProjectTerms {
        key,
        registry: p.registry.as_str(),
        status: p.status.as_ref().map(|s| s.value.as_str()),
        status_raw: p.status.as_ref().map(|s| s.raw.as_str()),
    }
}

/// The arguments of [`PROJECT_CONTENT`] in order.
pub(crate) fn project_args(
    p: &Project,
    status: Option<i64>,
    status_raw: Option<i64>,
    extra: Option<String>,
) -> Vec<Arg> {
    vec![
        p.name.as_str().into(),
        p.developer.as_deref().into(),
        p.country.as_deref().into(),
        p.country_raw.as_deref().into(),
        p.sector.as_deref().into(),
        p.category.as_deref().into(),
        p.project_type.as_deref().into(),
        p.methodology.as_deref().into(),
        status.into(),
        status_raw.into(),
        p.corresponding_adjustment.as_deref().into(),
        p.registry_url.as_deref().into(),
        extra.into(),
    ]
}
