//! Image sets for Boltzmann machines: IDX files (MNIST's format, gzipped or not), NPY arrays,
//! CSV rows, the built-in digits, MNIST from a documented location, and binarisation.

use super::{parse_csv_text, Columns, CsvSpec, DataError, Header};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

static DIGITS: &str = include_str!("../../data/digits.csv");

/// The environment variable naming the folder that holds the MNIST IDX files.
pub const MNIST_ENV: &str = "THERMOLAB_MNIST";

/// Rows of pixels (row-major images), with optional labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSet {
    /// Pixels, `n × (rows·cols)`; IDX and 8-bit NPY data are scaled to [0, 1].
    pub pixels: Vec<f32>,
    /// Number of images.
    pub n: usize,
    /// Image height (1 when the rows are plain vectors).
    pub rows: usize,
    /// Image width.
    pub cols: usize,
    /// One label per image, when known.
    pub labels: Option<Vec<u8>>,
}

impl ImageSet {
    /// Values per image.
    pub fn width(&self) -> usize {
        self.rows * self.cols
    }

    /// Images `start .. end` as a new set.
    pub fn slice(&self, start: usize, end: usize) -> ImageSet {
        let (start, end) = (start.min(self.n), end.min(self.n).max(start.min(self.n)));
        let w = self.width();
        ImageSet {
            pixels: self.pixels[start * w..end * w].to_vec(),
            n: end - start,
            rows: self.rows,
            cols: self.cols,
            labels: self.labels.as_ref().map(|l| l[start..end].to_vec()),
        }
    }

    fn shaped(pixels: Vec<f32>, n: usize, width: usize, labels: Option<Vec<u8>>) -> ImageSet {
        let side = (width as f64).sqrt().round() as usize;
        let (rows, cols) = if side * side == width {
            (side, side)
        } else {
            (1, width)
        };
        ImageSet {
            pixels,
            n,
            rows,
            cols,
            labels,
        }
    }
}

/// scikit-learn's digits (built in): 1 797 images of 8 × 8, pixel values 0–16 scaled to [0, 1].
pub fn digits() -> ImageSet {
    let d = parse_csv_text(DIGITS, Path::new("digits.csv"), &CsvSpec::default())
        .expect("the built-in digits parse");
    let pixels = d.x.iter().map(|&v| (v / 16.0) as f32).collect();
    let labels = d.y.iter().map(|&v| v as u8).collect();
    ImageSet {
        pixels,
        n: d.n,
        rows: 8,
        cols: 8,
        labels: Some(labels),
    }
}

/// Which half of MNIST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MnistSplit {
    /// The 60 000 training images.
    Train,
    /// The 10 000 test images.
    Test,
}

/// The folder with the MNIST IDX files: `$THERMOLAB_MNIST` if set, else the first of
/// `data/mnist` and `../shared/data/mnist` (relative to the working folder) that exists.
pub fn mnist_dir() -> Result<PathBuf, DataError> {
    if let Some(dir) = std::env::var_os(MNIST_ENV) {
        let p = PathBuf::from(dir);
        if p.is_dir() {
            return Ok(p);
        }
        return Err(DataError::Columns {
            path: p,
            message: format!("${MNIST_ENV} names a folder that does not exist"),
        });
    }
    for c in ["data/mnist", "../shared/data/mnist"] {
        let p = PathBuf::from(c);
        if p.join("train-images-idx3-ubyte.gz").exists()
            || p.join("train-images-idx3-ubyte").exists()
        {
            return Ok(p);
        }
    }
    Err(DataError::Columns {
        path: PathBuf::from("mnist"),
        message: format!(
            "MNIST not found: set ${MNIST_ENV} to a folder with train-images-idx3-ubyte(.gz) and \
             the other three IDX files (from the MNIST site)"
        ),
    })
}

/// MNIST images and labels of `split` from `dir` (gzipped or plain IDX files).
pub fn mnist(dir: &Path, split: MnistSplit) -> Result<ImageSet, DataError> {
    let stem = match split {
        MnistSplit::Train => "train",
        MnistSplit::Test => "t10k",
    };
    let find = |name: String| -> PathBuf {
        let gz = dir.join(format!("{name}.gz"));
        if gz.exists() {
            gz
        } else {
            dir.join(name)
        }
    };
    let mut set = load_idx_images(&find(format!("{stem}-images-idx3-ubyte")))?;
    let labels_path = find(format!("{stem}-labels-idx1-ubyte"));
    let labels = load_idx_labels(&labels_path)?;
    if labels.len() != set.n {
        return Err(DataError::Format {
            path: labels_path,
            message: format!("{} labels for {} images", labels.len(), set.n),
        });
    }
    set.labels = Some(labels);
    Ok(set)
}

fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let io = |e: std::io::Error| DataError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::Format {
                path: path.to_path_buf(),
                message: format!("bad gzip data: {e}"),
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses an IDX header: element type byte and dimensions.
fn idx_header(
    bytes: &[u8],
    path: &Path,
    want_dims: usize,
) -> Result<(Vec<usize>, usize), DataError> {
    let bad = |message: String| DataError::Format {
        path: path.to_path_buf(),
        message,
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad("not an IDX file (wrong magic number)".into()));
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!(
            "IDX element type 0x{:02x} is not supported (only unsigned bytes, 0x08)",
            bytes[2]
        )));
    }
    let dims = bytes[3] as usize;
    if dims != want_dims {
        return Err(bad(format!(
            "IDX file has {dims} dimensions, expected {want_dims}"
        )));
    }
    let head = 4 + 4 * dims;
    if bytes.len() < head {
        return Err(bad("truncated IDX header".into()));
    }
    let shape: Vec<usize> = (0..dims)
        .map(|d| {
            u32::from_be_bytes(bytes[4 + 4 * d..8 + 4 * d].try_into().expect("4 bytes")) as usize
        })
        .collect();
    let expected = shape.iter().product::<usize>();
    if bytes.len() - head != expected {
        return Err(bad(format!(
            "IDX data holds {} bytes, the header promises {expected} ({}); the file is truncated or corrupt",
            bytes.len() - head,
            shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" × ")
        )));
    }
    Ok((shape, head))
}

/// Images from an IDX file of unsigned bytes (`n × rows × cols`), scaled to [0, 1].
pub fn load_idx_images(path: &Path) -> Result<ImageSet, DataError> {
    let bytes = read_maybe_gz(path)?;
    let (shape, head) = idx_header(&bytes, path, 3)?;
    let pixels = bytes[head..].iter().map(|&b| b as f32 / 255.0).collect();
    Ok(ImageSet {
        pixels,
        n: shape[0],
        rows: shape[1],
        cols: shape[2],
        labels: None,
    })
}

/// Labels from an IDX file of unsigned bytes (one dimension).
pub fn load_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = read_maybe_gz(path)?;
    let (_, head) = idx_header(&bytes, path, 1)?;
    Ok(bytes[head..].to_vec())
}

/// A numeric NPY array (`u1`, `i4`, `i8`, `f4` or `f8`, any byte order) as f32 values with its
/// shape; 8-bit unsigned data are scaled to [0, 1].
pub fn load_npy(path: &Path) -> Result<(Vec<f32>, Vec<usize>), DataError> {
    let bad = |message: String| DataError::Format {
        path: path.to_path_buf(),
        message,
    };
    let bytes = read_maybe_gz(path)?;
    let header = super::npy::parse_header(&bytes).map_err(bad)?;
    if header.fortran_order {
        return Err(bad(
            "Fortran-ordered arrays are not supported; save with C order".into(),
        ));
    }
    let values = super::npy::read_values(&bytes, &header).map_err(bad)?;
    let shape = header.shape;
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!("element {i} is not finite")));
    }
    Ok((values, shape))
}

/// Images from a file chosen by extension: `.npy` (`n × d` or `n × rows × cols`), `.csv` (one
/// image per row; a last column named `label`, `target` or `class` is read as labels), anything
/// else as IDX (gzipped or not).
pub fn load_images(path: &Path) -> Result<ImageSet, DataError> {
    let name = path.to_string_lossy().to_lowercase();
    let name = name.trim_end_matches(".gz");
    if name.ends_with(".npy") {
        let (values, shape) = load_npy(path)?;
        return match shape[..] {
            [n, d] => Ok(ImageSet::shaped(values, n, d, None)),
            [n, r, c] => Ok(ImageSet {
                pixels: values,
                n,
                rows: r,
                cols: c,
                labels: None,
            }),
            _ => Err(DataError::Format {
                path: path.to_path_buf(),
                message: format!("expected a 2-D or 3-D array, found shape {shape:?}"),
            }),
        };
    }
    if name.ends_with(".csv") {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let fields: Vec<&str> = first.split(',').map(str::trim).collect();
        let last = fields.last().copied().unwrap_or("").to_lowercase();
        let labelled = ["label", "target", "class"].contains(&last.as_str());
        let width = fields.len();
        let spec = if labelled {
            CsvSpec::default()
        } else {
            CsvSpec {
                header: Header::Auto,
                inputs: Columns::Named((1..=width).map(|i| i.to_string()).collect()),
                targets: Columns::Named(vec![width.to_string()]),
            }
        };
        let d = parse_csv_text(&text, path, &spec)?;
        let labels = labelled.then(|| d.y.iter().map(|&v| v as u8).collect());
        return Ok(ImageSet::shaped(
            d.x.iter().map(|&v| v as f32).collect(),
            d.n,
            d.n_inputs,
            labels,
        ));
    }
    load_idx_images(path)
}

/// How to turn grey levels into binary units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binarize {
    /// 1 where the value exceeds the threshold.
    Threshold(f32),
    /// 1 with probability equal to the value (clamped to [0, 1]), from the given seed.
    Sample(u64),
}

/// Binarises `pixels` in place.
pub fn binarize(pixels: &mut [f32], how: Binarize) {
    match how {
        Binarize::Threshold(t) => {
            for p in pixels {
                *p = if *p > t { 1.0 } else { 0.0 };
            }
        }
        Binarize::Sample(seed) => {
            let mut r = crate::rng::stream(seed, crate::rng::Purpose::Data, 1);
            for p in pixels {
                *p = if r.random::<f32>() < p.clamp(0.0, 1.0) {
                    1.0
                } else {
                    0.0
                };
            }
        }
    }
}
