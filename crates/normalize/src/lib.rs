//! Field-level normalization shared by every carbonmesh registry connector.
//!
//! Registries publish the same facts in many spellings: dates in five formats, quantities with
//! thousands separators or as pandas floats, country names in English, Spanish or as ISO codes,
//! headers with stray spaces, CSV files with broken quoting. Each module here turns one kind of
//! raw field into one canonical value. Every function is pure: no I/O, no global state beyond
//! static tables, and a typed error that names the offending value and the reason.
#![deny(missing_docs)]

pub mod country;
pub mod csv_reader;
pub mod date;
pub mod header;
pub mod methodology;
pub mod quantity;
pub mod text;
pub mod vocabulary;

pub use country::{Country, all_countries, country_alpha2, lookup_country};
pub use csv_reader::{
    CsvReadError, CsvRecord, CsvRows, MAX_ROW_BYTES, Repair, RowError, RowProblem, read_csv,
    read_csv_from,
};
pub use date::{
    DateError, DateOrder, Vintage, parse_compact_dmy, parse_date, parse_date_range,
    parse_excel_serial, parse_vintage, parse_year,
};
pub use header::{Column, HeaderMap, MissingColumns, normalize_header};
pub use methodology::{
    Methodology, parse_methodologies, parse_methodology, parse_methodology_with_version,
    parse_version,
};
pub use quantity::{
    QuantityError, kg_to_tonnes, parse_optional_quantity, parse_quantity, parse_whole_units,
};
pub use text::{PyLiteralError, clean_text, is_null_token, parse_py_literal, parse_py_str_list};
pub use vocabulary::{
    ProjectStatus, TransactionType, UnitStatus, project_status, transaction_type, unit_status,
};
