//! The project's own CSV workload format.
//!
//! ```csv
//! id,tenant,priority,release,deadline,hard,duration,request,selector,tolerations,after
//! pass-1,noaa,critical,0,600,true,540,antenna=1,station=Kiruna-Esrange;band=X,role=antenna,
//! process-1,noaa,5,600,,,1200,cpu=4;memory=16,,maintenance,pass-1
//! ```
//!
//! A header row names the columns, in any order. `id`, `release` and `duration`
//! are required; the others are optional and an empty cell means the default:
//!
//! | column | meaning |
//! | --- | --- |
//! | `id` | unique job id |
//! | `tenant`, `group` | names (default `default`) |
//! | `priority` | a priority class of the cluster, or an integer |
//! | `release`, `deadline` | seconds |
//! | `hard` | `true` / `false`: is the deadline hard |
//! | `duration` | actual run time, seconds (> 0) |
//! | `estimate` | run time the scheduler sees, seconds (default: `duration`) |
//! | `request` | `cpu=4;memory=16` (dimensions not named are 0) |
//! | `selector`, `labels` | `station=Kiruna-Esrange;band=X` |
//! | `tolerations` | `role=antenna;maintenance` (no `=`: any value) |
//! | `after` | id of an earlier job that must complete first |
//! | `restartable` | `true` (default) / `false`: does a run stopped by a node failure start again, or is the job lost |
//!
//! Cells are trimmed, and may be quoted as usual in CSV. Every error names the
//! row's line and the 1-based column of the offending cell (or of the item
//! inside a `key=value;…` cell).

use std::path::Path;

use kairos_model::{Qty, Time};

use super::{build, finish, Errors, Field, RawJob, Row, Workload};
use crate::cluster::Cluster;
use crate::error::{Error, Pos};

/// The columns, in the order documented.
pub const COLUMNS: [&str; 15] = [
    "id",
    "tenant",
    "group",
    "priority",
    "release",
    "deadline",
    "hard",
    "duration",
    "estimate",
    "request",
    "selector",
    "tolerations",
    "labels",
    "after",
    "restartable",
];

/// Columns without which a row cannot be a job.
const REQUIRED: [Col; 3] = [Col::Id, Col::Release, Col::Duration];

/// A column, by its position in [`COLUMNS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Id,
    Tenant,
    Group,
    Priority,
    Release,
    Deadline,
    Hard,
    Duration,
    Estimate,
    Request,
    Selector,
    Tolerations,
    Labels,
    After,
    Restartable,
}

impl Col {
    const ALL: [Col; 15] = [
        Col::Id,
        Col::Tenant,
        Col::Group,
        Col::Priority,
        Col::Release,
        Col::Deadline,
        Col::Hard,
        Col::Duration,
        Col::Estimate,
        Col::Request,
        Col::Selector,
        Col::Tolerations,
        Col::Labels,
        Col::After,
        Col::Restartable,
    ];

    fn name(self) -> &'static str {
        COLUMNS[self as usize]
    }

    fn named(name: &str) -> Option<Col> {
        COLUMNS.iter().position(|&c| c == name).map(|i| Col::ALL[i])
    }
}

/// Reads the CSV workload `text` of file `path` against `cluster`.
pub fn parse(path: &Path, text: &str, cluster: &mut Cluster) -> Result<Workload, Error> {
    let mut errors = Errors::new(path, text);
    let mut locate = Locator::new(text);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(::csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();

    // Step 1: the header.
    let header = match records.next() {
        None => {
            let message = "empty file: expected a header row such as `id,release,duration`";
            return Err(Error::at(path, None, Pos::default(), message));
        }
        Some(Err(e)) => return Err(csv_error(path, text, &mut locate, e)),
        Some(Ok(h)) => h,
    };
    let header_cells = locate.cells(&header);
    let mut columns: Vec<Col> = Vec::with_capacity(header.len());
    for (name, cell) in header.iter().zip(&header_cells) {
        match Col::named(name) {
            Some(c) if columns.contains(&c) => errors.at(cell.pos, format!("column `{name}` appears twice")),
            Some(c) => columns.push(c),
            None if name.is_empty() => errors.at(cell.pos, "a column name must not be empty"),
            None => errors.at(cell.pos, format!("unknown column `{name}`; the columns are: {}", COLUMNS.join(", "))),
        }
    }
    for c in REQUIRED {
        if !columns.contains(&c) {
            let at = header_cells.first().map_or(Pos::new(1, 1), |c| c.pos);
            errors.at(at, format!("missing required column `{}`", c.name()));
        }
    }
    if errors.len() > 0 {
        return Err(errors.finish().expect_err("errors were recorded"));
    }

    // Step 2: the rows.
    let mut rows = Vec::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.list.extend(csv_error(path, text, &mut locate, e).input_errors());
                continue;
            }
        };
        let cells = locate.cells(&record);
        if let Some(open) = cells.iter().find(|c| c.unterminated) {
            errors.at(open.pos, "this quote is never closed: the cell runs to the end of the file");
            rows.push(Row::Broken(None));
            continue;
        }
        if record.len() != columns.len() {
            let at = cells.get(columns.len()).or(cells.last()).map_or(Pos::new(1, 1), |c| c.pos);
            let cells = if record.len() == 1 { "cell" } else { "cells" };
            errors
                .at(at, format!("this row has {} {cells} but the header has {} columns", record.len(), columns.len()));
            rows.push(Row::Broken(None));
            continue;
        }
        rows.push(row(&columns, &record, &cells, &mut errors));
        if rows.len() > kairos_model::limits::MAX_JOBS {
            break; // `build` refuses the row past the limit; the rest is not read
        }
    }
    let jobs = build(rows, cluster, &mut errors);
    finish(path, jobs, Vec::new(), Vec::new(), errors)
}

/// One record into a row, reporting malformed cells.
fn row(columns: &[Col], record: &::csv::StringRecord, cells: &[Cell], errors: &mut Errors<'_>) -> Row {
    let before = errors.len();
    let mut raw = RawJob::default();
    for ((&col, value), cell) in columns.iter().zip(record.iter()).zip(cells) {
        let text = || Some(Field::new(value.to_owned(), cell.pos)).filter(|_| !value.is_empty());
        match col {
            Col::Id => raw.id = Field::new(value.to_owned(), cell.pos),
            Col::Tenant => raw.tenant = text(),
            Col::Group => raw.group = text(),
            Col::Priority => raw.priority = text(),
            Col::After => raw.after = text(),
            Col::Release => raw.release = required_time(col, value, cell, errors),
            Col::Duration => raw.duration = required_time(col, value, cell, errors),
            Col::Deadline => raw.deadline = time(col, value, cell, errors),
            Col::Estimate => raw.estimate = time(col, value, cell, errors),
            Col::Hard => raw.hard = flag("hard", value, cell, errors),
            Col::Restartable => raw.restartable = flag("restartable", value, cell, errors),
            Col::Request => {
                for (key, qty) in items(value, cell) {
                    let Some(qty) = qty else {
                        errors.at(
                            key.pos,
                            format!("`request` item `{}` needs a quantity, as in `{}=4`", key.value, key.value),
                        );
                        continue;
                    };
                    match qty.value.parse::<Qty>() {
                        Ok(q) => raw.request.push((key, q)),
                        Err(_) => errors.at(
                            qty.pos,
                            format!("the quantity of `{}` must be a whole number ≥ 0, got `{}`", key.value, qty.value),
                        ),
                    }
                }
            }
            Col::Selector | Col::Labels => {
                for (key, v) in items(value, cell) {
                    let Some(v) = v else {
                        errors.at(
                            key.pos,
                            format!("`{}` item `{}` needs a value, as in `key=value`", col.name(), key.value),
                        );
                        continue;
                    };
                    let list = if col == Col::Selector { &mut raw.selector } else { &mut raw.labels };
                    list.push((key, v.value));
                }
            }
            Col::Tolerations => raw.tolerations = items(value, cell).map(|(k, v)| (k, v.map(|v| v.value))).collect(),
        }
    }
    match errors.len() == before {
        true => Row::Job(Box::new(raw)),
        // The header has an `id` column (it is required), so the id is known.
        false => Row::Broken(Some(raw.id)),
    }
}

/// A required time cell.
fn required_time(col: Col, value: &str, cell: &Cell, errors: &mut Errors<'_>) -> Field<Time> {
    if value.is_empty() {
        errors.at(cell.pos, format!("`{}` must not be empty", col.name()));
        return Field::default();
    }
    time(col, value, cell, errors).unwrap_or_default()
}

/// An optional time cell.
fn time(col: Col, value: &str, cell: &Cell, errors: &mut Errors<'_>) -> Option<Field<Time>> {
    if value.is_empty() {
        return None;
    }
    match value.parse::<Time>() {
        Ok(t) => Some(Field::new(t, cell.pos)),
        Err(_) => {
            errors.at(cell.pos, format!("`{}` must be a whole number of seconds, got `{value}`", col.name()));
            None
        }
    }
}

/// The `key[=value]` items of a `;`-separated cell, each with its position.
/// Empty items (a trailing `;`) are ignored.
fn items<'a>(value: &'a str, cell: &'a Cell) -> impl Iterator<Item = (Field<String>, Option<Field<String>>)> + 'a {
    let mut offset = 0;
    value.split(';').filter_map(move |item| {
        let start = offset;
        offset += item.len() + 1;
        let lead = item.len() - item.trim_start().len();
        let item = item.trim();
        if item.is_empty() {
            return None;
        }
        let at = start + lead;
        Some(match item.split_once('=') {
            None => (Field::new(item.to_owned(), cell.at(value, at)), None),
            Some((k, v)) => {
                let v_at = at + k.len() + 1;
                let v_lead = v.len() - v.trim_start().len();
                (
                    Field::new(k.trim().to_owned(), cell.at(value, at)),
                    Some(Field::new(v.trim().to_owned(), cell.at(value, v_at + v_lead))),
                )
            }
        })
    })
}

/// Where a cell starts in the file.
#[derive(Clone, Copy, Debug)]
struct Cell {
    /// Position of its first character (after leading blanks; the opening quote
    /// of a quoted cell).
    pos: Pos,
    /// Whether the cell is quoted.
    quoted: bool,
    /// Whether its quote is still open at the end of the file.
    unterminated: bool,
}

impl Cell {
    /// The position of byte `offset` of the cell's (unquoted, trimmed) `value`.
    /// Exact unless the cell contains doubled quotes before that offset.
    fn at(&self, value: &str, offset: usize) -> Pos {
        let chars = value[..offset].chars().count() as u64;
        Pos::new(self.pos.line, self.pos.col + u64::from(self.quoted) + chars)
    }
}

/// Maps the byte offsets the csv reader reports to lines and columns.
///
/// The reader tells where a record starts (including blank lines skipped
/// before it) but not where its fields are in the raw text, since quotes and
/// trimmed blanks are gone from the values. This walks the raw text of each
/// record once, with a small quote-aware scanner. Records come in file order,
/// so line numbers are counted incrementally: linear in the file size.
struct Locator<'a> {
    text: &'a str,
    /// A byte offset whose line is known…
    offset: usize,
    /// …and that line.
    line: u64,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Self {
        Locator { text, offset: 0, line: 1 }
    }

    /// The line of byte `offset`; linear in the distance from the last one asked.
    fn line_of(&mut self, offset: usize) -> u64 {
        if offset < self.offset {
            (self.offset, self.line) = (0, 1);
        }
        self.line += self.text.as_bytes()[self.offset..offset].iter().filter(|&&b| b == b'\n').count() as u64;
        self.offset = offset;
        self.line
    }

    /// The position of byte `offset`.
    fn pos(&mut self, offset: usize) -> Pos {
        let line = self.line_of(offset);
        let line_start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        Pos::new(line, self.text[line_start..offset].chars().count() as u64 + 1)
    }

    /// Where each field of `record` begins in the raw text.
    fn cells(&mut self, record: &::csv::StringRecord) -> Vec<Cell> {
        let bytes = self.text.as_bytes();
        let mut i = record.position().map_or(0, |p| p.byte() as usize);
        // The reported start includes blank lines the reader skipped.
        while i < bytes.len() && matches!(bytes[i], b'\n' | b'\r') {
            i += 1;
        }
        let mut cells = Vec::with_capacity(record.len());
        for _ in 0..record.len() {
            // As in csv-core, a cell is quoted only when the quote is its first byte.
            let start = i;
            let quoted = bytes.get(i) == Some(&b'"');
            let mut unterminated = false;
            if quoted {
                i += 1;
                loop {
                    match (bytes.get(i), bytes.get(i + 1)) {
                        (None, _) => {
                            unterminated = true;
                            break;
                        }
                        (Some(b'"'), Some(b'"')) => i += 2,
                        (Some(b'"'), _) => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            while i < bytes.len() && !matches!(bytes[i], b',' | b'\n' | b'\r') {
                i += 1;
            }
            // The value is trimmed: point at its first non-blank byte.
            let mut first = start;
            while !quoted && first < i && matches!(bytes[first], b' ' | b'\t') {
                first += 1;
            }
            cells.push(Cell { pos: self.pos(first), quoted, unterminated });
            if bytes.get(i) == Some(&b',') {
                i += 1;
            }
        }
        cells
    }
}

/// An error of the csv reader (I/O, invalid UTF-8) as an input error. The
/// reader is flexible and the scanner finds unclosed quotes, so few reach here.
fn csv_error(path: &Path, text: &str, locate: &mut Locator<'_>, e: ::csv::Error) -> Error {
    let pos = e.position().map_or(Pos::default(), |p| {
        let mut i = p.byte() as usize;
        while i < text.len() && matches!(text.as_bytes()[i], b'\n' | b'\r') {
            i += 1;
        }
        locate.pos(i)
    });
    let message = match e.kind() {
        ::csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => e.to_string(),
    };
    Error::at(path, Some(text), pos, message)
}

/// A `true` / `false` cell (empty: the default).
fn flag(name: &str, value: &str, cell: &Cell, errors: &mut Errors<'_>) -> Option<Field<bool>> {
    match value.to_ascii_lowercase().as_str() {
        "" => None,
        "true" => Some(Field::new(true, cell.pos)),
        "false" => Some(Field::new(false, cell.pos)),
        _ => {
            errors.at(cell.pos, format!("`{name}` must be true or false, got `{value}`"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_cases, cluster, messages};
    use super::*;
    use proptest::prelude::*;

    fn parse_csv(text: &str) -> Result<Workload, Error> {
        parse(Path::new("jobs.csv"), text, &mut cluster())
    }

    fn errors_of(text: &str) -> Vec<String> {
        messages(&parse_csv(text).expect_err("the workload should be refused"))
    }

    #[test]
    fn only_id_release_and_duration_are_required() {
        let w = parse_csv("id,release,duration\na,0,10\nb,5,20\n").unwrap();
        let j = &w.jobs[1].job;
        assert_eq!((j.idx, j.id.as_str(), j.release, j.estimate, w.jobs[1].duration), (1, "b", 5, 20, 20));
        assert_eq!((j.priority, j.deadline, j.hard_deadline, j.after), (0, None, false, None));
        assert_eq!(j.request, [0, 0, 0]);
        assert_eq!(w.path, Path::new("jobs.csv"));
    }

    #[test]
    fn columns_come_in_any_order_and_cells_may_be_quoted_and_padded() {
        let text = "duration, id ,request,release\n 30 ,\"x,1\",\"cpu=2; memory=4\" ,7\n";
        let mut c = cluster();
        let w = parse(Path::new("jobs.csv"), text, &mut c).unwrap();
        let j = &w.jobs[0].job;
        assert_eq!((j.id.as_str(), j.release, w.jobs[0].duration), ("x,1", 7, 30));
        assert_eq!(j.request, [0, 2, 4]);
        assert_eq!(c.symbols.name(j.tenant), "default");
    }

    #[test]
    fn every_malformed_csv_is_refused_with_line_and_column() {
        let cases = [
            ("an empty file", "", vec!["jobs.csv: empty file: expected a header row such as `id,release,duration`"]),
            (
                "an unknown column",
                "id,release,prio,duration\n",
                vec!["jobs.csv:1:12: unknown column `prio`; the columns are: id, tenant, group, priority, release, deadline, hard, duration, estimate, request, selector, tolerations, labels, after, restartable"],
            ),
            ("a column given twice", "id,release,id,duration\n", vec!["jobs.csv:1:12: column `id` appears twice"]),
            ("a missing required column", "id,release\na,1\n", vec!["jobs.csv:1:1: missing required column `duration`"]),
            ("a header without jobs", "id,release,duration\n", vec!["jobs.csv: no jobs"]),
            (
                "a row with too many cells",
                "id,release,duration\na,0,5,9\n",
                vec!["jobs.csv:2:7: this row has 4 cells but the header has 3 columns"],
            ),
            (
                "a row with too few cells",
                "id,release,duration\na,0\n",
                vec!["jobs.csv:2:3: this row has 2 cells but the header has 3 columns"],
            ),
            (
                "a time that is not a number",
                "id,release,duration\na,soon,5\n",
                vec!["jobs.csv:2:3: `release` must be a whole number of seconds, got `soon`"],
            ),
            ("an empty required cell", "id,release,duration\na,,5\n", vec!["jobs.csv:2:3: `release` must not be empty"]),
            ("an empty id", "id,release,duration\n,0,5\n", vec!["jobs.csv:2:1: a job id must not be empty"]),
            (
                "a restartable flag that is not a boolean",
                "id,release,duration,restartable\na,0,5,never\n",
                vec!["jobs.csv:2:7: `restartable` must be true or false, got `never`"],
            ),
            (
                "a hard flag that is not a boolean",
                "id,release,duration,deadline,hard\na,0,5,9,yes\n",
                vec!["jobs.csv:2:9: `hard` must be true or false, got `yes`"],
            ),
            (
                "a request item without quantity",
                "id,release,duration,request\na,0,5,cpu=1;memory\n",
                vec!["jobs.csv:2:13: `request` item `memory` needs a quantity, as in `memory=4`"],
            ),
            (
                "a negative quantity",
                "id,release,duration,request\na,0,5,cpu=-1\n",
                vec!["jobs.csv:2:11: the quantity of `cpu` must be a whole number ≥ 0, got `-1`"],
            ),
            (
                "a selector item without value",
                "id,release,duration,selector\na,0,5,band\n",
                vec!["jobs.csv:2:7: `selector` item `band` needs a value, as in `key=value`"],
            ),
            (
                "an unterminated quote",
                "id,release,duration\nb,0,5\n\"a,0,5\nc,0,5\n",
                vec!["jobs.csv:3:1: this quote is never closed: the cell runs to the end of the file"],
            ),
        ];
        assert_cases(cases.into_iter().map(|(case, text, want)| (case, errors_of(text), want)));
    }

    #[test]
    fn every_invalid_job_is_refused_with_line_and_column() {
        let cases = [
            (
                "a duplicate id",
                "id,release,duration\na,0,5\nb,0,5\na,0,5\n",
                vec!["jobs.csv:4:1: duplicate job id `a` (first at 2:1)"],
            ),
            ("a negative duration", "id,release,duration\na,0,-5\n", vec!["jobs.csv:2:5: duration must be > 0 s, got -5"]),
            ("a zero duration", "id,release,duration\na,0,0\n", vec!["jobs.csv:2:5: duration must be > 0 s, got 0"]),
            (
                "a zero estimate",
                "id,release,duration,estimate\na,0,5,0\n",
                vec!["jobs.csv:2:7: estimate must be > 0 s, got 0"],
            ),
            (
                "a deadline before release",
                "id,release,duration,deadline\na,200,5,100\n",
                vec!["jobs.csv:2:9: deadline 100 is before release 200"],
            ),
            (
                "a hard deadline without a deadline",
                "id,release,duration,hard\na,0,5,true\n",
                vec!["jobs.csv:2:7: `hard` is true but the job has no deadline"],
            ),
            (
                "a resource the cluster does not declare",
                "id,release,duration,request\na,0,5,cpu=1;gpu=2\n",
                vec!["jobs.csv:2:13: unknown resource `gpu` in request; the cluster declares: antenna, cpu, memory"],
            ),
            (
                "a resource requested twice",
                "id,release,duration,request\na,0,5,cpu=1;cpu=2\n",
                vec!["jobs.csv:2:13: resource `cpu` is requested twice"],
            ),
            (
                "a priority class the cluster does not declare",
                "id,release,duration,priority\na,0,5,urgent\n",
                vec!["jobs.csv:2:7: unknown priority class `urgent`; the cluster declares: critical, high, normal (or give an integer priority)"],
            ),
            (
                "an after reference to an unknown job",
                "id,release,duration,after\na,0,5,\nb,0,5,zz\n",
                vec!["jobs.csv:3:7: `after` names unknown job `zz`"],
            ),
            (
                "an after reference to a later job",
                "id,release,duration,after\na,0,5,b\nb,0,5,\n",
                vec!["jobs.csv:2:7: `after` names job `b`, which comes later (at 3:1); a job can only wait for an earlier one"],
            ),
            (
                "an after reference to itself",
                "id,release,duration,after\na,0,5,a\n",
                vec!["jobs.csv:2:7: job `a` cannot run `after` itself"],
            ),
            (
                "a label key given twice",
                "id,release,duration,labels\na,0,5,k=1; k=2\n",
                vec!["jobs.csv:2:12: label key `k` is given twice"],
            ),
        ];
        assert_cases(cases.into_iter().map(|(case, text, want)| (case, errors_of(text), want)));
    }

    #[test]
    fn a_byte_order_mark_before_the_header_is_ignored() {
        let w = parse_csv("\u{feff}id,release,duration\na,0,5\n").unwrap();
        assert_eq!(w.jobs[0].job.id, "a");
    }

    #[test]
    fn crlf_line_ends_are_read_like_lf() {
        assert_eq!(
            errors_of("id,release,duration\r\na,0,5\r\nb,0,-1\r\n"),
            ["jobs.csv:3:5: duration must be > 0 s, got -1"]
        );
    }

    #[test]
    fn a_broken_row_does_not_cascade_into_errors_of_rows_naming_it() {
        let errs = errors_of("id,release,duration,after\na,soon,5,\nb,0,5,a\na,0,5,\n");
        assert_eq!(
            errs,
            [
                "jobs.csv:2:3: `release` must be a whole number of seconds, got `soon`",
                "jobs.csv:4:1: duplicate job id `a` (first at 2:1)",
            ]
        );
    }

    #[test]
    fn positions_account_for_blank_lines_quotes_and_line_breaks_inside_quotes() {
        let text = "\nid,release,duration,labels\n\n\"multi\nline\",0,5,\n\"q\",0,-5,\n";
        assert_eq!(errors_of(text), ["jobs.csv:6:7: duration must be > 0 s, got -5"]);
    }

    #[test]
    fn a_bad_duration_renders_with_file_line_column_and_snippet() {
        let text = "\
id,tenant,priority,release,deadline,hard,duration
pass-1,noaa,critical,0,600,true,540
pass-2,noaa,critical,60,700,true,-5
";
        insta::assert_snapshot!(parse_csv(text).unwrap_err().to_string(), @r"
        jobs.csv:3:34: duration must be > 0 s, got -5
         --> jobs.csv:3:34
          |
        1 | id,tenant,priority,release,deadline,hard,duration
        2 | pass-1,noaa,critical,0,600,true,540
        3 | pass-2,noaa,critical,60,700,true,-5
          |                                  ^ duration must be > 0 s, got -5
        ");
    }

    #[test]
    fn every_cell_kind_reaches_the_job() {
        let text =
            "id,tenant,group,priority,release,deadline,hard,duration,estimate,request,selector,tolerations,labels,after
a,t1,g1,high,10,100,true,50,60,antenna=1,band=X;station=Kiruna,role=antenna;maintenance,kind=pass,
b,,,-3,20,,false,5,,,,,,a
";
        let mut c = cluster();
        let w = parse(Path::new("jobs.csv"), text, &mut c).unwrap();
        let s = &c.symbols;
        let (a, b) = (&w.jobs[0].job, &w.jobs[1].job);
        assert_eq!(
            (s.name(a.tenant), s.name(a.group), s.name(a.priority_class), a.priority),
            ("t1", "g1", "high", 100)
        );
        assert_eq!(
            (a.release, a.deadline, a.hard_deadline, a.estimate, w.jobs[0].duration),
            (10, Some(100), true, 60, 50)
        );
        assert_eq!(a.request, [1, 0, 0]);
        let names = |v: &[(kairos_model::Sym, kairos_model::Sym)]| -> Vec<String> {
            v.iter().map(|&(k, x)| format!("{}={}", s.name(k), s.name(x))).collect()
        };
        let mut sel = names(&a.selector);
        sel.sort();
        assert_eq!(sel, ["band=X", "station=Kiruna"]);
        assert!(a.selector.windows(2).all(|w| w[0] <= w[1]), "sorted by key symbol");
        assert_eq!(names(&a.labels), ["kind=pass"]);
        assert_eq!(a.tolerations.len(), 2);
        assert_eq!(a.tolerations[1].value, None);
        assert_eq!((s.name(b.tenant), s.name(b.priority_class), b.priority, b.after), ("default", "", -3, Some(0)));
    }

    /// A generated job row: every field valid, some optional cells left empty.
    #[derive(Debug, Clone)]
    struct GenRow {
        suffix: String,
        tenant: Option<String>,
        release: i64,
        duration: i64,
        estimate: Option<i64>,
        slack: Option<i64>,
        request: Vec<Option<u64>>,
        priority: Option<String>,
        after: bool,
    }

    fn gen_row() -> impl Strategy<Value = GenRow> {
        (
            "[A-Za-z0-9_.;,\"-]{0,6}",
            proptest::option::of("[a-z]{1,5}"),
            -1_000_000i64..1_000_000,
            1i64..1_000_000,
            proptest::option::of(1i64..1_000_000),
            proptest::option::of(0i64..1_000_000),
            proptest::collection::vec(proptest::option::of(0u64..1_000), 3),
            proptest::option::of(prop_oneof!["critical", "high", "normal", "-?[0-9]{1,4}"]),
            any::<bool>(),
        )
            .prop_map(|(suffix, tenant, release, duration, estimate, slack, request, priority, after)| {
                GenRow { suffix, tenant, release, duration, estimate, slack, request, priority, after }
            })
    }

    proptest! {
        #[test]
        fn any_valid_csv_workload_round_trips(rows in proptest::collection::vec(gen_row(), 1..40)) {
            let mut w = ::csv::Writer::from_writer(Vec::new());
            w.write_record(["id", "tenant", "priority", "release", "deadline", "duration", "estimate", "request", "after"]).unwrap();
            // The index before the first `-` keeps ids unique whatever the suffix.
            let ids: Vec<String> = rows.iter().enumerate().map(|(i, r)| format!("{i}-{}", r.suffix)).collect();
            for (i, r) in rows.iter().enumerate() {
                let request: Vec<String> = r.request.iter().zip(["antenna", "cpu", "memory"])
                    .filter_map(|(q, n)| q.map(|q| format!("{n}={q}"))).collect();
                let after = if r.after && i > 0 { ids[i / 2].clone() } else { String::new() };
                w.write_record([
                    ids[i].clone(),
                    r.tenant.clone().unwrap_or_default(),
                    r.priority.clone().unwrap_or_default(),
                    r.release.to_string(),
                    r.slack.map(|s| (r.release + s).to_string()).unwrap_or_default(),
                    r.duration.to_string(),
                    r.estimate.map(|e| e.to_string()).unwrap_or_default(),
                    request.join(";"),
                    after,
                ]).unwrap();
            }
            let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
            let work = parse_csv(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(work.jobs.len(), rows.len());
            for (i, (spec, r)) in work.jobs.iter().zip(&rows).enumerate() {
                prop_assert_eq!(&spec.job.id, &ids[i]);
                prop_assert_eq!(spec.job.idx as usize, i);
                prop_assert_eq!(spec.job.release, r.release);
                prop_assert_eq!(spec.duration, r.duration);
                prop_assert_eq!(spec.job.estimate, r.estimate.unwrap_or(r.duration));
                prop_assert_eq!(spec.job.deadline, r.slack.map(|s| r.release + s));
                let want: Vec<u64> = r.request.iter().map(|q| q.unwrap_or(0)).collect();
                prop_assert_eq!(&spec.job.request, &want);
                let after = (r.after && i > 0).then_some((i / 2) as u32);
                prop_assert_eq!(spec.job.after, after);
            }
        }
    }
}
