//! One subgraph entity to records of the common model. Pure.
//!
//! - A TCO2 token (`tco2Tokens`) is a tokenized vintage of a registry project: it yields the
//!   project, under Toucan's id for it (`VCS-1718`), cross-referenced to the project in the
//!   registry whose units it holds (`verra:VCS1718`).
//! - A batch (`batchTokens`) is a block of registry units brought on chain: its serial number
//!   is the registry's serial, verbatim, so each batch yields a credit record whose serial range
//!   is in the registry's namespace (`verra`), where the matcher sees it beside the registry's
//!   own record of the same units. A batch may list several serials, comma-separated: one
//!   record each.
//! - A retirement (`retirements`) burns TCO2 tokens: a credit record of the tokens retired,
//!   with the certificate's beneficiary and message. Amounts are ERC-20 amounts (18 decimals),
//!   kept exact in tonnes.

use carbonmesh_connector::{Feed, RawRecord, Record, Rejection};
use carbonmesh_model::{
    CreditRecord, CrossReference, Normalized, Project, RegistryId, TransactionType, UnitStatus,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Toucan's registry id.
pub const REGISTRY: RegistryId = RegistryId::known("toucan");

/// Decimals of a TCO2 token: one token is one tonne.
const TOKEN_DECIMALS: u32 = 18;

// Member names of the subgraph entities.
const ID: &str = "id";
const VINTAGE: &str = "projectVintage.name";
const PROJECT_ID: &str = "projectVintage.project.projectId";
const METHODOLOGY: &str = "projectVintage.project.methodology";
const CATEGORY: &str = "projectVintage.project.category";
const STANDARD: &str = "projectVintage.project.standard";
const SYMBOL: &str = "symbol";
const SERIAL: &str = "serialNumber";
const QUANTITY: &str = "quantity";
const STATUS: &str = "confirmationStatus";
const TIMESTAMP: &str = "timestamp";
const TX: &str = "tx";
const CREATOR: &str = "creator.id";
const AMOUNT: &str = "amount";
const CREATION_TX: &str = "creationTx";
const TOKEN_SYMBOL: &str = "token.symbol";
const TOKEN_VINTAGE: &str = "token.projectVintage.name";
const TOKEN_PROJECT_ID: &str = "token.projectVintage.project.projectId";
const BENEFICIARY: &str = "certificate.beneficiaryString";
const RETIRING_ENTITY: &str = "certificate.retiringEntityString";
const MESSAGE: &str = "certificate.retirementMessage";

/// The records of one raw entity of `raw.feed`.
pub fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    match raw.feed {
        Feed::Projects => token(raw).map(|p| vec![Record::Project(p)]),
        Feed::Issuances => batch(raw),
        Feed::Retirements => retirement(raw).map(|c| vec![Record::Credit(c)]),
        other => Err(Rejection::record(format!(
            "Toucan publishes no {other} feed"
        ))),
    }
}

/// The project a TCO2 token holds a vintage of.
fn token(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = raw.required(&PROJECT_ID)?;
    raw.required(&SYMBOL)?;
    // The subgraph names no project: Toucan's id is the name it shows.
    let mut project = Project::new(REGISTRY, &id, &id);
    project.methodology = raw.optional(&METHODOLOGY);
    project.category = raw.optional(&CATEGORY);
    project.cross_references = origin(&id, raw.optional(&STANDARD).as_deref())
        .into_iter()
        .collect();
    Ok(project)
}

/// The registry project a Toucan project id (`VCS-1718`, `GS-500`) names, in that registry's
/// own form.
fn origin(id: &str, standard: Option<&str>) -> Option<CrossReference> {
    let (prefix, number) = id.split_once('-')?;
    let number = number.trim();
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix = standard.filter(|s| !s.trim().is_empty()).unwrap_or(prefix);
    let (registry, id) = match prefix.trim().to_ascii_uppercase().as_str() {
        "VCS" | "VERRA" => (RegistryId::VERRA, format!("VCS{number}")),
        "GS" | "GOLD STANDARD" => (RegistryId::GOLD_STANDARD, format!("GS{number}")),
        _ => return None,
    };
    Some(CrossReference {
        registry: Some(registry),
        id,
        relation: "tokenized_from".to_owned(),
    })
}

/// What a batch's `confirmationStatus` (Toucan's `BatchStatus`) means for its units: the
/// transaction, the units' state and the status's name. `None` for a rejected batch, which
/// minted nothing.
fn batch_status(code: u8) -> Option<(TransactionType, UnitStatus, &'static str)> {
    use TransactionType as T;
    use UnitStatus as U;
    Some(match code {
        0 => (T::Issuance, U::Pending, "Pending"),
        2 => (T::Issuance, U::Active, "Confirmed"),
        3 => (T::Issuance, U::Active, "DetokenizationRequested"),
        // The units went back to the registry.
        4 => (T::Conversion, U::Converted, "DetokenizationFinalized"),
        5 => (T::Issuance, U::Active, "RetirementRequested"),
        6 => (T::Retirement, U::Retired, "RetirementFinalized"),
        _ => return None,
    })
}

/// The credit records of a batch: one per serial it lists.
fn batch(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let id = raw.required(&ID)?;
    let code_text = raw.required(&STATUS)?;
    let code: u8 = code_text
        .parse()
        .map_err(|_| Rejection::field(STATUS, format!("`{code_text}` is not a status code")))?;
    let Some((transaction, status, status_name)) = batch_status(code) else {
        return Err(Rejection::field(
            STATUS,
            match code {
                1 => "the batch was rejected by Toucan: no tokens were minted".to_owned(),
                _ => format!("{code} is not a status Toucan defines (0 to 6)"),
            },
        ));
    };
    let project = raw.required(&PROJECT_ID)?;
    let quantity = raw.quantity(&QUANTITY)?;
    let serial_text = raw.required(&SERIAL)?;
    let serials: Vec<&str> = serial_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut parsed = Vec::with_capacity(serials.len());
    for serial in &serials {
        // The serial is the registry's: its grammar tells which registry's units it names.
        let p = carbonmesh_serials::parse(serial, None)
            .map_err(|e| Rejection::field(SERIAL, format!("`{serial}`: {e}")))?;
        parsed.push(p.serial_range());
    }
    let quantities: Vec<Decimal> = match parsed.as_slice() {
        [_] => vec![quantity],
        ranges => ranges
            .iter()
            .map(|r| r.as_ref().map(|r| Decimal::from(r.quantity())))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                Rejection::field(
                    SERIAL,
                    "lists several serials, and one names no unit range to split the quantity by",
                )
            })?,
    };
    let mut notes = vec![format!("Toucan batch {id} ({status_name})")];
    if let Some(tx) = raw.optional(&TX) {
        notes.push(format!("transaction {tx}"));
    }
    let listed: Decimal = quantities.iter().sum();
    if listed != quantity {
        notes.push(format!(
            "the batch states {quantity} tonnes, its serials {listed}"
        ));
    }
    let vintage = raw.year(&VINTAGE)?;
    let event_date = date(raw, TIMESTAMP)?;
    let account = raw.optional(&CREATOR);
    let several = serials.len() > 1;
    let records = serials
        .iter()
        .zip(parsed)
        .zip(quantities)
        .enumerate()
        .map(|(n, ((serial, range), quantity))| {
            Record::Credit(CreditRecord {
                registry: REGISTRY,
                record_key: match several {
                    true => format!("batch-{id}-{}", n + 1),
                    false => format!("batch-{id}"),
                },
                registry_project_id: project.clone(),
                transaction_type: Normalized::new(transaction, status_name),
                quantity,
                serial: Some((*serial).to_owned()),
                serial_range: range,
                vintage,
                monitoring_period: None,
                event_date,
                status: Normalized::new(status, format!("{code} ({status_name})")),
                account: account.clone(),
                beneficiary: None,
                reason: None,
                note: Some(notes.join("; ")),
            })
        })
        .collect();
    Ok(records)
}

/// The tokens one retirement burned.
fn retirement(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let id = raw.required(&ID)?;
    let amount = raw.required(&AMOUNT)?;
    let quantity = tonnes(&amount).map_err(|reason| Rejection::field(AMOUNT, reason))?;
    let mut notes = Vec::new();
    if let Some(symbol) = raw.optional(&TOKEN_SYMBOL) {
        notes.push(format!("token {symbol}"));
    }
    if let Some(tx) = raw.optional(&CREATION_TX) {
        notes.push(format!("transaction {tx}"));
    }
    Ok(CreditRecord {
        registry: REGISTRY,
        record_key: format!("retirement-{id}"),
        registry_project_id: raw.required(&TOKEN_PROJECT_ID)?,
        transaction_type: Normalized::new(TransactionType::Retirement, "retirement"),
        quantity,
        serial: None,
        serial_range: None,
        vintage: raw.year(&TOKEN_VINTAGE)?,
        monitoring_period: None,
        event_date: date(raw, TIMESTAMP)?,
        status: Normalized::new(UnitStatus::Retired, "retired"),
        account: raw.optional(&RETIRING_ENTITY),
        beneficiary: raw.optional(&BENEFICIARY),
        reason: raw.optional(&MESSAGE),
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

/// A token amount (an integer of 10^-18 tonnes, as the chain counts) in tonnes, exactly.
pub fn tonnes(amount: &str) -> Result<Decimal, String> {
    let amount = amount.trim();
    if amount.is_empty() || !amount.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{amount}` is not a token amount (an unsigned integer)"
        ));
    }
    let base_units: i128 = amount
        .parse()
        .map_err(|_| format!("`{amount}` is too large for a token amount"))?;
    Decimal::try_from_i128_with_scale(base_units, TOKEN_DECIMALS)
        .map(|d| d.normalize())
        .map_err(|_| format!("`{amount}` is too large for a token amount"))
}

/// The UTC date of a Unix timestamp in seconds, as the subgraph gives block times.
fn date(raw: &RawRecord, field: &str) -> Result<Option<NaiveDate>, Rejection> {
    let Some(text) = raw.optional(&field) else {
        return Ok(None);
    };
    text.parse::<i64>()
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map(|at| Some(at.date_naive()))
        .ok_or_else(|| Rejection::field(field, format!("`{text}` is not a Unix time in seconds")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_amounts_are_exact_tonnes() {
        assert_eq!(tonnes("1000000000000000000"), Ok(Decimal::ONE));
        assert_eq!(
            tonnes("1500000000000000"),
            Ok("0.0015".parse().expect("decimal"))
        );
        assert_eq!(tonnes("0"), Ok(Decimal::ZERO));
        assert_eq!(
            tonnes("230432746766008000000000"),
            Ok("230432.746766008".parse().expect("decimal"))
        );
        assert!(tonnes("-1").is_err());
        assert!(tonnes("1e18").is_err());
        assert!(tonnes(&"9".repeat(40)).is_err(), "beyond i128");
        assert!(
            tonnes(&"9".repeat(37)).is_err(),
            "beyond a decimal's 96 bits"
        );
    }

    #[test]
    fn project_ids_point_at_the_registry_whose_units_they_hold() {
        let verra = origin("VCS-1718", Some("VCS")).expect("verra");
        assert_eq!(verra.registry, Some(RegistryId::VERRA));
        assert_eq!(verra.id, "VCS1718");
        let gs = origin("GS-500", None).expect("gold standard");
        assert_eq!(
            (gs.registry, gs.id.as_str()),
            (Some(RegistryId::GOLD_STANDARD), "GS500")
        );
        assert_eq!(origin("PURO-X", None), None);
        assert_eq!(origin("1718", None), None);
    }
}
