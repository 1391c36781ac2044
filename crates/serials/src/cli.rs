//! The `carbonmesh serial parse [--registry ID] SERIAL...` command, minus argument parsing.

use std::io::{self, Write};

use carbonmesh_model::RegistryId;
use serde_json::{Map, Value};

use crate::{SerialQuery, parse_query};

/// Parses every input and writes one JSON object per line to `out`.
///
/// A CAD Trust unit block as printed (`START-END`, read with `--registry cadt` or when no
/// other grammar reads it) prints its prefix and bounds; its namespace needs the publishing
/// organisation. A parsed serial prints `input`, `registry`, `grammar`, `namespace`, `start`, `end`,
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
        let body = match parse_query(&input, registry) {
            Ok(SerialQuery::Parsed(p)) => p.to_json(),
            Ok(SerialQuery::CadtBlock { prefix, start, end }) => {
                let mut m = Map::new();
                m.insert("registry".into(), Value::from(RegistryId::CADT.as_str()));
                m.insert("grammar".into(), Value::from("cadt-block"));
                m.insert("prefix".into(), Value::from(prefix.clone()));
                m.insert("start".into(), Value::from(start));
                m.insert("end".into(), Value::from(end));
                m.insert("quantity".into(), Value::from(end - start + 1));
                // The organisation that published the block completes the namespace.
                m.insert(
                    "namespace".into(),
                    Value::from(format!("cadt:<organisation>:{prefix}")),
                );
                m
            }
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
