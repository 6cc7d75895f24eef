//! Model files of Boltzmann machines, and how to write one by hand.
//!
//! Two forms are read by [`SavedRbm::load`]:
//!
//! 1. **`model.json`** (what `thermolab rbm train` writes):
//!    ```json
//!    {"format": "thermolab-rbm",
//!     "rbm": {"visible": "bernoulli", "n_visible": 3, "n_hidden": 2,
//!             "w": [0.1, -0.2, 0.0, 0.3, 0.5, -0.1], "b": [0.0, 0.1, -0.1], "c": [0.2, -0.2],
//!             "sigma": []},
//!     "preprocess": {"scale": null, "binarize": {"threshold": 0.5}, "standardize": null}}
//!    ```
//!    `w` is the `n_visible × n_hidden` weight matrix in row-major order, `b` the visible and
//!    `c` the hidden biases, `sigma` the visible scales of Gaussian units (`"visible":
//!    "gaussian"`; empty for Bernoulli units). `preprocess` says how raw input rows become
//!    visible states (divide by `scale`, standardise per column, binarise by a threshold or by
//!    sampling); it, and the free-text `data` and `training` records, may be left out.
//! 2. **A folder of plain arrays**, as another library saves them: `W.npy` (or `W.csv`,
//!    `n_visible` rows of `n_hidden` numbers), `b.npy`/`b.csv` (visible biases), `c.npy`/`c.csv`
//!    (hidden biases) and, for Gaussian visible units, `sigma.npy`/`sigma.csv`. NPY files hold
//!    f32 or f64 in C order. No preprocessing is implied: pass it at evaluation (`--binarize`).
//!
//! Every array is checked against the shapes and for finite values; an error names the file.

use super::{Rbm, RbmError, VisibleKind};
use crate::data::Binarize;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The format tag written into every model file.
pub const MODEL_FORMAT: &str = "thermolab-rbm";

/// How raw input rows become visible states: divided by `scale`, then standardised or
/// binarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Preprocess {
    /// Divide every value by this first (grey levels such as 0–255 become [0, 1]).
    #[serde(default)]
    pub scale: Option<f32>,
    /// Binarisation (Bernoulli machines).
    pub binarize: Option<Binarize>,
    /// Per-column `(mean, sd)` standardisation (Gaussian machines).
    pub standardize: Option<(Vec<f32>, Vec<f32>)>,
}

impl Preprocess {
    /// The preprocessing for a machine with `visible` units trained on `data` (rows of `width`
    /// values). Bernoulli units: values above 1 (grey levels such as 0–255) are divided by the
    /// training maximum, then binarised by `binarize`; negative values are refused. Gaussian
    /// units: each column is standardised to mean 0 and sd 1 (constant columns keep sd 1).
    pub fn fit(
        visible: VisibleKind,
        data: &[f32],
        width: usize,
        binarize: Binarize,
    ) -> Result<Self, RbmError> {
        match visible {
            VisibleKind::Bernoulli => {
                let (lo, hi) = data
                    .iter()
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &x| {
                        (l.min(x), h.max(x))
                    });
                if lo < 0.0 {
                    return Err(RbmError::NegativeIntensity { value: lo });
                }
                Ok(Self {
                    scale: (hi > 1.0).then_some(hi),
                    binarize: Some(binarize),
                    standardize: None,
                })
            }
            VisibleKind::Gaussian => Ok(Self {
                scale: None,
                binarize: None,
                standardize: Some(column_moments(data, width)),
            }),
        }
    }

    /// Applies the preprocessing to rows of `width` values, in place.
    pub fn apply(&self, rows: &mut [f32], width: usize) {
        if let Some(s) = self.scale {
            rows.iter_mut().for_each(|x| *x /= s);
        }
        if let Some((mean, sd)) = &self.standardize {
            for row in rows.chunks_exact_mut(width) {
                for ((x, m), s) in row.iter_mut().zip(mean).zip(sd) {
                    *x = (*x - m) / s;
                }
            }
        }
        if let Some(b) = self.binarize {
            crate::data::binarize(rows, b);
        }
    }
}

/// Per-column `(mean, sd)` of rows of `width` values (constant columns keep sd 1).
fn column_moments(data: &[f32], width: usize) -> (Vec<f32>, Vec<f32>) {
    let n = (data.len() / width.max(1)).max(1) as f64;
    let mut mean = vec![0.0f64; width];
    let mut sq = vec![0.0f64; width];
    for row in data.chunks_exact(width) {
        for (i, &x) in row.iter().enumerate() {
            mean[i] += x as f64 / n;
            sq[i] += (x as f64) * (x as f64) / n;
        }
    }
    let sd = mean
        .iter()
        .zip(&sq)
        .map(|(m, s)| {
            let v = (s - m * m).max(0.0).sqrt();
            if v > 1e-6 {
                v as f32
            } else {
                1.0
            }
        })
        .collect();
    (mean.iter().map(|&m| m as f32).collect(), sd)
}

/// A saved machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedRbm {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// The machine.
    pub rbm: Rbm,
    /// Preprocessing of raw inputs (none when left out).
    #[serde(default)]
    pub preprocess: Preprocess,
    /// Where the training data came from (free text; may be left out).
    #[serde(default)]
    pub data: String,
    /// Training settings and history (free JSON, for the record; may be left out).
    #[serde(default)]
    pub training: serde_json::Value,
}

/// A problem reading a model file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelFileError {
    /// Unreadable file.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not a model file.
    #[error("{path}: not a thermolab RBM model file ({message})")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A field is invalid.
    #[error("{path}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: RbmError,
    },
}

/// An array's values, its shape and the file it came from.
type Array = (Vec<f32>, Vec<usize>, PathBuf);

/// Reads a numeric array from `<dir>/<name>.npy` (its own shape) or `<dir>/<name>.csv` (shape
/// `[rows, cols]`). `None` when neither file exists.
fn read_array(dir: &Path, name: &str) -> Result<Option<Array>, ModelFileError> {
    let npy = dir.join(format!("{name}.npy"));
    if npy.is_file() {
        let (v, shape) = crate::data::load_npy(&npy).map_err(|e| ModelFileError::Format {
            path: npy.clone(),
            message: e.to_string(),
        })?;
        return Ok(Some((v, shape, npy)));
    }
    let csv = dir.join(format!("{name}.csv"));
    if !csv.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&csv).map_err(|source| ModelFileError::Io {
        path: csv.clone(),
        source,
    })?;
    let (mut v, mut rows, mut cols) = (Vec::new(), 0usize, None);
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|f| !f.is_empty())
            .collect();
        if fields.is_empty() {
            continue;
        }
        if cols.is_some_and(|c| c != fields.len()) {
            return Err(ModelFileError::Format {
                path: csv.clone(),
                message: format!(
                    "line {}: {} values, the first row has {}",
                    i + 1,
                    fields.len(),
                    cols.unwrap_or(0)
                ),
            });
        }
        cols = Some(fields.len());
        for f in fields {
            let x: f32 = f.parse().map_err(|_| ModelFileError::Format {
                path: csv.clone(),
                message: format!("line {}: `{f}` is not a number", i + 1),
            })?;
            v.push(x);
        }
        rows += 1;
    }
    // A CSV is always a table: a vector is one row or one column.
    Ok(Some((v, vec![rows, cols.unwrap_or(0)], csv)))
}

/// The values of array `name` when it is a vector: shape `[n]`, `[n, 1]` or `[1, n]`.
fn read_vector(dir: &Path, name: &str) -> Result<Option<Vec<f32>>, ModelFileError> {
    let Some((v, shape, path)) = read_array(dir, name)? else {
        return Ok(None);
    };
    if shape.len() > 2 || (shape.len() == 2 && shape[0] != 1 && shape[1] != 1) {
        return Err(ModelFileError::Format {
            path,
            message: format!("{name} must be a vector, found shape {shape:?}"),
        });
    }
    Ok(Some(v))
}

impl SavedRbm {
    /// A machine from a folder of plain arrays (`W`, `b`, `c`, optionally `sigma`; see the
    /// module documentation), with no preprocessing.
    pub fn from_arrays(dir: &Path) -> Result<Self, ModelFileError> {
        let missing = |name: &str| ModelFileError::Format {
            path: dir.join(format!("{name}.npy")),
            message: format!("missing (also looked for {name}.csv)"),
        };
        let (w, shape, path) = read_array(dir, "W")?.ok_or_else(|| missing("W"))?;
        let [nv, nh] = shape[..] else {
            return Err(ModelFileError::Format {
                path,
                message: format!(
                    "W must be a matrix (n_visible × n_hidden), found shape {shape:?}"
                ),
            });
        };
        let b = read_vector(dir, "b")?.ok_or_else(|| missing("b"))?;
        let c = read_vector(dir, "c")?.ok_or_else(|| missing("c"))?;
        let sigma = read_vector(dir, "sigma")?;
        let visible = if sigma.is_some() {
            VisibleKind::Gaussian
        } else {
            VisibleKind::Bernoulli
        };
        let invalid = |source| ModelFileError::Invalid {
            path: dir.to_path_buf(),
            source,
        };
        let mut rbm = Rbm::zeros(visible, nv, nh).map_err(invalid)?;
        rbm.w = w;
        rbm.b = b;
        rbm.c = c;
        if let Some(s) = sigma {
            rbm.sigma = s;
        }
        rbm.validate().map_err(invalid)?;
        Ok(Self {
            format: MODEL_FORMAT.into(),
            rbm,
            preprocess: Preprocess::default(),
            data: format!("arrays in {}", dir.display()),
            training: serde_json::Value::Null,
        })
    }

    /// Loads and validates a model: a `model.json` file, or a folder of plain arrays.
    pub fn load(path: &Path) -> Result<Self, ModelFileError> {
        if path.is_dir() {
            return Self::from_arrays(path);
        }
        let text = std::fs::read_to_string(path).map_err(|source| ModelFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let m: SavedRbm = serde_json::from_str(&text).map_err(|e| ModelFileError::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if m.format != MODEL_FORMAT {
            return Err(ModelFileError::Format {
                path: path.to_path_buf(),
                message: format!("format is `{}`, expected `{MODEL_FORMAT}`", m.format),
            });
        }
        m.rbm.validate().map_err(|source| ModelFileError::Invalid {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(m)
    }

    /// The model as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model serialises") + "\n"
    }
}
