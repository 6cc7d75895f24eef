//! Checkpoint files: a versioned JSON document holding what a run needs to continue — the
//! command, the description of its target (a checkpoint is resumed only with the target it was
//! made for) and the driver's state — written through a temporary file and a rename, so a kill
//! mid-write leaves the previous checkpoint intact.
//!
//! The format (`"format": "thermolab-checkpoint-1"`):
//! `{"format": …, "command": "sample", "target": {…}, "state": {…}}`, where `state` is the
//! driver's own serialisation (e.g. [`Checkpoint`](crate::drivers::sample::Checkpoint): settings,
//! streams and every chain's position, generator, kernel tuning and adaptation). Draws are not in
//! it: they stream to draw files ([`DrawWriter`](super::DrawWriter)).

use crate::error::Error;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// The format name written into every checkpoint.
pub const CHECKPOINT_FORMAT: &str = "thermolab-checkpoint-1";

#[derive(Serialize)]
struct DocRef<'a, T> {
    format: &'static str,
    command: &'a str,
    target: &'a Value,
    state: &'a T,
}

/// Writes a checkpoint of `command` on `target` holding `state`, atomically.
pub fn save_checkpoint<T: Serialize>(
    path: &Path,
    command: &str,
    target: &Value,
    state: &T,
) -> Result<(), Error> {
    let doc = DocRef {
        format: CHECKPOINT_FORMAT,
        command,
        target,
        state,
    };
    let text = serde_json::to_string(&doc).map_err(|e| Error::Checkpoint {
        path: path.to_path_buf(),
        message: format!("cannot serialise: {e}"),
    })?;
    super::write_atomic(path, text.as_bytes())
}

/// Reads a checkpoint of `command` on `target`. Refuses a file of another format, command or
/// target with a message naming the file.
pub fn load_checkpoint<T: DeserializeOwned>(
    path: &Path,
    command: &str,
    target: &Value,
) -> Result<T, Error> {
    let bad = |message: String| Error::Checkpoint {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut v: Value = serde_json::from_str(&text)
        .map_err(|e| bad(format!("not a thermolab checkpoint ({e})")))?;
    if v["format"] != CHECKPOINT_FORMAT {
        return Err(bad(format!(
            "not a thermolab checkpoint (format {}, expected {CHECKPOINT_FORMAT})",
            v["format"]
        )));
    }
    if v["command"] != command {
        return Err(bad(format!(
            "a checkpoint of `{}`, not of `{command}`",
            v["command"].as_str().unwrap_or("?")
        )));
    }
    if &v["target"] != target {
        return Err(bad(format!(
            "the checkpoint is for target {} but this command describes {target}",
            v["target"]
        )));
    }
    serde_json::from_value(v["state"].take()).map_err(|e| {
        bad(format!(
            "a damaged checkpoint, or one written by another version of thermolab ({e})"
        ))
    })
}
