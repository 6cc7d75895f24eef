//! MCMC diagnostics as in Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-
//! normalization, folding, and localization: an improved R̂ for assessing convergence of MCMC",
//! *Bayesian Analysis* 16: rank-normalised split R̂, bulk and tail ESS, Monte Carlo standard
//! errors of the mean, sd and quantiles, and E-BFMI (Betancourt 2016). The conventions (split
//! halves, Blom's offset 3/8, type-7 quantiles, Geyer's initial monotone sequence, the
//! `1/log10(S)` floor on τ) follow ArviZ, and the results agree with ArviZ to 1e-6 on the same
//! draws (tested against fixtures).
//!
//! Every function takes one parameter's draws as one slice per chain, all the same length (NaN
//! otherwise, and with fewer than 4 draws per chain); [`summarize`] first cuts the chains to the
//! shortest one's length, as a run stopped part-way leaves them.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// Splits each chain in two halves (dropping the middle draw of odd lengths).
fn split(chains: &[&[f64]]) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(2 * chains.len());
    for c in chains {
        let half = c.len() / 2;
        out.push(c[..half].to_vec());
        out.push(c[c.len() - half..].to_vec());
    }
    out
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn var(x: &[f64], ddof: f64) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - ddof)
}

fn flatten(chains: &[Vec<f64>]) -> Vec<f64> {
    chains.iter().flatten().copied().collect()
}

/// Median (average of the two middle values for even counts).
fn median(x: &[f64]) -> f64 {
    let mut s = x.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// Type-7 quantile (linear interpolation between order statistics).
pub fn quantile(x: &[f64], p: f64) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let mut s = x.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    quantile_sorted(&s, p)
}

fn quantile_sorted(s: &[f64], p: f64) -> f64 {
    let h = (s.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(s.len() - 1);
    s[lo] + (h - lo as f64) * (s[hi] - s[lo])
}

/// Rank-normalised values: average ranks of ties, Blom's offset, standard normal quantiles.
fn z_scale(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let flat = flatten(chains);
    let n = flat.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| flat[a].total_cmp(&flat[b]));
    let mut rank = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && flat[idx[j + 1]] == flat[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            rank[idx[k]] = r;
        }
        i = j + 1;
    }
    let normal = Normal::new(0.0, 1.0).expect("standard normal");
    let mut out = Vec::with_capacity(chains.len());
    let mut k = 0;
    for c in chains {
        out.push(
            c.iter()
                .map(|_| {
                    let u = (rank[k] - 0.375) / (n as f64 + 0.25);
                    k += 1;
                    normal.inverse_cdf(u)
                })
                .collect(),
        );
    }
    out
}

/// Plain R̂ of equal-length chains.
fn rhat_plain(chains: &[Vec<f64>]) -> f64 {
    let n = chains[0].len() as f64;
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let w = chains.iter().map(|c| var(c, 1.0)).sum::<f64>() / chains.len() as f64;
    let b = n * var(&means, 1.0);
    ((b / w + n - 1.0) / n).sqrt()
}

/// Rank-normalised split R̂ (the larger of bulk and folded-tail R̂). NaN with fewer than 2
/// chains or 4 draws.
pub fn rhat(chains: &[&[f64]]) -> f64 {
    if chains.len() < 2 || !usable(chains) {
        return f64::NAN;
    }
    let sp = split(chains);
    let bulk = rhat_plain(&z_scale(&sp));
    let med = median(&flatten(&sp));
    let folded: Vec<Vec<f64>> = sp
        .iter()
        .map(|c| c.iter().map(|v| (v - med).abs()).collect())
        .collect();
    let tail = rhat_plain(&z_scale(&folded));
    bulk.max(tail)
}

/// In-place iterative radix-2 FFT on (re, im) of power-of-two length; `inverse` conjugates.
fn fft(re: &mut [f64], im: &mut [f64], inverse: bool) {
    let n = re.len();
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let ang = 2.0 * std::f64::consts::PI / len as f64 * if inverse { 1.0 } else { -1.0 };
        let (wr, wi) = (ang.cos(), ang.sin());
        for start in (0..n).step_by(len) {
            let (mut cr, mut ci) = (1.0, 0.0);
            for k in 0..len / 2 {
                let (a, b) = (start + k, start + k + len / 2);
                let (xr, xi) = (re[b] * cr - im[b] * ci, re[b] * ci + im[b] * cr);
                re[b] = re[a] - xr;
                im[b] = im[a] - xi;
                re[a] += xr;
                im[a] += xi;
                let t = cr * wr - ci * wi;
                ci = cr * wi + ci * wr;
                cr = t;
            }
        }
        len <<= 1;
    }
}

/// Biased autocovariances `(1/n) Σ_{i} d_i d_{i+k}` for every lag k (by FFT).
fn autocov(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let m = (2 * n).next_power_of_two();
    let mu = mean(x);
    let mut re = vec![0.0; m];
    let mut im = vec![0.0; m];
    for (r, v) in re.iter_mut().zip(x) {
        *r = v - mu;
    }
    fft(&mut re, &mut im, false);
    for (r, i) in re.iter_mut().zip(im.iter_mut()) {
        *r = *r * *r + *i * *i;
        *i = 0.0;
    }
    fft(&mut re, &mut im, true);
    re.truncate(n);
    re.iter().map(|v| v / (m as f64 * n as f64)).collect()
}

/// ESS of equal-length chains (no splitting or ranking), Geyer's initial monotone sequence.
fn ess_raw(chains: &[Vec<f64>]) -> f64 {
    let flat = flatten(chains);
    let (lo, hi) = flat
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if hi - lo < 1e-15 {
        return flat.len() as f64;
    }
    let m = chains.len() as f64;
    let n = chains[0].len();
    let nf = n as f64;
    let acov: Vec<Vec<f64>> = chains.iter().map(|c| autocov(c)).collect();
    let mean_acov = |t: usize| acov.iter().map(|a| a[t]).sum::<f64>() / m;
    let chain_means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let mean_var = mean_acov(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if chains.len() > 1 {
        var_plus += var(&chain_means, 1.0);
    }
    let mut rho = vec![0.0; n];
    let mut rho_even = 1.0;
    rho[0] = rho_even;
    let mut rho_odd = 1.0 - (mean_var - mean_acov(1)) / var_plus;
    rho[1] = rho_odd;
    let mut t = 1;
    while t + 3 < n && rho_even + rho_odd > 0.0 {
        rho_even = 1.0 - (mean_var - mean_acov(t + 1)) / var_plus;
        rho_odd = 1.0 - (mean_var - mean_acov(t + 2)) / var_plus;
        if rho_even + rho_odd >= 0.0 {
            rho[t + 1] = rho_even;
            rho[t + 2] = rho_odd;
        }
        t += 2;
    }
    let max_t = t as isize - 2;
    if rho_even > 0.0 && max_t + 1 >= 0 && ((max_t + 1) as usize) < n {
        rho[(max_t + 1) as usize] = rho_even;
    }
    let mut t = 1isize;
    while t <= max_t - 2 {
        let tu = t as usize;
        if rho[tu + 1] + rho[tu + 2] > rho[tu - 1] + rho[tu] {
            rho[tu + 1] = (rho[tu - 1] + rho[tu]) / 2.0;
            rho[tu + 2] = rho[tu + 1];
        }
        t += 2;
    }
    let size = m * nf;
    let upto = (max_t + 1).max(0) as usize;
    let mut tau = -1.0 + 2.0 * rho[..upto.min(n)].iter().sum::<f64>();
    if upto < n {
        tau += rho[upto];
    }
    let tau = tau.max(1.0 / size.log10());
    if rho.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    size / tau
}

/// Whether the diagnostics are defined: at least one chain, all of one length, at least 4
/// draws each, all finite.
fn usable(chains: &[&[f64]]) -> bool {
    !chains.is_empty()
        && chains[0].len() >= MIN_DRAWS
        && chains.iter().all(|c| c.len() == chains[0].len())
        && chains.iter().all(|c| c.iter().all(|v| v.is_finite()))
}

/// Fewest draws per chain the diagnostics need.
pub const MIN_DRAWS: usize = 4;

/// Bulk ESS: ESS of the rank-normalised split chains.
pub fn ess_bulk(chains: &[&[f64]]) -> f64 {
    if !usable(chains) {
        return f64::NAN;
    }
    ess_raw(&z_scale(&split(chains)))
}

/// ESS of the mean (split chains, no ranking).
pub fn ess_mean(chains: &[&[f64]]) -> f64 {
    if !usable(chains) {
        return f64::NAN;
    }
    ess_raw(&split(chains))
}

/// ESS of the indicator `x ≤ q_p`.
pub fn ess_quantile(chains: &[&[f64]], p: f64) -> f64 {
    if !usable(chains) {
        return f64::NAN;
    }
    let q = quantile(
        &chains
            .iter()
            .flat_map(|c| c.iter().copied())
            .collect::<Vec<_>>(),
        p,
    );
    let ind: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| c.iter().map(|v| f64::from(u8::from(*v <= q))).collect())
        .collect();
    let refs: Vec<&[f64]> = ind.iter().map(|c| c.as_slice()).collect();
    ess_raw(&split(&refs))
}

/// Tail ESS: the smaller ESS of the 5 % and 95 % quantile indicators.
pub fn ess_tail(chains: &[&[f64]]) -> f64 {
    ess_quantile(chains, 0.05).min(ess_quantile(chains, 0.95))
}

/// Monte Carlo standard error of the mean.
pub fn mcse_mean(chains: &[&[f64]]) -> f64 {
    if !usable(chains) {
        return f64::NAN;
    }
    let flat: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    var(&flat, 1.0).sqrt() / ess_mean(chains).sqrt()
}

/// Monte Carlo standard error of the standard deviation.
pub fn mcse_sd(chains: &[&[f64]]) -> f64 {
    if !usable(chains) {
        return f64::NAN;
    }
    let flat: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    let mu = mean(&flat);
    let sq: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| c.iter().map(|v| (v - mu) * (v - mu)).collect())
        .collect();
    let refs: Vec<&[f64]> = sq.iter().map(|c| c.as_slice()).collect();
    let ess = ess_mean(&refs);
    let fsq = flatten(&sq);
    let evar = mean(&fsq);
    let varvar = (fsq.iter().map(|v| v * v).sum::<f64>() / fsq.len() as f64 - evar * evar) / ess;
    (varvar / evar / 4.0).sqrt()
}

/// Monte Carlo standard error of the `p` quantile (from a Beta interval on the ranks).
pub fn mcse_quantile(chains: &[&[f64]], p: f64) -> f64 {
    if !usable(chains) {
        return f64::NAN;
    }
    let ess = ess_quantile(chains, p);
    let (a, b) = (ess * p + 1.0, ess * (1.0 - p) + 1.0);
    let ppf = |u: f64| statrs::function::beta::inv_beta_reg(a, b, u);
    let mut s: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    s.sort_by(|x, y| x.total_cmp(y));
    let size = s.len() as f64;
    let (p0, p1) = (ppf(0.1586553) * size - 1.0, ppf(0.8413447) * size - 1.0);
    let th1 = s[p0.max(0.0).floor() as usize];
    let th2 = s[p1.min(size - 1.0).ceil() as usize];
    (th2 - th1) / 2.0
}

/// Energy Bayesian fraction of missing information of one chain's Hamiltonians:
/// `mean((ΔE)²) / var(E)`. Below 0.3 suggests the momentum resampling explores poorly.
pub fn bfmi(energy: &[f64]) -> f64 {
    if energy.len() < 2 {
        return f64::NAN;
    }
    let num = energy
        .windows(2)
        .map(|w| (w[1] - w[0]).powi(2))
        .sum::<f64>()
        / (energy.len() - 1) as f64;
    num / var(energy, 1.0)
}

/// One parameter's posterior summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSummary {
    /// Parameter name.
    pub name: String,
    /// Posterior mean.
    pub mean: f64,
    /// Posterior sd.
    pub sd: f64,
    /// 5 %, 50 % and 95 % quantiles.
    pub q05: f64,
    /// Median.
    pub q50: f64,
    /// 95 % quantile.
    pub q95: f64,
    /// MCSE of the mean.
    pub mcse_mean: f64,
    /// MCSE of the sd.
    pub mcse_sd: f64,
    /// MCSE of the 5 %, 50 % and 95 % quantiles.
    pub mcse_q05: f64,
    /// MCSE of the median.
    pub mcse_q50: f64,
    /// MCSE of the 95 % quantile.
    pub mcse_q95: f64,
    /// Bulk ESS.
    pub ess_bulk: f64,
    /// Tail ESS.
    pub ess_tail: f64,
    /// Rank-normalised split R̂.
    pub r_hat: f64,
}

/// Summarises one parameter, over the first `n` draws of every chain with `n` the shortest
/// chain's length; the ESS, R̂ and MCSE fields are NaN when `n` is below [`MIN_DRAWS`].
pub fn summarize(name: &str, chains: &[&[f64]]) -> ParamSummary {
    let n = chains.iter().map(|c| c.len()).min().unwrap_or(0);
    let cut: Vec<&[f64]> = chains.iter().map(|c| &c[..n]).collect();
    let chains = &cut[..];
    let flat: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    let (m, sd) = if flat.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        (mean(&flat), var(&flat, 1.0).sqrt())
    };
    let q = |p: f64| {
        if flat.is_empty() {
            f64::NAN
        } else {
            quantile(&flat, p)
        }
    };
    ParamSummary {
        name: name.to_string(),
        mean: m,
        sd,
        q05: q(0.05),
        q50: q(0.5),
        q95: q(0.95),
        mcse_mean: mcse_mean(chains),
        mcse_sd: mcse_sd(chains),
        mcse_q05: mcse_quantile(chains, 0.05),
        mcse_q50: mcse_quantile(chains, 0.5),
        mcse_q95: mcse_quantile(chains, 0.95),
        ess_bulk: ess_bulk(chains),
        ess_tail: ess_tail(chains),
        r_hat: rhat(chains),
    }
}

#[cfg(test)]
mod tests;
