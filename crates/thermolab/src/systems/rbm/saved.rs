//! The RBM model file: the machine plus the preprocessing its inputs need, as JSON, written
//! atomically; loading validates every field.

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
    /// Preprocessing of raw inputs.
    pub preprocess: Preprocess,
    /// Where the training data came from (free text).
    pub data: String,
    /// Training settings and history (free JSON, for the record).
    pub training: serde_json::Value,
}

/// A problem reading a model file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelFileError {
    /// Unreadable file.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
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
    #[error("{path}: {cause}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: RbmError,
    },
}

impl SavedRbm {
    /// Loads and validates a model file.
    pub fn load(path: &Path) -> Result<Self, ModelFileError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ModelFileError::Io {
            path: path.to_path_buf(),
            cause,
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
        m.rbm.validate().map_err(|cause| ModelFileError::Invalid {
            path: path.to_path_buf(),
            cause,
        })?;
        Ok(m)
    }

    /// The model as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model serialises") + "\n"
    }
}
