//! The `carbonmesh serial parse [--registry ID] SERIAL...` command, minus argument parsing.

use std::io::{self, Write};

use carbonmesh_model::RegistryId;
use serde_json::{Map, Value};

use crate::parse;

/// Parses every input and writes one JSON object per line to `out`.
///
/// A parsed serial prints `input`, `registry`, `grammar`, `namespace`, `start`, `end`,
/// `quantity`, `unit`, `project_id`, `canonical` and the fields its grammar encodes
/// (`batch`, `country`, `vintage_start`, `vintage_end`, ...). A serial that does not parse
/// prints `{"input": …, "error": "…"}`. Returns whether every input parsed, so the binary can
/// exit non-zero otherwise.
pub fn run_parse_command<W: Write>(
    registry: Option<RegistryId>,
    inputs: impl IntoIterator<Item = String>,
    out: &mut W,
) -> io::Result<bool> {
    let mut all_ok = true;
    for input in inputs {
        let body = match parse(&input, registry) {
            Ok(p) => p.to_json(),
            Err(e) => {
                all_ok = false;
                let mut m = Map::new();
                m.insert("error".into(), Value::from(e.to_string()));
                m
            }
        };
        // `input` first, then the fields in a stable (sorted) order.
        let input_json = serde_json::to_string(&input).map_err(io::Error::other)?;
        let rest = serde_json::to_string(&Value::Object(body)).map_err(io::Error::other)?;
        let rest = rest.strip_prefix('{').unwrap_or(&rest);
        writeln!(out, "{{\"input\":{input_json},{rest}")?;
    }
    Ok(all_ok)
}
