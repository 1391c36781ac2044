//! Parsing throughput over a realistic mix of every grammar.
//!
//! `cargo bench -p carbonmesh-serials`

use std::hint::black_box;

use carbonmesh_serials::{parse, parse_with_positions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Weighted roughly like the registries' volumes: Verra and Gold Standard dominate.
const MIX: &[&str] = &[
    "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
    "19380-941382555-941382741-VCS-VCU-1310-VER-CN-13-3005-01012022-31102022-0",
    "19368-940602844-940604553-VCS-VCU-1289-VER-VN-1-1975-01022023-31122023-0",
    "19902-1139690318-1139925921-VCS-VCU-500-VER-US-3352-01012024-31122024-0",
    "8040-449402275-449402275-VCU-042-MER-PE-14-1360-01072013-30062014-1",
    "240-7863589-7889021-VCU-003-APX-IN-1-101-01042006-18032007-0",
    "GS1-1-UG-GS11236-16-2024-30307-1-19149",
    "GS1-1-KE-GS11603-16-2025-30256-110-5463",
    "GS1-1-IN-GS716-4-2011-1302-5401-15564",
    "RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014",
    "ACR-FR-1129-2025-2917-30932 to 35143",
    "ACR-US-885-2024-3072-119446 to 130668",
    "CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000",
    "CAR-ROC-US-2056-129-2283-WV-2025-8969-1 to 260294",
    "ART-GY-102-2021-11-2759599 to 2760598",
    "FCPF-CI-130-2023-20-1 to 46404",
    "BCR-CO-259-14-002-2-2401-2409-0043804-0043903",
    "PCR-CO-BFX-14-002-2-2101-2112-0000001-0299564",
    "PURO_PR_CORC100+_US_517437_2025_59a44376-3b87-4814-bce1-d05adeac04ad_1-460",
    "PURO_PR_CORC_FR_181856_2021_8646834b-ea59-4167-996e-16d8a084cfc1_643002406555908610000000273330-643002406555908610000000273379",
];

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("serial_parse");
    g.throughput(Throughput::Elements(MIX.len() as u64 + 2));
    g.bench_function("mix", |b| {
        b.iter(|| {
            for s in MIX {
                let _ = black_box(parse(black_box(s), None));
            }
            let _ = black_box(parse_with_positions(
                black_box("CDC_10_1_29_321_14_R1_XX_CO_1_6_BFC_2021"),
                4426,
                4971,
                None,
            ));
            let _ = black_box(parse_with_positions(
                black_box("BCR2CDC_106_2_8_322_14_CO_1_1_2019"),
                1,
                1000,
                None,
            ));
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
