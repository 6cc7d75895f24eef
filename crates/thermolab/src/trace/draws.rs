//! Draw files: one CSV per chain in CmdStan's layout (the parameters, then `lp__`,
//! `accept_stat__`, `step_size__`, `tree_depth__`, `n_leapfrog__`, `divergent__`, `energy__`),
//! which ArviZ's `from_cmdstan` and pandas read as they are. A [`DrawWriter`] appends rows as
//! the sampler makes them, so a long run keeps its draws on disk instead of in its checkpoint,
//! and a resumed run truncates each file to the rows its checkpoint counted and goes on.

use super::format_number;
use crate::error::Error;
use crate::kernels::mcmc::StepInfo;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The sampler columns after the parameters.
pub const SAMPLER_COLUMNS: [&str; 7] = [
    "lp__",
    "accept_stat__",
    "step_size__",
    "tree_depth__",
    "n_leapfrog__",
    "divergent__",
    "energy__",
];

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn header(names: &[String]) -> String {
    let mut h: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    h.extend(SAMPLER_COLUMNS);
    h.join(",") + "\n"
}

/// The sampler columns of one draw, in the order of [`SAMPLER_COLUMNS`] (`lp__ = −β·E`).
pub fn sampler_columns(s: &StepInfo, beta: f64) -> [f64; 7] {
    [
        -beta * s.energy,
        s.accept_stat,
        s.step_size,
        f64::from(s.tree_depth),
        f64::from(s.n_evals),
        f64::from(u8::from(s.divergent)),
        s.hamiltonian,
    ]
}

/// Appends one row: the draw, then the sampler columns ([`sampler_columns`]).
pub fn push_row(out: &mut String, x: &[f64], s: &StepInfo, beta: f64) {
    let cols = sampler_columns(s, beta);
    for (k, v) in x.iter().chain(&cols).enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str(&format_number(*v));
    }
    out.push('\n');
}

/// A chain's draw file, written row by row.
#[derive(Debug)]
pub struct DrawWriter {
    path: PathBuf,
    file: BufWriter<File>,
    rows: usize,
    line: String,
}

impl DrawWriter {
    /// A new file with the header for parameters `names`.
    pub fn create(path: &Path, names: &[String]) -> Result<Self, Error> {
        let mut f = File::create(path).map_err(io(path))?;
        f.write_all(header(names).as_bytes()).map_err(io(path))?;
        Ok(Self {
            path: path.to_path_buf(),
            file: BufWriter::new(f),
            rows: 0,
            line: String::new(),
        })
    }

    /// Reopens `path` to continue after its first `rows` data rows (rows written after the
    /// checkpoint that counted them are dropped). The header must be the one for `names`.
    pub fn resume(path: &Path, names: &[String], rows: usize) -> Result<Self, Error> {
        let damaged = |message: String| Error::Checkpoint {
            path: path.to_path_buf(),
            message,
        };
        let f = File::open(path).map_err(io(path))?;
        let mut reader = BufReader::new(f);
        let mut line = String::new();
        reader.read_line(&mut line).map_err(io(path))?;
        if line != header(names) {
            return Err(damaged("its columns are not this target's".into()));
        }
        let mut end = line.len() as u64;
        for k in 0..rows {
            line.clear();
            let n = reader.read_line(&mut line).map_err(io(path))?;
            if n == 0 || !line.ends_with('\n') {
                return Err(damaged(format!(
                    "holds {k} complete rows, the checkpoint counted {rows}"
                )));
            }
            end += n as u64;
        }
        let mut f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io(path))?;
        f.set_len(end).map_err(io(path))?;
        f.seek(SeekFrom::End(0)).map_err(io(path))?;
        Ok(Self {
            path: path.to_path_buf(),
            file: BufWriter::new(f),
            rows,
            line: String::new(),
        })
    }

    /// Appends draws (`n × dim`, row-major) with their statistics at inverse temperature `beta`,
    /// and flushes.
    pub fn append(&mut self, draws: &[f64], stats: &[StepInfo], beta: f64) -> Result<(), Error> {
        if stats.is_empty() {
            return Ok(());
        }
        let dim = draws.len() / stats.len();
        for (x, s) in draws.chunks_exact(dim).zip(stats) {
            self.line.clear();
            push_row(&mut self.line, x, s, beta);
            self.file
                .write_all(self.line.as_bytes())
                .map_err(io(&self.path))?;
        }
        self.rows += stats.len();
        self.file.flush().map_err(io(&self.path))
    }

    /// Data rows in the file.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads the parameter columns of a draw file back (`rows × dim`, row-major), exactly as written.
pub fn read_draws(path: &Path, dim: usize) -> Result<Vec<f64>, Error> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        for field in line.split(',').take(dim) {
            let v = match field {
                "nan" => f64::NAN,
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                f => f.parse().map_err(|_| Error::Checkpoint {
                    path: path.to_path_buf(),
                    message: format!("line {}: `{f}` is not a number", i + 1),
                })?,
            };
            out.push(v);
        }
    }
    Ok(out)
}
