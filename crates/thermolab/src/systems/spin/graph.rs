//! `IsingGraph`: an Ising model on any graph — lattices with uniform couplings, ±J spin glasses,
//! Sherrington–Kirkpatrick, and sparse models (Ising or QUBO) read from an edge-list file.
//!
//! # References
//! - Sherrington & Kirkpatrick (1975), "Solvable model of a spin-glass", *PRL* 35.
//! - Edwards & Anderson (1975), "Theory of spin glasses", *J. Phys. F* 5.

use super::Lattice;
use crate::systems::ModelError;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A problem in an edge-list file, naming the file and line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpinFileError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("{path}:{line}: {message}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file defines no spins.
    #[error("{path}: no couplings or fields found")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// How an [`IsingGraph`] was built from a lattice with uniform couplings (enables fast kernels).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UniformLattice {
    /// The lattice.
    pub lattice: Lattice,
    /// Coupling J on every bond.
    pub j: f64,
    /// Field h on every site.
    pub h: f64,
}

/// An Ising model on a graph, stored as compressed neighbour lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsingGraph {
    n: usize,
    offsets: Vec<usize>,
    nbr: Vec<u32>,
    coupling: Vec<f64>,
    field: Vec<f64>,
    bonds: Vec<(u32, u32, f64)>,
    offset: f64,
    uniform: Option<UniformLattice>,
}

impl IsingGraph {
    /// Builds the model from a bond list (each bond once, between distinct spins below `n`) and
    /// one field per spin; couplings and fields must be finite.
    pub fn from_bonds(
        n: usize,
        bonds: Vec<(u32, u32, f64)>,
        field: Vec<f64>,
    ) -> Result<Self, ModelError> {
        if field.len() != n {
            return Err(ModelError::new(
                "field",
                format!("{} fields given for {n} spins", field.len()),
            ));
        }
        if let Some(h) = field.iter().find(|h| !h.is_finite()) {
            return Err(ModelError::new("field", format!("must be finite, got {h}")));
        }
        if let Some(&(i, j, c)) = bonds
            .iter()
            .find(|&&(i, j, c)| i as usize >= n || j as usize >= n || i == j || !c.is_finite())
        {
            return Err(ModelError::new(
                "bonds",
                format!(
                    "bond ({i}, {j}, {c}) needs two distinct spins below {n} and a finite coupling"
                ),
            ));
        }
        Ok(Self::from_checked_bonds(n, bonds, field))
    }

    fn from_checked_bonds(n: usize, bonds: Vec<(u32, u32, f64)>, field: Vec<f64>) -> Self {
        let mut deg = vec![0usize; n];
        for &(i, j, _) in &bonds {
            deg[i as usize] += 1;
            deg[j as usize] += 1;
        }
        let mut offsets = vec![0usize; n + 1];
        for i in 0..n {
            offsets[i + 1] = offsets[i] + deg[i];
        }
        let mut fill = offsets.clone();
        let mut nbr = vec![0u32; offsets[n]];
        let mut coupling = vec![0.0; offsets[n]];
        for &(i, j, c) in &bonds {
            for (a, b) in [(i, j), (j, i)] {
                let k = &mut fill[a as usize];
                nbr[*k] = b;
                coupling[*k] = c;
                *k += 1;
            }
        }
        Self {
            n,
            offsets,
            nbr,
            coupling,
            field,
            bonds,
            offset: 0.0,
            uniform: None,
        }
    }

    /// The ferromagnet (`J > 0`) or antiferromagnet on a periodic lattice, field `h`.
    pub fn lattice(lattice: Lattice, j: f64, h: f64) -> Self {
        let n = lattice.n();
        let bonds = (0..n)
            .flat_map(|i| {
                lattice
                    .forward_neighbors(i)
                    .map(move |k| (i as u32, k as u32, j))
            })
            .collect();
        let mut g = Self::from_checked_bonds(n, bonds, vec![h; n]);
        g.uniform = Some(UniformLattice { lattice, j, h });
        g
    }

    /// The ±J Edwards–Anderson spin glass on a lattice (each bond ±1 with probability ½).
    pub fn edwards_anderson<R: Rng + ?Sized>(lattice: Lattice, rng: &mut R) -> Self {
        let n = lattice.n();
        let mut bonds = Vec::with_capacity(lattice.bonds());
        for i in 0..n {
            for k in lattice.forward_neighbors(i) {
                let j = if rng.random::<bool>() { 1.0 } else { -1.0 };
                bonds.push((i as u32, k as u32, j));
            }
        }
        Self::from_checked_bonds(n, bonds, vec![0.0; n])
    }

    /// The Sherrington–Kirkpatrick model on `n` spins: `J_ij ~ N(0, 1/n)` on every pair.
    pub fn sherrington_kirkpatrick<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Self {
        let sd = 1.0 / (n as f64).sqrt();
        let mut bonds = Vec::with_capacity(n * n.saturating_sub(1) / 2);
        for i in 0..n {
            for j in i + 1..n {
                let z: f64 = StandardNormal.sample(rng);
                bonds.push((i as u32, j as u32, sd * z));
            }
        }
        Self::from_checked_bonds(n, bonds, vec![0.0; n])
    }

    /// Reads a sparse model from an edge list: one `i j value` per line (0-based indices;
    /// `i == j` gives a field or a linear QUBO term), `#` starts a comment. As Ising
    /// (`qubo = false`), `E = −Σ J_ij s_i s_j − Σ h_i s_i`; as QUBO (`qubo = true`),
    /// `E = Σ_{i≤j} Q_ij x_i x_j` with `x ∈ {0, 1}`, converted exactly to Ising form
    /// (`x = (1 + s)/2`, the constant kept), so energies equal the QUBO values.
    pub fn from_edge_list(path: &Path, qubo: bool) -> Result<Self, SpinFileError> {
        let p = path.to_path_buf();
        let text = std::fs::read_to_string(path).map_err(|source| SpinFileError::Io {
            path: p.clone(),
            source,
        })?;
        let mut terms: Vec<(usize, usize, f64)> = Vec::new();
        for (ln, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |message: String| SpinFileError::Line {
                path: p.clone(),
                line: ln + 1,
                message,
            };
            let f: Vec<&str> = line
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .collect();
            if f.len() != 3 {
                return Err(err(format!(
                    "expected `i j value`, found {} field(s)",
                    f.len()
                )));
            }
            let idx = |t: &str| {
                t.parse::<usize>().map_err(|_| {
                    err(format!(
                        "`{t}` is not a spin index (a non-negative integer)"
                    ))
                })
            };
            let (i, j) = (idx(f[0])?, idx(f[1])?);
            if i.max(j) >= 1 << 26 {
                return Err(err(format!("spin index {} is too large", i.max(j))));
            }
            let v: f64 = f[2]
                .parse()
                .map_err(|_| err(format!("`{}` is not a number", f[2])))?;
            if !v.is_finite() {
                return Err(err(format!("value `{}` is not finite", f[2])));
            }
            terms.push((i, j, v));
        }
        if terms.is_empty() {
            return Err(SpinFileError::Empty { path: p });
        }
        let n = terms.iter().map(|&(i, j, _)| i.max(j)).max().unwrap_or(0) + 1;
        Ok(Self::from_checked_terms(n, terms, qubo))
    }

    /// The model of `n` spins from terms `(i, j, value)` as an edge list has them: `i == j`
    /// gives a field (Ising) or a linear term (QUBO), `i != j` a coupling; repeated pairs add.
    /// As Ising (`qubo = false`), `E = −Σ J_ij s_i s_j − Σ h_i s_i`; as QUBO (`qubo = true`),
    /// `E = Σ Q_ij x_i x_j` over the terms with `x ∈ {0, 1}`, converted exactly to Ising form
    /// (the constant kept in [`IsingGraph::offset`]).
    ///
    /// ```
    /// use thermolab::systems::spin::IsingGraph;
    ///
    /// // x0 + x1 − 2 x0 x1: 0 when the two bits agree, 1 when they differ.
    /// let g = IsingGraph::from_terms(2, vec![(0, 0, 1.0), (1, 1, 1.0), (0, 1, -2.0)], true)?;
    /// assert_eq!(g.energy(&[1, 1]), 0.0);
    /// assert_eq!(g.energy(&[-1, -1]), 0.0);
    /// assert_eq!(g.energy(&[1, -1]), 1.0);
    /// # Ok::<(), thermolab::systems::ModelError>(())
    /// ```
    pub fn from_terms(
        n: usize,
        terms: Vec<(usize, usize, f64)>,
        qubo: bool,
    ) -> Result<Self, ModelError> {
        if n == 0 || n >= 1 << 26 {
            return Err(ModelError::new(
                "n",
                format!("the number of spins must lie in 1..2^26, got {n}"),
            ));
        }
        if let Some(&(i, j, v)) = terms
            .iter()
            .find(|&&(i, j, v)| i >= n || j >= n || !v.is_finite())
        {
            return Err(ModelError::new(
                "terms",
                format!("term ({i}, {j}, {v}) needs spins below {n} and a finite value"),
            ));
        }
        Ok(Self::from_checked_terms(n, terms, qubo))
    }

    fn from_checked_terms(n: usize, terms: Vec<(usize, usize, f64)>, qubo: bool) -> Self {
        let mut field = vec![0.0; n];
        let mut bonds = Vec::new();
        let mut offset = 0.0;
        for (i, j, v) in terms {
            match (qubo, i == j) {
                (false, true) => field[i] += v,
                (false, false) => bonds.push((i.min(j) as u32, i.max(j) as u32, v)),
                (true, true) => {
                    field[i] -= v / 2.0;
                    offset += v / 2.0;
                }
                (true, false) => {
                    bonds.push((i.min(j) as u32, i.max(j) as u32, -v / 4.0));
                    field[i] -= v / 4.0;
                    field[j] -= v / 4.0;
                    offset += v / 4.0;
                }
            }
        }
        let mut g = Self::from_checked_bonds(n, bonds, field);
        g.offset = offset;
        g
    }

    /// The constant of the energy (from a QUBO's conversion; 0 otherwise): the mean energy at
    /// β = 0, where every coupling and field term averages to zero.
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// Number of spins.
    pub fn n(&self) -> usize {
        self.n
    }
    /// The lattice and uniform couplings, when the model was built by [`IsingGraph::lattice`].
    pub fn uniform(&self) -> Option<UniformLattice> {
        self.uniform
    }
    /// Every bond once, as `(i, j, J_ij)`.
    pub fn bonds(&self) -> &[(u32, u32, f64)] {
        &self.bonds
    }
    /// The field on site `i`.
    pub fn field(&self, i: usize) -> f64 {
        self.field[i]
    }
    /// Neighbours of `i` and the couplings to them.
    pub fn neighbors(&self, i: usize) -> (&[u32], &[f64]) {
        let r = self.offsets[i]..self.offsets[i + 1];
        (&self.nbr[r.clone()], &self.coupling[r])
    }
    /// `Σ_j J_ij s_j + h_i`.
    #[inline]
    pub fn local_field(&self, s: &[i8], i: usize) -> f64 {
        let (nb, c) = self.neighbors(i);
        nb.iter().zip(c).fold(self.field[i], |a, (&k, &j)| {
            a + j * f64::from(s[k as usize])
        })
    }
    /// Energy change of flipping spin `i`: `2 s_i (Σ_j J_ij s_j + h_i)`.
    #[inline]
    pub fn delta_flip(&self, s: &[i8], i: usize) -> f64 {
        2.0 * f64::from(s[i]) * self.local_field(s, i)
    }
    /// Total energy of `s`.
    pub fn energy(&self, s: &[i8]) -> f64 {
        let b: f64 = self
            .bonds
            .iter()
            .map(|&(i, j, c)| c * f64::from(s[i as usize] * s[j as usize]))
            .sum();
        let f: f64 = s
            .iter()
            .zip(&self.field)
            .map(|(&v, h)| h * f64::from(v))
            .sum();
        self.offset - b - f
    }
    /// Total magnetisation `Σ s_i`.
    pub fn magnetization(s: &[i8]) -> i64 {
        s.iter().map(|&v| i64::from(v)).sum()
    }
    /// True when every coupling is ≥ 0 and every field is 0 (cluster updates apply).
    pub fn is_ferromagnetic_zero_field(&self) -> bool {
        self.bonds.iter().all(|b| b.2 >= 0.0) && self.field.iter().all(|&h| h == 0.0)
    }
}
