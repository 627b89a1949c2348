//! The native host's typed errors. Every variant names the path it concerns, relative to the
//! destination (as the archive names it), so a user can tell which entry failed and where.

use std::io;
use std::path::PathBuf;
use uncork_core::{Rule, RunError};

/// Why the native host could not carry out an action, or could not prepare or finish the
/// destination.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// An I/O operation on a path below the destination failed.
    #[error("cannot {op} '{path}'")]
    Io {
        /// What was being done (`create`, `write`, `set the mode of`, ...).
        op: &'static str,
        /// The path, relative to the destination.
        path: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Something is already at the path, and overwriting was not asked for.
    #[error("'{path}' already exists in the destination; uncork never overwrites existing files")]
    AlreadyExists {
        /// The path, relative to the destination.
        path: String,
    },
    /// A symlink that was already in the destination stands where the archive writes, or on the
    /// way to it; it is not followed.
    #[error("'{path}' is a symlink already in the destination; uncork does not write through it")]
    ExistingSymlink {
        /// The path, relative to the destination.
        path: String,
    },
    /// Two entries of the archive name the same file on this filesystem (their names differ
    /// only in case or Unicode normalization).
    #[error(
        "'{path}' and '{earlier}' are the same name on this filesystem (they differ only in case or Unicode normalization)"
    )]
    NameCollision {
        /// The later entry, relative to the destination.
        path: String,
        /// The earlier entry it collides with.
        earlier: String,
    },
    /// A directory of the destination stands where the archive writes a file or link.
    #[error("'{path}' is an existing directory; uncork does not replace directories")]
    IsADirectory {
        /// The path, relative to the destination.
        path: String,
    },
    /// A file of the destination stands where a directory is needed.
    #[error("'{path}' exists and is not a directory")]
    NotADirectory {
        /// The path, relative to the destination.
        path: String,
    },
    /// Replacing this file would delete or move the archive being extracted.
    #[error("'{path}' is the archive being extracted; uncork never modifies its input")]
    WouldModifyInput {
        /// The path, relative to the destination.
        path: String,
    },
    /// `--symlinks error`: the archive holds a symlink.
    #[error("'{path}' is a symlink (to '{target}') and symlinks were refused (--symlinks error)")]
    SymlinkRefused {
        /// The link, relative to the destination.
        path: String,
        /// Its target as the archive wrote it.
        target: String,
    },
    /// `--symlinks native`: the platform could not make the link.
    #[error("cannot make the symlink '{path}' -> '{target}' ({reason})")]
    SymlinkFailed {
        /// The link, relative to the destination.
        path: String,
        /// Its target as the archive wrote it.
        target: String,
        /// Why (`no symlink privilege`, ...).
        reason: String,
        /// The operating system's error, when there was one.
        #[source]
        source: Option<io::Error>,
    },
    /// Windows cannot create a file with this name.
    #[error("'{path}' cannot be created on Windows ({rule}: '{component}')")]
    WindowsName {
        /// The path, relative to the destination.
        path: String,
        /// The offending component.
        component: String,
        /// Why ([`Rule::ReservedName`], [`Rule::ForbiddenCharacter`], [`Rule::TrailingDotOrSpace`]).
        rule: Rule,
    },
    /// Copies made in place of links would write more than the copy budget.
    #[error(
        "copying '{from}' to '{path}' would exceed the copy budget of {limit} bytes or {max_entries} entries"
    )]
    CopyLimit {
        /// The link being replaced by a copy.
        path: String,
        /// The copied target.
        from: String,
        /// The budget in bytes.
        limit: u64,
        /// The budget in entries.
        max_entries: u64,
    },
    /// The core sent actions out of order (a bug in the core).
    #[error("unexpected action sequence: {0}")]
    Protocol(&'static str),
    /// The run was stopped from outside (a signal, [`crate::CancelToken`], its deadline).
    #[error("{why}")]
    Cancelled {
        /// Why.
        why: crate::Cancelled,
    },
    /// Another uncork run holds the destination.
    #[error(
        "another uncork run is extracting into '{}'; wait for it to finish, then run again",
        path.display()
    )]
    Busy {
        /// The destination as given.
        path: PathBuf,
    },
    /// Undoing a failed run left entries it did not make (another process wrote into the
    /// destination meanwhile): they were kept, and so were the directories holding them.
    #[error("kept {count} entr{} this run did not make: {}{}", if *count == 1 { "y" } else { "ies" }, paths.join(", "), if *count as usize > paths.len() { ", …" } else { "" })]
    Foreign {
        /// How many.
        count: u64,
        /// The first few, relative to the destination.
        paths: Vec<String>,
    },
    /// The staging directory was replaced (or moved) during the run: the tree is not committed.
    #[error("the staging directory '{}' was replaced during the extraction; nothing was moved into place", staging.display())]
    StagingReplaced {
        /// Where the staging directory was.
        staging: PathBuf,
    },
    /// The destination cannot be used.
    #[error("cannot use '{}' as the destination", path.display())]
    Destination {
        /// The destination as given.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The destination's parent directory does not exist.
    #[error("the parent of the destination '{}' does not exist; create it first", path.display())]
    NoParent {
        /// The destination as given.
        path: PathBuf,
    },
    /// Moving the staging directory into place failed (the extracted tree is left in `staging`).
    #[error("cannot move the extracted tree from '{}' to '{}'", staging.display(), dest.display())]
    Commit {
        /// The staging directory that holds the complete extraction.
        staging: PathBuf,
        /// The destination.
        dest: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl HostError {
    pub(crate) fn io(op: &'static str, path: impl Into<String>, source: io::Error) -> Self {
        HostError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Whether the error refuses the archive itself (a name this platform cannot create,
    /// symlinks refused by `--symlinks error`) rather than reporting a machine problem.
    pub fn refuses_archive(&self) -> bool {
        matches!(
            self,
            HostError::WindowsName { .. }
                | HostError::SymlinkRefused { .. }
                | HostError::NameCollision { .. }
        )
    }

    /// The rule behind the error, when it is the archive's fault rather than the machine's
    /// (a name Windows cannot create, two names this filesystem takes for one).
    pub fn rule(&self) -> Option<Rule> {
        match self {
            HostError::WindowsName { rule, .. } => Some(*rule),
            HostError::NameCollision { .. } => Some(Rule::CaseCollision),
            _ => None,
        }
    }
}

/// Anything that stops [`crate::extract_to`]: the run's error (after the partial extraction was
/// undone), or a problem with the destination itself.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The extraction failed; everything it wrote was removed again.
    #[error(transparent)]
    Run(Box<RunError<HostError>>),
    /// The destination could not be prepared or the result could not be moved into place.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The extraction failed, and undoing it failed too: the destination may hold leftovers.
    #[error("{error}; undoing the partial extraction also failed: {undo}")]
    Undo {
        /// The original error.
        error: Box<ExtractError>,
        /// What went wrong while undoing.
        undo: HostError,
    },
}

impl From<RunError<HostError>> for ExtractError {
    fn from(err: RunError<HostError>) -> Self {
        ExtractError::Run(Box::new(err))
    }
}

impl ExtractError {
    /// The stable rule name, when the archive was refused or is damaged (or holds a name this
    /// platform cannot create).
    pub fn rule(&self) -> Option<Rule> {
        match self {
            ExtractError::Run(run) => match run.as_ref() {
                RunError::Host { source, .. } => source.rule(),
                other => other.rule(),
            },
            ExtractError::Host(e) => e.rule(),
            ExtractError::Undo { error, .. } => error.rule(),
        }
    }
}
