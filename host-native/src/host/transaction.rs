//! Ending a run: commit (move the staged tree into place, drop backups) or undo it.

use super::NativeHost;
use crate::error::HostError;
use crate::path::split;
use crate::platform;
use crate::staging::{Layout, Undo};
use crate::tree::{self};
use cap_fs_ext::{DirExt, SystemTimeSpec};
use cap_std::fs::Dir;
use std::ffi::OsStr;
use std::io::{self};

impl NativeHost<'_> {
    pub(super) fn commit(&mut self) -> Result<Vec<String>, HostError> {
        let mut warnings = Vec::new();
        if let Some(writing) = self.current.take() {
            return Err(HostError::io(
                "finish",
                writing.path,
                io::Error::other("the archive ended in the middle of a file"),
            ));
        }
        for backup in std::mem::take(&mut self.journal.backups) {
            let removed = self.dirs.parent_of(&backup).and_then(|(dir, name)| {
                platform::prepare_removal(&dir, OsStr::new(name), false)
                    .and_then(|()| dir.remove_file_or_symlink(name))
                    .map_err(|e| HostError::io("remove the replaced file", backup.clone(), e))
            });
            if let Err(err) = removed {
                warnings.push(crate::error_chain(&err));
            }
        }
        self.dirs.close_all();
        if let Layout::Fresh {
            dest,
            parent,
            staging_name,
        } = &self.layout
        {
            // Every handle below the staging directory must be closed first (Windows).
            let parent_dir =
                Dir::open_ambient_dir(parent, cap_std::ambient_authority()).map_err(|source| {
                    HostError::Destination {
                        path: dest.clone(),
                        source,
                    }
                })?;
            self.dirs.replace_root(parent_dir, parent.clone());
            let staging = parent.join(staging_name);
            if std::fs::symlink_metadata(dest).is_ok() {
                return Err(HostError::Commit {
                    staging,
                    dest: dest.clone(),
                    source: io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        "the destination appeared during the extraction",
                    ),
                });
            }
            std::fs::rename(&staging, dest).map_err(|source| HostError::Commit {
                staging,
                dest: dest.clone(),
                source,
            })?;
        }
        self.journal.entries.clear();
        Ok(warnings)
    }

    pub(super) fn rollback(&mut self) -> Result<(), HostError> {
        self.current = None;
        self.buffer.clear();
        self.dirs.close_all();
        match &self.layout {
            Layout::Fresh {
                dest,
                parent,
                staging_name,
            } => {
                let parent_dir = Dir::open_ambient_dir(parent, cap_std::ambient_authority())
                    .map_err(|source| HostError::Destination {
                        path: dest.clone(),
                        source,
                    })?;
                // Close the staging directory's own handle first (Windows).
                let handle = parent_dir
                    .try_clone()
                    .map_err(|source| HostError::Destination {
                        path: dest.clone(),
                        source,
                    })?;
                self.dirs.replace_root(handle, parent.clone());
                tree::remove_tree(&parent_dir, OsStr::new(staging_name))
                    .or_else(|e| {
                        // std's removal never follows links either, and works where cap-std
                        // needs a directory's full path and cannot get it (Wine, beyond
                        // MAX_PATH). Everything in the staging directory is this run's.
                        std::fs::remove_dir_all(parent.join(staging_name)).map_err(|_| e)
                    })
                    .map_err(|e| {
                        HostError::io("remove the staging directory", staging_name.clone(), e)
                    })
            }
            Layout::Existing { .. } => {
                let mut first_error = None;
                while let Some(undo) = self.journal.entries.pop() {
                    if let Err(err) = self.undo(undo) {
                        first_error.get_or_insert(err);
                    }
                }
                first_error.map_or(Ok(()), Err)
            }
        }
    }

    pub(super) fn undo(&mut self, undo: Undo) -> Result<(), HostError> {
        match undo {
            Undo::Created(path) => {
                self.dirs.forget(&path);
                let (dir, name) = self.dirs.parent_of(&path)?;
                match tree::remove_tree(&dir, OsStr::new(name)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        Err(HostError::io("remove", path, e))
                    }
                    _ => Ok(()),
                }
            }
            Undo::MovedAside { path, backup } => {
                let (dir, name) = self.dirs.parent_of(&path)?;
                let (_, backup_name) = split(&backup);
                dir.rename(backup_name, &dir, name)
                    .map_err(|e| HostError::io("restore", path, e))
            }
            Undo::DirMode { path, mode } => {
                let (dir, name) = self.dirs.parent_of(&path)?;
                platform::set_dir_mode(&dir, OsStr::new(name), mode)
                    .map(|_| ())
                    .map_err(|e| HostError::io("restore the mode of", path, e))
            }
            Undo::DirMtime { path, mtime } => {
                let (dir, name) = if path.is_empty() {
                    (self.dirs.open("")?, ".")
                } else {
                    self.dirs.parent_of(&path)?
                };
                dir.set_symlink_times(
                    name,
                    None,
                    Some(SystemTimeSpec::Absolute(
                        cap_std::time::SystemTime::from_std(mtime),
                    )),
                )
                .map_err(|e| HostError::io("restore the mtime of", path, e))
            }
        }
    }
}
