//! `RunFolder`: a folder filled under a temporary name and renamed into place when complete,
//! behind an advisory lock, never deleting an earlier run unless asked to.
//!
//! While a run writes, `<parent>/.<name>.lock` is locked (`flock`, released by the system when
//! the process ends however it ends) and the files go to `<parent>/.<name>.partial-<pid>/`;
//! `commit` renames that folder to the target. A second run to the same target fails at once
//! while the first holds the lock; partial folders of runs that were killed are removed by the
//! next run that takes the lock.
//!
//! A run is more than its folder: `<name>.checkpoint.json` (and its `.draws/`) beside it belong
//! to a run that can be resumed, so a fresh run never takes such a name. Each committed folder
//! lists the files the run wrote in `.thermolab-files`; a replaced run (`--force`) is replaced
//! only when nothing else is in it, so a file the user put there is never deleted.

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
    /// The target's checkpoint belongs to a run that can be resumed.
    #[error("{0} holds the checkpoint of a run that can be resumed; refusing to overwrite it")]
    Resumable(PathBuf),
    /// The earlier run folder holds files the run did not write.
    #[error("output folder {path} holds files thermolab did not write ({files}); refusing to delete them")]
    ForeignFiles {
        /// The target.
        path: PathBuf,
        /// The files, comma-separated.
        files: String,
    },
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
    existing: Existing,
    committed: bool,
    _lock: Lock,
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

/// A held lock file; dropping it removes the file while it is still locked.
#[derive(Debug)]
struct Lock {
    file: File,
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = &self.file;
    }
}

/// Whether the open `file` is still the one at `path` (a lock file another run removed and
/// a third recreated would otherwise let two runs hold "the" lock).
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// Takes the lock of `target`: `Ok(None)` when another process holds it.
fn try_lock(parent: &Path, name: &str) -> Result<Option<Lock>, RunFolderError> {
    let path = parent.join(format!(".{name}.lock"));
    loop {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            // Locked, but perhaps a file the holder removed on its way out: try again.
            Ok(()) if !same_file(&file, &path) => continue,
            Ok(()) => return Ok(Some(Lock { file, path })),
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
        }
    }
}

/// The name of the list of files a committed run wrote.
const MANIFEST: &str = ".thermolab-files";

/// The checkpoint beside run folder `target` (`<name>.checkpoint.json`).
pub fn checkpoint_of(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!("{name}.checkpoint.json"))
}

/// Whether `dir` holds a thermolab run: a `run.json` that names its command.
fn is_run_folder(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v.get("command").is_some_and(|c| c.is_string()))
}

/// Every file below `dir`, relative to it, `/`-separated.
fn files_below(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for e in entries.flatten() {
            let r = rel.join(e.file_name());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(r);
            } else {
                out.push(r.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// The files in the run folder `dir` its run did not write (by its manifest; a folder from
/// before manifests counts only `run.json`'s own kind of files as its own).
fn foreign_files(dir: &Path) -> Vec<String> {
    let listed: Option<Vec<String>> = std::fs::read_to_string(dir.join(MANIFEST))
        .ok()
        .map(|t| t.lines().map(str::to_string).collect());
    files_below(dir)
        .into_iter()
        .filter(|f| f != MANIFEST)
        .filter(|f| match &listed {
            Some(l) => !l.contains(f),
            None => {
                let ext = f.rsplit('.').next().unwrap_or("");
                !matches!(ext, "json" | "csv" | "svg" | "png" | "html" | "npy")
            }
        })
        .collect()
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
        let taken = |cand: &str| {
            let p = parent.join(cand);
            (p.exists() && !is_empty_dir(&p)) || checkpoint_of(&p).exists()
        };
        let (name, lock) = if existing == Existing::Number {
            let mut k = 1;
            loop {
                let cand = if k == 1 {
                    name.clone()
                } else {
                    format!("{name}-{k}")
                };
                k += 1;
                if taken(&cand) {
                    continue;
                }
                if let Some(l) = try_lock(&parent, &cand)? {
                    // Taken while we locked it? Then its lock was free because that run ended.
                    if taken(&cand) {
                        continue;
                    }
                    break (cand, l);
                }
            }
        } else {
            match try_lock(&parent, &name)? {
                Some(l) => (name, l),
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
        // With the lock held: an earlier run hidden by a replacement that was killed midway
        // is put back, and partial folders of killed runs are removed.
        if let Ok(entries) = std::fs::read_dir(&parent) {
            let prefix = format!(".{name}.partial-");
            for e in entries.flatten() {
                let f = e.file_name().to_string_lossy().into_owned();
                if !f.starts_with(&prefix) {
                    continue;
                }
                if f.ends_with(".old") && !target.exists() {
                    let _ = std::fs::rename(e.path(), &target);
                } else {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        if existing == Existing::Refuse && checkpoint_of(&target).exists() {
            return Err(RunFolderError::Resumable(checkpoint_of(&target)));
        }
        if target.exists() && !is_empty_dir(&target) {
            match existing {
                _ if !is_run_folder(&target) => return Err(RunFolderError::NotARunFolder(target)),
                Existing::ReplaceRun => {
                    let foreign = foreign_files(&target);
                    if !foreign.is_empty() {
                        return Err(RunFolderError::ForeignFiles {
                            path: target,
                            files: foreign.join(", "),
                        });
                    }
                }
                _ => return Err(RunFolderError::Exists(target)),
            }
        }
        let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        std::fs::create_dir(&tmp).map_err(io(&tmp))?;
        Ok(Self {
            target,
            tmp,
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
        let listing = files_below(&self.tmp).join("\n") + "\n";
        if let Err(e) = std::fs::write(self.tmp.join(MANIFEST), listing) {
            return Err(kept(&mut self, e));
        }
        if self.target.exists() && !is_empty_dir(&self.target) {
            let replaceable = self.existing == Existing::ReplaceRun
                && is_run_folder(&self.target)
                && foreign_files(&self.target).is_empty();
            if !replaceable {
                let e = std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the output folder appeared while the run went on",
                );
                return Err(kept(&mut self, e));
            }
            // Named like a partial folder, so that the next run puts it back if this one is
            // killed between the two renames.
            let old = PathBuf::from(format!("{}.old", self.tmp.display()));
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
        // The lock file goes with `_lock`, removed while still locked.
    }
}
