//! The SG-MCMC predictive against a long full-batch HMC reference on a small regression
//! network (the sin data, 1-10-1 tanh): agreement (overlap 1 − TV of the predictive densities)
//! and total variation at falling SGLD step sizes, with the reference's own split-half
//! agreement as the Monte Carlo floor. `cargo run --release --example sgmcmc_agreement`.

use thermolab::drivers::sample::{sample, SampleSettings};
use thermolab::drivers::sgmcmc::{sg_sample, SgSettings};
use thermolab::energy::Energy;
use thermolab::estimate::agreement::regression_agreement;
use thermolab::kernels::sgmcmc::SgMethod;
use thermolab::nn::{Activation, Architecture};
use thermolab::run::RunContext;
use thermolab::systems::posterior::{GaussianPrior, Likelihood, NetworkData, NetworkPosterior};

fn main() -> Result<(), thermolab::Error> {
    let noise = 0.2;
    let train = thermolab::data::sin_data(40, noise, 1);
    let test = thermolab::data::sin_data(60, noise, 2);
    let data = NetworkData::from_dataset(&train, false).expect("sin data");
    let test = NetworkData::from_dataset(&test, false).expect("sin data");
    let arch = Architecture::new(vec![1, 10, 1], Activation::Tanh);
    let prior = GaussianPrior::isotropic(&arch, 1.0);
    let mut post =
        NetworkPosterior::new(arch, data.into(), Likelihood::Gaussian { sd: noise }, prior)
            .expect("posterior");
    let d = post.dim();
    let t = std::time::Instant::now();
    let nuts = SampleSettings {
        chains: 8,
        warmup: 2000,
        draws: 4000,
        ..Default::default()
    }
    .validate(d)?;
    let reference = sample(&post, &nuts, 11, &mut RunContext::new())?;
    let thetas: Vec<&[f64]> = reference
        .chains
        .iter()
        .flat_map(|c| c.draws.chunks_exact(d))
        .collect();
    println!(
        "NUTS reference: {} draws in {:.1}s, chains {}",
        thetas.len(),
        t.elapsed().as_secs_f64(),
        reference.chains.len()
    );
    let outputs = |post: &mut NetworkPosterior, th: &[&[f64]]| -> Vec<Vec<f64>> {
        th.iter()
            .map(|t| {
                post.outputs(t, &test.x)
                    .unwrap()
                    .iter()
                    .map(|&v| v as f64)
                    .collect()
            })
            .collect()
    };
    // Two interleaved sets of 1000 reference draws: every run is scored against the first;
    // the second, scored the same way, is the Monte Carlo floor at equal sample sizes.
    let every = thetas.len() / 2000;
    let set = |offset: usize| -> Vec<&[f64]> {
        thetas
            .iter()
            .skip(offset)
            .step_by(2 * every)
            .take(1000)
            .copied()
            .collect()
    };
    let ref_out = outputs(&mut post, &set(0));
    let other = outputs(&mut post, &set(every));
    let floor = regression_agreement(&view(&ref_out), &view(&other), noise);
    println!(
        "NUTS against NUTS (1000 draws each): agreement {:.4} ± {:.4}, TV {:.4}",
        floor.agreement, floor.agreement_se, floor.total_variation
    );
    let starts: Vec<Vec<f64>> = reference
        .chains
        .iter()
        .map(|c| c.draws[c.draws.len() - d..].to_vec())
        .collect();
    for step in [3e-4, 1e-4, 3e-5, 1e-5] {
        let epochs = (60.0 / step) as usize;
        let s = SgSettings {
            method: SgMethod::Sgld,
            step_size: step,
            batch_size: None,
            epochs,
            burn_in_epochs: epochs / 10,
            thin: (epochs / 1000).max(1),
            chains: 8,
            seed: 3,
            ..SgSettings::default()
        };
        let t = std::time::Instant::now();
        let run = sg_sample(&post, &starts, &s, &mut RunContext::new())?;
        let all: Vec<&[f64]> = run.samples().map(|v| v.as_slice()).collect();
        let th: Vec<&[f64]> = all
            .iter()
            .step_by((all.len() / 1000).max(1))
            .take(1000)
            .copied()
            .collect();
        let out = outputs(&mut post, &th);
        let a = regression_agreement(&view(&ref_out), &view(&out), noise);
        println!(
            "SGLD ε {step:e}: agreement {:.4} ± {:.4}, TV {:.4}, divergences {}, {:.1}s",
            a.agreement,
            a.agreement_se,
            a.total_variation,
            run.divergences(),
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn view(o: &[Vec<f64>]) -> Vec<&[f64]> {
    o.iter().map(|v| v.as_slice()).collect()
}
