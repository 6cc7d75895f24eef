//! Data augmentation of a network posterior's image minibatches: random whole-pixel shifts.

use serde::{Deserialize, Serialize};

/// Data augmentation of image rows on every minibatch: each image is shifted by a whole number
/// of pixels drawn uniformly from −`max_shift`..=`max_shift` in each direction (the uncovered
/// edge filled with zeros), afresh for every minibatch: chain c's k-th batch draws from
/// stream (seed, augment, c·2⁴⁰ + k), so chains see their own shifts and a scan's temperatures
/// the same ones. The full batch (the energy a run reports at its end, the predictive) is
/// never augmented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Augmentation {
    /// Image height in pixels.
    pub height: usize,
    /// Image width in pixels.
    pub width: usize,
    /// The largest shift, in pixels.
    pub max_shift: usize,
    /// Seed of the shifts' streams.
    pub seed: u64,
}

impl Augmentation {
    /// Writes `image` shifted by (dy, dx) into `out` (same length), zeros where nothing lands.
    pub(super) fn shift(&self, image: &[f32], dy: isize, dx: isize, out: &mut [f32]) {
        let (h, w) = (self.height as isize, self.width as isize);
        out.iter_mut().for_each(|v| *v = 0.0);
        for y in 0..h {
            let sy = y - dy;
            if !(0..h).contains(&sy) {
                continue;
            }
            for x in 0..w {
                let sx = x - dx;
                if (0..w).contains(&sx) {
                    out[(y * w + x) as usize] = image[(sy * w + sx) as usize];
                }
            }
        }
    }
}
