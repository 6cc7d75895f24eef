//! Boltzmann-machine drivers: training by contrastive divergence, persistent CD and tempered
//! persistent CD, and evaluation — exact or AIS `ln Z`, reverse AIS from model samples,
//! learning-curve monitors and fantasy samples. The methods along β themselves are the shared
//! engines of [`crate::drivers::ais`] and [`crate::drivers::tempering`].

mod eval;
mod train;

pub use crate::drivers::ais::{
    adaptive_betas, ais_estimate, ais_log_z, ais_part, reverse_ais_log_z, AisEstimate, AisRun,
    AisSchedule, AisSettings, ValidAisSettings,
};
pub use crate::drivers::tempering::{
    temper_rbm, RbmTemperSettings, RbmTempering, ValidRbmTemperSettings,
};
pub use eval::{
    exact_is_cheap, fantasies, final_log_z, learning_curve_point, reverse_start, CurvePoint, LogZ,
    LogZMethod, ReverseStart, EXACT_UNITS,
};
pub use train::{
    init_rbm, EpochEvent, EpochReport, Method, RbmTrainer, TrainSettings, TrainSummary,
    TrainerState, ValidTrainSettings,
};
