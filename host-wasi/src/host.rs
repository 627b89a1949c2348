//! The WASI host: carries the core's actions out below a directory descriptor with
//! wasi:filesystem 0.2, never following a symlink.
//!
//! - Every path is opened relative to the destination's descriptor with no `symlink-follow`
//!   flag, and files are created with `exclusive`: nothing that already exists (a file, a
//!   dangling link) is ever opened for writing; an entry the archive itself replaces is
//!   unlinked first. Intermediate components are directories this run made or checked (the
//!   core makes every parent, explicitly, before anything inside it, and every symlink after
//!   every file), so no write goes through a link.
//! - Symlinks: `symlink-at` with the target as the archive wrote it. Where the runtime refuses
//!   (an absolute target, a runtime without symlinks), a copy of the already-extracted target,
//!   reported as a degradation.
//! - Modes do not exist in WASI 0.2: each one is answered `mode → not applied`, which the
//!   report counts (`modes_not_applied`). Mtimes are set with `set-times`.

use crate::created::Created;
use std::collections::HashSet;
use std::fmt;
use uncork_core::action::{Action, Degradation, Effect, Fallback, Host, LinkKind, Outcome};
use wasi::filesystem::types::{
    Datetime, Descriptor, DescriptorFlags, DescriptorType, ErrorCode, NewTimestamp, OpenFlags,
    PathFlags,
};

/// How symlinks of the archive are made (the same names as the native CLI's `--symlinks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SymlinkMode {
    /// `symlink-at`, else a copy of the already-extracted target, reported.
    #[default]
    Auto,
    /// `symlink-at`, or an error.
    Native,
    /// Always a copy of the already-extracted target, reported.
    Copy,
    /// No link at all, reported.
    Skip,
    /// Refuse the archive at its first symlink.
    Error,
}

impl SymlinkMode {
    /// Parses the CLI's spelling.
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "auto" => SymlinkMode::Auto,
            "native" => SymlinkMode::Native,
            "copy" => SymlinkMode::Copy,
            "skip" => SymlinkMode::Skip,
            "error" => SymlinkMode::Error,
            _ => {
                return Err(format!(
                    "unknown symlink mode '{s}' (expected auto, native, copy, skip or error)"
                ));
            }
        })
    }
}

/// Why the WASI host could not carry out an action.
#[derive(Debug)]
pub struct HostError(pub String);

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostError {}

fn fail(what: &str, path: &str, e: ErrorCode) -> HostError {
    HostError(format!("{what} '{path}': {}", e.message()))
}

/// The file being written.
struct Current {
    file: Descriptor,
    /// Offset of the next byte.
    offset: u64,
    path: String,
    /// Set when the data is complete (writing would move it again).
    mtime: Option<i64>,
}

/// The WASI host over one destination directory.
pub struct WasiHost<'d> {
    root: &'d Descriptor,
    symlinks: SymlinkMode,
    /// The file being written.
    current: Option<Current>,
    /// What copies in place of links took so far (bytes of data, and [`ENTRY_COST`] for
    /// every entry they made), and the most allowed.
    copied: u64,
    max_copy_bytes: u64,
    /// What this run created, in order, so that a failed run can remove it again and leave
    /// the destination as it was: only what is not inside a directory this run made (such a
    /// directory goes whole). So the list grows with what an archive adds to directories that
    /// were there before, not with every entry.
    created: Created,
    /// Directories that were there before, with their mtimes, restored by `undo`.
    existing: Vec<(String, Option<Datetime>)>,
    /// The directories this run made, `""` for the root when the run made it: what is inside
    /// them is not listed in `created`.
    made_dirs: HashSet<String>,
    /// The paths in `existing`, looked up at once when a directory is met again.
    found_dirs: HashSet<String>,
}

impl fmt::Debug for WasiHost<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WasiHost")
            .field("symlinks", &self.symlinks)
            .field("copied", &self.copied)
            .finish_non_exhaustive()
    }
}

/// Size of the chunks a copy reads.
const COPY_CHUNK: u64 = 256 * 1024;

/// What one entry a copy makes (a file, a directory, a link) takes from the copy budget, on
/// top of a file's data (the JavaScript sink's number too), so that the default budget (16 GiB)
/// allows about a million entries, the default entry limit, and links to links to directories
/// cannot fill a disk's inodes. The native host counts entries against the entry limit itself
/// (`host-native/src/tree.rs`); one rule for every host is the decision-layer issue's work.
const ENTRY_COST: u64 = 16 * 1024;

fn no_follow() -> PathFlags {
    PathFlags::empty()
}

fn timestamp(mtime: i64) -> NewTimestamp {
    NewTimestamp::Timestamp(Datetime {
        seconds: mtime.max(0) as u64,
        nanoseconds: 0,
    })
}

fn mode_not_applied() -> Outcome {
    Outcome::Degraded(Degradation {
        effect: Effect::Mode,
        fallback: Fallback::Skipped,
        reason: "WASI has no modes".into(),
    })
}

impl<'d> WasiHost<'d> {
    /// A host writing below `root`; `fresh` when this run made `root` (so that it was empty).
    pub fn new(
        root: &'d Descriptor,
        fresh: bool,
        symlinks: SymlinkMode,
        max_copy_bytes: u64,
    ) -> Self {
        WasiHost {
            root,
            symlinks,
            current: None,
            copied: 0,
            max_copy_bytes,
            created: Created::default(),
            existing: Vec::new(),
            made_dirs: if fresh {
                HashSet::from([String::new()])
            } else {
                HashSet::new()
            },
            found_dirs: HashSet::new(),
        }
    }

    /// Removes what this run created, newest first (a directory it made goes with all inside
    /// it). Called after a failed extraction; what cannot be removed is returned, by path.
    pub fn undo(&mut self) -> Vec<String> {
        // A file being written is closed first.
        self.current = None;
        let mut left = Vec::new();
        if self.made_dirs.contains("") {
            // The root is this run's: all below it goes (the caller removes the root).
            remove_contents(self.root, "", &mut left);
        }
        let created = std::mem::take(&mut self.created);
        for (path, is_dir) in created.newest_first() {
            let result = if is_dir {
                remove_tree(self.root, path, path, &mut left)
            } else {
                self.root.unlink_file_at(path)
            };
            match result {
                Ok(()) | Err(ErrorCode::NoEntry) => {}
                Err(e) => left.push(format!("{path} ({})", e.message())),
            }
        }
        for (path, mtime) in self.existing.drain(..) {
            if let Some(mtime) = mtime {
                let when = NewTimestamp::Timestamp(mtime);
                if let Err(e) = self.root.set_times_at(no_follow(), &path, when, when) {
                    left.push(format!("{path} (times: {})", e.message()));
                }
            }
        }
        left
    }

    /// Notes that this run created `path` (a directory if `is_dir`), for `undo`.
    fn record(&mut self, path: &str, is_dir: bool) {
        let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
        let inside_made = self.made_dirs.contains(parent);
        if is_dir {
            self.made_dirs.insert(path.to_owned());
        }
        if !inside_made {
            self.created.push(path, is_dir);
        }
    }

    /// Removes an earlier entry of this archive at `path` (a file or a link, never followed).
    fn remove(&self, path: &str) -> Result<(), HostError> {
        match self.root.unlink_file_at(path) {
            Ok(()) | Err(ErrorCode::NoEntry) => Ok(()),
            Err(e) => Err(fail("cannot remove", path, e)),
        }
    }

    fn make_dir(&mut self, path: &str, replace: bool) -> Result<(), HostError> {
        if replace {
            self.remove(path)?;
        }
        match self.root.create_directory_at(path) {
            Ok(()) => {
                self.record(path, true);
                Ok(())
            }
            Err(ErrorCode::Exist) => {
                // Already there: fine if it is a real directory, never if it is a link.
                let stat = self
                    .root
                    .stat_at(no_follow(), path)
                    .map_err(|e| fail("cannot inspect", path, e))?;
                match stat.type_ {
                    DescriptorType::Directory => {
                        // One this run did not make, met for the first time, was there before:
                        // its mtime is restored by `undo`.
                        if !self.made_dirs.contains(path) && self.found_dirs.insert(path.to_owned())
                        {
                            self.existing
                                .push((path.to_owned(), stat.data_modification_timestamp));
                        }
                        Ok(())
                    }
                    DescriptorType::SymbolicLink => Err(HostError(format!(
                        "'{path}' already exists in the destination as a symlink; uncork does not write through it"
                    ))),
                    _ => Err(HostError(format!(
                        "'{path}' already exists in the destination and is not a directory"
                    ))),
                }
            }
            Err(e) => Err(fail("cannot create directory", path, e)),
        }
    }

    /// Creates a new file (never opening anything that exists).
    fn create_file(&mut self, path: &str) -> Result<Descriptor, HostError> {
        let file = self
            .root
            .open_at(
                no_follow(),
                path,
                OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
                DescriptorFlags::WRITE,
            )
            .map_err(|e| match e {
                ErrorCode::Exist => HostError(format!(
                    "'{path}' already exists in the destination; uncork never overwrites"
                )),
                e => fail("cannot create", path, e),
            })?;
        self.record(path, false);
        Ok(file)
    }

    fn write_all(
        file: &Descriptor,
        mut data: &[u8],
        offset: &mut u64,
        path: &str,
    ) -> Result<(), HostError> {
        while !data.is_empty() {
            let n = file
                .write(data, *offset)
                .map_err(|e| fail("cannot write", path, e))?;
            if n == 0 {
                return Err(HostError(format!("cannot write '{path}': no progress")));
            }
            *offset += n;
            data = &data[n as usize..];
        }
        Ok(())
    }

    /// Takes `amount` from the copy budget, or fails when it is spent.
    fn charge(&mut self, amount: u64) -> Result<(), HostError> {
        self.copied = self.copied.saturating_add(amount);
        if self.copied > self.max_copy_bytes {
            return Err(HostError(format!(
                "copies in place of links exceed {} bytes (--max-copy-bytes; every file, directory and link a copy makes counts {ENTRY_COST} bytes besides its data)",
                self.max_copy_bytes
            )));
        }
        Ok(())
    }

    /// Copies the already-extracted file `from` to the new file `to`.
    fn copy_file(&mut self, from: &str, to: &str) -> Result<(), HostError> {
        let src = self
            .root
            .open_at(no_follow(), from, OpenFlags::empty(), DescriptorFlags::READ)
            .map_err(|e| fail("cannot open", from, e))?;
        self.charge(ENTRY_COST)?;
        let dst = self.create_file(to)?;
        let mut offset = 0u64;
        loop {
            let (data, end) = src
                .read(COPY_CHUNK, offset)
                .map_err(|e| fail("cannot read", from, e))?;
            self.charge(data.len() as u64)?;
            let mut at = offset;
            Self::write_all(&dst, &data, &mut at, to)?;
            offset = at;
            if end || data.is_empty() {
                break;
            }
        }
        if let Ok(stat) = src.stat()
            && let Some(mtime) = stat.data_modification_timestamp
        {
            let _ = dst.set_times(NewTimestamp::NoChange, NewTimestamp::Timestamp(mtime));
        }
        Ok(())
    }

    /// Copies the already-extracted directory tree `from` to `to` (`depth` directories below
    /// the top of the copy). Links inside it (made earlier: the core orders them first) are
    /// copied as links where the runtime allows and they cannot reach out of the copy; returns
    /// how many entries were left out (such links, special files).
    fn copy_tree(&mut self, from: &str, to: &str, depth: usize) -> Result<u64, HostError> {
        self.charge(ENTRY_COST)?;
        self.make_dir(to, false)?;
        let mut dropped = 0;
        let dir = if from.is_empty() {
            None
        } else {
            Some(
                self.root
                    .open_at(
                        no_follow(),
                        from,
                        OpenFlags::DIRECTORY,
                        DescriptorFlags::READ,
                    )
                    .map_err(|e| fail("cannot open", from, e))?,
            )
        };
        let entries = dir
            .as_ref()
            .unwrap_or(self.root)
            .read_directory()
            .map_err(|e| fail("cannot list", from, e))?;
        let mut children = Vec::new();
        while let Some(entry) = entries
            .read_directory_entry()
            .map_err(|e| fail("cannot list", from, e))?
        {
            children.push(entry);
        }
        children.sort_by(|a, b| a.name.cmp(&b.name));
        let join = |base: &str, name: &str| {
            if base.is_empty() {
                name.to_owned()
            } else {
                format!("{base}/{name}")
            }
        };
        for child in children {
            let src = join(from, &child.name);
            let dst = join(to, &child.name);
            if src == to {
                continue; // copying a directory into itself: the link's own place
            }
            // Some filesystems do not tell the type in a listing: ask, never following a
            // link (else every entry would be left out and the copy come out empty).
            let kind = match child.type_ {
                DescriptorType::Unknown => {
                    self.root
                        .stat_at(no_follow(), &src)
                        .map_err(|e| fail("cannot inspect", &src, e))?
                        .type_
                }
                kind => kind,
            };
            match kind {
                DescriptorType::Directory => dropped += self.copy_tree(&src, &dst, depth + 1)?,
                DescriptorType::RegularFile => self.copy_file(&src, &dst)?,
                DescriptorType::SymbolicLink => {
                    self.charge(ENTRY_COST)?;
                    let target = self
                        .root
                        .readlink_at(&src)
                        .map_err(|e| fail("cannot read the link", &src, e))?;
                    if uncork_core::path::target_stays_inside_copy(&target, depth)
                        && self.root.symlink_at(&target, &dst).is_ok()
                    {
                        self.record(&dst, false);
                    } else {
                        dropped += 1;
                    }
                }
                _ => dropped += 1,
            }
        }
        Ok(dropped)
    }

    /// The copy fallback for a symlink at `path` resolving to `resolved` of `kind`.
    fn copy_for_link(
        &mut self,
        path: &str,
        resolved: Option<&str>,
        kind: LinkKind,
        reason: String,
    ) -> Result<Outcome, HostError> {
        let from = match (resolved, kind) {
            (Some(from), LinkKind::File | LinkKind::Dir) => from,
            _ => {
                return Ok(Outcome::Degraded(Degradation {
                    effect: Effect::Symlink,
                    fallback: Fallback::Skipped,
                    reason: format!("{reason}; its target is {}, nothing to copy", kind.name()),
                }));
            }
        };
        let dropped = if kind == LinkKind::Dir {
            self.copy_tree(from, path, 0)?
        } else {
            self.copy_file(from, path)?;
            0
        };
        let reason = match dropped {
            0 => reason,
            1 => format!(
                "{reason}; 1 link or special file inside it was not copied (a link is kept only where it cannot reach out of the copy)"
            ),
            n => format!(
                "{reason}; {n} links or special files inside it were not copied (a link is kept only where it cannot reach out of the copy)"
            ),
        };
        Ok(Outcome::Degraded(Degradation {
            effect: Effect::Symlink,
            fallback: Fallback::Copy {
                from: from.to_owned(),
            },
            reason,
        }))
    }

    fn symlink(
        &mut self,
        path: &str,
        target: &str,
        resolved: Option<&str>,
        kind: LinkKind,
    ) -> Result<Outcome, HostError> {
        match self.symlinks {
            SymlinkMode::Skip => Ok(Outcome::Degraded(Degradation {
                effect: Effect::Symlink,
                fallback: Fallback::Skipped,
                reason: "--symlinks skip".into(),
            })),
            SymlinkMode::Error => Err(HostError(format!(
                "'{path}' is a symlink and --symlinks error refuses symlinks"
            ))),
            SymlinkMode::Copy => self.copy_for_link(path, resolved, kind, "--symlinks copy".into()),
            SymlinkMode::Native => {
                self.root
                    .symlink_at(target, path)
                    .map_err(|e| fail("cannot make symlink", path, e))?;
                self.record(path, false);
                Ok(Outcome::Done)
            }
            SymlinkMode::Auto => match self.root.symlink_at(target, path) {
                Ok(()) => {
                    self.record(path, false);
                    Ok(Outcome::Done)
                }
                Err(ErrorCode::Exist) => Err(HostError(format!(
                    "'{path}' already exists in the destination; uncork never overwrites"
                ))),
                Err(e) => self.copy_for_link(
                    path,
                    resolved,
                    kind,
                    format!("the WASI runtime refused the symlink: {}", e.message()),
                ),
            },
        }
    }
}

/// Removes everything below `dir` (whose path is `at`), never following a link; what cannot be
/// removed goes to `left`.
fn remove_contents(dir: &Descriptor, at: &str, left: &mut Vec<String>) {
    let mut children = Vec::new();
    match dir.read_directory() {
        Ok(entries) => loop {
            match entries.read_directory_entry() {
                Ok(Some(entry)) => children.push(entry),
                Ok(None) => break,
                Err(e) => {
                    left.push(format!("{at} (listing: {})", e.message()));
                    break;
                }
            }
        },
        Err(e) => left.push(format!("{at} (listing: {})", e.message())),
    }
    for child in children {
        let path = if at.is_empty() {
            child.name.clone()
        } else {
            format!("{at}/{}", child.name)
        };
        // Some filesystems do not tell the type in a listing: ask, never following a link.
        let kind = match child.type_ {
            DescriptorType::Unknown => dir
                .stat_at(no_follow(), &child.name)
                .map_or(DescriptorType::Unknown, |stat| stat.type_),
            kind => kind,
        };
        let result = if kind == DescriptorType::Directory {
            remove_tree(dir, &child.name, &path, left)
        } else {
            dir.unlink_file_at(&child.name)
        };
        match result {
            Ok(()) | Err(ErrorCode::NoEntry) => {}
            Err(e) => left.push(format!("{path} ({})", e.message())),
        }
    }
}

/// Removes the directory `name` in `parent` (whose path is `at`) with everything in it, never
/// following a link; what cannot be removed inside it goes to `left`.
fn remove_tree(
    parent: &Descriptor,
    name: &str,
    at: &str,
    left: &mut Vec<String>,
) -> Result<(), ErrorCode> {
    match parent.open_at(
        no_follow(),
        name,
        OpenFlags::DIRECTORY,
        DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY,
    ) {
        Ok(dir) => remove_contents(&dir, at, left),
        Err(ErrorCode::NoEntry) => return Ok(()),
        Err(e) => left.push(format!("{at} ({})", e.message())),
    }
    parent.remove_directory_at(name)
}

impl Host for WasiHost<'_> {
    type Error = HostError;

    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, HostError> {
        match *action {
            Action::MakeDir { path, replace } => {
                self.make_dir(path, replace)?;
                Ok(Outcome::Done)
            }
            Action::BeginFile {
                path,
                mtime,
                replace,
                ..
            } => {
                if replace {
                    self.remove(path)?;
                }
                let file = self.create_file(path)?;
                self.current = Some(Current {
                    file,
                    offset: 0,
                    path: path.to_owned(),
                    mtime,
                });
                Ok(mode_not_applied())
            }
            Action::FileData { data } => {
                let Some(cur) = &mut self.current else {
                    return Err(HostError("file data outside a file".into()));
                };
                Self::write_all(&cur.file, data, &mut cur.offset, &cur.path)?;
                Ok(Outcome::Done)
            }
            Action::EndFile => {
                let Some(cur) = self.current.take() else {
                    return Err(HostError("end of a file never begun".into()));
                };
                if let Some(mtime) = cur.mtime {
                    cur.file
                        .set_times(NewTimestamp::NoChange, timestamp(mtime))
                        .map_err(|e| fail("cannot set the mtime of", &cur.path, e))?;
                }
                Ok(Outcome::Done)
            }
            Action::HardLink {
                path,
                target,
                replace,
            } => {
                if replace {
                    self.remove(path)?;
                }
                match self.root.link_at(no_follow(), target, self.root, path) {
                    Ok(()) => {
                        self.record(path, false);
                        Ok(Outcome::Done)
                    }
                    Err(ErrorCode::Exist) => Err(HostError(format!(
                        "'{path}' already exists in the destination; uncork never overwrites"
                    ))),
                    Err(e) => {
                        self.copy_file(target, path)?;
                        Ok(Outcome::Degraded(Degradation {
                            effect: Effect::HardLink,
                            fallback: Fallback::Copy {
                                from: target.to_owned(),
                            },
                            reason: format!(
                                "the WASI runtime refused the hard link: {}",
                                e.message()
                            ),
                        }))
                    }
                }
            }
            Action::Symlink {
                path,
                target,
                resolved,
                kind,
                replace,
            } => {
                if replace {
                    self.remove(path)?;
                }
                self.symlink(path, target, resolved, kind)
            }
            Action::SetMode { .. } => Ok(mode_not_applied()),
            Action::SetMtime { path, mtime } => {
                self.root
                    .set_times_at(no_follow(), path, NewTimestamp::NoChange, timestamp(mtime))
                    .map_err(|e| fail("cannot set the mtime of", path, e))?;
                Ok(Outcome::Done)
            }
            Action::Skip { .. } => Ok(Outcome::Done),
        }
    }
}
