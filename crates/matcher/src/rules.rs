//! Pure helpers the rules share: roles, namespace owners, bridge markers, conversion targets,
//! project similarity keys, and the canonical evidence an alert id is derived from.

use carbonmesh_model::{
    AlertKind, AlertRecordRef, CreditRecord, Project, RegistryId, SerialRange, TransactionType,
    UnitStatus,
};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use crate::index::Role;

/// The day Verra stopped allowing tokens based on retired credits.
pub const VERRA_TOKEN_BAN: (i32, u32, u32) = (2022, 5, 25);

/// The role of a record's block.
pub fn role(credit: &CreditRecord) -> Role {
    role_of(credit.transaction_type.value, credit.status.value)
}

/// The role of a block of this transaction type and unit status.
pub fn role_of(kind: TransactionType, status: UnitStatus) -> Role {
    match kind {
        TransactionType::Issuance => Role::Issuance,
        TransactionType::Retirement
        | TransactionType::Cancellation
        | TransactionType::Conversion => Role::Use,
        _ => match status {
            UnitStatus::Retired | UnitStatus::Cancelled | UnitStatus::Converted => Role::Use,
            _ => Role::Held,
        },
    }
}

/// The registry whose units a namespace numbers (`verra`, `cdm:RW-5` → CDM, …).
pub fn namespace_owner(namespace: &str) -> Option<RegistryId> {
    let head = namespace.split(':').next().unwrap_or(namespace);
    RegistryId::WELL_KNOWN
        .into_iter()
        .find(|r| r.as_str() == head)
}

/// Whether the record names another registry's units.
pub fn is_foreign(credit: &CreditRecord) -> bool {
    credit
        .serial_range
        .as_ref()
        .and_then(|r| namespace_owner(&r.namespace))
        .is_some_and(|owner| owner != credit.registry)
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Whether `text` is a blockchain address (`0x` and 40 hex digits).
pub fn is_chain_address(text: &str) -> bool {
    let t = text.trim();
    t.len() == 42
        && (t.starts_with("0x") || t.starts_with("0X"))
        && t[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// What makes a retirement look bridged to a token: its beneficiary is a blockchain address,
/// or its text names a tokenization bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bridge {
    /// A blockchain address as beneficiary.
    ChainAddress,
    /// Toucan (TCO2, BCT, NCT).
    Toucan,
    /// C3 (C3T).
    C3,
    /// Moss (MCO2).
    Moss,
    /// KlimaDAO.
    KlimaDao,
}

impl std::fmt::Display for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Bridge::ChainAddress => "a blockchain address as beneficiary",
            Bridge::Toucan => "the Toucan bridge",
            Bridge::C3 => "the C3 bridge",
            Bridge::Moss => "the Moss bridge",
            Bridge::KlimaDao => "the KlimaDAO bridge",
        })
    }
}

/// The tokenization bridge a word names, if any (compared without regard to case).
fn bridge_named(word: &str) -> Option<Bridge> {
    const BRIDGES: [(&str, Bridge); 10] = [
        ("toucan", Bridge::Toucan),
        ("tco2", Bridge::Toucan),
        ("bct", Bridge::Toucan),
        ("nct", Bridge::Toucan),
        ("c3", Bridge::C3),
        ("c3t", Bridge::C3),
        ("moss", Bridge::Moss),
        ("mco2", Bridge::Moss),
        ("klimadao", Bridge::KlimaDao),
        ("klima", Bridge::KlimaDao),
    ];
    let find = |w: &str| {
        BRIDGES
            .iter()
            .find(|(name, _)| w.eq_ignore_ascii_case(name))
            .map(|(_, bridge)| *bridge)
    };
    // Most words are ASCII and no name is longer than 8 bytes: the common case allocates
    // nothing. Other words are compared in their Unicode lower case.
    if word.is_ascii() {
        (word.len() <= 8).then(|| find(word)).flatten()
    } else {
        find(&word.to_lowercase())
    }
}

/// The bridge a retirement points to, if its beneficiary is a blockchain address or its text
/// names a tokenization bridge.
pub fn bridge_marker(credit: &CreditRecord) -> Option<Bridge> {
    if credit.beneficiary.as_deref().is_some_and(is_chain_address) {
        return Some(Bridge::ChainAddress);
    }
    [&credit.beneficiary, &credit.note, &credit.reason]
        .into_iter()
        .flatten()
        .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
        .find_map(bridge_named)
}

/// The tokenization bridge a retirement (a record of `role` [`Role::Use`] and type
/// retirement) points to.
pub fn retirement_bridge(credit: &CreditRecord, role: Role) -> Option<Bridge> {
    (role == Role::Use && credit.transaction_type.value == TransactionType::Retirement)
        .then(|| bridge_marker(credit))
        .flatten()
}

/// Whether a retirement dated `date` falls under Verra's ban on tokens of retired credits.
pub fn after_token_ban(date: Option<NaiveDate>) -> bool {
    let (y, m, d) = VERRA_TOKEN_BAN;
    match (date, NaiveDate::from_ymd_opt(y, m, d)) {
        (Some(date), Some(ban)) => date >= ban,
        _ => false,
    }
}

/// The registry a cancellation converts units into, when it is one carbonmesh reads:
/// California ARB, Gold Standard (CDM → GS) or Cercarbono (BioCarbon → Cercarbono).
pub fn conversion_target(credit: &CreditRecord) -> Option<RegistryId> {
    if !may_convert(credit.transaction_type.value, credit.status.value) {
        return None;
    }
    // California accepts conversions only from its Offset Project Registries.
    let arb_source = matches!(
        credit.registry,
        RegistryId::ACR | RegistryId::CAR | RegistryId::VERRA
    );
    let texts = [
        Some(&credit.transaction_type.raw),
        credit.reason.as_ref(),
        credit.note.as_ref(),
    ];
    for text in texts.into_iter().flatten() {
        let lower = text.to_lowercase();
        let ws: Vec<String> = words(text).collect();
        if arb_source
            && (ws
                .iter()
                .any(|w| w == "arb" || w == "arboc" || w == "arbocs")
                || lower.contains("air resources board"))
        {
            return Some(RegistryId::ARB);
        }
        if lower.contains("gold standard") || lower.contains("gs-ver") || lower.contains("gs ver") {
            return Some(RegistryId::GOLD_STANDARD);
        }
        if lower.contains("cercarbono") || lower.contains("ecoregistry") {
            return Some(RegistryId::CERCARBONO);
        }
    }
    None
}

/// Cross-reference relations that describe a conversion lineage, not the same project listed
/// twice.
pub fn is_conversion_relation(relation: &str) -> bool {
    matches!(
        relation,
        "arb_offset_project" | "converted_from" | "converted_to" | "ecology_offset_project"
    )
}

const NAME_STOPWORDS: &[&str] = &[
    "project",
    "projects",
    "the",
    "of",
    "and",
    "bundled",
    "grouped",
    "programme",
    "program",
    "vpa",
    "cpa",
    "poa",
    "de",
    "la",
    "el",
    "del",
    "y",
];

/// The similarity key of a project: country plus its name's significant words, lower case.
/// Two projects of different registries with the same key and compatible developers are
/// probably one project.
pub fn similarity_key(project: &Project) -> Option<String> {
    let country = project.country.as_deref()?;
    let name: Vec<String> = words(&project.name)
        .filter(|w| !NAME_STOPWORDS.contains(&w.as_str()))
        .collect();
    if name.len() < 2 {
        return None;
    }
    Some(format!("{country}|{}", name.join(" ")))
}

/// Whether two projects' developers and methodologies do not contradict a match.
pub fn compatible(a: &Project, b: &Project) -> bool {
    // Parenthesized roles ("(PP)") and punctuation do not tell developers apart.
    let norm = |s: &Option<String>| {
        s.as_deref()
            .map(|s| {
                let mut plain = String::new();
                let mut depth = 0u32;
                for c in s.chars() {
                    match c {
                        '(' => depth += 1,
                        ')' => depth = depth.saturating_sub(1),
                        _ if depth == 0 => plain.push(c),
                        _ => {}
                    }
                }
                words(&plain).collect::<Vec<_>>().join(" ")
            })
            .filter(|s| !s.is_empty())
    };
    match (norm(&a.developer), norm(&b.developer)) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

/// Whether a record of this type and status can be a conversion (what
/// [`conversion_target`] then reads its texts for).
pub fn may_convert(kind: TransactionType, status: UnitStatus) -> bool {
    matches!(
        kind,
        TransactionType::Cancellation | TransactionType::Conversion
    ) || status == UnitStatus::Converted
}

/// Whether a record of `registry` in `role`, naming units of `namespace`, must be covered by
/// one of its registry's issuances: a retirement or cancellation of a registry whose issuances
/// are known `complete`, of its own units.
pub fn needs_cover(
    registry: RegistryId,
    role: Role,
    namespace: &str,
    complete: &std::collections::BTreeSet<RegistryId>,
) -> bool {
    role == Role::Use
        && complete.contains(&registry)
        && namespace_owner(namespace).is_none_or(|owner| owner == registry)
}

/// Project ids a project's cross-references name (in registries carbonmesh reads).
pub fn references(project: &Project) -> Vec<String> {
    project
        .cross_references
        .iter()
        .filter_map(|x| x.registry.map(|r| carbonmesh_model::project_id(r, &x.id)))
        .collect()
}

/// A record as alert evidence.
pub fn record_ref(credit: &CreditRecord, version: i64) -> AlertRecordRef {
    AlertRecordRef {
        registry: credit.registry,
        record_key: credit.record_key.clone(),
        version,
        serial: credit.serial.clone(),
        range: credit.serial_range.clone(),
    }
}

/// A project as alert evidence.
pub fn project_ref(project: &Project, version: i64) -> AlertRecordRef {
    AlertRecordRef {
        registry: project.registry,
        record_key: project.id(),
        version,
        serial: None,
        range: None,
    }
}

/// The alert id: sha256 of the kind, the sorted record identities and the overlap. Versions,
/// texts and severities are evidence, not identity, so a record's unrelated change keeps the
/// alert.
pub fn alert_id(
    kind: AlertKind,
    records: &[AlertRecordRef],
    overlap: Option<&SerialRange>,
) -> String {
    let mut keys: Vec<String> = records
        .iter()
        .map(|r| format!("{}\u{1f}{}", r.registry.as_str(), r.record_key))
        .collect();
    keys.sort();
    keys.dedup();
    let mut hasher = Sha256::new();
    hasher.update(kind.as_str().as_bytes());
    for key in &keys {
        hasher.update([0x1e]);
        hasher.update(key.as_bytes());
    }
    if let Some(o) = overlap {
        hasher.update(format!("\u{1d}{}\u{1f}{}\u{1f}{}", o.namespace, o.start, o.end).as_bytes());
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", kind.as_str())
}

#[cfg(test)]
mod tests {
    use carbonmesh_model::Normalized;

    use super::*;

    #[test]
    fn addresses_and_bridges_are_recognized() {
        assert!(is_chain_address(
            "0x4b1c3a5f8e2d9c7b6a0f1e2d3c4b5a6978869504"
        ));
        assert!(!is_chain_address("0x4b1c"));
        assert!(!is_chain_address("Acme Holdings"));
    }

    #[test]
    fn bridges_are_named_in_any_case() {
        let retired = |beneficiary: &str, note: &str| {
            bridge_marker(&CreditRecord {
                registry: RegistryId::VERRA,
                record_key: "1".into(),
                registry_project_id: "1".into(),
                transaction_type: Normalized::new(TransactionType::Retirement, "Retirement"),
                quantity: 1.into(),
                serial: None,
                serial_range: None,
                vintage: None,
                monitoring_period: None,
                event_date: None,
                status: Normalized::new(UnitStatus::Retired, "Retired"),
                account: None,
                beneficiary: Some(beneficiary.to_owned()),
                reason: None,
                note: Some(note.to_owned()),
            })
        };
        assert_eq!(
            retired("0x4b1c3a5f8e2d9c7b6a0f1e2d3c4b5a6978869504", ""),
            Some(Bridge::ChainAddress)
        );
        assert_eq!(
            retired("Acme", "Bridged to TCO2 tokens"),
            Some(Bridge::Toucan)
        );
        assert_eq!(retired("KLIMADAO treasury", ""), Some(Bridge::KlimaDao));
        assert_eq!(retired("Acme", "retired for C3T pool"), Some(Bridge::C3));
        assert_eq!(retired("Mossé", "Toucanet and c3po"), None);
        assert_eq!(retired("Acme", "on behalf of clients"), None);
        assert_eq!(
            Bridge::Moss.to_string(),
            "the Moss bridge",
            "the phrase alerts use"
        );
    }

    #[test]
    fn owners_come_from_the_namespace_head() {
        assert_eq!(namespace_owner("verra"), Some(RegistryId::VERRA));
        assert_eq!(namespace_owner("cdm:RW-5"), Some(RegistryId::CDM));
        assert_eq!(
            namespace_owner("gold-standard:GS1-1-IN-GS2922-16-2017-20315"),
            Some(RegistryId::GOLD_STANDARD)
        );
    }
}
