//! Agreement with ArviZ on fixed draws (fixture made by bench/fixtures/make_arviz_fixture.py).

use super::*;

fn fixture() -> serde_json::Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/arviz_diagnostics.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn chains(v: &serde_json::Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

fn close(name: &str, what: &str, got: f64, want: f64) {
    let tol = 1e-6 * want.abs().max(1.0);
    assert!(
        (got - want).abs() <= tol,
        "{name} {what}: {got} vs ArviZ {want}"
    );
}

#[test]
fn diagnostics_agree_with_arviz_to_1e6() {
    let f = fixture();
    for (name, v) in f["variables"].as_object().unwrap() {
        let c = chains(&v["draws"]);
        let r: Vec<&[f64]> = c.iter().map(|x| x.as_slice()).collect();
        let w = |k: &str| v[k].as_f64().unwrap();
        close(name, "r_hat", rhat(&r), w("r_hat"));
        close(name, "ess_bulk", ess_bulk(&r), w("ess_bulk"));
        close(name, "ess_tail", ess_tail(&r), w("ess_tail"));
        close(name, "ess_mean", ess_mean(&r), w("ess_mean"));
        close(name, "mcse_mean", mcse_mean(&r), w("mcse_mean"));
        close(name, "mcse_sd", mcse_sd(&r), w("mcse_sd"));
        close(name, "mcse_q05", mcse_quantile(&r, 0.05), w("mcse_q05"));
        close(name, "mcse_q50", mcse_quantile(&r, 0.5), w("mcse_q50"));
        close(name, "mcse_q95", mcse_quantile(&r, 0.95), w("mcse_q95"));
    }
    let e = chains(&f["energy"]["draws"]);
    let want: Vec<f64> = f["energy"]["bfmi"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    for (c, w) in e.iter().zip(want) {
        close("energy", "bfmi", bfmi(c), w);
    }
}

#[test]
fn degenerate_inputs_are_nan_not_panics() {
    let one = [1.0, 2.0, 3.0];
    assert!(rhat(&[&one]).is_nan());
    assert!(ess_bulk(&[&one[..2]]).is_nan());
    let nan = [1.0, f64::NAN, 2.0, 3.0, 4.0];
    assert!(ess_bulk(&[&nan, &nan]).is_nan());
    let constant = [2.0; 10];
    assert_eq!(ess_mean(&[&constant, &constant]), 20.0);
    assert!((quantile(&[1.0, 2.0, 3.0, 4.0], 0.25) - 1.75).abs() < 1e-15);
}

/// A run stopped part-way leaves chains of different lengths, or none at all: the summary cuts
/// them to the shortest, and with fewer than 4 draws per chain reports NaN instead of panicking.
#[test]
fn short_and_uneven_chains_are_summarised_without_panicking() {
    let long: Vec<f64> = (0..17).map(|i| (i as f64 * 0.7).sin()).collect();
    let short: Vec<f64> = long[..16].iter().map(|v| v + 0.1).collect();
    let s = summarize("x", &[&long, &short, &long]);
    assert!(s.r_hat.is_finite() && s.ess_bulk.is_finite(), "{s:?}");
    let cut = summarize("x", &[&long[..16], &short, &long[..16]]);
    assert_eq!(s, cut);
    for chains in [vec![&long[..3], &long[..3]], vec![&long[..0]], vec![]] {
        let s = summarize("x", &chains);
        assert!(s.ess_bulk.is_nan() && s.r_hat.is_nan() && s.mcse_q95.is_nan());
    }
    assert!(quantile(&[], 0.5).is_nan());
    assert!(ess_bulk(&[&long, &short]).is_nan() && rhat(&[&long, &short]).is_nan());
}
