//! [`NativeHost`]: carries out the core's actions below a destination directory, through
//! directory handles, never following a symlink.

mod entries;
mod links;
mod transaction;

use crate::dirs::Dirs;
use crate::error::{ExtractError, HostError};
use crate::journal::Journal;
use crate::options::{HostOptions, SymlinkCreator, SymlinkMode};
use crate::platform;
use crate::staging::{self, Layout};
use crate::tree::Budget;
use cap_std::fs::Dir;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uncork_core::{Action, Host, Outcome, Report, RunError};

/// File data goes to disk through a buffer this large.
pub(crate) const WRITE_BUFFER: usize = 256 * 1024;

/// What a successful extraction returns: the core's report (with the host's degradations) and
/// what the host itself did.
#[derive(Debug, Clone)]
pub struct NativeReport {
    /// The core's report: counts, skipped entries, every degradation.
    pub report: Report,
    /// Where the tree now is.
    pub destination: PathBuf,
    /// Whether the destination was new (extracted into a staging directory, then renamed).
    pub staged: bool,
    /// Existing files that were replaced (`overwrite`).
    pub overwritten: Vec<String>,
    /// The symlink mode in force.
    pub symlinks: SymlinkMode,
    /// `unix` or `windows`.
    pub platform: &'static str,
    /// Problems after success that lost nothing (a backup that could not be deleted).
    pub warnings: Vec<String>,
    /// Files whose data worker threads decoded and wrote (a zip's entries of 64 KiB and more,
    /// with `pipeline::extract_file`); the others were written on the host's thread.
    pub handed_over: u64,
    /// Bytes of file data written, by the host's thread and the workers alike.
    pub bytes_written: u64,
    /// What earlier, interrupted runs had left and this run cleaned up or restored.
    pub recovered: Vec<String>,
}

/// Called after each action the host carried out, with its outcome.
pub type Observer<'o> = Box<dyn FnMut(&Action<'_>, &Outcome) + 'o>;

/// The native host. Open it on a destination, hand it to [`uncork_core::extract`], then
/// [`NativeHost::finish`] it with the result: on success a staged tree is moved into place; on
/// failure everything this run made is removed again and replaced files are restored.
pub struct NativeHost<'o> {
    dirs: Dirs,
    layout: Layout,
    journal: Journal,
    options: HostOptions,
    creator: Arc<dyn SymlinkCreator>,
    current: Option<Writing>,
    /// The current file was detached (`detach_file`): its `EndFile` is not ours.
    detached: bool,
    /// Files detached so far.
    handed_over: u64,
    /// File data written so far, here and by whoever took a detached file.
    written: Arc<AtomicU64>,
    /// The write buffer, reused by every file (one allocation per run).
    buffer: Vec<u8>,
    overwritten: Vec<String>,
    budget: Budget,
    protected: Vec<(u64, u64)>,
    observer: Option<Observer<'o>>,
    finished: bool,
    /// What was found and cleaned up of earlier, interrupted runs.
    recovered: Vec<String>,
}

impl std::fmt::Debug for NativeHost<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeHost")
            .field("layout", &self.layout)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A file being written: created by `BeginFile`, finished by `EndFile` (or by whoever took it
/// with [`NativeHost::detach_file`]).
#[derive(Debug)]
pub(crate) struct Writing {
    path: String,
    file: std::fs::File,
    mode: u32,
    mtime: Option<i64>,
    /// The host's count of file data written (`NativeHost::bytes_written`).
    written: Arc<AtomicU64>,
    /// Written under a partial name, renamed into place when finished (an existing destination).
    place: Option<Place>,
}

/// Where a file written under a partial name goes when it is complete.
#[derive(Debug)]
pub(crate) struct Place {
    dir: Dir,
    part: String,
    name: String,
}

impl<'o> NativeHost<'o> {
    /// Opens `dest`: an existing directory is extracted into directly (and cleaned up on
    /// failure); a missing one (whose parent exists) is extracted into a staging sibling.
    pub fn open(dest: &Path, options: HostOptions) -> Result<Self, HostError> {
        let (layout, root, root_path, recovered) = staging::prepare(dest)?;
        let journal = Journal::new(
            matches!(layout, Layout::Existing { .. }),
            staging::random_u32(),
        );
        let creator = options
            .symlink_creator
            .clone()
            .unwrap_or_else(|| Arc::new(platform::PlatformSymlinks));
        let protected = options
            .protect
            .iter()
            .filter_map(|p| platform::path_identity(p))
            .collect();
        Ok(NativeHost {
            dirs: Dirs::new(root, root_path, options.trust_existing_symlinks),
            layout,
            journal,
            budget: Budget {
                left: options.max_copy_bytes,
                entries_left: options.max_copy_entries,
            },
            options,
            creator,
            current: None,
            detached: false,
            handed_over: 0,
            written: Arc::new(AtomicU64::new(0)),
            buffer: Vec::new(),
            overwritten: Vec::new(),
            protected,
            observer: None,
            finished: false,
            recovered,
        })
    }

    /// Calls `observer` after every action carried out (progress, `-v`).
    pub fn set_observer(&mut self, observer: impl FnMut(&Action<'_>, &Outcome) + 'o) {
        self.observer = Some(Box::new(observer));
    }

    /// The bytes of file data written so far, counted as they are written by this thread and
    /// by the zip workers (the CLI's progress bar reads it from a thread of its own).
    pub fn bytes_written(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.written)
    }

    /// Whether the run was asked to stop ([`HostOptions::cancel`]).
    pub fn cancelled(&self) -> Option<crate::Cancelled> {
        self.options
            .cancel
            .as_ref()
            .and_then(crate::CancelToken::reason)
    }

    /// The directory being written (the staging directory for a fresh destination).
    pub fn root_path(&self) -> &Path {
        self.dirs.root_path()
    }

    /// Ends the run with the core's result: commits on success, undoes everything on failure.
    pub fn finish(
        mut self,
        result: Result<Report, RunError<HostError>>,
    ) -> Result<NativeReport, ExtractError> {
        self.finished = true;
        match result {
            Ok(report) => {
                let warnings = match self.commit() {
                    Ok(warnings) => warnings,
                    Err(error) => {
                        // Not moved into place (another run won the name, or the staging
                        // directory was swapped): remove what this run made, as on failure.
                        return Err(match self.rollback() {
                            Ok(()) => error.into(),
                            Err(undo) => ExtractError::Undo {
                                error: Box::new(error.into()),
                                undo,
                            },
                        });
                    }
                };
                Ok(NativeReport {
                    report,
                    destination: self.layout.dest().to_owned(),
                    staged: matches!(self.layout, Layout::Fresh { .. }),
                    overwritten: std::mem::take(&mut self.overwritten),
                    symlinks: self.options.symlinks,
                    platform: platform::NAME,
                    warnings,
                    handed_over: self.handed_over,
                    bytes_written: self.written.load(Ordering::Relaxed),
                    recovered: std::mem::take(&mut self.recovered),
                })
            }
            Err(error) => match self.rollback() {
                Ok(()) => Err(error.into()),
                Err(undo) => Err(ExtractError::Undo {
                    error: Box::new(error.into()),
                    undo,
                }),
            },
        }
    }

    /// Undoes the run without a result (e.g. the caller gave up).
    pub fn abort(mut self) -> Result<(), HostError> {
        self.finished = true;
        self.rollback()
    }
}

impl Host for NativeHost<'_> {
    type Error = HostError;

    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, HostError> {
        if let Some(why) = self.cancelled() {
            return Err(HostError::Cancelled { why });
        }
        let outcome = match *action {
            Action::MakeDir { path, replace } => self.make_dir(path, replace),
            Action::BeginFile {
                path,
                mode,
                mtime,
                replace,
                ..
            } => self.begin_file(path, mode, mtime, replace),
            Action::FileData { data } => self.file_data(data),
            Action::EndFile => self.end_file(),
            Action::HardLink {
                path,
                target,
                replace,
            } => self.hard_link(path, target, replace),
            Action::Symlink {
                path,
                target,
                resolved,
                kind,
                replace,
            } => self.symlink(path, target, resolved, kind, replace),
            Action::SetMode { path, mode } => self.set_mode(path, mode),
            Action::SetMtime { path, mtime } => self.set_mtime(path, mtime),
            Action::Skip { .. } => Ok(Outcome::Done),
        }?;
        if let Some(observer) = self.observer.as_mut() {
            observer(action, &outcome);
        }
        Ok(outcome)
    }
}

impl Drop for NativeHost<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.rollback();
        }
    }
}
