//! Sizes checked against the machine before any work starts: worker threads, and the memory a
//! run will need (estimated from its sizes) against the memory available.

use anyhow::{bail, Result};

/// Worker threads allowed per core.
const THREADS_PER_CORE: usize = 4;

/// Share of the available memory a run may plan to use.
const MEMORY_SHARE: f64 = 0.8;

/// The cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Refuses `--threads` above four per core (0 means all cores). More threads than cores only
/// slows a run down, and a huge number exhausts the system's thread limit.
pub fn threads(threads: usize) -> Result<()> {
    let cap = THREADS_PER_CORE * cores();
    if threads > cap {
        bail!(
            "--threads {threads}: at most {cap} on this machine ({THREADS_PER_CORE} per core, {} cores); 0 uses every core",
            cores()
        );
    }
    Ok(())
}

/// Memory available to a new run, in bytes (`MemAvailable` of /proc/meminfo; `None` where
/// the system does not say).
fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// A byte count for messages.
fn human(bytes: f64) -> String {
    if bytes >= 1e12 {
        format!("{:.0} TB", bytes / 1e12)
    } else if bytes >= 1e9 {
        format!("{:.1} GB", bytes / 1e9)
    } else {
        format!("{:.0} MB", bytes / 1e6)
    }
}

/// Refuses a run whose estimated memory (`bytes`, from the sizes named by `what`, e.g.
/// `--dim 1000000000`) exceeds what the machine has available. Estimates are `f64` so that no
/// size overflows.
pub fn memory(what: &str, bytes: f64) -> Result<()> {
    if !bytes.is_finite() || bytes > usize::MAX as f64 {
        bail!("{what}: far more memory than any machine has");
    }
    if let Some(avail) = available_memory() {
        if bytes > MEMORY_SHARE * avail {
            bail!(
                "{what}: the run needs about {} of memory, and {} is available",
                human(bytes),
                human(avail)
            );
        }
    }
    Ok(())
}

/// Bytes of `count` numbers of 8 bytes.
pub fn f64s(count: f64) -> f64 {
    8.0 * count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_sizes_are_refused_and_ordinary_ones_pass() {
        assert!(memory("--dim 10", f64s(1e4)).is_ok());
        let e = memory("--dim 1000000000", f64s(1e9) * 40.0).unwrap_err();
        assert!(
            e.to_string()
                .contains("--dim 1000000000: the run needs about"),
            "{e}"
        );
        let e = memory("--dim 18446744073709551615", f64s(u64::MAX as f64)).unwrap_err();
        assert!(e.to_string().contains("far more memory"), "{e}");
        assert!(threads(0).is_ok() && threads(cores()).is_ok());
        assert!(threads(100_000)
            .unwrap_err()
            .to_string()
            .contains("at most"));
    }
}
