//! Tests of the replica-exchange engine through its three families: mode weights of a distant
//! mixture, thread independence, ln Z by stepping-stone and TI against exact answers
//! (conjugate regression, Kaufman, enumerated Boltzmann machines), and ladder validation.

use super::*;
use crate::energy::{BoltzmannPath, LinearPath};
use crate::kernels::mcmc::SamplerKind;
use crate::run::RunContext;
use crate::systems::posterior::GaussianMixture;

fn replicas<P: LinearPath>(
    path: P,
    kind: SamplerKind,
    x0: Vec<f64>,
) -> PathReplicas<P, crate::kernels::mcmc::McmcKernel> {
    let d = x0.len();
    PathReplicas {
        path,
        kernel: kind.build(d, 0.5),
        x0,
        target_accept: None,
    }
}

/// Two modes 10 σ apart with weights 0.3 / 0.7: a single gradient-based chain stays in one
/// mode; tempering recovers the weights to ±0.02.
#[test]
fn tempering_recovers_the_weights_of_two_distant_modes() {
    let m = GaussianMixture::two_modes(2, 10.0).unwrap();
    let s = TemperingSettings {
        rounds: 40_000,
        warmup: 4000,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let reps = replicas(
        BoltzmannPath(m.clone()),
        SamplerKind::Hmc { steps: 10 },
        vec![-5.0, 0.0],
    );
    let r = temper(&reps, &s, false, 3, 0, &mut RunContext::new()).unwrap();
    let n = r.draws.len() / 2;
    let right = r
        .draws
        .chunks_exact(2)
        .filter(|x| m.nearest(x) == 1)
        .count() as f64
        / n as f64;
    assert!(
        (right - 0.7).abs() < 0.02,
        "weight of the right mode {right}"
    );
    let run = &r.run;
    assert!(run.round_trips > 50, "{} round trips", run.round_trips);
    assert!(
        run.barrier > 0.5 && run.ladder.windows(2).all(|w| w[1] > w[0]),
        "{:?}",
        run.ladder
    );
    assert_eq!(run.termination, Termination::Finished);
    // A single NUTS chain started in the left mode never leaves it.
    use crate::drivers::sample::{sample, InitPoint, SampleSettings};
    let one = SampleSettings {
        chains: 1,
        init: InitPoint::Given { x: vec![-5.0, 0.0] },
        ..Default::default()
    }
    .validate(2)
    .unwrap();
    let r1 = sample(&m, &one, 3, &mut RunContext::new()).unwrap();
    let right1 = r1.chains[0]
        .draws
        .chunks_exact(2)
        .filter(|x| m.nearest(x) == 1)
        .count();
    assert_eq!(right1, 0);
}

#[test]
fn results_do_not_depend_on_threads_and_all_replicas_can_be_kept() {
    let reps = replicas(
        BoltzmannPath(GaussianMixture::two_modes(2, 6.0).unwrap()),
        SamplerKind::Hmc { steps: 10 },
        vec![0.0, 0.0],
    );
    let run = |threads| {
        let s = TemperingSettings {
            rounds: 500,
            warmup: 300,
            threads,
            ladder: vec![0.1, 0.3, 1.0],
            ..Default::default()
        }
        .validate()
        .unwrap();
        temper(&reps, &s, true, 8, 0, &mut RunContext::new()).unwrap()
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.draws, b.draws);
    assert_eq!(a.run.ladder, b.run.ladder);
    assert_eq!(a.all_draws.len(), 500 * 3 * 2);
    assert_eq!(&a.all_draws[4..6], &a.draws[0..2]);
}

/// Stepping-stone and TI from one tempering run along the power-posterior path (ladder from
/// t = 0) recover the exact conjugate-regression evidence.
#[test]
fn stepping_stone_and_ti_from_a_tempering_run() {
    use crate::systems::posterior::LinearRegression;
    let post =
        LinearRegression::new(&crate::data::synthetic_regression(60, 4, 0.5, 2), 0.5, 1.0).unwrap();
    let exact = post.log_evidence();
    let ladder: Vec<f64> = (0..=24).map(|k| (k as f64 / 24.0).powi(5)).collect();
    let s = TemperingSettings {
        ladder,
        rounds: 8000,
        warmup: 1000,
        adapt_ladder: false,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let reps = replicas(post, SamplerKind::Hmc { steps: 10 }, vec![0.0; 4]);
    let r = temper(&reps, &s, false, 4, 0, &mut RunContext::new()).unwrap();
    for est in [r.run.log_z_stepping_stone(), r.run.log_z_ti()] {
        assert!(
            (est.value - exact).abs() < 3.0 * est.se + 0.02,
            "{est:?} vs {exact}"
        );
        assert!(est.se < 0.3);
    }
}

#[test]
fn ladders_are_validated() {
    let bad = |l: Vec<f64>| {
        TemperingSettings {
            ladder: l,
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .message
    };
    assert!(bad(vec![0.5, 0.2, 1.0]).contains("strictly increasing"));
    assert!(bad(vec![0.1, 0.5]).contains("end at 1"));
    assert!(bad(vec![-0.1, 1.0]).contains("[0, 1]"));
    assert!(bad(vec![]).contains("two rungs"));
    assert!(TemperingSettings {
        rounds: 0,
        ..Default::default()
    }
    .validate()
    .is_err());
}

/// 2-D Ising, L = 16: ln Z per site at T = 2.0 by tempering and stepping-stone from β = 0 lies
/// within 3 standard errors of Kaufman, with Metropolis and with heat-bath sweeps (the rule
/// asked for is the rule used: their swap rates differ).
#[test]
fn ising_tempering_and_stepping_stone_match_kaufman() {
    use crate::estimate::exact::kaufman;
    use crate::kernels::spin::SpinRule;
    use crate::systems::spin::{IsingGraph, Lattice};
    let g = IsingGraph::lattice(Lattice::new(2, 16).unwrap(), 1.0, 0.0);
    let s = TemperingSettings {
        ladder: (0..=32).map(|k| k as f64 / 32.0).collect(),
        warmup: 4000,
        rounds: 20_000,
        adapt_ladder: false,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let k = kaufman(16, 16, 1.0, 2.0);
    let mut rates = Vec::new();
    for rule in [SpinRule::Metropolis, SpinRule::HeatBath] {
        let r = temper_ising(&g, rule, 0.5, &s, 5, &mut RunContext::new()).unwrap();
        let last = r.log_z_per_site.last().unwrap();
        assert!(
            last.z_score(k.log_z_per_site).abs() < 3.0,
            "{rule:?}: {last:?} vs {}",
            k.log_z_per_site
        );
        assert!(
            last.se < 1e-3 && r.swap_acceptance.iter().all(|a| *a > 0.2),
            "{r:?}"
        );
        assert!((r.betas[32] - 0.5).abs() < 1e-15 && r.round_trips > 0);
        rates.push(r.swap_acceptance);
    }
    assert_ne!(rates[0], rates[1], "heat-bath ran as Metropolis");
    let from_half = TemperingSettings {
        ladder: vec![0.1, 0.5, 1.0],
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert!(temper_ising(
        &g,
        SpinRule::Metropolis,
        0.5,
        &from_half,
        1,
        &mut RunContext::new()
    )
    .is_err());
}

/// The standard errors of stepping-stone and TI are calibrated: over 24 seeds of a short
/// tempering run of an 8 × 8 Ising model, the z-scores against Kaufman have an RMS near 1
/// (not far below: the errors are not inflated into meaninglessness; not above: not optimistic).
#[test]
fn tempering_ln_z_errors_are_calibrated_over_seeds() {
    use crate::estimate::exact::kaufman;
    use crate::kernels::spin::SpinRule;
    use crate::systems::spin::{IsingGraph, Lattice};
    let g = IsingGraph::lattice(Lattice::new(2, 8).unwrap(), 1.0, 0.0);
    let s = TemperingSettings {
        ladder: (0..=12).map(|k| k as f64 / 12.0).collect(),
        warmup: 500,
        rounds: 2000,
        adapt_ladder: false,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let exact = kaufman(8, 8, 1.0, 1.0 / 0.45).log_z_per_site * 64.0;
    let beta = 0.45;
    let (mut ss, mut ti) = (Vec::new(), Vec::new());
    for seed in 0..24 {
        let r = temper_ising(
            &g,
            SpinRule::Metropolis,
            beta,
            &s,
            seed,
            &mut RunContext::new(),
        )
        .unwrap();
        ss.push(r.log_z_per_site.last().unwrap().z_score(exact / 64.0));
        ti.push(r.log_z_ti_per_site.z_score(exact / 64.0));
    }
    for (name, z) in [("stepping-stone", &ss), ("TI", &ti)] {
        let rms = (z.iter().map(|v| v * v).sum::<f64>() / z.len() as f64).sqrt();
        eprintln!("{name}: rms z {rms:.2} {z:.2?}");
        assert!((0.5..1.5).contains(&rms), "{name}: rms z {rms} over {z:?}");
    }
}

/// An evaluation budget covers a whole series of tempering chains: with room for about one and
/// a half chains, the second stops with `BudgetExhausted` and no third starts.
#[test]
fn a_budget_holds_across_tempering_chains() {
    let reps = replicas(
        BoltzmannPath(GaussianMixture::two_modes(2, 4.0).unwrap()),
        SamplerKind::Mala,
        vec![0.0, 0.0],
    );
    let s = TemperingSettings {
        rounds: 400,
        warmup: 100,
        ladder: vec![0.2, 0.5, 1.0],
        ..Default::default()
    }
    .validate()
    .unwrap();
    let one = temper(&reps, &s, false, 2, 0, &mut RunContext::new()).unwrap();
    let budget = crate::run::Budget {
        evaluations: Some(one.run.evaluations * 3 / 2),
        ..Default::default()
    };
    let r = temper_chains(&reps, &s, 4, 2, &mut RunContext::new().with_budget(budget)).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].run.termination, Termination::Finished);
    assert_eq!(r[1].run.termination, Termination::BudgetExhausted);
}

/// Random-walk Metropolis replicas never ask for a gradient (the path's energy-only route), and
/// their draws at t = 1 have the target's moments.
#[test]
fn random_walk_replicas_evaluate_no_gradients() {
    use crate::energy::{Energy, EnergyError, Gradient};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    #[derive(Clone)]
    struct Counted(Arc<AtomicUsize>);
    impl Energy for Counted {
        fn dim(&self) -> usize {
            2
        }
        fn energy(&mut self, x: &[f64]) -> Result<f64, EnergyError> {
            Ok(0.5 * (x[0] * x[0] + x[1] * x[1]))
        }
    }
    impl Gradient for Counted {
        fn energy_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, EnergyError> {
            self.0.fetch_add(1, Ordering::Relaxed);
            g.copy_from_slice(x);
            self.energy(x)
        }
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let reps = replicas(
        BoltzmannPath(Counted(calls.clone())),
        SamplerKind::Rwm,
        vec![0.5, 0.5],
    );
    let s = TemperingSettings {
        rounds: 20_000,
        warmup: 1000,
        ladder: vec![0.25, 0.5, 1.0],
        ..Default::default()
    }
    .validate()
    .unwrap();
    let before = calls.load(Ordering::Relaxed);
    let r = temper(&reps, &s, false, 4, 0, &mut RunContext::new()).unwrap();
    // The start (one state per rung) may use the gradient route; the rounds must not.
    assert!(
        calls.load(Ordering::Relaxed) - before <= 3 * 2,
        "gradient calls"
    );
    let xs: Vec<f64> = r.draws.chunks_exact(2).map(|x| x[0]).collect();
    let n = xs.len() as f64;
    let var = xs.iter().map(|v| v * v).sum::<f64>() / n;
    assert!((var - 1.0).abs() < 0.1, "variance at t = 1: {var}");
}

/// The distributed protocol (walkers in groups, rung parts travelling, swaps decided from
/// scalars) gives bit for bit the in-process engine's run, whatever the grouping: 32 replicas
/// over a bimodal target, with the ladder re-spaced twice during warm-up.
#[test]
fn relayed_tempering_is_bit_identical_to_the_engine_for_any_grouping() {
    let m = GaussianMixture::two_modes(3, 8.0).unwrap();
    let s = TemperingSettings {
        ladder: (0..32)
            .map(|k| 0.01f64.powf(1.0 - k as f64 / 31.0))
            .collect(),
        rounds: 150,
        warmup: 250,
        steps_per_round: 2,
        ..Default::default()
    }
    .validate()
    .unwrap();
    for kind in [
        SamplerKind::Hmc { steps: 5 },
        SamplerKind::Nuts { max_depth: 6 },
    ] {
        let reps = replicas(BoltzmannPath(m.clone()), kind, vec![-4.0, 0.0, 1.0]);
        let local = temper(&reps, &s, false, 11, 2, &mut RunContext::new()).unwrap();
        for groups in [1usize, 2, 4, 32] {
            let split: Vec<Vec<u32>> = (0..groups)
                .map(|g| (0..32u32).filter(|w| *w as usize % groups == g).collect())
                .collect();
            let (run, draws) = relay_in_process(&reps, &s, split, 11, 2).unwrap();
            let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&draws),
                bits(&local.draws),
                "{groups} groups, {kind:?}"
            );
            assert_eq!(bits(&run.ladder), bits(&local.run.ladder));
            assert_eq!(run.round_trips, local.run.round_trips);
            assert_eq!(run.evaluations, local.run.evaluations);
            assert_eq!(bits(&run.rejection), bits(&local.run.rejection));
            for (a, b) in run.rungs.iter().zip(&local.run.rungs) {
                assert_eq!(bits(&a.delta), bits(&b.delta));
            }
            assert_eq!(
                run.log_z_stepping_stone().value.to_bits(),
                local.run.log_z_stepping_stone().value.to_bits()
            );
        }
        assert!(local.run.round_trips > 0 || local.run.barrier > 0.0);
    }
}

/// Damaged or foreign messages are errors, not panics.
#[test]
fn relay_messages_that_do_not_fit_are_errors() {
    let orders = vec![Order {
        walker: 3,
        rung: 5,
        t: [0.5, 0.25, f64::NAN],
        flags: Order::KEEP | Order::WARM,
        part: vec![1, 2, 3],
    }];
    let bytes = encode_orders(&orders);
    let back = decode_orders(&bytes).unwrap();
    assert_eq!(back[0].walker, 3);
    assert_eq!(back[0].rung, 5);
    assert_eq!(back[0].part, vec![1, 2, 3]);
    assert!(back[0].t[2].is_nan());
    for cut in [0, 7, 8, 20, bytes.len() - 1] {
        assert!(decode_orders(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    assert!(decode_reports(&[255; 16]).is_err());
    let s = TemperingSettings {
        ladder: vec![0.5, 1.0],
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert!(Relay::new(&s, vec![vec![0]], true, 0, 0).is_err());
    assert!(Relay::new(&s, vec![vec![0, 1], vec![1]], true, 0, 0).is_err());
    let mut relay = Relay::new(&s, vec![vec![0], vec![1]], true, 0, 0).unwrap();
    assert!(relay.orders().is_err(), "orders before the first reports");
    assert!(relay.start(&[vec![]]).is_err());
}

/// A distributed run saved between two rounds and continued from there — after its walkers
/// went on past the save, with one group replaced by fresh walkers (a lost worker) — ends bit
/// for bit where the undisturbed run ends, whether saved during warm-up or after it.
#[test]
fn a_relayed_run_restored_from_its_snapshot_ends_as_the_undisturbed_run() {
    let m = GaussianMixture::two_modes(2, 6.0).unwrap();
    let s = TemperingSettings {
        ladder: (0..8).map(|k| 0.05f64.powf(1.0 - k as f64 / 7.0)).collect(),
        rounds: 120,
        warmup: 150,
        ..Default::default()
    }
    .validate()
    .unwrap();
    let reps = replicas(
        BoltzmannPath(m),
        SamplerKind::Hmc { steps: 4 },
        vec![1.0, -1.0],
    );
    let groups: Vec<Vec<u32>> = vec![vec![0, 3, 6], vec![1, 4, 7], vec![2, 5]];
    let (reference, ref_draws) = relay_in_process(&reps, &s, groups.clone(), 5, 1).unwrap();
    let start = |g: &[u32]| Walkers::new(reps.clone(), &s, g.to_vec(), 5, 1, 1).unwrap();
    for save_at in [120usize, 200] {
        let mut relay = Relay::new(&s, groups.clone(), true, 5, 1).unwrap();
        let (mut walkers, first): (Vec<_>, Vec<_>) = groups.iter().map(|g| start(g)).unzip();
        relay.start(&first).unwrap();
        let mut draws: Vec<(u64, Vec<f64>)> = Vec::new();
        let take = |w: &mut Walkers<_>, draws: &mut Vec<(u64, Vec<f64>)>| {
            let (rounds, x) = w.take_draws();
            draws.extend(
                rounds
                    .into_iter()
                    .zip(x.chunks_exact(2).map(<[f64]>::to_vec)),
            );
        };
        let round = |relay: &mut Relay, walkers: &mut [Walkers<_>]| {
            let orders = relay.orders().unwrap();
            let reports: Vec<Vec<u8>> = walkers
                .iter_mut()
                .zip(&orders)
                .map(|(w, o)| w.advance(o).unwrap())
                .collect();
            relay.absorb(&reports).unwrap();
        };
        while relay.conductor().round() < save_at {
            round(&mut relay, &mut walkers);
        }
        let saved_relay = relay.snapshot();
        let saved: Vec<Vec<u8>> = walkers.iter().map(Walkers::snapshot).collect();
        walkers.iter_mut().for_each(|w| take(w, &mut draws));
        // The run goes on for a while, then a worker is lost: its walkers start afresh.
        for _ in 0..30 {
            round(&mut relay, &mut walkers);
        }
        walkers[1] = start(&groups[1]).0;
        let mut relay = Relay::restore(&s, &saved_relay).unwrap();
        for (w, b) in walkers.iter_mut().zip(&saved) {
            w.restore(b).unwrap();
        }
        while !relay.conductor().done() {
            round(&mut relay, &mut walkers);
        }
        let closing = relay.closing_orders().unwrap();
        for (w, o) in walkers.iter_mut().zip(&closing) {
            w.advance(o).unwrap();
            take(w, &mut draws);
        }
        draws.sort_by_key(|(r, _)| *r);
        let x: Vec<f64> = draws.into_iter().flat_map(|(_, x)| x).collect();
        let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&x), bits(&ref_draws), "saved at round {save_at}");
        let run = relay.finish(crate::run::Termination::Finished, None);
        assert_eq!(bits(&run.ladder), bits(&reference.ladder));
        assert_eq!(run.round_trips, reference.round_trips);
        assert_eq!(run.evaluations, reference.evaluations);
        for (a, b) in run.rungs.iter().zip(&reference.rungs) {
            assert_eq!(bits(&a.delta), bits(&b.delta));
        }
    }
}

/// Damaged or foreign snapshots are errors that leave the walkers as they were.
#[test]
fn snapshots_that_do_not_fit_are_errors() {
    let s = TemperingSettings {
        ladder: vec![0.25, 0.5, 1.0],
        ..Default::default()
    }
    .validate()
    .unwrap();
    let reps = replicas(
        BoltzmannPath(GaussianMixture::two_modes(2, 4.0).unwrap()),
        SamplerKind::Rwm,
        vec![0.0, 0.0],
    );
    let (mut w, _) = Walkers::new(reps.clone(), &s, vec![0, 2], 1, 0, 1).unwrap();
    let (other, _) = Walkers::new(reps, &s, vec![1], 1, 0, 1).unwrap();
    let good = w.snapshot();
    assert!(w.restore(&other.snapshot()).is_err(), "other walkers");
    for cut in [0, 8, 20, good.len() - 1] {
        assert!(w.restore(&good[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = good.clone();
    longer.extend_from_slice(&[0; 8]);
    assert!(w.restore(&longer).is_err());
    w.restore(&good).unwrap();
    assert_eq!(w.snapshot(), good);
    // A state saved without a gradient does not fit a gradient kernel.
    let hmc = replicas(
        BoltzmannPath(GaussianMixture::two_modes(2, 4.0).unwrap()),
        SamplerKind::Hmc { steps: 3 },
        vec![0.0, 0.0],
    );
    let mut no_grad = vec![2u64, 0];
    no_grad.extend([0.5f64; 2 * 3 + 3].map(f64::to_bits));
    assert!(hmc.load_state(&no_grad).is_err());
    no_grad[1] = 1;
    no_grad.extend([0.5f64; 2].map(f64::to_bits));
    assert!(hmc.load_state(&no_grad).is_ok());
    let relay = Relay::new(&s, vec![vec![0, 2], vec![1]], true, 1, 0).unwrap();
    let saved = relay.snapshot();
    assert!(Relay::restore(&s, &saved[..saved.len() / 2]).is_err());
    let four = TemperingSettings {
        ladder: vec![0.2, 0.4, 0.6, 1.0],
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert!(Relay::restore(&four, &saved).is_err(), "other settings");
    assert_eq!(Relay::restore(&s, &saved).unwrap().snapshot(), saved);
}
