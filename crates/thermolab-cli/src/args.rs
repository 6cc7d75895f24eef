//! Command-line arguments (clap derive): the raw form, turned into validated library settings by
//! each command.

use crate::output::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// thermolab: learning as statistical mechanics.
///
/// Loss is energy, noise is temperature, a trained network is one microstate of an ensemble.
#[derive(Debug, Parser)]
#[command(
    name = "thermolab",
    version,
    about = "thermolab: learning as statistical mechanics — anneal, train, sample, temper, and measure energy, temperature, entropy and partition functions",
    long_about = None
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the walkthrough on built-in data: annealing on a quadratic, a 1-10-1 network on sin
    /// data, and the thermodynamics ↔ learning table with this run's numbers.
    Demo(DemoArgs),
    /// Minimise a built-in test function by simulated annealing.
    Anneal(AnnealArgs),
    /// Train a small dense network on CSV or built-in data.
    Train(TrainArgs),
    /// Sweep an Ising (or Potts, or spin-glass) model over temperatures, with exact answers.
    Ising(IsingArgs),
    /// Sample the Boltzmann distribution exp(−β E) of a target with MCMC (NUTS, HMC, MALA, RWM).
    Sample(SampleArgs),
    /// Estimate log Z (the evidence) by several estimators side by side, with exact answers where known.
    Evidence(EvidenceArgs),
    /// Self-test: run the samplers and estimators on targets with exactly known answers.
    Certify(CertifyArgs),
    /// Parallel tempering of a target over a ladder of inverse temperatures (multimodal targets).
    Temper(TemperArgs),
    /// Sample a network's posterior at each of a grid of temperatures (stochastic-gradient MCMC):
    /// test NLL, accuracy, calibration, ⟨E⟩ and the heat capacity per temperature.
    Scan(ScanArgs),
    /// The local learning coefficient λ̂ (localised SGLD) of a deep linear network trained on a
    /// teacher of chosen rank, beside its exact value (Aoyagi's formula).
    Llc(LlcArgs),
    /// A deep ensemble of networks trained at T = 0 (SGD or momentum), optionally MultiSWAG:
    /// the predictive's test metrics beside the members', and the members' spread.
    Ensemble(EnsembleArgs),
    /// Restricted Boltzmann machines: train (CD-k, PCD, tempered PCD) and evaluate (exact log Z,
    /// AIS) on digits, MNIST or your own IDX/NPY/CSV images.
    Rbm(RbmArgs),
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Seed of the run (a whole number from 0 to 2^64 − 1); every random stream is derived
    /// from it.
    #[arg(long, default_value_t = 0, value_parser = parse_seed, allow_hyphen_values = true)]
    pub seed: u64,
    /// Output folder [default: ./thermolab-COMMAND, or -2, -3, … when that holds an earlier
    /// run]. Written under a temporary name and renamed when complete; a folder holding a run is
    /// replaced only with --force.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Skip the SVG/PNG plots and the HTML report (faster batch runs).
    #[arg(long)]
    pub no_plots: bool,
    /// Replace the run folder at --out if it holds an earlier run (without it, an earlier run
    /// is never deleted: a new run refuses, or with the default folder goes to a numbered one).
    #[arg(long)]
    pub force: bool,
}

/// Parses `--seed`: a whole number from 0 to 2^64 − 1.
fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number from 0 to {}", u64::MAX))
}

/// The target options `sample` and `temper` share (one name and one default for each).
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Dimension of the gauss, funnel, funnel-nc and mixture targets.
    #[arg(long, default_value_t = 10)]
    pub dim: usize,
    /// AR(1) correlation of the gauss target.
    #[arg(long, default_value_t = 0.9, allow_negative_numbers = true)]
    pub rho: f64,
    /// Distance between the two modes of the mixture target, in standard deviations (weights
    /// 0.3 and 0.7).
    #[arg(long, default_value_t = 6.0, allow_negative_numbers = true)]
    pub separation: f64,
    /// Data of logreg (a CSV with a 0/1 target column; default: the built-in breast cancer
    /// data) or bnn (a CSV; default: the built-in sin data).
    #[arg(long)]
    pub data: Option<String>,
    /// Target column of --data, a name or a 1-based position [default: the last column].
    #[arg(long, visible_alias = "targets")]
    pub target_column: Option<String>,
    /// Prior sd of the weights (logreg, bnn).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub prior_sd: f64,
    /// Noise sd of the bnn likelihood.
    #[arg(
        long,
        visible_alias = "sigma",
        default_value_t = 0.1,
        allow_negative_numbers = true
    )]
    pub noise_sd: f64,
    /// Architecture of the bnn target, e.g. `1-10-1:tanh`.
    #[arg(long, default_value = "1-10-1:tanh")]
    pub arch: String,
    /// Evaluate logreg and bnn energies in double precision throughout (by default they use
    /// single-precision kernels: the data rounded to f32, sums in f64, 2-3× faster).
    #[arg(long)]
    pub f64: bool,
}

/// `thermolab demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Shared options (default output folder: ./thermolab-demo).
    #[command(flatten)]
    pub common: Common,
}

/// `thermolab anneal`.
#[derive(Debug, Args)]
pub struct AnnealArgs {
    /// Function to minimise: quadratic, rastrigin, ackley, rosenbrock.
    #[arg(long, default_value = "rastrigin")]
    pub function: String,
    /// Dimension (the quadratic is always 2-D).
    #[arg(long, default_value_t = 10)]
    pub dim: usize,
    /// Algorithm: `adaptive` (recommended) or `blog` (the walkthrough's baseline).
    #[arg(long, default_value = "adaptive")]
    pub method: String,
    /// Cooling schedule: geometric, linear, logarithmic, reheat.
    #[arg(long, default_value = "geometric")]
    pub schedule: String,
    /// Maximum number of restarts (adaptive).
    #[arg(long, default_value_t = 10)]
    pub restarts: usize,
    /// Stop after this many restarts reach the same best energy (0: never; adaptive).
    #[arg(long, default_value_t = 3)]
    pub confirmations: usize,
    /// Proposals per restart (adaptive; default 350 × dim) or in total (blog; default 1000).
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Initial temperature (adaptive: automatic when omitted; blog: default 1).
    #[arg(long, allow_negative_numbers = true)]
    pub t0: Option<f64>,
    /// Cooling factor α of the blog baseline.
    #[arg(long, default_value_t = 0.99, allow_negative_numbers = true)]
    pub alpha: f64,
    /// Proposal sd of the blog baseline.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub step: f64,
    /// Acceptance rule: metropolis or barker (adaptive).
    #[arg(long, default_value = "metropolis")]
    pub rule: String,
    /// Turn off the L-BFGS refinement of each restart's best state.
    #[arg(long)]
    pub no_refine: bool,
    /// Stop when the best energy reaches this value (`--target` in earlier versions).
    #[arg(long, alias = "target", allow_negative_numbers = true)]
    pub stop_at: Option<f64>,
    /// Evaluation budget (energy = 1, energy+gradient = 2).
    #[arg(long)]
    pub max_evals: Option<u64>,
    /// Start point, comma-separated (default: (5, 5) for the quadratic, else uniform in the box).
    #[arg(long, allow_hyphen_values = true)]
    pub x0: Option<String>,
    /// The kernel the adaptive annealer drives as the temperature falls: `moves` (its own
    /// single-coordinate Cauchy and all-coordinate Gaussian proposals, adapted and reflected in the
    /// box) or an MCMC kernel whose step size follows the temperature: rwm, mala, hmc, nuts.
    #[arg(long, default_value = "moves")]
    pub kernel: String,
    /// Leapfrog steps of `--kernel hmc`.
    #[arg(long, default_value_t = 10)]
    pub steps: u32,
    /// Maximum tree depth of `--kernel nuts`.
    #[arg(long, default_value_t = 6)]
    pub max_depth: u32,
    /// Shared options (default output folder: ./thermolab-anneal).
    #[command(flatten)]
    pub common: Common,
}

/// `thermolab train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Data: `sin` (built-in) or a CSV file.
    #[arg(long, default_value = "sin")]
    pub data: String,
    /// Input columns of the CSV (names or 1-based positions, comma-separated; default: all but the targets).
    #[arg(long)]
    pub inputs: Option<String>,
    /// Target column(s) of the CSV, names or 1-based positions, comma-separated [default: the
    /// last column].
    #[arg(long, visible_alias = "targets")]
    pub target_column: Option<String>,
    /// Whether the CSV has a header row: auto, yes, no.
    #[arg(long, default_value = "auto")]
    pub header: String,
    /// Points of the built-in sin data.
    #[arg(long, default_value_t = 200)]
    pub n: usize,
    /// Noise sd of the built-in sin data.
    #[arg(
        long,
        visible_alias = "noise",
        default_value_t = 0.1,
        allow_negative_numbers = true
    )]
    pub noise_sd: f64,
    /// Architecture, e.g. `1-10-1:relu` or `4-16-3:tanh`.
    #[arg(long, default_value = "1-10-1:relu")]
    pub arch: String,
    /// Loss: mse or cross-entropy (class-index target column).
    #[arg(long, default_value = "mse")]
    pub loss: String,
    /// Optimiser: adam or sgd.
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    /// Learning rate.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub lr: f64,
    /// Momentum (sgd).
    #[arg(long, default_value_t = 0.9, allow_negative_numbers = true)]
    pub momentum: f64,
    /// Epochs.
    #[arg(long, default_value_t = 2000)]
    pub epochs: usize,
    /// Minibatch size (default: full batch).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Initial weights: auto (He for ReLU, else Glorot), he, glorot, or a file with one number per line.
    #[arg(long, default_value = "auto")]
    pub init: String,
    /// Shared options (default output folder: ./thermolab-train).
    #[command(flatten)]
    pub common: Common,
}

/// `thermolab ising`.
#[derive(Debug, Args)]
pub struct IsingArgs {
    /// Lattice dimension: 2 (square) or 3 (cubic).
    #[arg(long = "lattice-dim", visible_alias = "dim", default_value_t = 2)]
    pub dim: usize,
    /// Lattice side L (N = L^dim sites; the number of spins of the SK model).
    #[arg(long = "side", visible_aliases = ["L", "l"], default_value_t = 32)]
    pub l: usize,
    /// Temperatures T: `lo:hi:count`, a comma-separated list, or one value.
    #[arg(
        long = "temperatures",
        visible_aliases = ["T", "t"],
        default_value = "1.5:3.5:21",
        allow_hyphen_values = true
    )]
    pub t: String,
    /// Algorithm: metropolis, heatbath, wolff, sw (Swendsen–Wang), msc (multi-spin coded, 64 replicas).
    #[arg(long, default_value = "metropolis")]
    pub algorithm: String,
    /// Measured sweeps per temperature.
    #[arg(long, default_value_t = 10_000)]
    pub sweeps: usize,
    /// Equilibration sweeps per temperature (default: sweeps / 5).
    #[arg(long)]
    pub thermalize: Option<usize>,
    /// Worker threads (0: all cores); results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Coupling J.
    #[arg(long = "coupling", visible_aliases = ["J", "j"], default_value_t = 1.0, allow_negative_numbers = true)]
    pub j: f64,
    /// Uniform field h.
    #[arg(
        long = "field",
        visible_alias = "h",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub h: f64,
    /// Run the q-state Potts model instead of Ising (2-D only).
    #[arg(long)]
    pub q: Option<u8>,
    /// Read a sparse Ising model from an edge list (`i j value` per line; `i i h` for fields).
    #[arg(long)]
    pub edges: Option<std::path::PathBuf>,
    /// Interpret the edge list as a QUBO over x ∈ {0, 1}.
    #[arg(long)]
    pub qubo: bool,
    /// A built-in spin glass instead of the ferromagnet: `ea` (±J on the lattice) or `sk` (N = L spins).
    #[arg(long)]
    pub glass: Option<String>,
    /// Also integrate ⟨E⟩ over β from β = 0 for the free energy and entropy (Ising only).
    #[arg(long)]
    pub ti: bool,
    /// Points of the β grid for --ti.
    #[arg(long, default_value_t = 40)]
    pub ti_points: usize,
    /// Start every temperature from random spins instead of all spins up.
    #[arg(long)]
    pub hot: bool,
    /// Shared options (default output folder: ./thermolab-ising).
    #[command(flatten)]
    pub common: Common,
}

/// `thermolab sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Target: gauss (AR(1) Gaussian), funnel (centred), funnel-nc, mixture, logreg, bnn, or a
    /// posteriordb posterior: eight-schools, eight-schools-nc, sblrc-blr, ark, gp-pois-regr,
    /// low-dim-gauss-mix, diamonds (diamonds reads $THERMOLAB_POSTERIORDB).
    #[arg(long, default_value = "gauss")]
    pub target: String,
    /// The target's options.
    #[command(flatten)]
    pub model: TargetArgs,
    /// Sampler: nuts, hmc, mala, rwm; or a stochastic-gradient sampler of a network's
    /// posterior on minibatches: sgld, psgld, sghmc, sgnht, csgmcmc (cyclical SGLD) — these
    /// read --data (sin, mnist, digits, breast-cancer or a CSV), --arch and the options below.
    #[arg(long, default_value = "nuts")]
    pub sampler: String,
    /// Options of the stochastic-gradient samplers.
    #[command(flatten)]
    pub sg: SgArgs,
    /// Leapfrog steps for hmc.
    #[arg(long, default_value_t = 20)]
    pub steps: u32,
    /// Maximum tree depth for nuts.
    #[arg(long, default_value_t = 10)]
    pub max_depth: u32,
    /// Metric to adapt: diag, dense, identity.
    #[arg(long, default_value = "diag")]
    pub metric: String,
    /// Target acceptance of step-size adaptation (default: the sampler's).
    #[arg(long)]
    pub target_accept: Option<f64>,
    /// Chains.
    #[arg(long, default_value_t = 4)]
    pub chains: usize,
    /// Warm-up iterations per chain.
    #[arg(long, default_value_t = 1000)]
    pub warmup: usize,
    /// Kept draws per chain.
    #[arg(long, default_value_t = 1000)]
    pub draws: usize,
    /// Keep every n-th iteration [default: 1; stochastic-gradient samplers: 100 steps].
    #[arg(long)]
    pub thin: Option<usize>,
    /// Inverse temperature β.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub beta: f64,
    /// Half-width of the uniform box chains start in.
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub init_radius: f64,
    /// Worker threads (0: all cores); results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Write a checkpoint every n iterations (0: only when stopped).
    #[arg(long, default_value_t = 100)]
    pub checkpoint_every: usize,
    /// Continue the run whose checkpoint sits beside --out (after a kill or Ctrl-C).
    #[arg(long)]
    pub resume: bool,
    /// Shared options (default output folder: ./thermolab-sample).
    #[command(flatten)]
    pub common: Common,
}

/// Options of `thermolab sample --sampler sgld|psgld|sghmc|sgnht|csgmcmc`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Stochastic-gradient samplers")]
pub struct SgArgs {
    /// Passes over the training data.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Epochs before samples are kept [default: a fifth of --epochs; csgmcmc: 0].
    #[arg(long)]
    pub burn_in_epochs: Option<usize>,
    /// Rows per minibatch (0: full batch).
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
    /// Step size ε (thermolab's convention: x ← x − (ε/2)∇E + √(εT)ξ on the summed energy).
    #[arg(long, default_value_t = 1e-5, allow_negative_numbers = true)]
    pub step_size: f64,
    /// Temperature T (1: the posterior; 0: the optimiser without noise) [default: 1/--beta].
    #[arg(long, allow_negative_numbers = true)]
    pub temperature: Option<f64>,
    /// SGHMC's friction α (the fraction of velocity lost per step).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub friction: f64,
    /// SGNHT's diffusion A.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub diffusion: f64,
    /// Cycles of csgmcmc's cosine schedule.
    #[arg(long, default_value_t = 4)]
    pub cycles: usize,
    /// Fraction of each csgmcmc cycle spent exploring (noise off).
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    pub exploration: f64,
    /// Likelihood: categorical, gaussian (sd --noise-sd), student-t (scale --noise-sd, --dof)
    /// [default: categorical for mnist, digits and breast-cancer, gaussian otherwise].
    #[arg(long)]
    pub likelihood: Option<String>,
    /// Degrees of freedom of the student-t likelihood.
    #[arg(long, default_value_t = 4.0, allow_negative_numbers = true)]
    pub dof: f64,
    /// Use only the first n training rows (0: all).
    #[arg(long, default_value_t = 0)]
    pub train_rows: usize,
    /// Fraction of the rows held out for testing (data without a test split of their own).
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    pub test_fraction: f64,
    /// Initial weights: auto (He for ReLU, Glorot otherwise), he, glorot, pytorch (uniform
    /// ±1/√fan_in, PyTorch's Linear default).
    #[arg(long, default_value = "auto")]
    pub init: String,
    /// Data augmentation: shift each training image by up to this many pixels in each
    /// direction, afresh on every minibatch (digits and mnist; 0: none).
    #[arg(long, default_value_t = 0)]
    pub augment_shift: usize,
}

/// `thermolab scan`: the options of `thermolab sample` with a stochastic-gradient sampler
/// (default sgld), and the temperatures.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Temperatures T, comma-separated (1: the posterior; below 1: colder).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.001,0.003,0.01,0.03,0.1,0.3,1,3"
    )]
    pub temperatures: Vec<f64>,
    /// The run's options.
    #[command(flatten)]
    pub run: SampleArgs,
}

/// `thermolab ensemble`: the stochastic-gradient options of `sample` (`--chains` members,
/// `--sampler sgd|momentum`, trained at T = 0), and MultiSWAG's.
#[derive(Debug, Args)]
pub struct EnsembleArgs {
    /// SWAG draws per member (0: a plain deep ensemble of the members' last positions).
    #[arg(long, default_value_t = 0)]
    pub swag_samples: usize,
    /// Deviations kept for SWAG's low-rank part (the last iterates of each member).
    #[arg(long, default_value_t = 20)]
    pub swag_rank: usize,
    /// Draws per chain of each member's local learning coefficient λ̂ (localised SGLD on the
    /// likelihood alone, minibatches of --batch-size; 0: not estimated).
    #[arg(long, default_value_t = 0)]
    pub llc_draws: usize,
    /// Chains per member for λ̂.
    #[arg(long, default_value_t = 4)]
    pub llc_chains: usize,
    /// λ̂'s SGLD step ε (devinterp's convention).
    #[arg(long, default_value_t = 1e-5, allow_negative_numbers = true)]
    pub llc_step_size: f64,
    /// λ̂'s localisation strength γ.
    #[arg(long, default_value_t = 100.0, allow_negative_numbers = true)]
    pub llc_localization: f64,
    /// The run's options.
    #[command(flatten)]
    pub run: SampleArgs,
}

/// `thermolab llc`: λ̂ = nβ(⟨L⟩ − L(w*)) by localised SGLD (devinterp's convention) on a deep
/// linear network with data from a teacher of rank --rank.
#[derive(Debug, Args)]
pub struct LlcArgs {
    /// Widths from input to output, comma-separated (two: linear regression, three:
    /// reduced-rank regression, more: a deep linear network).
    #[arg(long, value_delimiter = ',', default_value = "3,2,3")]
    pub widths: Vec<usize>,
    /// Rank of the teacher's map (at most every width).
    #[arg(long, default_value_t = 1)]
    pub rank: usize,
    /// Data rows drawn from the teacher (x ~ N(0, I), unit noise).
    #[arg(long, default_value_t = 30_000)]
    pub rows: usize,
    /// L-BFGS iterations from the teacher's parameter to the trained w*.
    #[arg(long, default_value_t = 500)]
    pub train_iterations: usize,
    /// Independent chains (at least 2).
    #[arg(long, default_value_t = 8)]
    pub chains: usize,
    /// Steps per chain whose losses are averaged.
    #[arg(long, default_value_t = 40_000)]
    pub draws: usize,
    /// Steps per chain before those.
    #[arg(long, default_value_t = 1000)]
    pub burn_in: usize,
    /// The SGLD step ε.
    #[arg(long, default_value_t = 2e-5, allow_negative_numbers = true)]
    pub step_size: f64,
    /// The localisation strength γ.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub localization: f64,
    /// nβ [default: n/ln n].
    #[arg(long, allow_negative_numbers = true)]
    pub n_beta: Option<f64>,
    /// Rows per minibatch [default: full batch].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Worker threads (0: all cores); the result does not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Seed, output folder, format, plots.
    #[command(flatten)]
    pub common: Common,
}

/// `thermolab evidence`.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// Target: linreg (known σ, exact evidence), linreg-nig (Normal–Inverse-Gamma prior, exact
    /// evidence), logreg, bnn (a Bayesian network, --arch), or a plain energy with exact ln Z
    /// reached from a Gaussian reference: gauss (AR(1), --dim, --rho), funnel and funnel-nc
    /// (centred and non-centred, --dim), mixture (--dim, --separation); or a posteriordb
    /// posterior (eight-schools, eight-schools-nc, sblrc-blr and ark with exact evidence;
    /// gp-pois-regr, low-dim-gauss-mix, diamonds).
    #[arg(long, default_value = "linreg")]
    pub target: String,
    /// Architecture of the `bnn` target (its noise sd is --sigma; data: --data, `synthetic`
    /// meaning the built-in sin data with --n points).
    #[arg(long, default_value = "1-10-1:tanh")]
    pub arch: String,
    /// AR(1) correlation of the gauss target.
    #[arg(long, default_value_t = 0.9, allow_negative_numbers = true)]
    pub rho: f64,
    /// Distance between the two modes of the mixture target, in standard deviations.
    #[arg(long, default_value_t = 6.0, allow_negative_numbers = true)]
    pub separation: f64,
    /// Standard deviation of the Gaussian reference for gauss / funnel-nc / mixture.
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub ref_sd: f64,
    /// Inverse-gamma shape a₀ of σ² (linreg-nig).
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub a0: f64,
    /// Inverse-gamma scale b₀ of σ² (linreg-nig).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub b0: f64,
    /// Prior scale g: b | σ² ~ N(0, σ² g I) (linreg-nig).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub g: f64,
    /// Data: a CSV file, or `synthetic` (linreg: --n rows, --dim features, seeded).
    #[arg(long, default_value = "synthetic")]
    pub data: String,
    /// Target column of the CSV, a name or a 1-based position [default: the last column].
    #[arg(long, visible_alias = "targets")]
    pub target_column: Option<String>,
    /// Rows of the synthetic data.
    #[arg(long, default_value_t = 100)]
    pub n: usize,
    /// Dimension: features of the synthetic data (linreg), or of the gauss, funnel and mixture
    /// targets.
    #[arg(long, default_value_t = 10)]
    pub dim: usize,
    /// Noise sd σ: known in the linreg likelihood (and that of the synthetic data), the bnn
    /// likelihood's.
    #[arg(
        long,
        visible_alias = "sigma",
        default_value_t = 0.1,
        allow_negative_numbers = true
    )]
    pub noise_sd: f64,
    /// Prior sd s of every coefficient.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub prior_sd: f64,
    /// Estimators to show (comma-separated): ti, simpson, ss, ais, bridge, laplace, hm; default
    /// all. The verdict weighs every estimator that ran.
    #[arg(long)]
    pub estimators: Option<String>,
    /// Rungs of the power-posterior ladder.
    #[arg(long, default_value_t = 32)]
    pub rungs: usize,
    /// Explicit ladder, comma-separated, increasing from 0 to 1 (overrides --rungs).
    #[arg(long)]
    pub ladder: Option<String>,
    /// Draws per chain and rung.
    #[arg(long, default_value_t = 1000)]
    pub draws: usize,
    /// AIS particles.
    #[arg(long, default_value_t = 256)]
    pub ais_particles: usize,
    /// AIS temperatures (with the adaptive schedule, used unless --ladder is given, a minimum:
    /// the schedule is spaced evenly in thermodynamic length L with 6L² steps, at most 20 000).
    #[arg(long, default_value_t = 1000)]
    pub ais_steps: usize,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Shared options (default output folder: ./thermolab-evidence).
    #[command(flatten)]
    pub common: Common,
}

/// `thermolab certify`.
#[derive(Debug, Args)]
pub struct CertifyArgs {
    /// |z| above which a check fails.
    #[arg(long, default_value_t = 4.0)]
    pub z_max: f64,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Shared options (default output folder: ./thermolab-certify).
    #[command(flatten)]
    pub common: Common,
}

/// `thermolab temper`.
#[derive(Debug, Args)]
pub struct TemperArgs {
    /// Target: mixture, gauss, funnel, funnel-nc, logreg, bnn (as for `sample`).
    #[arg(long, default_value = "mixture")]
    pub target: String,
    /// The target's options (as for `sample`).
    #[command(flatten)]
    pub model: TargetArgs,
    /// Replicas (the ladder is geometric from --beta-min to 1 and re-spaced during warm-up; the
    /// run reports the barrier Λ and advises 2Λ + 1, about 12 for the default mixture).
    #[arg(long, default_value_t = 14)]
    pub replicas: usize,
    /// Smallest inverse temperature of the initial ladder.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub beta_min: f64,
    /// Kernel of every replica: hmc, nuts, mala, rwm.
    #[arg(long, default_value = "hmc")]
    pub sampler: String,
    /// Independent tempered chains.
    #[arg(long, default_value_t = 2)]
    pub chains: usize,
    /// Warm-up rounds (ladder and step sizes adapt).
    #[arg(long, default_value_t = 4000)]
    pub warmup: usize,
    /// Kept rounds.
    #[arg(long, default_value_t = 20_000)]
    pub rounds: usize,
    /// Keep the initial ladder (no re-spacing).
    #[arg(long)]
    pub fixed_ladder: bool,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Shared options (default output folder: ./thermolab-temper).
    #[command(flatten)]
    pub common: Common,
}

/// `thermolab rbm`.
#[derive(Debug, Args)]
pub struct RbmArgs {
    /// `train` or `eval`.
    #[command(subcommand)]
    pub command: RbmCommand,
}

/// The `rbm` subcommands.
#[derive(Debug, Subcommand)]
pub enum RbmCommand {
    /// Train a machine and report its exact (or AIS) log-likelihood, filters and fantasies.
    Train(RbmTrainArgs),
    /// Evaluate a saved machine: log Z exactly or by AIS (forward and reverse), log-likelihoods.
    Eval(RbmEvalArgs),
}

impl RbmCommand {
    /// The shared options of either subcommand.
    pub fn common(&self) -> &Common {
        match self {
            RbmCommand::Train(a) => &a.common,
            RbmCommand::Eval(a) => &a.common,
        }
    }
}

/// `thermolab rbm train`.
#[derive(Debug, Args)]
pub struct RbmTrainArgs {
    /// Data: `digits` (built in; first 1500 images train, last 297 test), `mnist` (from
    /// $THERMOLAB_MNIST or ../shared/data/mnist), or a file (.npy, .csv, IDX; gzipped or not).
    #[arg(long, default_value = "digits")]
    pub data: String,
    /// Test images for a file given by --data (else the last --holdout fraction is held out).
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Fraction of a --data file held out for testing when no --test file is given.
    #[arg(long, default_value_t = 0.15, allow_negative_numbers = true)]
    pub holdout: f64,
    /// Use only the first N training images (0: all).
    #[arg(long, default_value_t = 0)]
    pub train_rows: usize,
    /// Visible units: bernoulli (binary data) or gaussian (real data, standardised per column).
    #[arg(long, default_value = "bernoulli")]
    pub visible: String,
    /// Binarisation for Bernoulli units: a threshold in [0, 1) on the [0, 1]-scaled values
    /// (IDX and 8-bit NPY data are scaled on loading; other data with values above 1 are
    /// divided by the training maximum), or `sample`.
    #[arg(long, default_value = "0.5")]
    pub binarize: String,
    /// Hidden units.
    #[arg(long, default_value_t = 16)]
    pub hidden: usize,
    /// Contrastive divergence with K Gibbs steps from the data (CD-K).
    #[arg(long, value_name = "K", conflicts_with_all = ["pcd", "tempered"])]
    pub cd: Option<usize>,
    /// Persistent contrastive divergence (the default).
    #[arg(long)]
    pub pcd: bool,
    /// Persistent CD with replica exchange between R temperatures.
    #[arg(long, value_name = "R", conflicts_with = "pcd")]
    pub tempered: Option<usize>,
    /// Gibbs steps per update for --pcd and --tempered.
    #[arg(long, default_value_t = 1)]
    pub k: usize,
    /// Smallest inverse temperature of the tempered ladder.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    pub beta_min: f64,
    /// Persistent chains (0: the batch size).
    #[arg(long, default_value_t = 0)]
    pub chains: usize,
    /// Passes over the training data.
    #[arg(long, default_value_t = 100)]
    pub epochs: usize,
    /// Images per minibatch.
    #[arg(long, default_value_t = 10)]
    pub batch_size: usize,
    /// Initial learning rate.
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    pub lr: f64,
    /// Final learning rate as a fraction of the initial one (linear decay; 1: constant).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub final_lr_fraction: f64,
    /// Momentum.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    pub momentum: f64,
    /// L2 weight decay.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub weight_decay: f64,
    /// Evaluate learning curves every N epochs (0: about 50 points over the run).
    #[arg(long, default_value_t = 0)]
    pub eval_every: usize,
    /// Images (of train and of test) used for the learning curves.
    #[arg(long, default_value_t = 500)]
    pub monitor_rows: usize,
    /// AIS chains for the final log Z when exact enumeration is out of reach.
    #[arg(long, default_value_t = 100)]
    pub ais_chains: usize,
    /// AIS temperatures for that final log Z (Salakhutdinov & Murray's 14 500: fewer give an
    /// optimistic likelihood on large machines).
    #[arg(long, default_value_t = 14_500)]
    pub ais_temperatures: usize,
    /// Save a checkpoint beside the output folder every N epochs (0: never).
    #[arg(long, default_value_t = 0)]
    pub checkpoint_every: usize,
    /// Continue from the checkpoint beside the output folder.
    #[arg(long)]
    pub resume: bool,
    /// Shared options (default output folder: ./thermolab-rbm).
    #[command(flatten)]
    pub common: Common,
}

/// `thermolab rbm eval`.
#[derive(Debug, Args)]
pub struct RbmEvalArgs {
    /// The machine: a model.json (as `thermolab rbm train` writes it, or written by hand), or a
    /// folder of plain arrays W, b, c (and sigma for Gaussian units) as .npy or .csv files.
    /// The formats are documented in docs/FILES.md.
    #[arg(long)]
    pub model: PathBuf,
    /// Data to score: `digits`, `mnist` or a file (as for `train`).
    #[arg(long, default_value = "digits")]
    pub data: String,
    /// Binarise the data by this threshold in [0, 1), or `sample` (Bernoulli machines),
    /// instead of the model file's own preprocessing (grey levels above 1 are scaled by the
    /// data's maximum first).
    #[arg(long)]
    pub binarize: Option<String>,
    /// Which part of a built-in set: `test` or `train`.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Estimate log Z by AIS even when exact enumeration is possible.
    #[arg(long)]
    pub ais: bool,
    /// AIS chains.
    #[arg(long, default_value_t = 100)]
    pub ais_chains: usize,
    /// AIS temperatures (Salakhutdinov & Murray used 14 500).
    #[arg(long, default_value_t = 14_500)]
    pub ais_temperatures: usize,
    /// Also run reverse AIS, from exact model samples when the smaller layer has at most 20
    /// units (then an estimate from above: with forward AIS it brackets log Z), else from the
    /// β = 1 chains of a tempering run (approximate samples: an estimate, not a bound).
    #[arg(long)]
    pub reverse: bool,
    /// Rounds of the tempering run that supplies reverse AIS's start states when exact samples
    /// cannot be drawn.
    #[arg(long, default_value_t = 2000)]
    pub reverse_rounds: usize,
    /// Also estimate log Z by parallel tempering with stepping-stone over this many
    /// temperatures (0: off).
    #[arg(long, default_value_t = 0)]
    pub tempering: usize,
    /// Rounds of that tempering run (after 10 % more as burn-in).
    #[arg(long, default_value_t = 2000)]
    pub tempering_rounds: usize,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Shared options (default output folder: ./thermolab-rbm-eval).
    #[command(flatten)]
    pub common: Common,
}
