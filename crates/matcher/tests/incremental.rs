//! Incremental and full matching agree: random records (overlapping, nested, adjacent,
//! foreign, bridged, converted, corrected later) applied in random chunks end with exactly
//! the findings of one full sort-and-sweep run, and so do the same records checked a batch of
//! independent groups at a time.

use carbonmesh_matcher::groups::findings_in_groups;
use carbonmesh_matcher::{MatchConfig, Matcher};
use carbonmesh_model::{
    CreditRecord, CrossReference, Normalized, Project, RegistryId, SerialRange, TransactionType,
    UnitStatus,
};
use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;

const REGISTRIES: [RegistryId; 4] = [
    RegistryId::VERRA,
    RegistryId::GOLD_STANDARD,
    RegistryId::ACR,
    RegistryId::ARB,
];

// One argument per generated value of the property test.
#[allow(clippy::too_many_arguments)]
fn credit(
    key: u8,
    registry: usize,
    ns: usize,
    start: u64,
    len: u64,
    kind: u8,
    project: u8,
    extra: u8,
) -> CreditRecord {
    let registry = REGISTRIES[registry % REGISTRIES.len()];
    let namespace = ["verra", "gold-standard:GS1-1-X", "cdm:RW-5"][ns % 3].to_owned();
    let (tt, status) = match kind % 4 {
        0 => (TransactionType::Issuance, UnitStatus::Active),
        1 => (TransactionType::Retirement, UnitStatus::Retired),
        2 => (TransactionType::Conversion, UnitStatus::Converted),
        _ => (TransactionType::Transfer, UnitStatus::Active),
    };
    let quantity = if extra.is_multiple_of(5) {
        len + 2
    } else {
        len
    };
    CreditRecord {
        registry,
        record_key: format!("r{key}"),
        registry_project_id: format!("P{}", project % 4),
        transaction_type: Normalized::new(tt, if kind % 4 == 2 { "Convert to ARB" } else { "x" }),
        quantity: Decimal::from(quantity),
        serial: Some(format!("s{key}")),
        serial_range: Some(SerialRange {
            namespace,
            start,
            end: start + len - 1,
        }),
        vintage: Some(2020 + i32::from(extra % 3)),
        monitoring_period: None,
        event_date: NaiveDate::from_ymd_opt(2021 + i32::from(extra % 3), 6, 1),
        status: Normalized::new(status, "x"),
        account: None,
        beneficiary: extra
            .is_multiple_of(7)
            .then(|| "Toucan Protocol".to_owned()),
        reason: None,
        note: None,
    }
}

fn project(registry: usize, project: u8, name: u8) -> Project {
    let registry = REGISTRIES[registry % REGISTRIES.len()];
    let mut p = Project::new(
        registry,
        &format!("P{}", project % 4),
        &format!("Lake {} wind farm", name % 3),
    );
    p.country = Some("KE".into());
    if registry == RegistryId::ARB {
        p.cross_references.push(CrossReference {
            registry: Some(RegistryId::ACR),
            id: format!("P{}", project % 4),
            relation: "arb_offset_project".into(),
        });
    }
    p
}

type CreditArgs = (u8, usize, usize, u64, u64, u8, u8, u8);

fn credits() -> impl Strategy<Value = Vec<CreditArgs>> {
    prop::collection::vec(
        (
            0u8..40,
            0usize..4,
            0usize..3,
            1u64..200,
            1u64..60,
            0u8..4,
            0u8..4,
            0u8..10,
        ),
        1..60,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn incremental_equals_full(
        records in credits(),
        projects in prop::collection::vec((0usize..4, 0u8..4, 0u8..3), 0..10),
        chunk in 1usize..8,
        batch in 1usize..20,
        complete in any::<bool>(),
    ) {
        let mut config = MatchConfig::new(NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"));
        if complete {
            config.complete_registries.insert(RegistryId::VERRA);
            config.complete_registries.insert(RegistryId::ACR);
        }
        config.synced_registries.insert(RegistryId::ARB);
        let credits: Vec<(CreditRecord, i64)> = records
            .iter()
            .enumerate()
            .map(|(i, &(k, r, ns, s, l, kind, p, x))| (credit(k, r, ns, s, l, kind, p, x), i as i64 + 1))
            .collect();
        let projects: Vec<(Project, i64)> = projects
            .iter()
            .map(|&(r, p, n)| (project(r, p, n), 1))
            .collect();
        // Keys repeat: later statements of a key replace earlier ones (a registry's
        // correction). The full run sees only the last statement of each key.
        let mut last = std::collections::BTreeMap::new();
        for (c, v) in &credits {
            last.insert((c.registry, c.record_key.clone()), (c.clone(), *v));
        }
        let mut last_projects = std::collections::BTreeMap::new();
        for (p, v) in &projects {
            last_projects.insert(p.id(), (p.clone(), *v));
        }
        let (last, last_projects): (Vec<_>, Vec<_>) =
            (last.into_values().collect(), last_projects.into_values().collect());
        let full = Matcher::full(config.clone(), last.clone(), last_projects.clone());
        prop_assert_eq!(
            &findings_in_groups(&config, &last, &last_projects, batch),
            full.findings()
        );
        let mut incremental = Matcher::new(config);
        let mut ps = projects.clone();
        for piece in credits.chunks(chunk) {
            let these = if ps.is_empty() { Vec::new() } else { vec![ps.remove(0)] };
            incremental.apply(piece.to_vec(), these);
        }
        incremental.apply(Vec::new(), ps);
        prop_assert_eq!(incremental.findings(), full.findings());
    }
}
