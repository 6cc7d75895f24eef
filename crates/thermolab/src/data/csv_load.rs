//! CSV loading: choose input and target columns by name or position, with or without a header.

use super::{DataError, Dataset};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Whether the first row names the columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Header {
    /// Detect: the first row is a header if any of its fields is not a number.
    #[default]
    Auto,
    /// The first row is a header.
    Present,
    /// Every row is data; columns are named by 1-based position.
    Absent,
}

/// A column selection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Columns {
    /// The default: every column except the targets (for inputs) or the last column (for targets).
    #[default]
    Default,
    /// Columns by header name or by 1-based position written as a number.
    Named(Vec<String>),
}

/// What to read from a CSV file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CsvSpec {
    /// Header handling.
    pub header: Header,
    /// Input columns.
    pub inputs: Columns,
    /// Target columns.
    pub targets: Columns,
}

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
}

/// Loads a numeric CSV file into a [`Dataset`]. Every problem is reported with the file name,
/// and for data problems the 1-based line and the column.
pub fn load_csv(path: &Path, spec: &CsvSpec) -> Result<Dataset, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    parse_csv_text(&text, path, spec)
}

/// Parses CSV text as if read from `path` (named in errors).
pub fn parse_csv_text(text: &str, path: &Path, spec: &CsvSpec) -> Result<Dataset, DataError> {
    let p = path.to_path_buf();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| DataError::Malformed {
            path: p.clone(),
            line: e.position().map_or(0, |q| q.line()),
            message: e.to_string(),
        })?;
        // Skip blank lines.
        if rec.len() == 1 && rec[0].is_empty() {
            continue;
        }
        let line = rec.position().map_or(0, |q| q.line());
        records.push((line, rec));
    }
    if records.is_empty() {
        return Err(DataError::Empty { path: p });
    }
    let width = records[0].1.len();
    let has_header = match spec.header {
        Header::Present => true,
        Header::Absent => false,
        Header::Auto => records[0].1.iter().any(|f| parse_number(f).is_none()),
    };
    let names: Vec<String> = if has_header {
        records[0].1.iter().map(|s| s.to_string()).collect()
    } else {
        (1..=width).map(|i| i.to_string()).collect()
    };
    let data_rows = &records[usize::from(has_header)..];
    if data_rows.is_empty() {
        return Err(DataError::Empty { path: p });
    }
    let resolve = |sel: &[String]| -> Result<Vec<usize>, DataError> {
        sel.iter()
            .map(|c| {
                if let Some(i) = names.iter().position(|n| n == c) {
                    return Ok(i);
                }
                match c.parse::<usize>() {
                    Ok(i) if (1..=width).contains(&i) => Ok(i - 1),
                    _ => Err(DataError::Columns {
                        path: p.clone(),
                        message: format!("no column `{c}` (columns: {})", names.join(", ")),
                    }),
                }
            })
            .collect()
    };
    let targets = match &spec.targets {
        Columns::Default => vec![width - 1],
        Columns::Named(v) => resolve(v)?,
    };
    let inputs = match &spec.inputs {
        Columns::Default => (0..width).filter(|i| !targets.contains(i)).collect(),
        Columns::Named(v) => resolve(v)?,
    };
    if inputs.is_empty() || targets.is_empty() {
        return Err(DataError::Columns {
            path: p,
            message: "need at least one input and one target column".into(),
        });
    }
    let mut x = Vec::with_capacity(data_rows.len() * inputs.len());
    let mut y = Vec::with_capacity(data_rows.len() * targets.len());
    for (line, rec) in data_rows {
        if rec.len() != width {
            return Err(DataError::Ragged {
                path: p,
                line: *line,
                expected: width,
                found: rec.len(),
            });
        }
        for (cols, out) in [(&inputs, &mut x), (&targets, &mut y)] {
            for &c in cols.iter() {
                let text = &rec[c];
                let v = parse_number(text).ok_or_else(|| DataError::NotANumber {
                    path: p.clone(),
                    line: *line,
                    column: names[c].clone(),
                    text: text.to_string(),
                })?;
                if !v.is_finite() {
                    return Err(DataError::NonFinite {
                        path: p,
                        line: *line,
                        column: names[c].clone(),
                        text: text.to_string(),
                    });
                }
                out.push(v);
            }
        }
    }
    Ok(Dataset {
        x,
        y,
        n: data_rows.len(),
        n_inputs: inputs.len(),
        n_targets: targets.len(),
        input_names: inputs.iter().map(|&i| names[i].clone()).collect(),
        target_names: targets.iter().map(|&i| names[i].clone()).collect(),
    })
}
