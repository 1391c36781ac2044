//! Writes a Verra VCU transactions export (the column layout of Verra's own export) with a
//! chosen number of rows, for import benchmarks.
//!
//! ```text
//! cargo run --release -p carbonmesh-simulator --example write_verra_csv -- --rows N --seed S OUT.csv
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: write_verra_csv [--rows N] [--seed S] OUT.csv\n\
                     \n  --rows N   rows to write (default 1000000)\
                     \n  --seed S   simulator seed (default 1)";

struct Args {
    rows: u64,
    seed: u64,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut rows = 1_000_000;
    let mut seed = 1;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rows" | "--seed" => {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                let number = value
                    .replace('_', "")
                    .parse::<u64>()
                    .map_err(|err| format!("{arg} {value}: {err}"))?;
                if arg == "--rows" {
                    rows = number;
                } else {
                    seed = number;
                }
            }
            "-h" | "--help" => return Err(String::new()),
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other => {
                if out.replace(PathBuf::from(other)).is_some() {
                    return Err("only one output file".to_owned());
                }
            }
        }
    }
    let out = out.ok_or_else(|| "missing output file".to_owned())?;
    if rows == 0 {
        return Err("--rows must be at least 1".to_owned());
    }
    Ok(Args { rows, seed, out })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("write_verra_csv: {message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let started = Instant::now();
    match carbonmesh_simulator::write_verra_transactions_csv(args.seed, args.rows, &args.out) {
        Ok(written) => {
            eprintln!(
                "wrote {written} rows (seed {}) to {} in {:.2} s",
                args.seed,
                args.out.display(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("write_verra_csv: {err}");
            ExitCode::FAILURE
        }
    }
}
