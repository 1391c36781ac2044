//! Bad input gives a typed error, never a panic.

use carbonmesh_model::{MAX_UNIT_NUMBER, RegistryId};
use carbonmesh_serials::{
    CadtUnitBlock, Grammar, QuantityMismatch, SerialError, check_quantity, detect_registry,
    isometric_record, parse, parse_cadt_block, parse_stated_quantity, parse_with_positions,
};
use rust_decimal::Decimal;

const VERRA: &str = "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1";

#[test]
fn empty_input() {
    assert_eq!(parse("", None), Err(SerialError::Empty));
    assert_eq!(parse("  \t\n", None), Err(SerialError::Empty));
    assert_eq!(
        parse_with_positions("", 1, 2, None),
        Err(SerialError::Empty)
    );
}

#[test]
fn start_after_end() {
    for (s, g) in [
        (
            "19385-941467431-941467007-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
            Grammar::Verra,
        ),
        (
            "GS1-1-UG-GS11236-16-2024-30307-19149-1",
            Grammar::GoldStandard,
        ),
        ("ACR-US-1185-2025-3078-85847 to 1", Grammar::Acr),
        ("CAR-1-US-1335-31-983-KS-2025-9205-5000 to 1", Grammar::Car),
        ("FCPF-CI-130-2023-20-46404 to 1", Grammar::Art),
        (
            "BCR-CO-259-14-002-2-2401-2409-0043903-0043804",
            Grammar::Biocarbon,
        ),
        (
            "RW-5-1467609-2-2-0-7014 - RW-5-1463953-2-2-0-7014",
            Grammar::Kyoto,
        ),
        (
            "PURO_PR_CORC100+_US_517437_2025_59a44376-3b87-4814-bce1-d05adeac04ad_460-1",
            Grammar::Puro,
        ),
    ] {
        match parse(s, None) {
            Err(SerialError::StartAfterEnd {
                grammar,
                start,
                end,
            }) => {
                assert_eq!(grammar, g, "{s}");
                assert!(start > end);
            }
            other => panic!("{s}: {other:?}"),
        }
    }
    assert!(matches!(
        parse_with_positions("CDC_1_1_1_321_14_1", 10, 9, None),
        Err(SerialError::StartAfterEnd { .. })
    ));
}

#[test]
fn numbers_over_the_storage_limit() {
    let over = (MAX_UNIT_NUMBER as u128 + 1).to_string();
    let max = MAX_UNIT_NUMBER.to_string();
    let s = format!("19385-1-{over}-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1");
    assert!(matches!(
        parse(&s, None),
        Err(SerialError::NumberTooLarge {
            grammar: Grammar::Verra,
            field: 3
        })
    ));
    // Exactly the limit is fine.
    let s = format!("19385-1-{max}-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1");
    assert_eq!(parse(&s, None).map(|p| p.end()), Ok(Some(MAX_UNIT_NUMBER)));
    // Far beyond u64.
    let s = format!("ACR-US-1-2025-1-1 to 1{}", "0".repeat(40));
    assert!(matches!(
        parse(&s, None),
        Err(SerialError::NumberTooLarge { .. })
    ));
    // Puro: 25 digits has no prefix rule (only 30-digit legacy numbers do).
    let s = format!(
        "PURO_PR_CORC_FR_181856_2021_8646834b-ea59-4167-996e-16d8a084cfc1_1-{}",
        "9".repeat(25)
    );
    assert!(matches!(
        parse(&s, None),
        Err(SerialError::NumberTooLarge { .. })
    ));
    // ...and the legacy rule applies.
    let p = parse(
        "643002406555908610000000140219-643002406555908610000000140220",
        Some(RegistryId::PURO),
    )
    .expect("legacy");
    assert_eq!(p.namespace, "puro:legacy:643002406555908610");
    assert_eq!((p.start(), p.end()), (Some(140219), Some(140220)));
    // Legacy ends under different prefixes are one range in no namespace.
    assert!(matches!(
        parse(
            "643002406555908610000000140219-643002406801000010000000140220",
            None
        ),
        Err(SerialError::EndsDisagree { .. })
    ));
    assert!(matches!(
        parse_with_positions("CDC_1_1_1_321_14_1", 1, u64::MAX, None),
        Err(SerialError::NumberTooLarge { .. })
    ));
    assert!(matches!(
        isometric_record("iss_1", u64::MAX),
        Err(SerialError::NumberTooLarge { .. })
    ));
}

#[test]
fn unicode_digits_and_dashes() {
    // Arabic-Indic three in the batch; full-width digit; en dash instead of hyphen.
    let arabic = VERRA.replacen('3', "\u{663}", 1);
    assert!(matches!(
        parse(&arabic, None),
        Err(SerialError::NonAsciiDigit { ch: '\u{663}', .. })
    ));
    let fullwidth = "GS1-1-UG-GS11236-16-2024-30307-1-\u{ff11}9149";
    assert!(matches!(
        parse(fullwidth, None),
        Err(SerialError::NonAsciiDigit { ch: '\u{ff11}', .. })
    ));
    let dash = "ACR-US-1185-2025-3078-1 to 85847".replace("-3078", "\u{2013}3078");
    assert!(matches!(
        parse(&dash, None),
        Err(SerialError::NonAscii { ch: '\u{2013}', .. })
    ));
}

#[test]
fn trailing_junk() {
    for s in [
        format!("{VERRA}x"),
        format!("{VERRA}-1"),
        "GS1-1-UG-GS11236-16-2024-30307-1-19149-7".to_owned(),
        "ACR-US-1185-2025-3078-1 to 85847 extra".to_owned(),
        "CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000;".to_owned(),
        "BCR-CO-259-14-002-2-2401-2409-0043804-0043903-1".to_owned(),
        "RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014-9".to_owned(),
        "ISOMETRIC:iss_1:1-5x".to_owned(),
    ] {
        match parse(&s, None) {
            Err(SerialError::TrailingJunk { .. } | SerialError::BadField { .. }) => {}
            other => panic!("{s}: {other:?}"),
        }
    }
    assert!(matches!(
        parse(&format!("{VERRA}x"), None),
        Err(SerialError::BadField { field: 13, .. } | SerialError::TrailingJunk { .. })
    ));
    assert!(matches!(
        parse("ACR-US-1185-2025-3078-1 to 85847 extra", None),
        Err(SerialError::TrailingJunk {
            grammar: Grammar::Acr,
            at: 32
        })
    ));
    // Surrounding whitespace is not junk.
    assert!(parse(&format!("  {VERRA}\n"), None).is_ok());
}

#[test]
fn bad_fields_name_the_field() {
    let bad_date = VERRA.replace("31122020", "31022020");
    assert!(matches!(
        parse(&bad_date, None),
        Err(SerialError::BadField {
            grammar: Grammar::Verra,
            field: 12,
            ..
        })
    ));
    let bad_origin = VERRA.replace("-VER-", "-XYZ-");
    assert!(matches!(
        parse(&bad_origin, None),
        Err(SerialError::BadField { field: 7, .. })
    ));
    let lower_country = "GS1-1-ug-GS11236-16-2024-30307-1-19149";
    assert!(matches!(
        parse(lower_country, None),
        Err(SerialError::BadField { field: 3, .. })
    ));
    assert!(matches!(
        parse("BCR-CO-259-14-002-2-2413-2409-0043804-0043903", None),
        Err(SerialError::BadField { field: 7, .. })
    ));
    assert!(matches!(
        parse("GS1-1-UG-GS11236-16-2024", None),
        Err(SerialError::Truncated { field: 6, .. })
    ));
    // Kyoto ends must agree on everything but the number.
    assert!(matches!(
        parse("RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7015", None),
        Err(SerialError::EndsDisagree {
            name: "project",
            ..
        })
    ));
    // AAUs are not CDM units.
    assert!(matches!(
        parse("RW-1-1463953-2-2-0-7014", None),
        Err(SerialError::BadField { field: 2, .. })
    ));
}

#[test]
fn unknown_and_wrong_registry() {
    assert_eq!(parse("hello world", None), Err(SerialError::UnknownGrammar));
    assert_eq!(detect_registry("hello world"), None);
    assert_eq!(
        parse(VERRA, Some(RegistryId::GOLD_STANDARD)),
        Err(SerialError::NotForRegistry {
            registry: RegistryId::GOLD_STANDARD,
            grammar: Grammar::Verra
        })
    );
    assert_eq!(
        parse("ACR-US-1185-2025-3078-1 to 85847", Some(RegistryId::ARB)),
        Err(SerialError::NoSerials(RegistryId::ARB))
    );
    // A CAD Trust node may carry any registry's serial; the namespace stays the owner's.
    let p = parse(VERRA, Some(RegistryId::CADT)).expect("verra in cadt");
    assert_eq!(
        (p.registry, p.namespace.as_str()),
        (RegistryId::VERRA, "verra")
    );
}

#[test]
fn detection() {
    for (s, r) in [
        (VERRA, RegistryId::VERRA),
        (
            "240-7863589-7889021-VCU-003-APX-IN-1-101-01042006-18032007-0",
            RegistryId::VERRA,
        ),
        (
            "8040-449402275-449402275-VCU-042-MER-PE-14-1360-01072013-30062014-1",
            RegistryId::VERRA,
        ),
        (
            "19902-1139690318-1139925921-VCS-VCU-500-VER-US-3352-01012024-31122024-0",
            RegistryId::VERRA,
        ),
        (
            "GS1-1-IN-GS817-4-2012-1303-93-4644",
            RegistryId::GOLD_STANDARD,
        ),
        (
            "RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014",
            RegistryId::CDM,
        ),
        ("ACR-US-1187-2025-2-1 to 16820", RegistryId::ACR),
        (
            "CAR-ROC-US-2056-129-2283-WV-2025-8969-1 to 260294",
            RegistryId::CAR,
        ),
        ("ART-GY-102-2021-11-2759599 to 2760598", RegistryId::ART),
        ("FCPF-CI-130-2023-20-1 to 46404", RegistryId::ART),
        (
            "CDC_10_1_29_321_14_R1_XX_CO_1_6_BFC_2021",
            RegistryId::CERCARBONO,
        ),
        ("BCR2CDC_106_2_8_322_14_CO_1_1_2019", RegistryId::CERCARBONO),
        (
            "CDB_1_46_253_99_12_3_30_PT_IN_CO_1_1_LTR_2019",
            RegistryId::CERCARBONO,
        ),
        (
            "PCR-CO-BFX-14-002-2-2101-2112-0000001-0299564",
            RegistryId::BIOCARBON,
        ),
        (
            "PURO_PR_CORC100+_US_517437_2025_59a44376-3b87-4814-bce1-d05adeac04ad_1-460",
            RegistryId::PURO,
        ),
        (
            "40980b1a-cff7-4c78-9cc5-a3a2f18c7e0d_1000-1001",
            RegistryId::PURO,
        ),
        (
            "ISOMETRIC:iss_1KP6EDZ8K1S036PY:1-2765370",
            RegistryId::ISOMETRIC,
        ),
    ] {
        assert_eq!(detect_registry(s), Some(r), "{s}");
    }
}

#[test]
fn verra_eras_and_fields() {
    let apx = parse(
        "240-7863589-7889021-VCU-003-APX-IN-1-101-01042006-18032007-0",
        None,
    )
    .expect("apx");
    assert_eq!(apx.count(), Some(25_433));
    assert_eq!(
        apx.to_string(),
        "240-7863589-7889021-VCU-003-APX-IN-1-101-01042006-18032007-0"
    );
    let v2026 = parse(
        "19902-1139690318-1139925921-VCS-VCU-500-VER-US-3352-01012024-31122024-0",
        None,
    )
    .expect("2026");
    let carbonmesh_serials::Encoded::Verra(f) = &v2026.encoded else {
        panic!()
    };
    assert_eq!(f.era(), carbonmesh_serials::VerraEra::Vcs2026);
    assert_eq!((f.sectoral_scope, f.project_id), (None, 3352));
    let markit = parse(
        "8040-449402275-449402275-VCU-042-MER-PE-14-1360-01072013-30062014-1",
        None,
    )
    .expect("markit");
    let carbonmesh_serials::Encoded::Verra(f) = &markit.encoded else {
        panic!()
    };
    assert_eq!(f.era(), carbonmesh_serials::VerraEra::Markit);
    assert_eq!(
        (f.sectoral_scope, f.project_id, markit.count()),
        (Some(14), 1360, Some(1))
    );
}

#[test]
fn positions_outside_the_block() {
    assert!(matches!(
        parse_with_positions("GS1-1-IN-GS817-4-2012-1303-93-4644", 1, 92, None),
        Err(SerialError::OutsideBlock {
            block_start: 93,
            block_end: 4644,
            ..
        })
    ));
    // A block prefix without a range takes the positions.
    let p = parse_with_positions("GS1-1-IN-GS817-4-2012-1303", 93, 4644, None).expect("prefix");
    assert_eq!(p.to_string(), "GS1-1-IN-GS817-4-2012-1303-93-4644");
    assert_eq!(parse(&p.to_string(), None), Ok(p));
}

#[test]
fn cadt_blocks() {
    let org = "f5e3b1c0";
    let p = parse_cadt_block(&CadtUnitBlock {
        unit_block_start: "ABC1000",
        unit_block_end: "ABC1010",
        org_uid: org,
        registry_of_origin: None,
    })
    .expect("generic");
    assert_eq!(p.namespace, "cadt:f5e3b1c0:ABC");
    assert_eq!(
        (p.count(), p.to_string().as_str()),
        (Some(11), "ABC1000-ABC1010")
    );
    // Kyoto unit ids as bounds land in the CDM namespace.
    let k = parse_cadt_block(&CadtUnitBlock {
        unit_block_start: "RW-5-1463953-2-2-0-7014",
        unit_block_end: "RW-5-1467609-2-2-0-7014",
        org_uid: org,
        registry_of_origin: Some(RegistryId::CDM),
    })
    .expect("kyoto");
    assert_eq!(
        (k.registry, k.namespace.as_str(), k.count()),
        (RegistryId::CDM, "cdm:RW-5", Some(3657))
    );
    // Bare numbers from Verra: Verra's single counter.
    let v = parse_cadt_block(&CadtUnitBlock {
        unit_block_start: "941467007",
        unit_block_end: "941467431",
        org_uid: org,
        registry_of_origin: Some(RegistryId::VERRA),
    })
    .expect("verra");
    assert_eq!(
        (v.registry, v.namespace.as_str()),
        (RegistryId::VERRA, "verra")
    );
    for (a, b, o) in [
        ("A345", "B567", org),
        ("A10", "A9", org),
        ("A1", "A2", ""),
        ("ABC", "ABD", org),
        ("", "A1", org),
    ] {
        assert!(
            parse_cadt_block(&CadtUnitBlock {
                unit_block_start: a,
                unit_block_end: b,
                org_uid: o,
                registry_of_origin: None
            })
            .is_err(),
            "{a}-{b}"
        );
    }
}

#[test]
fn quantity_checks() {
    let p = parse("ACR-FR-1129-2025-2917-30932 to 35143", None).expect("acr");
    assert_eq!(check_quantity(&p, Decimal::from(4212)), Ok(()));
    let e = check_quantity(&p, Decimal::from(4213)).expect_err("mismatch");
    assert!(matches!(e, QuantityMismatch::Differs { .. }));
    assert_eq!(e.difference(), Some(Decimal::ONE));
    // A decimal stated quantity never matches whole units by rounding.
    assert!(check_quantity(&p, Decimal::new(42115, 1)).is_err());
    assert_eq!(
        check_quantity(&p, parse_stated_quantity("4,212.0").expect("qty")),
        Ok(())
    );
    let batch = parse("CDC_1_1_1_321_14_1", None).expect("batch");
    assert!(matches!(
        check_quantity(&batch, Decimal::from(62740)),
        Err(QuantityMismatch::NoRange { .. })
    ));
    let iso = isometric_record("iss_1KP6EDZ8K1S036PY", 2_765_370).expect("iso");
    assert_eq!(check_quantity(&iso, Decimal::new(276537, 2)), Ok(()));
    assert!(parse_stated_quantity("12,3x").is_err());
    assert!(parse_stated_quantity("-5").is_err());
    assert!(isometric_record("iss_1", 0).is_err());
    assert!(isometric_record("iss 1", 5).is_err());
}
