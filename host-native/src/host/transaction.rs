//! Ending a run: commit (move the staged tree into place, drop backups) or undo it.

use super::NativeHost;
use crate::error::HostError;
use crate::journal::{Undo, backup_name};
use crate::path::split;
use crate::platform;
use crate::removal::{self, Leftovers, Scope};
use crate::staging::Layout;
use crate::undo;
use cap_fs_ext::DirExt;
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
        for change in std::mem::take(&mut self.journal.changes) {
            let Undo::MovedAside { path } = change else {
                continue;
            };
            let removed = self.dirs.parent_of(&path).and_then(|(dir, name)| {
                let backup = self.journal.backup_name(name);
                platform::prepare_removal(&dir, OsStr::new(&backup), false)
                    .and_then(|()| dir.remove_file_or_symlink(&backup))
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
            parent_dir,
            staging_name,
            staging_id,
            ..
        } = &self.layout
        {
            // Every handle below the staging directory must be closed first (Windows).
            let handle = parent_dir
                .try_clone()
                .map_err(|source| HostError::Destination {
                    path: dest.clone(),
                    source,
                })?;
            self.dirs.replace_root(handle, parent.clone());
            let staging = parent.join(staging_name);
            let dest_name = dest.file_name().unwrap_or(dest.as_os_str());
            let identity_at = |name: &OsStr| {
                parent_dir
                    .symlink_metadata(name)
                    .ok()
                    .filter(|m| m.is_dir() && !m.is_symlink())
                    .and_then(|m| platform::identity(&m))
            };
            // The name must still hold the directory this run made and filled: another user
            // who can rename in the parent could have put a link or a tree of their own there.
            if staging_id.is_some() && identity_at(OsStr::new(staging_name)) != *staging_id {
                return Err(HostError::StagingReplaced { staging });
            }
            // A few names at the top, to check the rename kept the tree (fusefat renames a
            // directory and loses what it holds).
            let top: Vec<std::ffi::OsString> = parent_dir
                .open_dir_nofollow(staging_name)
                .ok()
                .and_then(|d| d.entries().ok())
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .take(16)
                        .map(|e| e.file_name())
                        .collect()
                })
                .unwrap_or_default();
            undo::rename_noreplace(parent_dir, OsStr::new(staging_name), parent_dir, dest_name)
                .map_err(|source| HostError::Commit {
                    staging: staging.clone(),
                    dest: dest.clone(),
                    source,
                })?;
            // And what was renamed must be it (a swap between the look and the rename).
            if staging_id.is_some() && identity_at(dest_name) != *staging_id {
                return Err(HostError::StagingReplaced { staging });
            }
            // Listed, not looked up: a lookup may be answered from the kernel's cache.
            let listed: std::collections::HashSet<std::ffi::OsString> = parent_dir
                .open_dir_nofollow(dest_name)
                .ok()
                .and_then(|d| d.entries().ok())
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|e| e.file_name())
                        .collect()
                })
                .unwrap_or_default();
            let kept = top.iter().all(|name| listed.contains(name));
            if !kept {
                // Ours by identity (checked just above), and useless: take it away again.
                let _ = removal::remove_tree(parent_dir, dest_name);
                return Err(HostError::Commit {
                    staging,
                    dest: dest.clone(),
                    source: io::Error::other(
                        "the filesystem lost the extracted tree when it renamed its directory; \
                         extract into an existing directory instead (make it first)",
                    ),
                });
            }
        }
        self.journal.clear();
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
                parent_dir,
                staging_name,
                staging_id,
                ..
            } => {
                // Close the staging directory's own handle first (Windows).
                let handle = parent_dir
                    .try_clone()
                    .map_err(|source| HostError::Destination {
                        path: dest.clone(),
                        source,
                    })?;
                self.dirs.replace_root(handle, parent.clone());
                let now = parent_dir
                    .symlink_metadata(staging_name)
                    .ok()
                    .and_then(|m| platform::identity(&m));
                if staging_id.is_some() && now.is_some() && now != *staging_id {
                    // Not the directory this run made: it is left alone.
                    return Err(HostError::StagingReplaced {
                        staging: parent.join(staging_name),
                    });
                }
                let mut left = Leftovers::default();
                removal::remove_scoped(
                    parent_dir,
                    OsStr::new(staging_name),
                    staging_name,
                    Scope::Everything,
                    &mut left,
                )
                .or_else(|e| {
                    // std's removal never follows links either, and works where cap-std
                    // needs a directory's full path and cannot get it (Wine, beyond
                    // MAX_PATH). Everything in the staging directory is this run's.
                    std::fs::remove_dir_all(parent.join(staging_name)).map_err(|_| e)
                })
                .map_err(|e| HostError::io("remove the staging directory", staging_name.clone(), e))
            }
            Layout::Existing { .. } => self.undo_existing(),
        }
    }

    /// Undoes a run into an existing directory: removes what it made (by identity), puts back
    /// what it moved aside, restores the mtimes it changed; keeps and reports anything foreign.
    fn undo_existing(&mut self) -> Result<(), HostError> {
        let mut left = Leftovers::default();
        let mut first_error = None;
        let touched: Vec<String> = self.journal.touched_rev().map(str::to_owned).collect();
        for parent in &touched {
            if let Err(err) = self.remove_made_in(parent, &mut left) {
                first_error.get_or_insert(err);
            }
        }
        // Where the platform gives no identity, the paths the run made: the topmost of them
        // only (what is below goes with them), parents first.
        let made: std::collections::HashSet<&str> = self.journal.made_paths().collect();
        let mut paths: Vec<String> = made
            .iter()
            .filter(|path| {
                !path
                    .match_indices('/')
                    .any(|(at, _)| made.contains(&path[..at]))
            })
            .map(|path| (*path).to_owned())
            .collect();
        drop(made);
        paths.sort_by_key(|path| path.matches('/').count());
        for path in paths {
            let removed = self.dirs.parent_of(&path).and_then(|(dir, name)| {
                removal::remove_scoped(
                    &dir,
                    OsStr::new(name),
                    &path,
                    Scope::Made(self.journal.made_set()),
                    &mut left,
                )
                .map_err(|e| HostError::io("remove", path.clone(), e))
            });
            if let Err(err) = removed {
                first_error.get_or_insert(err);
            }
        }
        self.dirs.close_all();
        let changes = std::mem::take(&mut self.journal.changes);
        // Backups first (putting one back changes its directory's mtime), then the mtimes.
        for change in changes.iter().rev() {
            if let Undo::MovedAside { path } = change
                && let Err(err) = self.restore_backup(path, &mut left)
            {
                first_error.get_or_insert(err);
            }
        }
        for change in changes.iter().rev() {
            if let Undo::DirMtime { path, mtime } = change {
                let restored = self.dirs.open(path).and_then(|dir| {
                    undo::set_dir_mtime(&dir, *mtime)
                        .map_err(|e| HostError::io("restore the mtime of", path.clone(), e))
                });
                if let Err(err) = restored {
                    first_error.get_or_insert(err);
                }
            }
        }
        self.dirs.close_all();
        if let Some(err) = first_error {
            return Err(err);
        }
        if left.count > 0 {
            return Err(HostError::Foreign {
                count: left.count,
                paths: left.paths,
            });
        }
        Ok(())
    }

    /// Removes, from the pre-existing directory `parent`, every entry this run made (found by
    /// identity: nothing else in a user's directory is looked into).
    fn remove_made_in(&mut self, parent: &str, left: &mut Leftovers) -> Result<(), HostError> {
        let dir = self.dirs.open(parent)?;
        let entries = dir
            .entries()
            .map_err(|e| HostError::io("list", parent, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| HostError::io("list", parent, e))?;
            let name = entry.file_name();
            let Some(id) = dir
                .symlink_metadata(&name)
                .ok()
                .and_then(|m| platform::identity(&m))
            else {
                continue;
            };
            if !self.journal.made_set().contains(&id) {
                continue;
            }
            let path = crate::path::join(parent, &name.to_string_lossy());
            removal::remove_scoped(
                &dir,
                &name,
                &path,
                Scope::Made(self.journal.made_set()),
                left,
            )
            .map_err(|e| HostError::io("remove", path, e))?;
        }
        Ok(())
    }

    /// Puts the user's file that `path` replaced back, unless something the run did not make
    /// stands there now (then both stay, and that is reported).
    fn restore_backup(&mut self, path: &str, left: &mut Leftovers) -> Result<(), HostError> {
        let (dir, name) = self.dirs.parent_of(path)?;
        let backup = backup_name(name, self.journal.token());
        match dir.symlink_metadata(name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Ok(meta) if self.journal.is_made(path, platform::identity(&meta)) => {
                // Made by the run in a directory it did not list (it is being undone).
                platform::prepare_removal(&dir, OsStr::new(name), false)
                    .and_then(|()| dir.remove_file_or_symlink(name))
                    .map_err(|e| HostError::io("remove", path, e))?;
            }
            _ => {
                let (parent, _) = split(path);
                left.add(format!(
                    "{path} (the original is kept as {})",
                    crate::path::join(parent, &backup)
                ));
                return Ok(());
            }
        }
        undo::rename_noreplace(&dir, OsStr::new(&backup), &dir, OsStr::new(name))
            .map_err(|e| HostError::io("restore", path, e))
    }
}
