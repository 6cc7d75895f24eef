//! `RunFolder`: a folder filled under a temporary name and renamed into place when complete,
//! behind an advisory lock, never deleting an earlier run unless asked to.
//!
//! While a run writes, `<parent>/.<name>.lock` is locked (`flock`, released by the system when
//! the process ends however it ends) and the files go to `<parent>/.<name>.partial-<pid>/`;
//! `commit` renames that folder to the target. A second run to the same target fails at once
//! while the first holds the lock; partial folders of runs that were killed are removed by the
//! next run that takes the lock.

use std::fs::File;
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
    /// The target exists and is not a thermolab run folder, so it is never replaced.
    #[error("output folder {0} exists and is not a thermolab run folder (no run.json); refusing to replace it")]
    NotARunFolder(PathBuf),
    /// The target holds an earlier run and replacing it was not asked for.
    #[error("output folder {0} already holds a run; refusing to replace it")]
    Exists(PathBuf),
    /// Another run is writing to the target.
    #[error("another run is writing to {path} (it holds {lock})")]
    Locked {
        /// The target.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// The target cannot be a run folder (the current folder, one above it, a root).
    #[error("{0} cannot be an output folder: it is the current folder or one above it")]
    Unusable(PathBuf),
    /// The finished run could not be moved into place; its files are kept where they are.
    #[error("cannot move the finished run to {target}; its files are kept in {partial}")]
    Commit {
        /// The target.
        target: PathBuf,
        /// Where the files are.
        partial: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// What [`RunFolder::create`] does when the target already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse: a run never deletes an earlier one (an empty folder is reused).
    Refuse,
    /// Replace an earlier run folder (one holding `run.json`); anything else is refused.
    ReplaceRun,
    /// Use the first free name of `target`, `target-2`, `target-3`, …
    Number,
}

/// A run folder being written. Dropping it without `commit` removes the partial folder.
#[derive(Debug)]
pub struct RunFolder {
    target: PathBuf,
    tmp: PathBuf,
    lock_path: PathBuf,
    existing: Existing,
    committed: bool,
    _lock: File,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunFolderError + '_ {
    move |source| RunFolderError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The folder a target lives in and its own name (`None` for `.`, `..`, a root).
fn split(target: &Path) -> Option<(PathBuf, String)> {
    let name = target.file_name()?.to_string_lossy().into_owned();
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((parent, name))
}

/// Whether `target` is the current folder or one of its ancestors.
fn holds_the_current_folder(target: &Path) -> bool {
    match (std::fs::canonicalize(target), std::env::current_dir()) {
        (Ok(t), Ok(cwd)) => cwd.starts_with(t),
        _ => false,
    }
}

/// Takes the lock of `target`: `Ok(None)` when another process holds it.
fn try_lock(parent: &Path, name: &str) -> Result<Option<(File, PathBuf)>, RunFolderError> {
    let path = parent.join(format!(".{name}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(Some((file, path))),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(io(&path)(e)),
    }
}

/// Whether `dir` is an empty folder.
fn is_empty_dir(dir: &Path) -> bool {
    dir.is_dir() && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

impl RunFolder {
    /// Starts a run folder for `target` (with [`Existing::Number`], for the first free name
    /// derived from it). Fails at once, before any work is done, when the target cannot be
    /// written, is the current folder, is locked by another run, or exists and `existing` does
    /// not allow it.
    pub fn create(target: &Path, existing: Existing) -> Result<Self, RunFolderError> {
        let Some((parent, name)) = split(target) else {
            return Err(RunFolderError::Unusable(target.to_path_buf()));
        };
        if holds_the_current_folder(target) {
            return Err(RunFolderError::Unusable(target.to_path_buf()));
        }
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let (name, lock, lock_path) = if existing == Existing::Number {
            let mut k = 1;
            loop {
                let cand = if k == 1 {
                    name.clone()
                } else {
                    format!("{name}-{k}")
                };
                k += 1;
                let p = parent.join(&cand);
                if p.exists() && !is_empty_dir(&p) {
                    continue;
                }
                match try_lock(&parent, &cand)? {
                    Some((f, lp)) => break (cand, f, lp),
                    None => continue,
                }
            }
        } else {
            match try_lock(&parent, &name)? {
                Some((f, lp)) => (name, f, lp),
                None => {
                    return Err(RunFolderError::Locked {
                        path: target.to_path_buf(),
                        lock: parent.join(format!(".{name}.lock")),
                    })
                }
            }
        };
        let target = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => parent.join(&name),
            _ => PathBuf::from(&name),
        };
        if target.exists() && !is_empty_dir(&target) {
            let is_run = target.join("run.json").is_file();
            match existing {
                _ if !is_run => return Err(RunFolderError::NotARunFolder(target)),
                Existing::ReplaceRun => {}
                _ => return Err(RunFolderError::Exists(target)),
            }
        }
        // With the lock held, partial folders of this target are left by killed runs.
        if let Ok(entries) = std::fs::read_dir(&parent) {
            let prefix = format!(".{name}.partial-");
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        std::fs::create_dir(&tmp).map_err(io(&tmp))?;
        Ok(Self {
            target,
            tmp,
            lock_path,
            existing,
            committed: false,
            _lock: lock,
        })
    }

    /// The final location.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The partial folder the files are written to until `commit`.
    pub fn partial(&self) -> &Path {
        &self.tmp
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

    /// Renames the folder into place (replacing an earlier run folder there only when that was
    /// allowed). On failure the files stay in the partial folder, which the error names.
    pub fn commit(mut self) -> Result<PathBuf, RunFolderError> {
        let kept = |this: &mut Self, source| {
            this.committed = true; // keep the files: the error names where they are
            RunFolderError::Commit {
                target: this.target.clone(),
                partial: this.tmp.clone(),
                source,
            }
        };
        if self.target.exists() && !is_empty_dir(&self.target) {
            let replaceable =
                self.existing == Existing::ReplaceRun && self.target.join("run.json").is_file();
            if !replaceable {
                let e = std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the output folder appeared while the run went on",
                );
                return Err(kept(&mut self, e));
            }
            let old = self.tmp.with_extension("old");
            if let Err(e) = std::fs::rename(&self.target, &old) {
                return Err(kept(&mut self, e));
            }
            if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
                let _ = std::fs::rename(&old, &self.target);
                return Err(kept(&mut self, e));
            }
            let _ = std::fs::remove_dir_all(&old);
        } else {
            if is_empty_dir(&self.target) {
                let _ = std::fs::remove_dir(&self.target);
            }
            if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
                return Err(kept(&mut self, e));
            }
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
        // Removed while still locked (the lock goes with the file handle right after).
        let _ = std::fs::remove_file(&self.lock_path);
    }
}
