//! Nothing is lost: a fresh destination is extracted into a staging sibling and renamed into
//! place on success; into an existing directory, the journal (`journal`) undoes the run on
//! failure.

use crate::error::HostError;
use crate::platform;
use crate::removal::{self, Identity, Leftovers, Scope};
use crate::undo;
use cap_fs_ext::DirExt;
use cap_std::ambient_authority;
use cap_std::fs::Dir;
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
        /// The parent's handle, opened once: the commit renames through it, never through a
        /// path resolved again.
        parent_dir: Dir,
        /// The staging directory's name in `parent` (`.DEST.uncork-XXXXXXXX`).
        staging_name: String,
        /// The staging directory's identity: the commit checks it renames that directory.
        staging_id: Option<Identity>,
        /// Holds the staging directory's lock (a later run removes only unlocked leftovers).
        _lock: undo::Lock,
    },
    /// The destination is an existing directory.
    Existing {
        /// The destination as given.
        dest: PathBuf,
        /// Holds the destination's lock against a second run.
        _lock: undo::Lock,
    },
}

impl Layout {
    pub(crate) fn dest(&self) -> &Path {
        match self {
            Layout::Fresh { dest, .. } | Layout::Existing { dest, .. } => dest,
        }
    }
}

/// What a staging directory's name holds between the destination's name and its suffix.
pub(crate) const STAGING_MARK: &str = ".uncork-";

/// Opens the destination: an existing directory as it is (locked against a second run), a
/// missing one as a new staging directory next to it (after removing the staging directories
/// of killed runs). Returns the layout, the root handle, the root's absolute path and what was
/// cleaned up.
pub(crate) fn prepare(dest: &Path) -> Result<(Layout, Dir, PathBuf, Vec<String>), HostError> {
    let destination = |source| HostError::Destination {
        path: dest.to_owned(),
        source,
    };
    match std::fs::metadata(dest) {
        Ok(meta) if meta.is_dir() => {
            let root = Dir::open_ambient_dir(dest, ambient_authority()).map_err(destination)?;
            let root_path = std::fs::canonicalize(dest).map_err(destination)?;
            let Some(lock) = undo::try_lock(&root).map_err(destination)? else {
                return Err(HostError::Busy {
                    path: dest.to_owned(),
                });
            };
            Ok((
                Layout::Existing {
                    dest: dest.to_owned(),
                    _lock: lock,
                },
                root,
                root_path,
                Vec::new(),
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
            let recovered = remove_abandoned_staging(&parent_dir, name);
            let mut attempt = 0;
            let (staging_name, root, lock, staging_id) = loop {
                let candidate = format!(".{name}{STAGING_MARK}{:08x}", random_u32());
                match parent_dir.create_dir(&candidate) {
                    Ok(()) => {
                        // Locked at once: a concurrent run's clean-up takes only unlocked ones.
                        // If one took this directory before the lock, try another name.
                        let root = parent_dir
                            .open_dir_nofollow(&candidate)
                            .map_err(destination)?;
                        let id = root
                            .dir_metadata()
                            .ok()
                            .and_then(|m| platform::identity(&m));
                        let lock = undo::try_lock(&root).map_err(destination)?;
                        let now = parent_dir
                            .symlink_metadata(&candidate)
                            .ok()
                            .and_then(|m| platform::identity(&m));
                        if let Some(lock) = lock.filter(|_| now == id) {
                            break (candidate, root, lock, id);
                        }
                        attempt += 1;
                    }
                    Err(err) if err.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => {
                        attempt += 1
                    }
                    Err(err) => return Err(destination(err)),
                }
                if attempt >= 16 {
                    return Err(destination(io::Error::other(
                        "could not make a staging directory beside it",
                    )));
                }
            };
            let root_path = std::fs::canonicalize(&parent)
                .map_err(destination)?
                .join(&staging_name);
            Ok((
                Layout::Fresh {
                    dest: dest.to_owned(),
                    parent,
                    parent_dir,
                    staging_name,
                    staging_id,
                    _lock: lock,
                },
                root,
                root_path,
                recovered,
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

/// Removes the staging directories (`.NAME.uncork-XXXXXXXX`) that killed runs left beside the
/// destination `name`: only real directories nobody holds locked (a live run locks its own).
/// Returns a line for each removed, or kept when it could not be removed.
fn remove_abandoned_staging(parent: &Dir, name: &str) -> Vec<String> {
    let prefix = format!(".{name}{STAGING_MARK}");
    let mut notes = Vec::new();
    let Ok(entries) = parent.entries() else {
        return notes;
    };
    for entry in entries.filter_map(Result::ok) {
        let Ok(found) = entry.file_name().into_string() else {
            continue;
        };
        let is_staging = found
            .strip_prefix(&prefix)
            .is_some_and(|rest| rest.len() == 8 && rest.bytes().all(|b| b.is_ascii_hexdigit()));
        if !is_staging {
            continue;
        }
        let Ok(dir) = parent.open_dir_nofollow(&found) else {
            continue;
        };
        let Ok(Some(_lock)) = undo::try_lock(&dir) else {
            continue;
        };
        let mut left = Leftovers::default();
        let removed =
            removal::remove_scoped(parent, found.as_ref(), &found, Scope::Everything, &mut left);
        notes.push(match removed {
            Ok(()) => format!("removed '{found}', left by an interrupted run"),
            Err(e) => format!("could not remove '{found}', left by an interrupted run: {e}"),
        });
    }
    notes
}
