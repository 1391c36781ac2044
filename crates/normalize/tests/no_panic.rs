//! No input, however malformed, makes a normalizer panic.

use carbonmesh_model::RegistryId;
use carbonmesh_normalize::{
    DateOrder, HeaderMap, clean_text, country_alpha2, normalize_header, parse_compact_dmy,
    parse_date, parse_date_range, parse_excel_serial, parse_methodologies, parse_py_literal,
    parse_py_str_list, parse_quantity, parse_version, parse_vintage, parse_whole_units, parse_year,
    project_status, read_csv, transaction_type, unit_status,
};
use proptest::prelude::*;

/// Strings biased towards the characters registry fields are made of.
fn registry_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9/ :.,+-TZAPMapm]{0,30}",
        "[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})? ?(AM|PM)?)?",
        "[-+]?[0-9,]{0,15}(\\.[0-9]{0,5})?([eE][-+]?[0-9]{0,4})?",
        "[\\[\\]{}()'\",:a-zA-Z0-9 \\\\]{0,40}",
        "[A-Za-z ,.'()-]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn field_parsers_never_panic(s in registry_like()) {
        let _ = parse_date(&s, DateOrder::DayFirst);
        let _ = parse_date(&s, DateOrder::MonthFirst);
        let _ = parse_date_range(&s, DateOrder::MonthFirst);
        let _ = parse_compact_dmy(&s);
        let _ = parse_excel_serial(&s);
        let _ = parse_year(&s);
        let _ = parse_vintage(&s);
        let _ = parse_quantity(&s);
        let _ = parse_whole_units(&s);
        let _ = country_alpha2(&s);
        let _ = normalize_header(&s);
        let _ = clean_text(&s);
        let _ = parse_py_literal(&s);
        let _ = parse_py_str_list(&s);
        let _ = parse_version(&s);
        for r in RegistryId::WELL_KNOWN {
            let _ = transaction_type(r, &s);
            let _ = unit_status(r, &s);
            let _ = project_status(r, &s);
            let _ = parse_methodologies(r, &s);
        }
    }

    #[test]
    fn csv_reader_never_panics_and_always_terminates(
        bytes in proptest::collection::vec(
            prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b'a'), any::<u8>()],
            0..400,
        )
    ) {
        if let Ok(rows) = read_csv(&bytes) {
            let width = rows.headers().len();
            let mut n = 0usize;
            for row in rows {
                if let Ok(r) = row {
                    prop_assert_eq!(r.fields.len(), width);
                }
                n += 1;
                prop_assert!(n <= bytes.len() + 1);
            }
        }
    }

    #[test]
    fn header_lookup_never_panics(names in proptest::collection::vec(any::<String>(), 0..8), want in any::<String>()) {
        let h = HeaderMap::new(&names);
        let _ = h.find(&[want.as_str()]);
    }

    #[test]
    fn parsed_quantities_round_trip(n in any::<i64>()) {
        let q = parse_quantity(&n.to_string());
        prop_assert_eq!(q.map(|d| d.to_string()), Ok(n.to_string()));
    }

    #[test]
    fn iso_dates_round_trip(days in 0i64..100_000) {
        let base = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).expect("base date");
        let d = base + chrono::Days::new(days.unsigned_abs());
        if d.format("%Y").to_string().parse::<i32>().unwrap_or(0) <= 2200 {
            let text = d.format("%Y-%m-%d").to_string();
            prop_assert_eq!(parse_date(&text, DateOrder::DayFirst), Ok(d));
            let dmy = d.format("%d/%m/%Y").to_string();
            prop_assert_eq!(parse_date(&dmy, DateOrder::DayFirst), Ok(d));
            let mdy = d.format("%-m/%-d/%Y").to_string();
            prop_assert_eq!(parse_date(&mdy, DateOrder::MonthFirst), Ok(d));
        }
    }
}
