//! The action vocabulary: what the core asks a host to do, and what a host answers.

use crate::rule::Rule;
use std::fmt;

/// One step of an extraction, in the order the core guarantees:
///
/// 1. Directories, regular files and hard links in archive order; every parent directory is
///    made (explicitly) before anything inside it; a hard link after the file it names.
/// 2. Every symlink after every file and directory, chains in dependency order (a link's
///    target, when it is itself a link of the archive, comes first; links inside a directory
///    that a link points to come before that link).
/// 3. Directory modes and mtimes last, deepest directories first.
///
/// No action is ever aimed at or through a symlink the archive made. Paths are normalized
/// (`/`-separated, relative to the destination, never empty, never `.` or `..`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Make a directory (writable by the owner until its final mode is set).
    MakeDir {
        /// The directory.
        path: &'a str,
        /// An earlier entry of this archive (a file or hard link) stands at `path`: remove it first.
        replace: bool,
    },
    /// Create a regular file; its data follows in [`Action::FileData`] chunks, then [`Action::EndFile`].
    BeginFile {
        /// The file.
        path: &'a str,
        /// Size declared by the archive (a hint for preallocation; the data is what counts).
        size: u64,
        /// Permission bits after the policy (`0o7777` at most).
        mode: u32,
        /// Modification time, seconds since the Unix epoch, when kept by the policy.
        mtime: Option<i64>,
        /// An earlier entry of this archive stands at `path`: remove it first.
        replace: bool,
    },
    /// A chunk of the current file's data, borrowed from the core's buffer.
    FileData {
        /// The bytes.
        data: &'a [u8],
    },
    /// The current file is complete (its CRC, when the format has one, was verified).
    EndFile,
    /// Make a hard link to a file this archive already wrote.
    HardLink {
        /// The new name.
        path: &'a str,
        /// The earlier file (normalized archive path).
        target: &'a str,
        /// An earlier entry of this archive stands at `path`: remove it first.
        replace: bool,
    },
    /// Make a symlink.
    Symlink {
        /// The link.
        path: &'a str,
        /// The target exactly as the archive wrote it.
        target: &'a str,
        /// The target resolved through the archive's own links to a normalized path below the
        /// root (`""` is the root itself); `None` when it points outside (allowed by the policy).
        resolved: Option<&'a str>,
        /// What the resolved target is in the extracted tree.
        kind: LinkKind,
        /// An earlier entry of this archive stands at `path`: remove it first.
        replace: bool,
    },
    /// Set a directory's final permission bits.
    SetMode {
        /// The directory.
        path: &'a str,
        /// Permission bits after the policy.
        mode: u32,
    },
    /// Set a directory's modification time.
    SetMtime {
        /// The directory.
        path: &'a str,
        /// Seconds since the Unix epoch.
        mtime: i64,
    },
    /// An entry the policy skips (it is also in the report). Hosts do nothing.
    Skip {
        /// The entry's name (normalized when it got that far).
        path: &'a str,
        /// Why.
        rule: Rule,
    },
}

/// What a symlink's target is, decided by the core from the archive alone (never by a stat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// A regular file (or hard link) of the archive.
    File,
    /// A directory of the archive, or the root.
    Dir,
    /// Nothing of the archive: a dangling link.
    Missing,
    /// A target outside the root (only when the policy allows it).
    Outside,
}

impl LinkKind {
    /// The name used in dumps and reports.
    pub fn name(self) -> &'static str {
        match self {
            LinkKind::File => "file",
            LinkKind::Dir => "dir",
            LinkKind::Missing => "missing",
            LinkKind::Outside => "outside",
        }
    }
}

impl Action<'_> {
    /// The short name of the action (`make-dir`, `write-file`, ...), used in errors.
    pub fn name(&self) -> &'static str {
        match self {
            Action::MakeDir { .. } => "make-dir",
            Action::BeginFile { .. } | Action::FileData { .. } | Action::EndFile => "write-file",
            Action::HardLink { .. } => "hard-link",
            Action::Symlink { .. } => "symlink",
            Action::SetMode { .. } => "set-mode",
            Action::SetMtime { .. } => "set-mtime",
            Action::Skip { .. } => "skip",
        }
    }

    /// The path the action concerns, if any.
    pub fn path(&self) -> Option<&str> {
        match *self {
            Action::MakeDir { path, .. }
            | Action::BeginFile { path, .. }
            | Action::HardLink { path, .. }
            | Action::Symlink { path, .. }
            | Action::SetMode { path, .. }
            | Action::SetMtime { path, .. }
            | Action::Skip { path, .. } => Some(path),
            Action::FileData { .. } | Action::EndFile => None,
        }
    }
}

/// A host's answer to an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done as asked.
    Done,
    /// Done differently, or not at all, for a reason the host declares. Always reported.
    Degraded(Degradation),
}

/// An effect the host could not carry out as asked, and what it did instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degradation {
    /// What was asked.
    pub effect: Effect,
    /// What the host did instead.
    pub fallback: Fallback,
    /// Why, in a few words (`no symlink privilege`, `WASI has no modes`).
    pub reason: String,
}

/// The effect that was degraded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// A symlink.
    Symlink,
    /// A hard link.
    HardLink,
    /// Permission bits (of a file or directory).
    Mode,
    /// A modification time.
    Mtime,
}

/// What the host did instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    /// Copied the already-extracted target (a file, or a directory tree).
    Copy {
        /// The copied path (normalized, relative to the destination).
        from: String,
    },
    /// Made a directory junction (Windows).
    Junction,
    /// Made a hard link to the target instead of a symlink.
    HardLink,
    /// Made a symlink instead of a hard link.
    Symlink,
    /// Approximated (e.g. a read-only attribute for a mode).
    Approximated(String),
    /// Did nothing.
    Skipped,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Symlink => "symlink",
            Effect::HardLink => "hard link",
            Effect::Mode => "mode",
            Effect::Mtime => "mtime",
        })
    }
}

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fallback::Copy { from } => write!(f, "copy of {from}"),
            Fallback::Junction => f.write_str("junction"),
            Fallback::HardLink => f.write_str("hard link"),
            Fallback::Symlink => f.write_str("symlink"),
            Fallback::Approximated(how) => f.write_str(how),
            Fallback::Skipped => f.write_str("not applied"),
        }
    }
}

impl fmt::Display for Degradation {
    /// `symlink → copy of README.md (no symlink privilege)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {} ({})", self.effect, self.fallback, self.reason)
    }
}

/// Carries out actions. Implemented by every host (native, WASI, the planner component's
/// sink) and by the in-memory reference host and the dump used in tests.
pub trait Host {
    /// The host's own error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Carries out one action, or says how it degraded it.
    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, Self::Error>;

    /// [`Host::apply`], told where in the archive the action comes from (the entry being
    /// extracted). The core always calls this one; the default forgets the location. A host
    /// that carries actions out later (on another thread) keeps it, so that an error found
    /// then still names its entry.
    fn apply_at(
        &mut self,
        action: &Action<'_>,
        here: &crate::error::Location,
    ) -> Result<Outcome, Self::Error> {
        let _ = here;
        self.apply(action)
    }

    /// Offered right after [`Action::BeginFile`] when the file's data can be decoded away from
    /// the core (zip entries). Returning `true` takes it: no [`Action::FileData`] follows, only
    /// [`Action::EndFile`], and the host runs `job` itself, on a thread of its own (see
    /// [`crate::offload`] for what it must then guarantee). The default declines.
    fn take_data(&mut self, job: &crate::offload::DataJob) -> bool {
        let _ = job;
        false
    }
}

impl<H: Host + ?Sized> Host for &mut H {
    type Error = H::Error;
    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, Self::Error> {
        (**self).apply(action)
    }
    fn apply_at(
        &mut self,
        action: &Action<'_>,
        here: &crate::error::Location,
    ) -> Result<Outcome, Self::Error> {
        (**self).apply_at(action, here)
    }
    fn take_data(&mut self, job: &crate::offload::DataJob) -> bool {
        (**self).take_data(job)
    }
}
