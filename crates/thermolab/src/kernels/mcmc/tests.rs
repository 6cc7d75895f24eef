//! Statistical tests of the MCMC kernels: each leaves Gaussians of several shapes invariant
//! (moments within 4 standard errors, blocking), respects β, survives NaN regions, and gives
//! pinned draws for a fixed seed.

use super::*;
use crate::estimate::series::mean_by_blocks;
use crate::rng::chain_stream;
use crate::systems::{Ar1Gaussian, IsotropicGaussian};

fn mean_se(x: &[f64]) -> (f64, f64) {
    let e = mean_by_blocks(x, 50);
    (e.value, e.se)
}

fn kinds() -> [(SamplerKind, f64); 4] {
    [
        (SamplerKind::Rwm, 0.6),
        (SamplerKind::Mala, 0.35),
        (SamplerKind::Hmc { steps: 10 }, 0.15),
        (SamplerKind::Nuts { max_depth: 8 }, 0.3),
    ]
}

/// Runs `n` steps and returns the draws of coordinates 0 and 1 and of x0².
fn run<E: Gradient>(
    kind: SamplerKind,
    eps: f64,
    mut e: E,
    beta: f64,
    n: usize,
    seed: u64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, u64) {
    let d = e.dim();
    let mut s = kind.build(d, eps);
    let mut rng = chain_stream(seed, 0);
    let mut st = State::new(&mut e, vec![0.1; d]).unwrap();
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let mut div = 0;
    for k in 0..n + 1000 {
        let info = s.step(&mut e, &mut st, beta, &mut rng).unwrap();
        div += u64::from(info.divergent);
        if k >= 1000 {
            a.push(st.x[0]);
            b.push(st.x[1]);
            c.push(st.x[0] * st.x[0]);
        }
    }
    (a, b, c, div)
}

#[test]
fn kernels_leave_gaussians_invariant() {
    for (kind, eps) in kinds() {
        let n = if kind == SamplerKind::Rwm {
            200_000
        } else {
            60_000
        };
        // Correlated AR(1) Gaussian (ρ = 0.8, sd 1.5) at β = 1 and β = 0.5 (variance doubles).
        for beta in [1.0, 0.5] {
            let g = Ar1Gaussian::new(4, 0.8, 1.5).unwrap();
            let (a, b, c, div) = run(kind, eps, g, beta, n, 7);
            assert_eq!(div, 0, "{kind:?}");
            let var = 2.25 / beta;
            let (m0, s0) = mean_se(&a);
            let (m1, s1) = mean_se(&b);
            let (v0, sv) = mean_se(&c);
            assert!(m0.abs() < 4.0 * s0, "{kind:?} β={beta}: mean {m0} ± {s0}");
            assert!(m1.abs() < 4.0 * s1, "{kind:?} β={beta}: mean {m1} ± {s1}");
            assert!(
                (v0 - var).abs() < 4.0 * sv,
                "{kind:?} β={beta}: E[x²] {v0} ± {sv} vs {var}"
            );
        }
        // Off-centre isotropic Gaussian.
        let g = IsotropicGaussian::new(vec![2.0, -1.0], 0.7).unwrap();
        let (a, _, c, _) = run(kind, eps, g, 1.0, n, 9);
        let (m0, s0) = mean_se(&a);
        let (v0, sv) = mean_se(&c);
        assert!((m0 - 2.0).abs() < 4.0 * s0, "{kind:?}: {m0} ± {s0}");
        assert!(
            (v0 - (4.0 + 0.49)).abs() < 4.0 * sv,
            "{kind:?}: {v0} ± {sv}"
        );
    }
}

/// Kolmogorov–Smirnov on a thinned marginal: the empirical CDF of x₀ against N(0, σ²). With
/// thinning well past the autocorrelation time the draws are nearly independent; the 1e-3
/// critical value of √n·D is 1.95.
#[test]
fn marginals_pass_kolmogorov_smirnov() {
    use statrs::distribution::{ContinuousCDF, Normal};
    for (kind, eps) in kinds() {
        let thin = if kind == SamplerKind::Rwm { 200 } else { 25 };
        let (a, _, _, _) = run(
            kind,
            eps,
            Ar1Gaussian::new(3, 0.6, 1.3).unwrap(),
            1.0,
            2000 * thin,
            17,
        );
        let mut x: Vec<f64> = a.iter().step_by(thin).copied().collect();
        x.sort_by(|p, q| p.total_cmp(q));
        let n = x.len() as f64;
        let cdf = Normal::new(0.0, 1.3).unwrap();
        let d = x
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let f = cdf.cdf(*v);
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0f64, f64::max);
        assert!(d * n.sqrt() < 1.95, "{kind:?}: √n·D = {}", d * n.sqrt());
    }
}

/// A Gaussian whose energy is NaN for x₀ > 1.5: steps into that region are rejected (counted as
/// divergences) and the chain never holds a non-finite state.
struct Walled;
impl crate::energy::Energy for Walled {
    fn dim(&self) -> usize {
        2
    }
    fn energy(&mut self, x: &[f64]) -> Result<f64, crate::energy::EnergyError> {
        Ok(if x[0] > 1.5 {
            f64::NAN
        } else {
            0.5 * (x[0] * x[0] + x[1] * x[1])
        })
    }
}
impl Gradient for Walled {
    fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, crate::energy::EnergyError> {
        g[0] = x[0];
        g[1] = x[1];
        crate::energy::Energy::energy(self, x)
    }
}

#[test]
fn nan_regions_are_rejections_not_crashes() {
    for (kind, eps) in kinds() {
        let mut s = kind.build(2, eps * 3.0);
        let mut rng = chain_stream(1, 0);
        let mut e = Walled;
        let mut st = State::new(&mut e, vec![0.0, 0.0]).unwrap();
        let mut div = 0;
        for _ in 0..5000 {
            let info = s.step(&mut e, &mut st, 1.0, &mut rng).unwrap();
            div += u64::from(info.divergent);
            assert!(st.energy.is_finite() && st.x[0] <= 1.5, "{kind:?}");
        }
        assert!(div > 0, "{kind:?}: no divergence counted");
    }
}

#[test]
fn step_size_search_lands_near_half_acceptance() {
    let mut e = Ar1Gaussian::new(10, 0.5, 1.0).unwrap();
    for (kind, _) in kinds() {
        let mut s = kind.build(10, 1.0);
        let st = State::new(&mut e, vec![0.3; 10]).unwrap();
        let eps = find_step_size(&mut s, &mut e, &st, 1.0, &mut chain_stream(2, 0)).unwrap();
        assert!(eps > 0.01 && eps < 10.0, "{kind:?}: {eps}");
    }
}

/// Random-walk Metropolis reports the size of the energy change it proposed, accepted or not
/// (it reported 0 on every accepted move, having measured the change after the move).
#[test]
fn rwm_reports_the_energy_error_of_accepted_moves() {
    let mut e = Ar1Gaussian::new(3, 0.5, 1.0).unwrap();
    let mut k = Rwm::new(3, 0.5);
    let mut st = State::without_gradient(&mut e, vec![0.2; 3]).unwrap();
    let mut rng = chain_stream(5, 0);
    let (mut accepted, mut positive) = (0, 0);
    for _ in 0..2000 {
        let info = k.step(&mut e, &mut st, 1.0, &mut rng).unwrap();
        if info.accepted {
            accepted += 1;
            positive += usize::from(info.energy_error > 0.0);
        }
    }
    assert!(accepted > 100);
    assert_eq!(positive, accepted, "accepted moves with energy_error = 0");
}

/// RWM needs no gradient: it runs on an energy that has none, and its states carry none.
#[test]
fn rwm_runs_on_an_energy_without_gradient() {
    struct Plain;
    impl crate::energy::Energy for Plain {
        fn dim(&self) -> usize {
            1
        }
        fn energy(&mut self, x: &[f64]) -> Result<f64, crate::energy::EnergyError> {
            Ok(0.5 * x[0] * x[0])
        }
    }
    let mut k = Rwm::new(1, 1.0);
    let mut st = TunedKernel::<Plain>::state_at(&k, &mut Plain, vec![0.5]).unwrap();
    assert!(st.grad.is_empty());
    let mut rng = chain_stream(3, 0);
    let mut sum = 0.0;
    for _ in 0..20_000 {
        k.step(&mut Plain, &mut st, 1.0, &mut rng).unwrap();
        sum += st.x[0] * st.x[0];
    }
    assert!(
        (sum / 20_000.0 - 1.0).abs() < 0.1,
        "E[x²] = {}",
        sum / 20_000.0
    );
}

/// Value stability: the first draws for a fixed seed must not change silently.
#[test]
fn pinned_draws() {
    let mut got = Vec::new();
    for (kind, eps) in kinds() {
        let mut e = Ar1Gaussian::new(3, 0.5, 1.0).unwrap();
        let mut s = kind.build(3, eps);
        let mut rng = chain_stream(123, 0);
        let mut st = State::new(&mut e, vec![0.5, -0.5, 0.25]).unwrap();
        for _ in 0..5 {
            s.step(&mut e, &mut st, 1.0, &mut rng).unwrap();
        }
        got.push(st.x[0]);
    }
    let want = PINNED;
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "got {got:?}");
    }
}

/// First coordinate after five steps from (0.5, −0.5, 0.25), seed 123, per kernel (RWM, MALA, HMC, NUTS).
const PINNED: [f64; 4] = [
    0.5618212975916336,
    0.0661854987279901,
    0.46204369541019646,
    0.4662672571316327,
];
