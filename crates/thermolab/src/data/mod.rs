//! Data sets for networks and Bayesian targets: an in-memory table of inputs and targets, the
//! built-in sin data, a CSV loader that names the file, line and column of any problem, and
//! image sets (IDX, NPY, CSV; the built-in digits; MNIST from a documented location).

mod csv_load;
mod images;
mod npy;

pub use csv_load::{load_csv, parse_csv_text, Columns, CsvSpec, Header};
pub use images::{
    binarize, digits, load_idx_images, load_idx_labels, load_images, load_npy, mnist, mnist_dir,
    Binarize, ImageSet, MnistSplit, MNIST_ENV,
};

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Rows of inputs and targets, both row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Inputs, `n × n_inputs`.
    pub x: Vec<f64>,
    /// Targets, `n × n_targets`.
    pub y: Vec<f64>,
    /// Number of rows.
    pub n: usize,
    /// Input columns.
    pub n_inputs: usize,
    /// Target columns.
    pub n_targets: usize,
    /// Names of the input columns.
    pub input_names: Vec<String>,
    /// Names of the target columns.
    pub target_names: Vec<String>,
}

/// A problem with a data file, always naming the file (and line and column where it applies).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be read.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no data rows.
    #[error("{path}: no data rows")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A row has a different number of fields than the first.
    #[error("{path}:{line}: expected {expected} fields, found {found}")]
    Ragged {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Fields in the first row.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// A field is not a number.
    #[error("{path}:{line}: column {column}: `{text}` is not a number")]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Column name or 1-based index.
        column: String,
        /// The text found.
        text: String,
    },
    /// A field is NaN or infinite.
    #[error("{path}:{line}: column {column}: value `{text}` is not finite")]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Column name or 1-based index.
        column: String,
        /// The text found.
        text: String,
    },
    /// A requested column does not exist.
    #[error("{path}: {message}")]
    Columns {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The file is not in the expected binary format (wrong magic number, truncated, bad header).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The data of the file do not suit the model they were given to (a target that is not 0 or
    /// 1, fewer columns than the network has inputs).
    #[error("{path}: {message}")]
    Unsuitable {
        /// The file.
        path: PathBuf,
        /// What does not fit (the model's own message).
        message: String,
    },
    /// The file is not valid CSV.
    #[error("{path}:{line}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The parser's message.
        message: String,
    },
}

/// The built-in sin data: `x` = `n` points evenly spaced on [−2π, 2π], `y = sin x + noise·ε`
/// with ε standard normal from the initialisation stream of `seed`.
pub fn sin_data(n: usize, noise: f64, seed: u64) -> Dataset {
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = crate::rng::stream(seed, crate::rng::Purpose::Data, 0);
    let two_pi = 2.0 * std::f64::consts::PI;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            if n == 1 {
                0.0
            } else {
                -two_pi + 2.0 * two_pi * i as f64 / (n - 1) as f64
            }
        })
        .collect();
    let y = x
        .iter()
        .map(|v| {
            let e: f64 = StandardNormal.sample(&mut rng);
            v.sin() + noise * e
        })
        .collect();
    Dataset {
        x,
        y,
        n,
        n_inputs: 1,
        n_targets: 1,
        input_names: vec!["x".into()],
        target_names: vec!["y".into()],
    }
}

/// Built-in synthetic regression data: `n` rows of `d` features uniform on [−1, 1],
/// `y = Σ_j b_j x_j + noise·ε` with `b_j = 1 − 0.4 j` and ε standard normal, all from the
/// initialisation stream of `seed`.
pub fn synthetic_regression(n: usize, d: usize, noise: f64, seed: u64) -> Dataset {
    use rand::Rng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = crate::rng::stream(seed, crate::rng::Purpose::Data, 2);
    let x: Vec<f64> = (0..n * d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let y = (0..n)
        .map(|i| {
            let z: f64 = StandardNormal.sample(&mut rng);
            x[i * d..(i + 1) * d]
                .iter()
                .enumerate()
                .map(|(j, v)| v * (1.0 - 0.4 * j as f64))
                .sum::<f64>()
                + noise * z
        })
        .collect();
    Dataset {
        x,
        y,
        n,
        n_inputs: d,
        n_targets: 1,
        input_names: (0..d).map(|j| format!("x{j}")).collect(),
        target_names: vec!["y".into()],
    }
}

#[cfg(test)]
mod tests;
