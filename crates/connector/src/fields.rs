//! Typed field accessors on a raw record: what every connector reads (a required text, a
//! quantity, a date, a year, a country, a serial) with the rejection that names the field when the value
//! is missing or wrong. The record keeps its source and line, so the rejected record is kept
//! with the file, line, field and reason.

use carbonmesh_model::RegistryId;
use carbonmesh_normalize::{DateOrder, country_alpha2, parse_date, parse_quantity, parse_year};
use carbonmesh_serials::ParsedSerial;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::{RawRecord, Rejection};

/// Where a value is read: the source's names for it (the first the record has wins) and, for
/// connectors that report the model's field rather than the source's column, that field.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    names: &'a [&'a str],
    label: Option<&'a str>,
}

impl<'a> Field<'a> {
    /// The field under `names`, reported as the source spells it.
    pub const fn new(names: &'a [&'a str]) -> Self {
        Field { names, label: None }
    }

    /// The field under `names`, reported as `label` (the model's name for it).
    pub const fn labelled(label: &'a str, names: &'a [&'a str]) -> Self {
        Field {
            names,
            label: Some(label),
        }
    }
}

impl<'a> From<&'a [&'a str]> for Field<'a> {
    fn from(names: &'a [&'a str]) -> Self {
        Field::new(names)
    }
}

impl<'a, const N: usize> From<&'a [&'a str; N]> for Field<'a> {
    fn from(names: &'a [&'a str; N]) -> Self {
        Field::new(names)
    }
}

impl<'a> From<&'a &'a str> for Field<'a> {
    fn from(name: &'a &'a str) -> Self {
        Field::new(std::slice::from_ref(name))
    }
}

/// A country as the registry wrote it, with its ISO 3166-1 alpha-2 code when it names one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Country {
    /// The code (`BR`).
    pub alpha2: Option<String>,
    /// What the registry wrote (`Brazil`).
    pub raw: Option<String>,
}

impl RawRecord {
    /// The name a rejection reports for `field`.
    fn reported(&self, field: Field<'_>) -> String {
        field
            .label
            .map_or_else(|| self.field_name(field.names), str::to_owned)
    }

    /// The cleaned text of `field`, or a rejection when it is blank or missing.
    pub fn required<'a>(&self, field: impl Into<Field<'a>>) -> Result<String, Rejection> {
        let field = field.into();
        self.clean_field(field.names)
            .ok_or_else(|| Rejection::field(self.reported(field), "is blank or missing"))
    }

    /// The cleaned text of `field`, `None` when blank or missing.
    pub fn optional<'a>(&self, field: impl Into<Field<'a>>) -> Option<String> {
        self.clean_field(field.into().names)
    }

    /// A quantity of units: required, exact, not negative.
    pub fn quantity<'a>(&self, field: impl Into<Field<'a>>) -> Result<Decimal, Rejection> {
        let field = field.into();
        self.optional_quantity(field)?
            .ok_or_else(|| Rejection::field(self.reported(field), "is blank or missing"))
    }

    /// A quantity of units when the field has one: exact, not negative.
    pub fn optional_quantity<'a>(
        &self,
        field: impl Into<Field<'a>>,
    ) -> Result<Option<Decimal>, Rejection> {
        let field = field.into();
        let Some(value) = self.clean_field(field.names) else {
            return Ok(None);
        };
        let q = parse_quantity(&value)
            .map_err(|e| Rejection::field(self.reported(field), e.to_string()))?;
        if q.is_sign_negative() {
            return Err(Rejection::field(
                self.reported(field),
                format!("`{value}` is negative"),
            ));
        }
        Ok(Some(q))
    }

    /// A date when the field has one; `order` reads ambiguous numeric dates (ISO dates read
    /// the same either way).
    pub fn date<'a>(
        &self,
        field: impl Into<Field<'a>>,
        order: DateOrder,
    ) -> Result<Option<NaiveDate>, Rejection> {
        let field = field.into();
        self.clean_field(field.names)
            .map(|v| parse_date(&v, order))
            .transpose()
            .map_err(|e| Rejection::field(self.reported(field), e.to_string()))
    }

    /// A date that must be there.
    pub fn required_date<'a>(
        &self,
        field: impl Into<Field<'a>>,
        order: DateOrder,
    ) -> Result<NaiveDate, Rejection> {
        let field = field.into();
        self.date(field, order)?
            .ok_or_else(|| Rejection::field(self.reported(field), "is blank or missing"))
    }

    /// A year (a vintage) when the field has one.
    pub fn year<'a>(&self, field: impl Into<Field<'a>>) -> Result<Option<i32>, Rejection> {
        let field = field.into();
        self.clean_field(field.names)
            .map(|v| parse_year(&v))
            .transpose()
            .map_err(|e| Rejection::field(self.reported(field), e.to_string()))
    }

    /// A year that must be there (a block's vintage).
    pub fn required_year<'a>(&self, field: impl Into<Field<'a>>) -> Result<i32, Rejection> {
        let field = field.into();
        self.year(field)?
            .ok_or_else(|| Rejection::field(self.reported(field), "is blank or missing"))
    }

    /// A serial number that must be there, as published (trimmed, nothing else changed), and
    /// what it names. `registry` is the registry whose records carry it, when it restricts the
    /// grammars accepted (`None`: any registry's, recognised from the serial itself). A serial
    /// whose unit count differs from the stated quantity is not refused: the matcher reports it.
    pub fn serial<'a>(
        &self,
        field: impl Into<Field<'a>>,
        registry: Option<RegistryId>,
    ) -> Result<(String, ParsedSerial), Rejection> {
        let field = field.into();
        let serial = self
            .field(field.names)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Rejection::field(self.reported(field), "is blank or missing"))?;
        let parsed = carbonmesh_serials::parse(&serial, registry)
            .map_err(|e| Rejection::field(self.reported(field), format!("`{serial}`: {e}")))?;
        Ok((serial, parsed))
    }

    /// A country: what the registry wrote, and its alpha-2 code when it names one (an unknown
    /// name is kept raw, not rejected: the project stays, its country unresolved).
    pub fn country<'a>(&self, field: impl Into<Field<'a>>) -> Country {
        let raw = self.clean_field(field.into().names);
        Country {
            alpha2: raw.as_deref().and_then(country_alpha2).map(str::to_owned),
            raw,
        }
    }
}

/// Whether a body is JSON rather than CSV: its first character past a byte-order mark and
/// white space opens an object or an array.
pub fn looks_like_json(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    matches!(
        bytes.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// Parses a saved JSON file; a byte-order mark, as some editors write one, is skipped.
pub fn from_saved_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RawBody;

    fn record(json: serde_json::Value) -> RawRecord {
        RawRecord {
            feed: crate::Feed::Transactions,
            source: "sample.json".into(),
            line: 7,
            body: RawBody::Json(json),
        }
    }

    #[test]
    fn serials_are_read_as_published_and_checked_against_the_registry() {
        let serial = "ACR-US-1007-2024-2351-1 to 79565";
        let raw = record(serde_json::json!({ "Serial": format!(" {serial} "), "Empty": "" }));
        let (text, parsed) = raw
            .serial(&["Serial"], Some(RegistryId::ACR))
            .expect("an ACR serial");
        assert_eq!(text, serial, "trimmed, nothing else changed");
        let range = parsed.serial_range().expect("a range");
        assert_eq!((range.start, range.end), (1, 79565));
        let wrong = raw
            .serial(
                Field::labelled("serial", &["Serial"]),
                Some(RegistryId::VERRA),
            )
            .expect_err("not a Verra serial");
        assert_eq!(wrong.field.as_deref(), Some("serial"));
        assert!(
            wrong.reason.starts_with(&format!("`{serial}`: ")),
            "{wrong}"
        );
        let blank = raw.serial(&["Empty"], None).expect_err("blank");
        assert_eq!(blank.to_string(), "field `Empty`: is blank or missing");
    }

    #[test]
    fn rejections_name_the_field_and_say_why() {
        let raw = record(serde_json::json!({
            "Quantity": "1,200", "Short": "-3", "When": "31/12/2020", "Blank": " ", "Year": "2019"
        }));
        assert_eq!(raw.quantity(&["Quantity"]), Ok(Decimal::from(1200)));
        let negative = raw.quantity(&["Short"]).expect_err("negative");
        assert_eq!(negative.field.as_deref(), Some("Short"));
        assert!(negative.reason.contains("negative"), "{negative}");
        let missing = raw
            .quantity(Field::labelled("quantity", &["Absent"]))
            .expect_err("missing");
        assert_eq!(missing.to_string(), "field `quantity`: is blank or missing");
        assert_eq!(
            raw.date(&["When"], DateOrder::DayFirst),
            Ok(NaiveDate::from_ymd_opt(2020, 12, 31))
        );
        assert!(raw.date(&["When"], DateOrder::MonthFirst).is_err());
        assert_eq!(
            raw.required(&["Blank"])
                .expect_err("blank")
                .field
                .as_deref(),
            Some("Blank")
        );
        assert_eq!(raw.optional(&["Blank"]), None);
        assert_eq!(raw.year(&["Year"]), Ok(Some(2019)));
        assert_eq!(raw.required_year(&["Year"]), Ok(2019));
        assert!(raw.required_year(&["Blank"]).is_err());
    }

    #[test]
    fn countries_keep_what_the_registry_wrote() {
        let raw = record(serde_json::json!({ "Country": "Brazil", "Other": "Atlantis" }));
        assert_eq!(
            raw.country(&["Country"]),
            Country {
                alpha2: Some("BR".into()),
                raw: Some("Brazil".into())
            }
        );
        assert_eq!(raw.country(&["Other"]).alpha2, None);
    }

    #[test]
    fn saved_json_may_start_with_a_byte_order_mark() {
        let value: serde_json::Value =
            from_saved_json(b"\xEF\xBB\xBF{\"totalCount\": 1}").expect("parsed");
        assert_eq!(value["totalCount"], 1);
        assert!(from_saved_json::<serde_json::Value>(b"\xEF\xBB\xBF{").is_err());
    }

    #[test]
    fn json_is_told_from_csv() {
        assert!(looks_like_json(b"\xEF\xBB\xBF  [{\"a\": 1}]"));
        assert!(looks_like_json(b"\n{\"totalCount\": 0}"));
        assert!(!looks_like_json(b"ID,Name\n1,x"));
        assert!(!looks_like_json(b""));
    }
}
