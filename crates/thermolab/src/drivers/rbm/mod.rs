//! Boltzmann-machine drivers: training by contrastive divergence, persistent CD and tempered
//! persistent CD; log Z by annealed importance sampling (forward and reverse) and by parallel
//! tempering with stepping-stone.

mod ais;
mod tempering;
mod train;

pub use ais::{
    adaptive_betas, ais_log_z, reverse_ais_log_z, AisEstimate, AisSchedule, AisSettings,
    ValidAisSettings,
};
pub use tempering::{temper_rbm, RbmTemperResult, RbmTemperSettings};
pub use train::{
    init_rbm, EpochReport, Method, RbmTrainer, TrainError, TrainSettings, TrainSummary,
    ValidTrainSettings,
};
