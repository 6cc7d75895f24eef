//! Small dense networks as energies: the training loss over a flat parameter vector *is* a
//! [`Gradient`](crate::energy::Gradient) energy, so samplers, annealers and optimisers all apply.
//!
//! Parameter layout (flat, layer by layer): for a layer with `n_in` inputs and `n_out` outputs,
//! first the weights `W` as `n_out × n_in` row-major (PyTorch's `Linear.weight` layout), then the
//! biases `b` (`n_out`). A network `1-10-1` therefore has 10 + 10 + 10 + 1 = 31 parameters.

mod activation;
mod arch;
mod energy;
mod init;

pub use activation::Activation;
pub use arch::{Architecture, ArchitectureError, LayerSpan};
pub use energy::{Loss, MinibatchEnergy, MlpEnergy};
pub use init::Init;

#[cfg(test)]
mod tests;
