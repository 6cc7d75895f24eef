//! The seeding policy: one `seed` per run, one deterministic ChaCha8 stream per chain or restart.
//!
//! Stream 0 is reserved for initialisation (data noise, initial weights, start points); chain,
//! restart or replica `i` uses stream `i + 1`. Because every stream is fixed by `(seed, id)`
//! alone, results do not depend on how many threads run the streams or in which order.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The portable generator used everywhere in thermolab.
pub type Rng = ChaCha8Rng;

/// The generator for stream `stream` of run `seed`.
pub fn stream(seed: u64, stream: u64) -> Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// The initialisation stream (stream 0) of run `seed`.
pub fn init_stream(seed: u64) -> Rng {
    stream(seed, 0)
}

/// The stream of chain, restart or replica `id` (stream `id + 1`) of run `seed`.
pub fn chain_stream(seed: u64, id: u64) -> Rng {
    stream(seed, id + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| chain_stream(7, 0).random()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let x: u64 = chain_stream(7, 0).random();
        let y: u64 = chain_stream(7, 1).random();
        let z: u64 = init_stream(7).random();
        assert_ne!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn pinned_first_draw() {
        // Value stability: the policy must not change silently between versions.
        let v: u64 = stream(42, 3).random();
        assert_eq!(v, stream(42, 3).random::<u64>());
        let u: f64 = chain_stream(1, 0).random();
        assert!((0.0..1.0).contains(&u));
    }
}
