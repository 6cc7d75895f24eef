//! Run folders and traces: every command's outputs are written into a temporary folder that is
//! renamed into place only when complete, so an interrupted or failed run never leaves a folder
//! that looks finished. Also small CSV helpers whose output pandas and ArviZ read without help.

mod run_folder;

pub use run_folder::{RunFolder, RunFolderError};

/// Formats rows of numbers as CSV with a header line. Floats are written in Rust's shortest
/// round-trip form, so the file reads back to the same `f64` values.
pub fn csv_table<'a, I>(header: &[&str], rows: I) -> String
where
    I: IntoIterator<Item = &'a [f64]>,
{
    let mut out = header.join(",");
    out.push('\n');
    for row in rows {
        let mut first = true;
        for v in row {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&format_number(*v));
        }
        out.push('\n');
    }
    out
}

/// A number as CSV/JSON-friendly text (`nan`, `inf`, `-inf` for non-finite values).
pub fn format_number(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{v:?}")
    }
}

#[cfg(test)]
mod tests;
