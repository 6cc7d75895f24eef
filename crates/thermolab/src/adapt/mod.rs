//! Adaptation during warm-up: dual-averaging step size, windowed estimation of a diagonal or
//! dense metric (regularised), following Stan's warm-up schedule.

mod dual;
mod mass;
mod windows;

pub use dual::DualAveraging;
pub use mass::{MassEstimator, MetricKind};
pub use windows::WindowSchedule;
