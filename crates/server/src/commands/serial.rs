//! `carbonmesh serial …`: needs no runtime and no database.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;

use carbonmesh_server::cli::SerialCommand;

/// Parses serial numbers, from the command line or standard input (`-`), into JSON lines;
/// fails when any serial does not parse.
pub fn run(command: SerialCommand) -> anyhow::Result<ExitCode> {
    let SerialCommand::Parse { registry, serials } = command;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let all_ok = if serials.iter().any(|s| s == "-") {
        let mut read_error = None;
        let stdin = io::stdin();
        let lines = stdin.lock().lines().map_while(|line| match line {
            Ok(line) => Some(line),
            Err(error) => {
                read_error = Some(error);
                None
            }
        });
        let named = serials.iter().filter(|s| *s != "-").cloned();
        let ok = carbonmesh_serials::run_parse_command(
            registry,
            named.chain(lines.filter(|l| !l.trim().is_empty())),
            &mut out,
        )?;
        if let Some(error) = read_error {
            return Err(error).context("cannot read serials from standard input");
        }
        ok
    } else {
        carbonmesh_serials::run_parse_command(registry, serials, &mut out)?
    };
    out.flush()?;
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
