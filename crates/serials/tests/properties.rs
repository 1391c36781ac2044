//! Property tests: canonical form round-trips, and no input panics.

use carbonmesh_model::RegistryId;
use carbonmesh_serials::{
    CadtUnitBlock, Grammar, detect_registry, isometric_record, parse, parse_cadt_block,
    parse_with_positions,
};
use proptest::prelude::*;

const EXAMPLES: &[&str] = &[
    "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
    "19902-1139690318-1139925921-VCS-VCU-500-VER-US-3352-01012024-31122024-0",
    "8040-449402275-449402275-VCU-042-MER-PE-14-1360-01072013-30062014-1",
    "240-7863589-7889021-VCU-003-APX-IN-1-101-01042006-18032007-0",
    "GS1-1-KE-GS11603-16-2025-30256-110-5463",
    "RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014",
    "ACR-US-885-2024-3072-119446 to 130668",
    "CAR-1-US-1480-46-1156-FL-2026-10272-852724 to 860723",
    "CAR-ROC-US-2056-129-2283-WV-2025-8969-1 to 260294",
    "FCPF-CI-130-2023-20-1 to 46404",
    "CDC_10_1_29_321_14_R1_XX_CO_1_6_BFC_2021",
    "BCR2CDC_106_2_8_322_14_CO_1_1_2019",
    "BCR-CO-259-14-005-R-2310-2312-0000001-0035738",
    "PURO_PR_CORC100+_US_517437_2025_59a44376-3b87-4814-bce1-d05adeac04ad_1-460",
    "PURO_PR_CORC_FR_181856_2021_8646834b-ea59-4167-996e-16d8a084cfc1_643002406555908610000000273330-643002406555908610000000273379",
    "643002406555908610000000140219-643002406555908610000000140220",
    "40980b1a-cff7-4c78-9cc5-a3a2f18c7e0d_1000-1001",
    "ISOMETRIC:iss_1KP6EDZ8K1S036PY:1-2765370",
];

fn range() -> impl Strategy<Value = (u64, u64)> {
    (0u64..=i64::MAX as u64).prop_flat_map(|a| (Just(a), a..=i64::MAX as u64))
}

fn cc() -> impl Strategy<Value = String> {
    "[A-Z]{2}"
}

/// Every grammar, written from random fields.
fn serial() -> impl Strategy<Value = String> {
    let verra = (
        any::<u32>(),
        range(),
        any::<bool>(),
        (0u32..10_000, 1usize..5),
        prop_oneof![Just("VER"), Just("MER"), Just("APX")],
        cc(),
        proptest::option::of(0u32..100),
        any::<u32>(),
        (1u32..=28, 1u32..=12, 1900u32..=2100),
        (1u32..=28, 1u32..=12, 1900u32..=2100),
        any::<bool>(),
    )
        .prop_map(|(b, (s, e), prog, (iss, w), o, cc, scope, prj, d1, d2, flag)| {
            format!(
                "{b}-{s}-{e}-{}VCU-{iss:0w$}-{o}-{cc}-{}{prj}-{:02}{:02}{:04}-{:02}{:02}{:04}-{}",
                if prog { "VCS-" } else { "" },
                scope.map(|x| format!("{x}-")).unwrap_or_default(),
                d1.0, d1.1, d1.2, d2.0, d2.1, d2.2,
                u8::from(flag)
            )
        });
    let gs = (
        any::<u8>(),
        any::<u8>(),
        cc(),
        any::<u32>(),
        any::<u8>(),
        1000u16..=9999,
        any::<u32>(),
        range(),
    )
        .prop_map(|(v, u, cc, id, t, y, b, (s, e))| {
            format!("GS{v}-{u}-{cc}-GS{id}-{t}-{y}-{b}-{s}-{e}")
        });
    let kyoto = (
        cc(),
        5u8..=7,
        range(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
    )
        .prop_map(|(p, t, (s, e), o, a, l, j)| {
            format!("{p}-{t}-{s}-{o}-{a}-{l}-{j} - {p}-{t}-{e}-{o}-{a}-{l}-{j}")
        });
    let acr = (cc(), any::<u32>(), 1000u16..=9999, any::<u32>(), range())
        .prop_map(|(cc, p, y, b, (s, e))| format!("ACR-{cc}-{p}-{y}-{b}-{s} to {e}"));
    let car = (
        prop_oneof![Just("1"), Just("ROC")],
        cc(),
        any::<u32>(),
        any::<u16>(),
        any::<u32>(),
        cc(),
        1000u16..=9999,
        any::<u32>(),
        range(),
    )
        .prop_map(|(k, cc, p, t, d, st, y, b, (s, e))| {
            format!("CAR-{k}-{cc}-{p}-{t}-{d}-{st}-{y}-{b}-{s} to {e}")
        });
    let art = (
        prop_oneof![Just("ART"), Just("FCPF")],
        cc(),
        any::<u32>(),
        1000u16..=9999,
        any::<u32>(),
        range(),
    )
        .prop_map(|(pr, cc, p, y, b, (s, e))| format!("{pr}-{cc}-{p}-{y}-{b}-{s} to {e}"));
    let bio = (
        prop_oneof![Just("BCR"), Just("PCR")],
        cc(),
        "[A-Z0-9]{1,15}",
        any::<u8>(),
        0u16..1000,
        "[0-9R]",
        (0u8..100, 1u8..=12),
        (0u8..100, 1u8..=12),
        range(),
    )
        .prop_map(|(p, cc, code, sc, seq, cl, a, b, (s, e))| {
            format!(
                "{p}-{cc}-{code}-{sc}-{seq:03}-{cl}-{:02}{:02}-{:02}{:02}-{s:07}-{e:07}",
                a.0, a.1, b.0, b.1
            )
        });
    let puro = (
        "[A-Z]{1,4}",
        "CORC[0-9]{0,4}\\+?",
        cc(),
        "[1-9][0-9]{0,8}",
        1000u16..=9999,
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        range(),
    )
        .prop_map(|(r, t, cc, f, y, u, (s, e))| format!("PURO_{r}_{t}_{cc}_{f}_{y}_{u}_{s}-{e}"));
    let puro_legacy = ("[1-9][0-9]{17}", 0u64..1_000_000_000_000)
        .prop_flat_map(|(p, a)| (Just(p), Just(a), a..1_000_000_000_000))
        .prop_map(|(p, a, b)| format!("{p}{a:012}-{p}{b:012}"));
    let iso = ("(iss|ret|ctb)_[0-9A-Z]{16}", range())
        .prop_map(|(id, (s, e))| format!("ISOMETRIC:{id}:{s}-{e}"));
    prop_oneof![verra, gs, kyoto, acr, car, art, bio, puro, puro_legacy, iso]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn format_then_parse_is_identity(s in serial()) {
        let p = parse(&s, None).map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
        let text = p.to_string();
        let again = parse(&text, Some(p.registry));
        prop_assert_eq!(again.as_ref(), Ok(&p), "{} -> {}", s, text);
        // And formatting is stable.
        prop_assert_eq!(again.map(|a| a.to_string()), Ok(text));
        prop_assert_eq!(detect_registry(&s), Some(p.registry));
    }

    #[test]
    fn positions_round_trip(
        serial in "(BCR2)?CDC_[0-9]{1,4}_[0-9]_[0-9]{1,3}(_R[0-9])?(_[A-Z]{2})?_[0-9]_[0-9](_BFC?)?(_20[0-9]{2})?",
        (a, b) in range(),
    ) {
        let p = parse_with_positions(&serial, a, b, None)
            .map_err(|e| TestCaseError::fail(format!("{serial}: {e}")))?;
        prop_assert_eq!(p.grammar(), Grammar::Cercarbono);
        let again = parse_with_positions(&p.to_string(), a, b, Some(RegistryId::CERCARBONO));
        prop_assert_eq!(again, Ok(p));
    }

    #[test]
    fn cadt_round_trip(prefix in "[A-Z]{0,4}", (a, b) in (0u64..1_000_000_000).prop_flat_map(|a| (Just(a), a..1_000_000_000))) {
        let (sa, sb) = (format!("{prefix}{a}"), format!("{prefix}{b}"));
        let block = CadtUnitBlock { unit_block_start: &sa, unit_block_end: &sb, org_uid: "org1", registry_of_origin: None };
        if let Ok(p) = parse_cadt_block(&block) {
            let text = p.to_string();
            let (x, y) = text.split_once('-').expect("two bounds");
            let again = parse_cadt_block(&CadtUnitBlock { unit_block_start: x, unit_block_end: y, ..block });
            prop_assert_eq!(again, Ok(p));
        }
    }

    #[test]
    fn isometric_round_trip(id in "iss_[0-9A-Z]{16}", kg in 1u64..=i64::MAX as u64) {
        let p = isometric_record(&id, kg).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parse(&p.to_string(), None), Ok(p));
    }

    #[test]
    fn random_strings_never_panic(s in "\\PC*", hint in proptest::option::of(0usize..12)) {
        let r = hint.map(|i| RegistryId::WELL_KNOWN[i]);
        let _ = parse(&s, r);
        let _ = parse_with_positions(&s, 1, 10, r);
        let _ = detect_registry(&s);
        let _ = parse_cadt_block(&CadtUnitBlock { unit_block_start: &s, unit_block_end: &s, org_uid: "o", registry_of_origin: r });
    }

    #[test]
    fn ascii_noise_never_panics(s in "[-_ 0-9A-Za-z+:]{0,120}") {
        let _ = parse(&s, None);
        let _ = parse(&s, Some(RegistryId::CADT));
    }

    #[test]
    fn mutated_serials_never_panic(
        i in 0usize..EXAMPLES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<char>()), 1..6),
    ) {
        let mut chars: Vec<char> = EXAMPLES[i].chars().collect();
        for (at, op, c) in edits {
            let n = chars.len();
            match op {
                0 if n > 0 => { chars.remove(at.index(n)); }
                1 => chars.insert(at.index(n + 1), c),
                2 if n > 0 => chars[at.index(n)] = c,
                _ => { let k = at.index(n + 1); chars.truncate(k); }
            }
        }
        let s: String = chars.into_iter().collect();
        if let Ok(p) = parse(&s, None) {
            // Whatever parses must format to something that parses back the same.
            if p.range.is_some() && p.grammar() != Grammar::Cercarbono {
                prop_assert_eq!(parse(&p.to_string(), Some(p.registry)), Ok(p));
            }
        }
    }
}
