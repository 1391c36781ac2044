//! Feeds arbitrary bytes to every entry point: none may panic, and whatever parses must format
//! to text that parses back to the same value.
#![no_main]

use carbonmesh_model::RegistryId;
use carbonmesh_serials::{
    CadtUnitBlock, Grammar, parse, parse_cadt_block, parse_with_positions, run_parse_command,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(s) = std::str::from_utf8(rest) else {
        return;
    };
    let hint = RegistryId::WELL_KNOWN.get(usize::from(selector % 16)).copied();
    if let Ok(p) = parse(s, hint) {
        if p.range.is_some() && p.grammar() != Grammar::Cercarbono {
            let text = p.to_string();
            assert_eq!(
                parse(&text, Some(p.registry)).as_ref(),
                Ok(&p),
                "{s:?} -> {text:?}"
            );
        }
    }
    let mut mid = s.len() / 2;
    while !s.is_char_boundary(mid) {
        mid -= 1;
    }
    let (a, b) = s.split_at(mid);
    let first = u64::from(selector) * 7;
    let _ = parse_with_positions(s, first, first.saturating_add(u64::from(selector)), hint);
    let _ = parse_cadt_block(&CadtUnitBlock {
        unit_block_start: a,
        unit_block_end: b,
        org_uid: "fuzz",
        registry_of_origin: hint,
    });
    let mut out = Vec::new();
    let _ = run_parse_command(hint, s.lines().map(str::to_owned), &mut out);
});
