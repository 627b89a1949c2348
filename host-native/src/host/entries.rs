//! Files, directories, hard links, modes and times: each created only where nothing stands,
//! or where the run may make room.

use super::{NativeHost, Place, WRITE_BUFFER, Writing};
use crate::error::HostError;
use crate::journal::Undo;
use crate::path::split;
use crate::platform;
use cap_fs_ext::{DirExt, SystemTimeSpec};
use cap_std::fs::Dir;
use std::ffi::OsStr;
use std::fs::FileTimes;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use uncork_core::{Degradation, Effect, Fallback, Outcome};

impl NativeHost<'_> {
    pub(super) fn is_protected(&self, meta: &cap_std::fs::Metadata) -> bool {
        !self.protected.is_empty()
            && platform::identity(meta).is_some_and(|id| self.protected.contains(&id))
    }

    /// Removes an earlier entry of this archive at `path` (the core said `replace`).
    pub(super) fn remove_earlier(
        &mut self,
        dir: &Dir,
        path: &str,
        name: &str,
    ) -> Result<(), HostError> {
        match dir.symlink_metadata(name) {
            Ok(meta) if meta.is_dir() && !meta.is_symlink() => Err(HostError::IsADirectory {
                path: path.to_owned(),
            }),
            Ok(meta) => {
                if self.is_protected(&meta) {
                    return Err(HostError::WouldModifyInput {
                        path: path.to_owned(),
                    });
                }
                let id = platform::identity(&meta);
                if self.journal.is_made(path, id) {
                    platform::prepare_removal(dir, OsStr::new(name), false)
                        .and_then(|()| dir.remove_file_or_symlink(name))
                        .map_err(|e| HostError::io("replace", path, e))?;
                    self.journal.unmade(path, id);
                    Ok(())
                } else {
                    self.make_room(dir, path, name)
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(HostError::io("inspect", path, e)),
        }
    }

    /// Something the run did not make stands at `path`: move it aside if overwriting is
    /// allowed, else refuse.
    pub(super) fn make_room(&mut self, dir: &Dir, path: &str, name: &str) -> Result<(), HostError> {
        let meta = match dir.symlink_metadata(name) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(HostError::io("inspect", path, e)),
        };
        let (parent, _) = split(path);
        if let Some(other) = colliding_name(dir, name) {
            // Another name stands here: the filesystem does not tell the two apart (case,
            // Unicode normalization). If the run made it, two entries of the archive collide.
            let earlier = crate::path::join(parent, &other);
            let id = dir
                .symlink_metadata(&other)
                .ok()
                .and_then(|m| platform::identity(&m));
            if self.journal.is_made(&earlier, id) {
                return Err(HostError::NameCollision {
                    path: path.to_owned(),
                    earlier,
                });
            }
        }
        if meta.is_dir() && !meta.is_symlink() {
            return Err(HostError::IsADirectory {
                path: path.to_owned(),
            });
        }
        self.dirs.forget(path);
        if !self.options.overwrite {
            return Err(HostError::AlreadyExists {
                path: path.to_owned(),
            });
        }
        if self.is_protected(&meta) {
            return Err(HostError::WouldModifyInput {
                path: path.to_owned(),
            });
        }
        let backup_name = self.journal.backup_name(name);
        match dir.symlink_metadata(&backup_name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            _ => {
                return Err(HostError::io(
                    "move aside",
                    path,
                    io::Error::new(io::ErrorKind::AlreadyExists, "its backup name is taken"),
                ));
            }
        }
        dir.rename(name, dir, &backup_name)
            .map_err(|e| HostError::io("move aside", path, e))?;
        self.journal.record(Undo::MovedAside {
            path: path.to_owned(),
        });
        self.overwritten.push(path.to_owned());
        Ok(())
    }

    /// Runs `create` for a new entry at `path`; if something is in the way, makes room (or
    /// refuses) and tries once more.
    pub(super) fn create_at<T>(
        &mut self,
        path: &str,
        replace: bool,
        op: &'static str,
        mut create: impl FnMut(&Dir, &str) -> io::Result<T>,
    ) -> Result<(T, std::rc::Rc<Dir>), HostError> {
        platform::check_name(path)?;
        let (dir, name) = self.dirs.parent_of(path)?;
        self.save_parent_mtime(path, &dir)?;
        if replace {
            self.remove_earlier(&dir, path, name)?;
        }
        let made = match create(&dir, name) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                self.make_room(&dir, path, name)?;
                create(&dir, name)
            }
            other => other,
        };
        let made = made.map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => HostError::AlreadyExists {
                path: path.to_owned(),
            },
            _ => HostError::io(op, path, e),
        })?;
        self.record_made_tree(&dir, path, name);
        Ok((made, dir))
    }

    /// Notes in the journal (an existing destination only) what the run just made at `path`,
    /// by identity.
    pub(super) fn record_made(&mut self, dir: &Dir, path: &str, name: &str) {
        if self.journal.enabled {
            let id = dir
                .symlink_metadata(name)
                .ok()
                .and_then(|m| platform::identity(&m));
            self.journal.made(path, id);
        }
    }

    /// As [`Self::record_made`], and when a directory was made (a copy standing in for a link),
    /// everything in it too: undo removes only what the journal knows the run made.
    pub(super) fn record_made_tree(&mut self, dir: &Dir, path: &str, name: &str) {
        if !self.journal.enabled {
            return;
        }
        let meta = dir.symlink_metadata(name).ok();
        self.journal
            .made(path, meta.as_ref().and_then(platform::identity));
        if meta.is_some_and(|m| m.is_dir() && !m.is_symlink())
            && let Ok(sub) = dir.open_dir_nofollow(name)
        {
            self.record_made_below(&sub, path);
        }
    }

    fn record_made_below(&mut self, dir: &Dir, path: &str) {
        let Ok(entries) = dir.entries() else { return };
        for entry in entries.filter_map(Result::ok) {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let child = crate::path::join(path, &name);
            let meta = dir.symlink_metadata(&name).ok();
            self.journal
                .made(&child, meta.as_ref().and_then(platform::identity));
            if meta.is_some_and(|m| m.is_dir() && !m.is_symlink())
                && let Ok(sub) = dir.open_dir_nofollow(&name)
            {
                self.record_made_below(&sub, &child);
            }
        }
    }

    /// Whether `path` (with metadata `meta`) stood in the destination before the run.
    pub(super) fn preexisting(&self, path: &str, meta: &cap_std::fs::Metadata) -> bool {
        !self.journal.is_made(path, platform::identity(meta))
    }

    /// Before the run first writes into a directory that stood in the destination before it,
    /// records that directory (undo looks there for what the run made) and its mtime, so that
    /// undoing the run restores it too.
    pub(super) fn save_parent_mtime(&mut self, path: &str, dir: &Dir) -> Result<(), HostError> {
        if !self.journal.enabled {
            return Ok(());
        }
        let (parent, _) = split(path);
        let meta = dir
            .dir_metadata()
            .map_err(|e| HostError::io("inspect", parent, e))?;
        if !self.preexisting(parent, &meta)
            || !self.journal.touch(parent, platform::identity(&meta))
        {
            return Ok(());
        }
        // The first write into this directory: first clean what killed runs left in it.
        let token = self.journal.token().to_owned();
        crate::recover::recover_dir(dir, parent, &token, &mut self.recovered);
        // A directory the user does not own (a sticky, world-writable parent) cannot have its
        // mtime set back: nothing to record then.
        if !crate::undo::may_set_times(&meta) {
            return Ok(());
        }
        let mtime = meta
            .modified()
            .map_err(|e| HostError::io("inspect", parent, e))?;
        self.journal.record(Undo::DirMtime {
            path: parent.to_owned(),
            mtime: mtime.into_std(),
        });
        Ok(())
    }

    pub(super) fn make_dir(&mut self, path: &str, replace: bool) -> Result<Outcome, HostError> {
        platform::check_name(path)?;
        let (dir, name) = self.dirs.parent_of(path)?;
        self.save_parent_mtime(path, &dir)?;
        if replace {
            self.remove_earlier(&dir, path, name)?;
        }
        match dir.create_dir(name) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let meta = dir
                    .symlink_metadata(name)
                    .map_err(|e| HostError::io("inspect", path, e))?;
                if meta.is_dir() && !meta.is_symlink() {
                    // Made earlier by this run, or pre-existing (the journal tells by identity).
                    return Ok(Outcome::Done);
                }
                if meta.is_symlink() {
                    // Opening it says whether it may be followed (trusted, pointing at a directory).
                    self.dirs.open(path)?;
                    return Ok(Outcome::Done);
                }
                // A file or link: refused, or moved aside with --overwrite.
                self.make_room(&dir, path, name)?;
                dir.create_dir(name)
                    .map_err(|e| HostError::io("create the directory", path, e))?;
            }
            Err(e) => return Err(HostError::io("create the directory", path, e)),
        }
        self.record_made(&dir, path, name);
        Ok(Outcome::Done)
    }

    pub(super) fn begin_file(
        &mut self,
        path: &str,
        mode: u32,
        mtime: Option<i64>,
        replace: bool,
    ) -> Result<Outcome, HostError> {
        if self.current.is_some() {
            return Err(HostError::Protocol(
                "a file began before the previous one ended",
            ));
        }
        let (file, place) = if self.journal.enabled && cfg!(unix) {
            self.create_part_file(path, replace)?
        } else {
            let options = platform::new_file_options();
            let (file, _) = self.create_at(path, replace, "create", |dir, name| {
                dir.open_with(name, &options)
            })?;
            (file.into_std(), None)
        };
        self.current = Some(Writing {
            path: path.to_owned(),
            file,
            mode,
            mtime,
            written: Arc::clone(&self.written),
            place,
        });
        Ok(Outcome::Done)
    }

    /// Into an existing destination a file is written under a partial name and renamed into
    /// place when complete (Unix, where the journal knows it by identity whatever its name);
    /// what stands at its name is dealt with first, as for any entry.
    fn create_part_file(
        &mut self,
        path: &str,
        replace: bool,
    ) -> Result<(std::fs::File, Option<Place>), HostError> {
        platform::check_name(path)?;
        let (dir, name) = self.dirs.parent_of(path)?;
        self.save_parent_mtime(path, &dir)?;
        if replace {
            self.remove_earlier(&dir, path, name)?;
        } else {
            self.make_room(&dir, path, name)?;
        }
        let part = self.journal.part_name();
        let file = dir
            .open_with(&part, &platform::new_file_options())
            .map_err(|e| HostError::io("create", path, e))?;
        self.journal.made(
            path,
            platform::identity(
                &file
                    .metadata()
                    .map_err(|e| HostError::io("inspect", path, e))?,
            ),
        );
        let place_dir = dir
            .try_clone()
            .map_err(|e| HostError::io("open the directory of", path, e))?;
        Ok((
            file.into_std(),
            Some(Place {
                dir: place_dir,
                part,
                name: name.to_owned(),
            }),
        ))
    }

    pub(super) fn file_data(&mut self, data: &[u8]) -> Result<Outcome, HostError> {
        let writing = self
            .current
            .as_mut()
            .ok_or(HostError::Protocol("file data outside a file"))?;
        writing.write(&mut self.buffer, data)?;
        Ok(Outcome::Done)
    }

    pub(super) fn end_file(&mut self) -> Result<Outcome, HostError> {
        if std::mem::take(&mut self.detached) {
            // Its data, times and mode are the worker's (see `detach_file`).
            return Ok(Outcome::Done);
        }
        let writing = self
            .current
            .take()
            .ok_or(HostError::Protocol("a file ended that never began"))?;
        writing.finish(&mut self.buffer)
    }

    /// Hands the file just begun to the caller, which writes its data and finishes it (times,
    /// mode) elsewhere: the `EndFile` that follows is then a no-op here.
    pub(crate) fn detach_file(&mut self) -> Result<Writing, HostError> {
        let writing = self
            .current
            .take()
            .ok_or(HostError::Protocol("no file to hand over"))?;
        self.detached = true;
        self.handed_over += 1;
        Ok(writing)
    }

    pub(super) fn hard_link(
        &mut self,
        path: &str,
        target: &str,
        replace: bool,
    ) -> Result<Outcome, HostError> {
        let (src_dir, src_name) = self.dirs.parent_of(target)?;
        let linked = self.create_at(path, replace, "hard-link", |dir, name| {
            src_dir.hard_link(src_name, dir, name)
        });
        match linked {
            Ok(_) => Ok(Outcome::Done),
            Err(HostError::Io { source, .. })
                if !matches!(source.kind(), io::ErrorKind::NotFound) =>
            {
                let reason = format!("hard links are unavailable ({source})");
                self.copy_file_instead(path, target, false)?;
                Ok(Outcome::Degraded(Degradation {
                    effect: Effect::HardLink,
                    fallback: Fallback::Copy {
                        from: target.to_owned(),
                    },
                    reason,
                }))
            }
            Err(e) => Err(e),
        }
    }

    pub(super) fn set_mode(&mut self, path: &str, mode: u32) -> Result<Outcome, HostError> {
        let (dir, name) = self.dirs.parent_of(path)?;
        if self.journal.enabled {
            let meta = dir
                .symlink_metadata(name)
                .map_err(|e| HostError::io("inspect", path, e))?;
            if self.preexisting(path, &meta) {
                // Never loosen (or tighten) a directory the user made: as GNU tar keeps it.
                if crate::undo::mode_of(&meta) == Some(mode & 0o7777) {
                    return Ok(Outcome::Done);
                }
                return Ok(kept_existing(
                    Effect::Mode,
                    "the directory existed before; uncork keeps its mode",
                ));
            }
        }
        platform::set_dir_mode(&dir, OsStr::new(name), mode)
            .map_err(|e| HostError::io("set the mode of", path, e))
    }

    pub(super) fn set_mtime(&mut self, path: &str, mtime: i64) -> Result<Outcome, HostError> {
        let (dir, name) = self.dirs.parent_of(path)?;
        let mut old = None;
        if self.journal.enabled {
            let meta = dir
                .symlink_metadata(name)
                .map_err(|e| HostError::io("inspect", path, e))?;
            if self.preexisting(path, &meta) {
                if !self.options.overwrite {
                    return Ok(kept_existing(
                        Effect::Mtime,
                        "the directory existed before; pass --overwrite to change it",
                    ));
                }
                old = Some(
                    meta.modified()
                        .map_err(|e| HostError::io("inspect", path, e))?,
                );
            }
        }
        let Some(time) = system_time(mtime) else {
            return Ok(mtime_out_of_range(mtime));
        };
        if let Some(old) = old {
            self.journal.record(Undo::DirMtime {
                path: path.to_owned(),
                mtime: old.into_std(),
            });
        }
        dir.set_symlink_times(
            name,
            None,
            Some(SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(time),
            )),
        )
        .map_err(|e| HostError::io("set the mtime of", path, e))?;
        Ok(Outcome::Done)
    }
}

/// The name in `dir` that is not `name` but the filesystem takes for it (case, Unicode
/// normalization), if any. Only looked for when something unexpected stands at `name`.
fn colliding_name(dir: &Dir, name: &str) -> Option<String> {
    let key = uncork_core::path::collision_key(name);
    dir.entries()
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .find(|other| other != name && uncork_core::path::collision_key(other) == key)
}

impl Writing {
    /// Writes `data` through `buffer` (flushed when full; large pieces go straight through).
    pub(crate) fn write(&mut self, buffer: &mut Vec<u8>, data: &[u8]) -> Result<(), HostError> {
        if buffer.capacity() < WRITE_BUFFER {
            buffer.reserve_exact(WRITE_BUFFER - buffer.len());
        }
        let written = if buffer.len() + data.len() > WRITE_BUFFER {
            flush(&mut self.file, buffer).and_then(|()| {
                if data.len() >= WRITE_BUFFER {
                    self.file.write_all(data)
                } else {
                    buffer.extend_from_slice(data);
                    Ok(())
                }
            })
        } else {
            buffer.extend_from_slice(data);
            Ok(())
        };
        written.map_err(|e| HostError::io("write", self.path.clone(), e))?;
        self.written.fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Writes out what `buffer` holds, then sets the file's mtime and mode, and closes it.
    pub(crate) fn finish(self, buffer: &mut Vec<u8>) -> Result<Outcome, HostError> {
        let Writing {
            path,
            mut file,
            mode,
            mtime,
            written: _,
            place,
        } = self;
        flush(&mut file, buffer).map_err(|e| HostError::io("write", path.clone(), e))?;
        let mut outcome = Outcome::Done;
        if let Some(mtime) = mtime {
            match system_time(mtime) {
                Some(time) => file
                    .set_times(FileTimes::new().set_modified(time))
                    .map_err(|e| HostError::io("set the mtime of", path.clone(), e))?,
                None => outcome = mtime_out_of_range(mtime),
            }
        }
        match platform::apply_file_mode(&file, mode)
            .map_err(|e| HostError::io("set the mode of", path.clone(), e))?
        {
            Outcome::Done => {}
            degraded => outcome = degraded,
        }
        if let Some(place) = place {
            drop(file);
            crate::undo::rename_noreplace(
                &place.dir,
                place.part.as_ref(),
                &place.dir,
                place.name.as_ref(),
            )
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => HostError::AlreadyExists { path },
                _ => HostError::io("move into place", path, e),
            })?;
        }
        Ok(outcome)
    }

    /// The file's path in the tree.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }
}

/// Writes out and empties the buffer.
fn flush(file: &mut std::fs::File, buffer: &mut Vec<u8>) -> io::Result<()> {
    let result = file.write_all(buffer);
    buffer.clear();
    result
}

pub(super) fn kept_existing(effect: Effect, reason: &str) -> Outcome {
    Outcome::Degraded(Degradation {
        effect,
        fallback: Fallback::Approximated("left as it was".to_owned()),
        reason: reason.to_owned(),
    })
}

pub(super) fn mtime_out_of_range(mtime: i64) -> Outcome {
    Outcome::Degraded(Degradation {
        effect: Effect::Mtime,
        fallback: Fallback::Skipped,
        reason: format!("the time {mtime} cannot be represented here"),
    })
}

/// Seconds since the epoch as a `SystemTime`, when the platform can hold it.
pub(super) fn system_time(secs: i64) -> Option<SystemTime> {
    if secs >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    }
}
