//! Nothing is lost: a fresh destination is extracted into a staging sibling and renamed into
//! place on success; into an existing directory, a journal of what this run did is undone in
//! reverse order on failure.

use crate::error::HostError;
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Where the run writes.
#[derive(Debug)]
pub(crate) enum Layout {
    /// The destination did not exist: the run writes into `parent/staging_name`.
    Fresh {
        /// The destination as given.
        dest: PathBuf,
        /// Its parent directory.
        parent: PathBuf,
        /// The staging directory's name in `parent` (`.DEST.uncork-XXXXXXXX`).
        staging_name: String,
    },
    /// The destination is an existing directory.
    Existing {
        /// The destination as given.
        dest: PathBuf,
    },
}

impl Layout {
    pub(crate) fn dest(&self) -> &Path {
        match self {
            Layout::Fresh { dest, .. } | Layout::Existing { dest } => dest,
        }
    }
}

/// Opens the destination: an existing directory as it is, a missing one as a new staging
/// directory next to it. Returns the layout, the root handle and the root's absolute path.
pub(crate) fn prepare(dest: &Path) -> Result<(Layout, Dir, PathBuf), HostError> {
    let destination = |source| HostError::Destination {
        path: dest.to_owned(),
        source,
    };
    match std::fs::metadata(dest) {
        Ok(meta) if meta.is_dir() => {
            let root = Dir::open_ambient_dir(dest, ambient_authority()).map_err(destination)?;
            let root_path = std::fs::canonicalize(dest).map_err(destination)?;
            Ok((
                Layout::Existing {
                    dest: dest.to_owned(),
                },
                root,
                root_path,
            ))
        }
        Ok(_) => Err(destination(io::Error::new(
            io::ErrorKind::NotADirectory,
            "it exists and is not a directory",
        ))),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(dest).is_ok() {
                return Err(destination(io::Error::new(
                    io::ErrorKind::NotFound,
                    "it is a dangling symlink",
                )));
            }
            let name = dest.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
                destination(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "it has no usable last component",
                ))
            })?;
            let parent = match dest.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            if !parent.is_dir() {
                return Err(HostError::NoParent {
                    path: dest.to_owned(),
                });
            }
            let parent_dir =
                Dir::open_ambient_dir(&parent, ambient_authority()).map_err(destination)?;
            let mut attempt = 0;
            let staging_name = loop {
                let candidate = format!(".{name}.uncork-{:08x}", random_u32());
                match parent_dir.create_dir(&candidate) {
                    Ok(()) => break candidate,
                    Err(err) if err.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => {
                        attempt += 1
                    }
                    Err(err) => return Err(destination(err)),
                }
            };
            let root = parent_dir.open_dir(&staging_name).map_err(destination)?;
            let root_path = std::fs::canonicalize(&parent)
                .map_err(destination)?
                .join(&staging_name);
            Ok((
                Layout::Fresh {
                    dest: dest.to_owned(),
                    parent,
                    staging_name,
                },
                root,
                root_path,
            ))
        }
        Err(err) => Err(destination(err)),
    }
}

/// A random-enough suffix (std's per-process random hash keys, the clock and a counter).
pub(crate) fn random_u32() -> u32 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.write_u32(std::process::id());
    (hasher.finish() >> 16) as u32
}

/// One thing the run did to an existing destination, and how to undo it.
#[derive(Debug)]
pub(crate) enum Undo {
    /// Created `path` (a file, link, or a directory with everything in it).
    Created(String),
    /// Moved the user's `path` aside to `backup` (same directory) before replacing it.
    MovedAside { path: String, backup: String },
    /// Changed a pre-existing directory's mode.
    DirMode { path: String, mode: u32 },
    /// Changed a pre-existing directory's mtime.
    DirMtime { path: String, mtime: SystemTime },
}

/// The record of an extraction into an existing directory (empty for a staged one, which is
/// discarded whole).
#[derive(Debug, Default)]
pub(crate) struct Journal {
    pub(crate) enabled: bool,
    pub(crate) entries: Vec<Undo>,
    /// Backups of replaced files (relative paths), deleted when the run succeeds.
    pub(crate) backups: Vec<String>,
    /// The paths of the `Created` entries.
    created: HashSet<String>,
}

impl Journal {
    pub(crate) fn new(enabled: bool) -> Self {
        Journal {
            enabled,
            ..Journal::default()
        }
    }

    pub(crate) fn record(&mut self, undo: Undo) {
        if self.enabled {
            if let Undo::Created(path) = &undo {
                self.created.insert(path.clone());
            }
            self.entries.push(undo);
        }
    }

    /// Whether this run created `path` (in an existing destination).
    pub(crate) fn created(&self, path: &str) -> bool {
        self.created.contains(path)
    }

    /// Forgets the last entry if it is the creation of `path` (it was undone on the spot).
    pub(crate) fn forget_created(&mut self, path: &str) {
        if matches!(self.entries.last(), Some(Undo::Created(p)) if p == path) {
            self.entries.pop();
            self.created.remove(path);
        }
    }
}
