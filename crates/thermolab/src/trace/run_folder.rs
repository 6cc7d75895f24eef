//! `RunFolder`: a folder filled under a temporary name and renamed into place when complete.

use std::path::{Path, PathBuf};

/// A problem creating or finishing a run folder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunFolderError {
    /// The folder (or its parent) cannot be written.
    #[error("cannot write output folder {path}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The target exists and is not a thermolab run folder, so it is not replaced.
    #[error("output folder {0} exists and is not a thermolab run folder (no run.json); refusing to replace it")]
    NotARunFolder(PathBuf),
}

/// A run folder being written. Files go to `<name>.partial-<pid>` beside the target; `commit`
/// renames it to the target, replacing an earlier run folder there. Dropping without `commit`
/// removes the partial folder.
#[derive(Debug)]
pub struct RunFolder {
    target: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunFolderError + '_ {
    move |source| RunFolderError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl RunFolder {
    /// Starts a run folder for `target`. Fails at once (before any work is done) if the target
    /// cannot be written or exists as something other than an earlier run folder.
    pub fn create(target: &Path) -> Result<Self, RunFolderError> {
        if target.exists() {
            let is_run = target.join("run.json").is_file();
            let empty = target.is_dir()
                && std::fs::read_dir(target)
                    .map_err(io(target))?
                    .next()
                    .is_none();
            if !is_run && !empty {
                return Err(RunFolderError::NotARunFolder(target.to_path_buf()));
            }
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        // Partial folders left by killed runs into the same target are garbage: remove them.
        if let Ok(entries) = std::fs::read_dir(&parent) {
            let prefix = format!(".{name}.partial-");
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        }
        std::fs::create_dir(&tmp).map_err(io(target))?;
        Ok(Self {
            target: target.to_path_buf(),
            tmp,
            committed: false,
        })
    }

    /// The final location.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes one file (relative name; subfolders are created).
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> Result<(), RunFolderError> {
        let p = self.tmp.join(name);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::write(&p, bytes).map_err(io(&p))
    }

    /// The path a file will have inside the partial folder (for writers that need a path).
    pub fn partial_path(&self, name: &str) -> PathBuf {
        self.tmp.join(name)
    }

    /// Renames the folder into place, replacing an earlier run folder at the target.
    pub fn commit(mut self) -> Result<PathBuf, RunFolderError> {
        if self.target.exists() {
            let old = self.tmp.with_extension("old");
            std::fs::rename(&self.target, &old).map_err(io(&self.target))?;
            std::fs::rename(&self.tmp, &self.target).map_err(io(&self.target))?;
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&self.tmp, &self.target).map_err(io(&self.target))?;
        }
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for RunFolder {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}
