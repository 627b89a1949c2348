//! What the caller decides about the native host: symlink handling, overwriting, trust.

use cap_std::fs::Dir;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use uncork_core::LinkKind;

/// How symlinks of the archive are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SymlinkMode {
    /// A real link where the platform can make one, else the platform's fallback (Windows:
    /// a junction for a directory, else a copy of the already-extracted target), reported.
    #[default]
    Auto,
    /// A real link, or an error.
    Native,
    /// Always a copy of the already-extracted target (a file, or a directory tree), reported.
    Copy,
    /// No link at all, reported.
    Skip,
    /// Refuse the archive at its first symlink.
    Error,
}

impl SymlinkMode {
    /// All modes, as the CLI spells them.
    pub const ALL: [SymlinkMode; 5] = [
        SymlinkMode::Auto,
        SymlinkMode::Native,
        SymlinkMode::Copy,
        SymlinkMode::Skip,
        SymlinkMode::Error,
    ];

    /// The name the CLI uses.
    pub fn name(self) -> &'static str {
        match self {
            SymlinkMode::Auto => "auto",
            SymlinkMode::Native => "native",
            SymlinkMode::Copy => "copy",
            SymlinkMode::Skip => "skip",
            SymlinkMode::Error => "error",
        }
    }
}

impl fmt::Display for SymlinkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SymlinkMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SymlinkMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                format!("unknown symlink mode '{s}' (expected auto, native, copy, skip or error)")
            })
    }
}

/// Makes a symlink named `name` in `parent`, pointing at `target` (as the archive wrote it,
/// `/`-separated), of the given kind. The native host verifies afterwards that the link exists.
///
/// The default creator is the platform's (`symlinkat`; `CreateSymbolicLinkW`). Tests inject
/// another one to reproduce what a platform does (Windows' error 1314 without the privilege).
pub trait SymlinkCreator: fmt::Debug + Send + Sync {
    /// Creates the link, or says why it could not.
    fn create(&self, parent: &Dir, name: &str, target: &str, kind: LinkKind) -> io::Result<()>;
}

/// Options of the native host.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// How symlinks are made.
    pub symlinks: SymlinkMode,
    /// Replace existing files (never directories): the old file is moved aside, and restored
    /// if the extraction fails, deleted when it succeeds.
    pub overwrite: bool,
    /// Follow symlinks that were already in the destination before the run (e.g. installing
    /// into a tree that links directories elsewhere). Links made by the archive are never
    /// followed either way.
    pub trust_existing_symlinks: bool,
    /// Most bytes the host may write as copies in place of links (a link fallback cannot
    /// multiply the archive's size beyond this). Default 16 GiB.
    pub max_copy_bytes: u64,
    /// Most entries (files, directories, links) the host may make as copies in place of links.
    /// Default 1,000,000 (the core's default entry limit).
    pub max_copy_entries: u64,
    /// Files that must never be replaced or removed (the archive being read, when it lies in
    /// the destination). Compared by identity (device and inode) on Unix.
    pub protect: Vec<PathBuf>,
    /// Stops the run when set or past its deadline (a signal, a caller giving up); the run is
    /// then undone as a failed one and fails with [`crate::HostError::Cancelled`].
    pub cancel: Option<crate::CancelToken>,
    /// Replaces the platform's symlink creation (tests).
    #[doc(hidden)]
    pub symlink_creator: Option<Arc<dyn SymlinkCreator>>,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            symlinks: SymlinkMode::Auto,
            overwrite: false,
            trust_existing_symlinks: false,
            max_copy_bytes: 16 << 30,
            max_copy_entries: 1_000_000,
            protect: Vec::new(),
            cancel: None,
            symlink_creator: None,
        }
    }
}
