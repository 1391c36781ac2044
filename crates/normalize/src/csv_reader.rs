//! Tolerant reading of registry CSV exports.
//!
//! Registry CSVs are not always valid CSV. Climate Action Reserve quotes every field but does not
//! double an embedded `"`, so `"On behalf of "We Are Neutral, Inc.""` splits into an extra field;
//! APX exports end every row with a comma; Gold Standard notes and CAR cancellation fields hold
//! newlines inside quotes. The reader keeps going past a bad row: each row comes back either as
//! a record (noting any repair made) or as a [`RowError`] naming its line, and the next row is
//! read as usual.
//!
//! The `csv` crate does the reading; the repairs are ours because no CSV library repairs these
//! registries' particular breakages (it would reject or mis-split those rows).

use std::collections::VecDeque;

use crate::header::HeaderMap;
use crate::text::clean_text;

/// A repair made to a row so that it fits the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// Empty fields after the last column (a trailing comma) were dropped.
    DroppedTrailingEmpty,
    /// The header ends with an empty column and the row lacked the trailing comma.
    PaddedTrailingEmpty,
    /// Quotes inside a fully quoted row were not doubled; the row was re-split on `","`.
    UnescapedQuotes,
    /// One record spanned several physical lines because of a stray quote; each line was read
    /// as its own row.
    SplitSwallowedLines,
    /// A field was not UTF-8 and was decoded as Latin-1.
    Latin1,
}

/// One data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord {
    /// 1-based line number where the row starts.
    pub line: u64,
    /// The fields, exactly as many as the header has.
    pub fields: Vec<String>,
    /// Repairs made to the row, empty for a clean row.
    pub repairs: Vec<Repair>,
}

impl CsvRecord {
    /// The raw field at `index`.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.fields.get(index).map(String::as_str)
    }

    /// The field at `index` through [`clean_text`]: `None` when blank or a missing-value token.
    pub fn get_clean(&self, index: usize) -> Option<String> {
        self.get(index).and_then(clean_text)
    }
}

/// Why one row could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    /// The row has a different number of fields than the header and no repair fits.
    #[error("{found} fields where the header has {expected}")]
    FieldCount {
        /// Fields in the row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// The CSV parser itself failed on the row.
    #[error("unreadable row: {0}")]
    Unreadable(String),
    /// A field is longer than [`MAX_FIELD_BYTES`].
    #[error("field {field} is {bytes} bytes long, more than the {limit} allowed")]
    FieldTooLong {
        /// 1-based position of the field.
        field: usize,
        /// Its length.
        bytes: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The row runs past [`MAX_ROW_BYTES`] (usually a quote never closed).
    #[error(
        "the row runs past {limit} bytes (a quote that is never closed?); reading resumes at the next line"
    )]
    TooLong {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// A row that could not be recovered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct RowError {
    /// 1-based line number where the row starts.
    pub line: u64,
    /// What is wrong.
    pub problem: RowProblem,
    /// The row's text as read (invalid UTF-8 replaced, cut at [`MAX_RAW_KEPT`] bytes), so
    /// that a rejected row is kept as it was.
    pub raw: String,
}

/// The most of an unreadable row's text kept with its error.
pub const MAX_RAW_KEPT: usize = 64 << 10;

/// The longest field read; a row with a longer one is rejected with the reason.
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// The text of a row's bytes, as [`RowError::raw`] keeps it.
fn raw_text(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(MAX_RAW_KEPT)];
    let text = String::from_utf8_lossy(cut);
    text.trim_end_matches(['\r', '\n']).to_owned()
}

/// A file whose header row cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvReadError {
    /// No header row: the input is empty.
    #[error("the CSV has no header row")]
    NoHeader,
    /// The header row itself is unreadable.
    #[error("the CSV header is unreadable: {0}")]
    BadHeader(String),
}

/// Rows of a CSV export, read tolerantly from any byte source, a block at a time: memory
/// holds one block and the row in progress, whatever the size of the input. See [`read_csv`].
pub struct CsvRows<R> {
    source: R,
    /// Bytes read and not yet parsed; `buf[0]` starts a row.
    buf: Vec<u8>,
    /// The line number of `buf[0]`.
    line: u64,
    /// The source has no more bytes.
    eof: bool,
    headers: HeaderMap,
    pending: VecDeque<Result<CsvRecord, RowError>>,
    done: bool,
}

/// Bytes read from the source at a time.
const BLOCK: usize = 1 << 20;

/// The longest row read: a longer one (a stray quote swallowing the rest of a file, say) is
/// reported and reading resumes at the next line.
pub const MAX_ROW_BYTES: usize = 8 << 20;

/// Reads CSV bytes: the first row is the header; a leading UTF-8 BOM is ignored.
pub fn read_csv(bytes: &[u8]) -> Result<CsvRows<&[u8]>, CsvReadError> {
    read_csv_from(bytes)
}

/// Reads CSV from a byte source (a file, say) as [`read_csv`] does, a block at a time.
pub fn read_csv_from<R: std::io::Read>(source: R) -> Result<CsvRows<R>, CsvReadError> {
    let mut rows = CsvRows {
        source,
        buf: Vec::with_capacity(BLOCK),
        line: 1,
        eof: false,
        headers: HeaderMap::default(),
        pending: VecDeque::new(),
        done: false,
    };
    // The header row: read until it is whole.
    loop {
        rows.fill()
            .map_err(|e| CsvReadError::BadHeader(e.to_string()))?;
        if rows.buf.starts_with(b"\xEF\xBB\xBF") {
            rows.buf.drain(..3);
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&rows.buf[..]);
        let mut header = csv::ByteRecord::new();
        match reader.read_byte_record(&mut header) {
            Ok(true) => {
                let end = reader.position().byte() as usize;
                if end >= rows.buf.len() && !rows.eof {
                    continue;
                }
                let names: Vec<String> = header.iter().map(|f| decode(f).0).collect();
                rows.headers = HeaderMap::new(names);
                rows.consume(end);
                return Ok(rows);
            }
            Ok(false) if rows.eof => return Err(CsvReadError::NoHeader),
            Ok(false) => continue,
            Err(e) => return Err(CsvReadError::BadHeader(e.to_string())),
        }
    }
}

impl<R> CsvRows<R> {
    /// The header row, indexed by normalized name.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Drops the first `n` bytes of the buffer (whole rows), counting their lines.
    fn consume(&mut self, n: usize) {
        self.line += self.buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        self.buf.drain(..n);
    }
}

impl<R: std::io::Read> CsvRows<R> {
    /// Reads another block; at the end of the source, marks it.
    fn fill(&mut self) -> std::io::Result<()> {
        if self.eof {
            return Ok(());
        }
        let at = self.buf.len();
        self.buf.resize(at + BLOCK, 0);
        let n = loop {
            match self.source.read(&mut self.buf[at..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(at);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(at + n);
        self.eof = n == 0;
        Ok(())
    }

    /// Parses the whole rows in the buffer. A row that reaches the end of the buffer may be
    /// cut short by it: it waits for the next block, unless the source has ended.
    fn parse(&mut self) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&self.buf[..]);
        let mut record = csv::ByteRecord::new();
        let mut consumed = 0;
        loop {
            let start = reader.position().clone();
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let end = reader.position().byte() as usize;
                    if end >= self.buf.len() && !self.eof {
                        break;
                    }
                    let at = record.position().unwrap_or(&start);
                    let line = self.line + at.line() - 1;
                    let from = (at.byte() as usize).min(end);
                    let fields: Vec<(String, bool)> = record.iter().map(decode).collect();
                    fit(
                        &self.headers,
                        &mut self.pending,
                        line,
                        fields,
                        &self.buf[from..end],
                    );
                    consumed = end;
                }
                Err(e) => {
                    let end = reader.position().byte() as usize;
                    let from = (start.byte() as usize).min(end);
                    self.pending.push_back(Err(RowError {
                        line: self.line + start.line() - 1,
                        problem: RowProblem::Unreadable(e.to_string()),
                        raw: raw_text(&self.buf[from..end.min(self.buf.len())]),
                    }));
                    if end <= start.byte() as usize {
                        // A reader that cannot move forward would loop forever.
                        self.done = true;
                        break;
                    }
                    consumed = end;
                }
            }
        }
        self.consume(consumed);
    }

    /// A row longer than [`MAX_ROW_BYTES`]: reported, and skipped up to the next line.
    fn skip_long_row(&mut self) {
        let cut = self
            .buf
            .iter()
            .position(|b| *b == b'\n')
            .map_or(self.buf.len(), |i| i + 1);
        self.pending.push_back(Err(RowError {
            line: self.line,
            problem: RowProblem::TooLong {
                limit: MAX_ROW_BYTES,
            },
            raw: raw_text(&self.buf[..cut]),
        }));
        self.consume(cut);
    }
}

/// Makes a parsed row fit the header, or records why it cannot.
fn fit(
    headers: &HeaderMap,
    pending: &mut VecDeque<Result<CsvRecord, RowError>>,
    line: u64,
    fields: Vec<(String, bool)>,
    raw: &[u8],
) {
    let expected = headers.len();
    let mut repairs = Vec::new();
    if fields.iter().any(|(_, latin1)| *latin1) {
        repairs.push(Repair::Latin1);
    }
    let mut fields: Vec<String> = fields.into_iter().map(|(f, _)| f).collect();
    if let Some((i, f)) = fields
        .iter()
        .enumerate()
        .find(|(_, f)| f.len() > MAX_FIELD_BYTES)
    {
        pending.push_back(Err(RowError {
            line,
            problem: RowProblem::FieldTooLong {
                field: i + 1,
                bytes: f.len(),
                limit: MAX_FIELD_BYTES,
            },
            raw: raw_text(raw),
        }));
        return;
    }
    // A blank line inside the file is no row at all.
    if fields.len() == 1 && fields[0].is_empty() && expected > 1 {
        return;
    }
    // An undoubled quote without a comma after it keeps the field count right but drops
    // the quote characters; a fully quoted row that is not well formed is re-split first.
    let broken_quoting = raw.first() == Some(&b'"') && !is_well_quoted(raw);
    if !broken_quoting && let Some(fixed) = fit_fields(headers, &mut fields, &mut repairs) {
        pending.push_back(Ok(CsvRecord {
            line,
            fields: fixed,
            repairs,
        }));
        return;
    }
    let found = fields.len();
    if let Some(mut resplit) = resplit_all_quoted(raw) {
        let mut r = repairs.clone();
        r.push(Repair::UnescapedQuotes);
        if let Some(fixed) = fit_fields(headers, &mut resplit, &mut r) {
            pending.push_back(Ok(CsvRecord {
                line,
                fields: fixed,
                repairs: r,
            }));
            return;
        }
    }
    if broken_quoting && let Some(fixed) = fit_fields(headers, &mut fields, &mut repairs) {
        pending.push_back(Ok(CsvRecord {
            line,
            fields: fixed,
            repairs,
        }));
        return;
    }
    if let Some(rows) = split_swallowed(headers, line, raw, &repairs) {
        pending.extend(rows);
        return;
    }
    pending.push_back(Err(RowError {
        line,
        problem: RowProblem::FieldCount { found, expected },
        raw: raw_text(raw),
    }));
}

/// Trims trailing empty fields or pads a missing trailing empty column.
fn fit_fields(
    headers: &HeaderMap,
    fields: &mut Vec<String>,
    repairs: &mut Vec<Repair>,
) -> Option<Vec<String>> {
    let expected = headers.len();
    if fields.len() == expected {
        return Some(std::mem::take(fields));
    }
    if fields.len() > expected && fields[expected..].iter().all(|f| f.trim().is_empty()) {
        fields.truncate(expected);
        repairs.push(Repair::DroppedTrailingEmpty);
        return Some(std::mem::take(fields));
    }
    let header_ends_empty = headers.raw().last().is_some_and(|h| h.trim().is_empty());
    if fields.len() + 1 == expected && header_ends_empty {
        fields.push(String::new());
        repairs.push(Repair::PaddedTrailingEmpty);
        return Some(std::mem::take(fields));
    }
    None
}

/// A row that swallowed the lines after it (a stray quote opened a field that a later line
/// closed): each physical line is read as its own row, at the line boundary. Lines that fit the
/// header are kept; the others are reported with their own text. `None` when the row is one
/// line, or when no line of it fits (then it was one broken row, not several).
fn split_swallowed(
    headers: &HeaderMap,
    line: u64,
    raw: &[u8],
    repairs: &[Repair],
) -> Option<Vec<Result<CsvRecord, RowError>>> {
    let text = String::from_utf8_lossy(raw);
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    if lines.len() < 2 {
        return None;
    }
    let expected = headers.len();
    let mut out = Vec::with_capacity(lines.len());
    let mut kept = 0;
    for (i, l) in lines {
        let mut r = repairs.to_vec();
        r.push(Repair::SplitSwallowedLines);
        let fields = csv_line_fields(l).unwrap_or_default();
        let found = fields.len();
        let fixed = (found > 1)
            .then(|| {
                let mut fields = fields;
                fit_fields(headers, &mut fields, &mut r).or_else(|| {
                    let mut resplit = resplit_all_quoted(l.as_bytes())?;
                    r.push(Repair::UnescapedQuotes);
                    fit_fields(headers, &mut resplit, &mut r)
                })
            })
            .flatten();
        out.push(match fixed {
            Some(fields) => {
                kept += 1;
                Ok(CsvRecord {
                    line: line + i as u64,
                    fields,
                    repairs: r,
                })
            }
            None => Err(RowError {
                line: line + i as u64,
                problem: RowProblem::FieldCount { found, expected },
                raw: l.to_owned(),
            }),
        });
    }
    (kept > 0).then_some(out)
}

impl<R: std::io::Read> Iterator for CsvRows<R> {
    type Item = Result<CsvRecord, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pending.is_empty() && !self.done {
            if self.buf.len() > MAX_ROW_BYTES {
                self.skip_long_row();
                continue;
            }
            let before = (self.buf.len(), self.line);
            if let Err(e) = self.fill() {
                self.pending.push_back(Err(RowError {
                    line: self.line,
                    problem: RowProblem::Unreadable(e.to_string()),
                    raw: String::new(),
                }));
                self.done = true;
                break;
            }
            self.parse();
            if self.eof && (self.buf.is_empty() || (self.buf.len(), self.line) == before) {
                self.done = true;
            }
        }
        self.pending.pop_front()
    }
}

/// Decodes a field as UTF-8, falling back to Latin-1 (flagged) rather than losing the row.
fn decode(field: &[u8]) -> (String, bool) {
    match std::str::from_utf8(field) {
        Ok(s) => (s.to_owned(), false),
        Err(_) => (field.iter().map(|&b| char::from(b)).collect(), true),
    }
}

/// Parses one physical line as CSV on its own.
fn csv_line_fields(line: &str) -> Option<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    let mut rec = csv::StringRecord::new();
    match reader.read_record(&mut rec) {
        Ok(true) => Some(rec.iter().map(str::to_owned).collect()),
        _ => None,
    }
}

/// Whether a row that starts with a quote is valid CSV in which every field is quoted and every
/// inner quote doubled (`"a","say ""hi""",`).
fn is_well_quoted(raw: &[u8]) -> bool {
    let mut end = raw.len();
    while end > 0 && matches!(raw[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    let t = &raw[..end];
    let mut i = 0;
    loop {
        if t.get(i) != Some(&b'"') {
            return false;
        }
        i += 1;
        loop {
            match t.get(i) {
                None => return false,
                Some(b'"') if t.get(i + 1) == Some(&b'"') => i += 2,
                Some(b'"') => {
                    i += 1;
                    break;
                }
                Some(_) => i += 1,
            }
        }
        match t.get(i) {
            None => return true,
            Some(b',') if i + 1 == t.len() => return true,
            Some(b',') => i += 1,
            Some(_) => return false,
        }
    }
}

/// Re-splits a row in which every field is quoted (`"a","b",`) on the `","` delimiter, keeping
/// undoubled quotes inside values as they are.
fn resplit_all_quoted(raw: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(raw).ok()?;
    let t = text.trim_end_matches(['\r', '\n']);
    let t = t.strip_suffix(',').unwrap_or(t);
    if t.len() < 2 || !t.starts_with('"') || !t.ends_with('"') || t.contains('\n') {
        return None;
    }
    let inner = &t[1..t.len() - 1];
    Some(inner.split("\",\"").map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(input: &str) -> Vec<Result<CsvRecord, RowError>> {
        read_csv(input.as_bytes()).expect("header").collect()
    }

    #[test]
    fn reads_clean_rows_with_line_numbers() {
        let r = rows("a,b\n1,2\n3,4\n");
        assert_eq!(r.len(), 2);
        let second = r[1].as_ref().expect("row");
        assert_eq!(second.line, 3);
        assert_eq!(second.fields, vec!["3", "4"]);
        assert!(second.repairs.is_empty());
    }

    #[test]
    fn embedded_newlines_stay_in_their_field() {
        let r =
            rows("Serial,Note,Use\nGS1,\"Retirement on behalf of Hilti.\n\",Voluntary\nGS2,x,y\n");
        let first = r[0].as_ref().expect("row");
        assert_eq!(first.fields[1], "Retirement on behalf of Hilti.\n");
        let second = r[1].as_ref().expect("row");
        assert_eq!(second.line, 4);
    }

    #[test]
    fn trailing_commas_and_bom() {
        let csv = "\u{feff}Vintage,Quantity\n2021,5,\n2022,6\n";
        let mut it = read_csv(csv.as_bytes()).expect("header");
        assert_eq!(it.headers().normalized(), ["vintage", "quantity"]);
        let first = it.next().expect("row").expect("ok");
        assert_eq!(first.fields, vec!["2021", "5"]);
        assert_eq!(first.repairs, vec![Repair::DroppedTrailingEmpty]);
        let second = it.next().expect("row").expect("ok");
        assert!(second.repairs.is_empty());
    }

    #[test]
    fn header_with_trailing_empty_column() {
        let r = rows("\"A\",\"B\",\n\"1\",\"2\",\n\"3\",\"4\"\n");
        assert_eq!(r[0].as_ref().expect("row").fields, vec!["1", "2", ""]);
        let padded = r[1].as_ref().expect("row");
        assert_eq!(padded.fields, vec!["3", "4", ""]);
        assert_eq!(padded.repairs, vec![Repair::PaddedTrailingEmpty]);
    }

    #[test]
    fn recovers_car_rows_with_undoubled_quotes() {
        // Shaped like Climate Action Reserve's retirement export: every field quoted, inner
        // quotes not doubled, a trailing comma on every line.
        let csv = concat!(
            "\"Vintage\",\"Account Holder\",\"Retirement Reason Details\",\n",
            "\"2021\",\"INTEGRADORA AC\",\"\"Retirement of Offsets, from CARBIOIN project\"\",\n",
            "\"2020\",\"ClimeCo LLC\",\"On behalf of \"We Are Neutral, Inc.\"\",\n",
            "\"2021\",\"South Pole\",\"Crediti a nome di \"Eurostampa Spa\" a compensazione\",\n",
            "\"2026\",\"ClimeCo LLC\",\"On behalf of Allegheny College\",\n",
        );
        let r = rows(csv);
        assert_eq!(r.len(), 4);
        let a = r[0].as_ref().expect("recovered");
        assert_eq!(
            a.fields[2],
            "\"Retirement of Offsets, from CARBIOIN project\""
        );
        assert!(a.repairs.contains(&Repair::UnescapedQuotes));
        let b = r[1].as_ref().expect("recovered");
        assert_eq!(b.fields[2], "On behalf of \"We Are Neutral, Inc.\"");
        let c = r[2].as_ref().expect("recovered");
        assert_eq!(
            c.fields[2],
            "Crediti a nome di \"Eurostampa Spa\" a compensazione"
        );
        assert!(c.repairs.contains(&Repair::UnescapedQuotes));
        let d = r[3].as_ref().expect("clean");
        assert_eq!(d.line, 5);
        assert_eq!(d.fields[2], "On behalf of Allegheny College");
    }

    #[test]
    fn unrecoverable_rows_are_reported_and_reading_goes_on() {
        let r = rows("a,b,c\n1,2,3\n1,2,3,4\n5,6,7\nonly\n");
        assert_eq!(r.len(), 4);
        assert_eq!(
            r[1],
            Err(RowError {
                line: 3,
                problem: RowProblem::FieldCount {
                    found: 4,
                    expected: 3
                },
                raw: "1,2,3,4".into(),
            })
        );
        assert_eq!(r[2].as_ref().expect("row").fields, vec!["5", "6", "7"]);
        assert_eq!(r[3].as_ref().map_err(|e| e.raw.as_str()), Err("only"));
    }

    #[test]
    fn a_stray_quote_loses_only_its_own_row() {
        // The quote opens a field that the next row's quote closes: two physical rows read
        // as one. The good rows around it are kept; the broken one is kept as its text.
        let r = rows("a,b,c\n1,\"x,3\n4,5,6\n7,8,\"9\"\n10,11,12\n");
        let good: Vec<Vec<String>> = r
            .iter()
            .filter_map(|row| row.as_ref().ok().map(|x| x.fields.clone()))
            .collect();
        assert!(
            good.contains(&vec!["4".into(), "5".into(), "6".into()]),
            "{r:?}"
        );
        assert!(
            good.contains(&vec!["10".into(), "11".into(), "12".into()]),
            "{r:?}"
        );
        let bad: Vec<&RowError> = r.iter().filter_map(|row| row.as_ref().err()).collect();
        assert_eq!(bad.len(), 1, "{r:?}");
        assert_eq!((bad[0].line, bad[0].raw.as_str()), (2, "1,\"x,3"));
    }

    #[test]
    fn a_field_over_the_cap_is_rejected_with_its_reason() {
        let mut input = b"a,b\n".to_vec();
        input.extend(std::iter::repeat_n(b'y', MAX_FIELD_BYTES + 1));
        input.extend_from_slice(b",2\n3,4\n");
        let rows: Vec<_> = read_csv(&input).expect("header").collect();
        let error = rows[0].as_ref().expect_err("too long");
        assert!(
            matches!(error.problem, RowProblem::FieldTooLong { field: 1, .. }),
            "{error}"
        );
        assert_eq!(error.raw.len(), MAX_RAW_KEPT);
        assert_eq!(rows[1].as_ref().expect("next row").fields, vec!["3", "4"]);
    }

    #[test]
    fn latin1_fields_are_decoded_not_dropped() {
        let mut input = b"name,country\n".to_vec();
        input.extend_from_slice(b"Bogot\xe1,CO\n");
        let rows: Vec<_> = read_csv(&input).expect("header").collect();
        let row = rows[0].as_ref().expect("row");
        assert_eq!(row.fields[0], "Bogotá");
        assert_eq!(row.repairs, vec![Repair::Latin1]);
    }

    /// A source that hands over a few bytes at a time, so rows straddle reads.
    struct Trickle<'a>(&'a [u8], usize);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(self.0.len()).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_stream_read_a_few_bytes_at_a_time_gives_the_same_rows() {
        let inputs = [
            "a,b\n1,2\n3,4\n",
            "Serial,Note,Use\nGS1,\"Retirement on behalf of Hilti.\n\",Voluntary\nGS2,x,y\n",
            "\u{feff}Vintage,Quantity\n2021,5,\n2022,6\n",
            "a,b,c\n1,2,3\n1,2,3,4\n5,6,7\nonly\n",
            "\"Vintage\",\"Holder\",\"Details\",\n\"2020\",\"ClimeCo\",\"On behalf of \"We Are, Inc.\"\",\n",
            "a,b\n1,2",
        ];
        for input in inputs {
            let whole: Vec<_> = read_csv(input.as_bytes()).expect("header").collect();
            for step in [1, 2, 3, 7] {
                let streamed = read_csv_from(Trickle(input.as_bytes(), step)).expect("header");
                assert_eq!(
                    streamed.headers(),
                    read_csv(input.as_bytes()).expect("h").headers()
                );
                let streamed: Vec<_> = streamed.collect();
                assert_eq!(streamed, whole, "{input:?} read {step} bytes at a time");
            }
        }
    }

    #[test]
    fn a_row_that_never_ends_is_reported_and_the_next_line_read() {
        let mut input = b"a,b\n\"open,".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_ROW_BYTES + 10));
        input.extend_from_slice(b"\n1,2\n");
        let rows: Vec<_> = read_csv(&input).expect("header").collect();
        assert_eq!(
            rows[0],
            Err(RowError {
                line: 2,
                problem: RowProblem::TooLong {
                    limit: MAX_ROW_BYTES
                },
                raw: raw_text(&input[4..]),
            })
        );
        let last = rows.last().expect("rows").as_ref().expect("the next line");
        assert_eq!(
            (last.line, last.fields.clone()),
            (3, vec!["1".into(), "2".into()])
        );
    }

    #[test]
    fn empty_input_has_no_header() {
        assert!(matches!(read_csv(b""), Err(CsvReadError::NoHeader)));
    }
}
