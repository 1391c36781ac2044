//! Export files written straight to disk, streaming, for import benchmarks.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::config::{CaseCounts, Scale, SimulatorConfig};
use crate::dataset::Dataset;
use crate::feeds::Feed;
use crate::{SimulatorError, formats};

/// Rows rendered between writes.
const ROWS_PER_BATCH: u64 = 4096;

/// Writes `feed` of `dataset` as a CSV file (header plus every row), streaming.
pub fn write_csv(dataset: &Dataset, feed: Feed, path: &Path) -> Result<u64, SimulatorError> {
    let write_error = |source| SimulatorError::Write {
        path: path.to_path_buf(),
        source,
    };
    if formats::csv_header(feed).is_none() {
        return Err(SimulatorError::InvalidConfig(format!(
            "{feed:?} is not a CSV feed"
        )));
    }
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).map_err(write_error)?);
    out.write_all(&formats::csv_header_bytes(feed, &[]))
        .map_err(write_error)?;
    let total = dataset.len(feed);
    let mut from = 0;
    while from < total {
        let to = (from + ROWS_PER_BATCH).min(total);
        out.write_all(&formats::csv_rows_bytes(dataset, feed, from, to))
            .map_err(write_error)?;
        from = to;
    }
    out.flush().map_err(write_error)?;
    Ok(total)
}

/// Writes a Verra VCU export (`offsets-db-data_transactions.csv` format) with exactly `rows`
/// rows for `seed`, with no injected cases. Returns the number of rows written.
pub fn write_verra_transactions_csv(
    seed: u64,
    rows: u64,
    path: &Path,
) -> Result<u64, SimulatorError> {
    // Each issuance block is published as four pieces; a partial last block is cut below.
    let blocks = rows.div_ceil(4).max(1);
    let config = SimulatorConfig {
        seed,
        scale: Scale {
            verra: crate::config::RegistryScale {
                projects: (blocks / 10).clamp(2, 5_000),
                issuance_blocks: blocks,
            },
            ..Scale::uniform(2, 1)
        },
        cases: CaseCounts::default(),
        ..SimulatorConfig::default()
    };
    let dataset = Dataset::new(&config)?;
    let write_error = |source| SimulatorError::Write {
        path: path.to_path_buf(),
        source,
    };
    let feed = Feed::VerraTransactions;
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).map_err(write_error)?);
    out.write_all(&formats::csv_header_bytes(feed, &[]))
        .map_err(write_error)?;
    let mut from = 0;
    while from < rows {
        let to = (from + ROWS_PER_BATCH).min(rows);
        out.write_all(&formats::csv_rows_bytes(&dataset, feed, from, to))
            .map_err(write_error)?;
        from = to;
    }
    out.flush().map_err(write_error)?;
    Ok(rows)
}
