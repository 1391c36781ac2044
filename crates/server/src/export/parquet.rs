//! Export rows as a Parquet file: typed columns, written one row group at a time so that
//! memory stays bounded whatever the table's size.

use std::io::Write;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use parquet::basic::Compression;
use parquet::data_type::{
    ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType, Int32Type, Int64Type,
};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::cell::{Cell, Column, Kind, rfc3339};
use super::decimal;

/// Rows buffered before they are written as one row group: large enough for good
/// compression and fast scans, small enough to keep a few tens of MiB in memory.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// The file key-value metadata key holding when the file was generated (RFC 3339).
pub const GENERATED_AT_KEY: &str = "generated_at";

/// The name of the column every export ends with.
pub const GENERATED_AT_COLUMN: &str = "generated_at";

/// A Parquet file being written: rows go into per-column buffers, flushed as row groups.
pub struct ParquetWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    columns: Vec<Column>,
    buffers: Vec<Buffer>,
    rows: usize,
    generated_at: DateTime<Utc>,
}

/// The values of one column in the row group being built, with their definition levels
/// (1 present, 0 null: every column is optional).
enum Buffer {
    /// Text, end to end in one buffer, and where each value ends: one allocation a column
    /// rather than one a value.
    Text {
        data: Vec<u8>,
        ends: Vec<usize>,
        levels: Vec<i16>,
    },
    Fixed(Vec<FixedLenByteArray>, Vec<i16>),
    Int32(Vec<i32>, Vec<i16>),
    Int64(Vec<i64>, Vec<i16>),
}

impl Buffer {
    fn of(kind: Kind) -> Buffer {
        match kind {
            Kind::Text => Buffer::Text {
                data: Vec::new(),
                ends: Vec::new(),
                levels: Vec::new(),
            },
            Kind::Decimal => Buffer::Fixed(Vec::new(), Vec::new()),
            Kind::Date => Buffer::Int32(Vec::new(), Vec::new()),
            Kind::Int | Kind::Timestamp => Buffer::Int64(Vec::new(), Vec::new()),
        }
    }

    fn levels(&mut self) -> &mut Vec<i16> {
        match self {
            Buffer::Text { levels: l, .. }
            | Buffer::Fixed(_, l)
            | Buffer::Int32(_, l)
            | Buffer::Int64(_, l) => l,
        }
    }

    fn clear(&mut self) {
        match self {
            Buffer::Text { data, ends, levels } => {
                data.clear();
                ends.clear();
                levels.clear();
            }
            Buffer::Fixed(v, l) => {
                v.clear();
                l.clear();
            }
            Buffer::Int32(v, l) => {
                v.clear();
                l.clear();
            }
            Buffer::Int64(v, l) => {
                v.clear();
                l.clear();
            }
        }
    }
}

/// Days since 1970-01-01, as Parquet's `DATE` counts them.
fn days(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    // Dates are years 1 to 9999 at most: always within 32 bits of days.
    (date - epoch).num_days() as i32
}

/// The Parquet schema of `columns`, every one optional.
fn schema(table: &str, columns: &[Column]) -> String {
    let fields: String = columns
        .iter()
        .map(|c| {
            let kind = match c.kind {
                Kind::Text => "binary {} (STRING)".to_owned(),
                Kind::Int => "int64 {}".to_owned(),
                Kind::Decimal => format!(
                    "fixed_len_byte_array({}) {{}} (DECIMAL({},{}))",
                    decimal::BYTES,
                    decimal::PRECISION,
                    decimal::SCALE
                ),
                Kind::Date => "int32 {} (DATE)".to_owned(),
                Kind::Timestamp => "int64 {} (TIMESTAMP(MICROS,true))".to_owned(),
            };
            format!("  optional {};\n", kind.replace("{}", c.name))
        })
        .collect();
    format!("message {table} {{\n{fields}}}")
}

impl<W: Write + Send> ParquetWriter<W> {
    /// Starts a file of `columns` (then `generated_at`) named `table` in its schema.
    pub fn new(
        out: W,
        table: &str,
        columns: &[Column],
        generated_at: DateTime<Utc>,
    ) -> anyhow::Result<Self> {
        let mut columns = columns.to_vec();
        columns.push(super::cell::timestamp(GENERATED_AT_COLUMN));
        let schema = Arc::new(parse_message_type(&schema(table, &columns))?);
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("carbonmesh {}", env!("CARGO_PKG_VERSION")))
            .set_key_value_metadata(Some(vec![KeyValue::new(
                GENERATED_AT_KEY.to_owned(),
                rfc3339(generated_at),
            )]))
            .build();
        let file = SerializedFileWriter::new(out, schema, Arc::new(properties))?;
        Ok(ParquetWriter {
            file,
            buffers: columns.iter().map(|c| Buffer::of(c.kind)).collect(),
            columns,
            rows: 0,
            generated_at,
        })
    }

    /// Adds one row (the table's cells, without `generated_at`); writes a row group when
    /// enough rows are buffered.
    pub fn push(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        anyhow::ensure!(
            cells.len() + 1 == self.columns.len(),
            "a row of {} cells for {} columns",
            cells.len(),
            self.columns.len() - 1
        );
        let stamp = Cell::Time(self.generated_at);
        let cells = cells.iter().chain(std::iter::once(&stamp));
        for ((cell, column), buffer) in cells.zip(&self.columns).zip(&mut self.buffers) {
            if *cell == Cell::Null {
                buffer.levels().push(0);
                continue;
            }
            match (cell, buffer) {
                (Cell::Text(s), Buffer::Text { data, ends, levels }) => {
                    data.extend_from_slice(s.as_bytes());
                    ends.push(data.len());
                    levels.push(1);
                }
                (Cell::Decimal(d), Buffer::Fixed(v, l)) => {
                    let bytes = decimal::encode(*d)
                        .map_err(|e| anyhow::anyhow!("column {}: {e}", column.name))?;
                    v.push(FixedLenByteArray::from(bytes.to_vec()));
                    l.push(1);
                }
                (Cell::Date(d), Buffer::Int32(v, l)) => {
                    v.push(days(*d));
                    l.push(1);
                }
                (Cell::Int(i), Buffer::Int64(v, l)) if column.kind == Kind::Int => {
                    v.push(*i);
                    l.push(1);
                }
                (Cell::Time(t), Buffer::Int64(v, l)) if column.kind == Kind::Timestamp => {
                    v.push(t.timestamp_micros());
                    l.push(1);
                }
                (cell, _) => anyhow::bail!(
                    "column {} ({:?}) cannot hold {cell:?}",
                    column.name,
                    column.kind
                ),
            }
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered rows as one row group.
    fn flush(&mut self) -> anyhow::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.file.next_row_group()?;
        for buffer in &mut self.buffers {
            let Some(mut column) = group.next_column()? else {
                anyhow::bail!("the schema has fewer columns than the rows");
            };
            match buffer {
                Buffer::Text { data, ends, levels } => {
                    // The row group's text as one shared buffer, each value a slice of it.
                    let all = ByteArray::from(std::mem::take(data));
                    let mut start = 0;
                    let values: Vec<ByteArray> = ends
                        .iter()
                        .map(|&end| {
                            let value = all.slice(start, end - start);
                            start = end;
                            value
                        })
                        .collect();
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&values, Some(levels), None)?;
                }
                Buffer::Fixed(v, l) => {
                    column
                        .typed::<FixedLenByteArrayType>()
                        .write_batch(v, Some(l), None)?;
                }
                Buffer::Int32(v, l) => {
                    column.typed::<Int32Type>().write_batch(v, Some(l), None)?;
                }
                Buffer::Int64(v, l) => {
                    column.typed::<Int64Type>().write_batch(v, Some(l), None)?;
                }
            }
            column.close()?;
            buffer.clear();
        }
        group.close()?;
        self.rows = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn finish(mut self) -> anyhow::Result<W> {
        self.flush()?;
        Ok(self.file.into_inner()?)
    }
}
