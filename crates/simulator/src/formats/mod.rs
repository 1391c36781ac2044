//! Rendering rows in each registry's real formats: CSV headers and records, JSON entities.
//!
//! Column names, their order, JSON field names and nesting, date and number formats all follow
//! the real exports (checked against the samples in the shared fixtures by the tests).

pub mod acr;
pub mod arb;
pub mod biocarbon;
pub mod cadt;
pub mod car;
pub mod cercarbono;
pub mod gold_standard;
pub mod isometric;
pub mod puro;
pub mod serial;
pub mod verra;

use serde_json::{Map, Value};

use crate::dataset::FeedRow;
use crate::feeds::Feed;

/// The CSV header of a CSV feed, `None` for JSON feeds. APX-style exports end every line with
/// a comma, so their last column name is empty.
pub fn csv_header(feed: Feed) -> Option<&'static [&'static str]> {
    match feed {
        Feed::VerraTransactions => Some(verra::TRANSACTIONS_HEADER),
        Feed::VerraProjectsCsv => Some(verra::PROJECTS_HEADER),
        Feed::CarProjects => Some(car::PROJECTS_HEADER),
        Feed::CarIssuances => Some(car::ISSUANCES_HEADER),
        Feed::CarRetirements => Some(car::RETIREMENTS_HEADER),
        Feed::CarCancellations => Some(car::CANCELLATIONS_HEADER),
        Feed::ArbIssuances => Some(arb::ISSUANCES_HEADER),
        _ => None,
    }
}

/// The CSV fields of one row of a CSV feed (empty for JSON feeds or mismatched rows).
pub fn csv_record(feed: Feed, row: &FeedRow) -> Vec<String> {
    match (feed, row) {
        (Feed::VerraTransactions, FeedRow::Credit(c, p)) => verra::transaction_record(c, p),
        (Feed::VerraProjectsCsv, FeedRow::Project(p)) => verra::project_record(p),
        (Feed::CarProjects, FeedRow::Project(p)) => car::project_record(p),
        (Feed::CarIssuances, FeedRow::Credit(c, p)) => car::issuance_record(c, p),
        (Feed::CarRetirements, FeedRow::Credit(c, p)) => car::retirement_record(c, p),
        (Feed::CarCancellations, FeedRow::Credit(c, p)) => car::cancellation_record(c, p),
        (Feed::ArbIssuances, FeedRow::Arb(a)) => arb::issuance_record(a),
        _ => Vec::new(),
    }
}

/// The JSON entity of one row of a JSON feed (`null` for CSV feeds or mismatched rows).
pub fn json_entity(feed: Feed, row: &FeedRow) -> Value {
    match (feed, row) {
        (Feed::VerraIssuances, FeedRow::Credit(c, p)) => verra::issuance_entity(c, p),
        (Feed::VerraRetirements, FeedRow::Credit(c, p)) => verra::retirement_entity(c, p),
        (Feed::VerraCancellations, FeedRow::Credit(c, p)) => verra::cancellation_entity(c, p),
        (Feed::VerraProjects, FeedRow::Project(p)) => verra::project_entity(p),
        (Feed::GoldStandardCredits, FeedRow::Credit(c, p)) => gold_standard::credit_entity(c, p),
        (Feed::GoldStandardProjects, FeedRow::Project(p)) => gold_standard::project_entity(p),
        (Feed::AcrIssued | Feed::AcrRetired | Feed::AcrCanceled, FeedRow::Credit(c, p)) => {
            acr::holding_entity(c, p)
        }
        (Feed::AcrProjects | Feed::ArtProjects, FeedRow::Project(p)) => acr::project_entity(p),
        (Feed::ArtIssued | Feed::ArtRetired | Feed::ArtCanceled, FeedRow::Credit(c, p)) => {
            acr::holding_entity(c, p)
        }
        (Feed::IsometricProjects, FeedRow::Project(p)) => isometric::project_node(p),
        (Feed::IsometricIssuances, FeedRow::Credit(c, p)) => isometric::issuance_node(c, p),
        (Feed::IsometricRetirements, FeedRow::Credit(c, p)) => isometric::retirement_node(c, p),
        (Feed::PuroProjects, FeedRow::Project(p)) => puro::project_entity(p),
        (Feed::PuroIssuances | Feed::PuroRetirements, FeedRow::Credit(c, p)) => {
            puro::transaction_entity(c, p)
        }
        (Feed::CercarbonoProjects, FeedRow::Project(p)) => cercarbono::project_entity(p),
        (Feed::CercarbonoIssuances, FeedRow::Credit(c, p)) => cercarbono::batch_entity(c, p),
        (Feed::CercarbonoRetirements, FeedRow::Credit(c, p)) => cercarbono::retirement_entity(c, p),
        (Feed::BiocarbonProjects, FeedRow::Project(p)) => biocarbon::project_entity(p),
        (Feed::BiocarbonIssuances, FeedRow::Credit(c, p)) => biocarbon::block_entity(c, p),
        (Feed::BiocarbonRetirements, FeedRow::Credit(c, p)) => biocarbon::retirement_entity(c, p),
        (Feed::BiocarbonCancellations, FeedRow::Credit(c, p)) => {
            biocarbon::cancellation_entity(c, p)
        }
        (Feed::CadtProjects, FeedRow::Project(p)) => cadt::project_entity(p),
        (Feed::CadtUnits, FeedRow::Credit(c, p)) => cadt::unit_entity(c, p),
        _ => Value::Null,
    }
}

/// An object with every key of `keys` (null unless set), so entities always carry the real
/// field set, then the given values.
pub(crate) fn entity(keys: &[&str], values: Vec<(&str, Value)>) -> Value {
    let mut map = Map::with_capacity(keys.len());
    for key in keys {
        map.insert((*key).to_string(), Value::Null);
    }
    for (key, value) in values {
        debug_assert!(keys.contains(&key), "{key} is not a field of this entity");
        map.insert(key.to_string(), value);
    }
    Value::Object(map)
}

/// `1454054` → `1,454,054`, as Verra's CSV prints quantities.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Writes the header line of a CSV feed, with renamed columns where a fault asks for it.
pub fn csv_header_bytes(feed: Feed, renames: &[(String, String)]) -> Vec<u8> {
    let header: Vec<&str> = csv_header(feed)
        .unwrap_or_default()
        .iter()
        .map(|name| {
            renames
                .iter()
                .find(|(from, _)| from == name)
                .map_or(*name, |(_, to)| to.as_str())
        })
        .collect();
    csv_line(&header)
}

/// Writes rows `from..to` of a CSV feed.
pub fn csv_rows_bytes(dataset: &crate::Dataset, feed: Feed, from: u64, to: u64) -> Vec<u8> {
    let capacity = (to.saturating_sub(from) * 400) as usize;
    // One writer for the whole batch: a writer per line costs more than the row itself.
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::with_capacity(capacity));
    for i in from..to {
        if let Some(row) = dataset.row(feed, i) {
            // Writing to a Vec cannot fail.
            let _ = writer.write_record(csv_record(feed, &row));
        }
    }
    writer.into_inner().unwrap_or_default()
}

/// One CSV line, quoted only where needed (as the registry exports are), ending in `\n`.
pub(crate) fn csv_line<S: AsRef<[u8]>>(fields: &[S]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::with_capacity(400));
    // Writing to a Vec cannot fail; an error would only mean an empty line.
    if writer.write_record(fields).is_err() {
        return Vec::new();
    }
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        assert_eq!(super::thousands(425), "425");
        assert_eq!(super::thousands(1_000), "1,000");
        assert_eq!(super::thousands(1_454_054), "1,454,054");
    }
}
