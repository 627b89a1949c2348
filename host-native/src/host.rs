//! [`NativeHost`]: carries out the core's actions below a destination directory, through
//! directory handles, never following a symlink.

use crate::dirs::Dirs;
use crate::error::{ExtractError, HostError};
use crate::options::{HostOptions, SymlinkCreator, SymlinkMode};
use crate::path::{is_within, native, split};
use crate::platform;
use crate::staging::{self, Journal, Layout, Undo};
use crate::tree::{self, Budget, CopyError, TreeCopy};
use cap_fs_ext::{DirExt, SystemTimeSpec};
use cap_std::fs::Dir;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::FileTimes;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use uncork_core::{
    Action, Degradation, Effect, Fallback, Host, LinkKind, Outcome, Report, RunError,
};

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
    /// Directories that stood in the destination before the run (their mode and mtime are kept).
    preexisting: HashSet<String>,
    /// Directories this run made.
    made_dirs: HashSet<String>,
    /// Pre-existing directories whose mtime the journal holds.
    mtime_saved: HashSet<String>,
    overwritten: Vec<String>,
    budget: Budget,
    protected: Vec<(u64, u64)>,
    observer: Option<Observer<'o>>,
    finished: bool,
}

impl std::fmt::Debug for NativeHost<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeHost")
            .field("layout", &self.layout)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

struct Writing {
    path: String,
    out: io::BufWriter<std::fs::File>,
    mode: u32,
    mtime: Option<i64>,
}

impl<'o> NativeHost<'o> {
    /// Opens `dest`: an existing directory is extracted into directly (and cleaned up on
    /// failure); a missing one (whose parent exists) is extracted into a staging sibling.
    pub fn open(dest: &Path, options: HostOptions) -> Result<Self, HostError> {
        let (layout, root, root_path) = staging::prepare(dest)?;
        let journal = Journal::new(matches!(layout, Layout::Existing { .. }));
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
            },
            options,
            creator,
            current: None,
            preexisting: HashSet::new(),
            made_dirs: HashSet::new(),
            mtime_saved: HashSet::new(),
            overwritten: Vec::new(),
            protected,
            observer: None,
            finished: false,
        })
    }

    /// Calls `observer` after every action carried out (progress, `-v`).
    pub fn set_observer(&mut self, observer: impl FnMut(&Action<'_>, &Outcome) + 'o) {
        self.observer = Some(Box::new(observer));
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
                let warnings = self.commit()?;
                Ok(NativeReport {
                    report,
                    destination: self.layout.dest().to_owned(),
                    staged: matches!(self.layout, Layout::Fresh { .. }),
                    overwritten: std::mem::take(&mut self.overwritten),
                    symlinks: self.options.symlinks,
                    platform: platform::NAME,
                    warnings,
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

    fn commit(&mut self) -> Result<Vec<String>, HostError> {
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

    fn rollback(&mut self) -> Result<(), HostError> {
        self.current = None;
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
                tree::remove_tree(&parent_dir, OsStr::new(staging_name)).map_err(|e| {
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

    fn undo(&mut self, undo: Undo) -> Result<(), HostError> {
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

    fn is_protected(&self, meta: &cap_std::fs::Metadata) -> bool {
        !self.protected.is_empty()
            && platform::identity(meta).is_some_and(|id| self.protected.contains(&id))
    }

    /// Removes an earlier entry of this archive at `path` (the core said `replace`).
    fn remove_earlier(&mut self, dir: &Dir, path: &str, name: &str) -> Result<(), HostError> {
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
                if !self.journal.enabled || self.made_by_run(path) {
                    platform::prepare_removal(dir, OsStr::new(name), false)
                        .and_then(|()| dir.remove_file_or_symlink(name))
                        .map_err(|e| HostError::io("replace", path, e))
                } else {
                    self.make_room(dir, path, name)
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(HostError::io("inspect", path, e)),
        }
    }

    fn made_by_run(&self, path: &str) -> bool {
        self.journal.created(path)
    }

    /// Something the run did not make stands at `path`: move it aside if overwriting is
    /// allowed, else refuse.
    fn make_room(&mut self, dir: &Dir, path: &str, name: &str) -> Result<(), HostError> {
        let meta = match dir.symlink_metadata(name) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(HostError::io("inspect", path, e)),
        };
        if meta.is_dir() && !meta.is_symlink() {
            return Err(HostError::IsADirectory {
                path: path.to_owned(),
            });
        }
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
        let (parent, _) = split(path);
        let mut attempt = 0;
        loop {
            let backup_name = format!(".{name}.uncork-old-{:08x}", staging::random_u32());
            match dir.symlink_metadata(&backup_name) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    dir.rename(name, dir, &backup_name)
                        .map_err(|e| HostError::io("move aside", path, e))?;
                    let backup = crate::path::join(parent, &backup_name);
                    self.journal.record(Undo::MovedAside {
                        path: path.to_owned(),
                        backup: backup.clone(),
                    });
                    self.journal.backups.push(backup);
                    self.overwritten.push(path.to_owned());
                    return Ok(());
                }
                _ if attempt < 16 => attempt += 1,
                _ => {
                    return Err(HostError::AlreadyExists {
                        path: path.to_owned(),
                    });
                }
            }
        }
    }

    /// Runs `create` for a new entry at `path`; if something is in the way, makes room (or
    /// refuses) and tries once more.
    fn create_at<T>(
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
        self.journal.record(Undo::Created(path.to_owned()));
        Ok((made, dir))
    }

    /// Before the run first changes a directory that stood in the destination before it,
    /// records that directory's mtime, so that undoing the run restores it too.
    fn save_parent_mtime(&mut self, path: &str, dir: &Dir) -> Result<(), HostError> {
        let (parent, _) = split(path);
        if !self.journal.enabled
            || !(parent.is_empty() || self.preexisting.contains(parent))
            || !self.mtime_saved.insert(parent.to_owned())
        {
            return Ok(());
        }
        let mtime = dir
            .dir_metadata()
            .and_then(|m| m.modified())
            .map_err(|e| HostError::io("inspect", parent, e))?;
        self.journal.record(Undo::DirMtime {
            path: parent.to_owned(),
            mtime: mtime.into_std(),
        });
        Ok(())
    }

    fn make_dir(&mut self, path: &str, replace: bool) -> Result<Outcome, HostError> {
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
                    if !self.made_dirs.contains(path) {
                        self.preexisting.insert(path.to_owned());
                    }
                    return Ok(Outcome::Done);
                }
                if meta.is_symlink() {
                    // Opening it says whether it may be followed (trusted, pointing at a directory).
                    self.dirs.open(path)?;
                    self.preexisting.insert(path.to_owned());
                    return Ok(Outcome::Done);
                }
                if !self.options.overwrite {
                    return Err(HostError::AlreadyExists {
                        path: path.to_owned(),
                    });
                }
                self.make_room(&dir, path, name)?;
                dir.create_dir(name)
                    .map_err(|e| HostError::io("create the directory", path, e))?;
            }
            Err(e) => return Err(HostError::io("create the directory", path, e)),
        }
        self.journal.record(Undo::Created(path.to_owned()));
        self.made_dirs.insert(path.to_owned());
        Ok(Outcome::Done)
    }

    fn begin_file(
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
        let options = platform::new_file_options();
        let (file, _) = self.create_at(path, replace, "create", |dir, name| {
            dir.open_with(name, &options)
        })?;
        self.current = Some(Writing {
            path: path.to_owned(),
            out: io::BufWriter::with_capacity(WRITE_BUFFER, file.into_std()),
            mode,
            mtime,
        });
        Ok(Outcome::Done)
    }

    fn file_data(&mut self, data: &[u8]) -> Result<Outcome, HostError> {
        let writing = self
            .current
            .as_mut()
            .ok_or(HostError::Protocol("file data outside a file"))?;
        writing
            .out
            .write_all(data)
            .map_err(|e| HostError::io("write", writing.path.clone(), e))?;
        Ok(Outcome::Done)
    }

    fn end_file(&mut self) -> Result<Outcome, HostError> {
        let writing = self
            .current
            .take()
            .ok_or(HostError::Protocol("a file ended that never began"))?;
        let Writing {
            path,
            out,
            mode,
            mtime,
        } = writing;
        let file = out
            .into_inner()
            .map_err(|e| HostError::io("write", path.clone(), e.into_error()))?;
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
            .map_err(|e| HostError::io("set the mode of", path, e))?
        {
            Outcome::Done => {}
            degraded => outcome = degraded,
        }
        Ok(outcome)
    }

    fn hard_link(&mut self, path: &str, target: &str, replace: bool) -> Result<Outcome, HostError> {
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

    fn symlink(
        &mut self,
        path: &str,
        target: &str,
        resolved: Option<&str>,
        kind: LinkKind,
        replace: bool,
    ) -> Result<Outcome, HostError> {
        match self.options.symlinks {
            SymlinkMode::Skip => {
                platform::check_name(path)?;
                Ok(symlink_degraded(
                    Fallback::Skipped,
                    "symlinks are skipped (--symlinks skip)",
                ))
            }
            SymlinkMode::Error => Err(HostError::SymlinkRefused {
                path: path.to_owned(),
                target: target.to_owned(),
            }),
            SymlinkMode::Copy => self.link_fallback(
                path,
                resolved,
                kind,
                replace,
                "--symlinks copy".to_owned(),
                false,
            ),
            SymlinkMode::Native | SymlinkMode::Auto => {
                match self.native_symlink(path, target, kind, replace)? {
                    None => Ok(Outcome::Done),
                    Some((reason, _)) if self.options.symlinks == SymlinkMode::Auto => {
                        self.link_fallback(path, resolved, kind, false, reason, true)
                    }
                    Some((reason, source)) => Err(HostError::SymlinkFailed {
                        path: path.to_owned(),
                        target: target.to_owned(),
                        reason,
                        source,
                    }),
                }
            }
        }
    }

    /// Makes a real link; `Some(reason)` when the platform could not (nothing is left behind).
    #[allow(clippy::type_complexity)]
    fn native_symlink(
        &mut self,
        path: &str,
        target: &str,
        kind: LinkKind,
        replace: bool,
    ) -> Result<Option<(String, Option<io::Error>)>, HostError> {
        let creator = Arc::clone(&self.creator);
        let mut failure = None;
        let made = self.create_at(path, replace, "make the symlink", |dir, name| match creator
            .create(dir, name, target, kind)
        {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
            Err(e) => {
                failure = Some(e);
                Ok(false)
            }
        });
        let (created, dir) = made?;
        let (_, name) = split(path);
        if !created {
            self.journal.forget_created(path);
            let err = failure.unwrap_or_else(|| io::Error::other("unknown failure"));
            return Ok(Some((platform::failure_reason(&err), Some(err))));
        }
        // Verify: some platforms (Wine) report success and make nothing.
        match dir.symlink_metadata(name) {
            Ok(meta) if meta.is_symlink() => {
                self.dirs.made_link(path);
                Ok(None)
            }
            Ok(_) => {
                let _ = remove_single(&dir, name);
                self.journal.forget_created(path);
                Ok(Some((
                    "the platform made something other than a symlink".to_owned(),
                    None,
                )))
            }
            Err(_) => {
                self.journal.forget_created(path);
                Ok(Some((
                    "the symlink did not appear although the platform reported success".to_owned(),
                    None,
                )))
            }
        }
    }

    /// What stands in for a link: a junction (Windows, directories, `auto` only), a copy of the
    /// already-extracted target, or nothing for a dangling or outside target. Always reported.
    fn link_fallback(
        &mut self,
        path: &str,
        resolved: Option<&str>,
        kind: LinkKind,
        replace: bool,
        reason: String,
        junction_allowed: bool,
    ) -> Result<Outcome, HostError> {
        platform::check_name(path)?;
        let from = match (kind, resolved) {
            (LinkKind::Missing, _) => {
                return Ok(symlink_degraded(
                    Fallback::Skipped,
                    &format!("{reason}; the target is not in the archive"),
                ));
            }
            (LinkKind::Outside, _) | (_, None) => {
                return Ok(symlink_degraded(
                    Fallback::Skipped,
                    &format!("{reason}; the target is outside the destination"),
                ));
            }
            (_, Some(from)) => from,
        };
        if kind == LinkKind::Dir {
            if is_within(path, from) {
                return Ok(symlink_degraded(
                    Fallback::Skipped,
                    &format!(
                        "{reason}; the link is inside the directory it points to, which cannot be copied into itself"
                    ),
                ));
            }
            if junction_allowed && cfg!(windows) {
                let target = self.dirs.root_path().join(native(from));
                let made = self.create_at(path, replace, "make the junction", |dir, name| {
                    platform::make_junction(dir, name, &target).map(|()| dir.symlink_metadata(name))
                });
                match made {
                    Ok((Ok(meta), _)) if meta.is_symlink() => {
                        self.dirs.made_link(path);
                        return Ok(symlink_degraded(Fallback::Junction, &reason));
                    }
                    Ok((_, dir)) => {
                        // Reported success, but no reparse point: the empty directory goes.
                        let _ = remove_single(&dir, split(path).1);
                        self.journal.forget_created(path);
                    }
                    Err(HostError::Io { .. }) => {}
                    Err(e) => return Err(e),
                }
                self.copy_tree_instead(path, from, replace)?;
                return Ok(symlink_degraded(
                    Fallback::Copy {
                        from: from.to_owned(),
                    },
                    &format!("{reason}; no junction either"),
                ));
            }
            self.copy_tree_instead(path, from, replace)?;
        } else {
            self.copy_file_instead(path, from, replace)?;
        }
        Ok(symlink_degraded(
            Fallback::Copy {
                from: from.to_owned(),
            },
            &reason,
        ))
    }

    fn copy_file_instead(
        &mut self,
        path: &str,
        from: &str,
        replace: bool,
    ) -> Result<(), HostError> {
        let (src_dir, src_name) = self.dirs.parent_of(from)?;
        let mut budget = Budget {
            left: self.budget.left,
        };
        let copied = self.create_at(path, replace, "copy", |dir, name| {
            tree::copy_file(
                &src_dir,
                OsStr::new(src_name),
                dir,
                OsStr::new(name),
                &mut budget,
            )
            .map_err(|e| match e {
                CopyError::Io(e) => e,
                CopyError::Budget => io::Error::new(io::ErrorKind::QuotaExceeded, "copy budget"),
            })
        });
        self.budget.left = budget.left;
        self.copy_result(copied.map(|_| ()), path, from)
    }

    fn copy_tree_instead(
        &mut self,
        path: &str,
        from: &str,
        replace: bool,
    ) -> Result<(), HostError> {
        let src = self.dirs.open(from)?;
        let creator = Arc::clone(&self.creator);
        let mut budget = Budget {
            left: self.budget.left,
        };
        let mut copy = TreeCopy::default();
        let copied = self.create_at(path, replace, "copy", |dir, name| {
            let result = tree::copy_tree(
                &src,
                dir,
                OsStr::new(name),
                &mut budget,
                creator.as_ref(),
                &mut copy,
            );
            result.map_err(|e| match e {
                CopyError::Io(e) => e,
                CopyError::Budget => io::Error::new(io::ErrorKind::QuotaExceeded, "copy budget"),
            })
        });
        self.budget.left = budget.left;
        self.copy_result(copied.map(|_| ()), path, from)
    }

    fn copy_result(
        &self,
        result: Result<(), HostError>,
        path: &str,
        from: &str,
    ) -> Result<(), HostError> {
        match result {
            Err(HostError::Io { source, .. }) if source.kind() == io::ErrorKind::QuotaExceeded => {
                Err(HostError::CopyLimit {
                    path: path.to_owned(),
                    from: from.to_owned(),
                    limit: self.options.max_copy_bytes,
                })
            }
            other => other,
        }
    }

    fn set_mode(&mut self, path: &str, mode: u32) -> Result<Outcome, HostError> {
        if self.preexisting.contains(path) {
            if !self.options.overwrite {
                return Ok(kept_existing(Effect::Mode));
            }
            let dir = self.dirs.open(path)?;
            let old = platform::dir_mode(&dir).map_err(|e| HostError::io("inspect", path, e))?;
            self.journal.record(Undo::DirMode {
                path: path.to_owned(),
                mode: old,
            });
        }
        let (dir, name) = self.dirs.parent_of(path)?;
        platform::set_dir_mode(&dir, OsStr::new(name), mode)
            .map_err(|e| HostError::io("set the mode of", path, e))
    }

    fn set_mtime(&mut self, path: &str, mtime: i64) -> Result<Outcome, HostError> {
        if self.preexisting.contains(path) && !self.options.overwrite {
            return Ok(kept_existing(Effect::Mtime));
        }
        let Some(time) = system_time(mtime) else {
            return Ok(mtime_out_of_range(mtime));
        };
        let (dir, name) = self.dirs.parent_of(path)?;
        if self.preexisting.contains(path) {
            let old = dir
                .symlink_metadata(name)
                .and_then(|m| m.modified())
                .map_err(|e| HostError::io("inspect", path, e))?;
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

impl Host for NativeHost<'_> {
    type Error = HostError;

    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, HostError> {
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

/// Removes one file, link or empty directory (never a tree: it may be a link's target).
fn remove_single(dir: &Dir, name: &str) -> io::Result<()> {
    dir.remove_file_or_symlink(name)
        .or_else(|_| dir.remove_dir(name))
}

fn symlink_degraded(fallback: Fallback, reason: &str) -> Outcome {
    Outcome::Degraded(Degradation {
        effect: Effect::Symlink,
        fallback,
        reason: reason.to_owned(),
    })
}

fn kept_existing(effect: Effect) -> Outcome {
    Outcome::Degraded(Degradation {
        effect,
        fallback: Fallback::Approximated("left as it was".to_owned()),
        reason: "the directory existed before; pass --overwrite to change it".to_owned(),
    })
}

fn mtime_out_of_range(mtime: i64) -> Outcome {
    Outcome::Degraded(Degradation {
        effect: Effect::Mtime,
        fallback: Fallback::Skipped,
        reason: format!("the time {mtime} cannot be represented here"),
    })
}

/// Seconds since the epoch as a `SystemTime`, when the platform can hold it.
fn system_time(secs: i64) -> Option<SystemTime> {
    if secs >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    }
}
