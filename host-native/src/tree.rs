//! Copying an extracted file or directory in place of a link, never following a symlink.
//!
//! Copies are bounded: every byte of file data and every entry a copy makes (a file, a
//! directory, a link) is taken from one [`Budget`], so links to links to directories cannot
//! multiply a small archive into a full disk (bytes) or a full inode table (entries). A
//! directory's entries are classified with `lstat` when the listing does not say what they are
//! (FUSE, some NFS, XFS without `ftype`), so a copy never comes out empty without a word; a
//! link inside a copied directory is made again only where it cannot reach out of the copy.

use crate::options::SymlinkCreator;
use crate::platform;
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, SystemTimeSpec};
use cap_std::fs::{Dir, OpenOptions};
use std::ffi::OsStr;
use std::fs::FileTimes;
use std::io;
use uncork_core::LinkKind;

/// Why a copy stopped.
#[derive(Debug)]
pub(crate) enum CopyError {
    /// The file system said no.
    Io(io::Error),
    /// The copy budget is spent.
    Budget,
}

impl From<io::Error> for CopyError {
    fn from(err: io::Error) -> Self {
        CopyError::Io(err)
    }
}

/// What copies in place of links may still make: bytes of file data, and entries (every file,
/// directory and link a copy makes), so that a few links to directories holding links cannot
/// multiply into millions of inodes. The CLI gives the policy's total-size and entry limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub(crate) left: u64,
    pub(crate) entries_left: u64,
}

impl Budget {
    fn take(&mut self, bytes: u64) -> Result<(), CopyError> {
        self.left = self.left.checked_sub(bytes).ok_or(CopyError::Budget)?;
        Ok(())
    }

    /// One more entry (a file, a directory or a link) made by a copy.
    fn take_entry(&mut self) -> Result<(), CopyError> {
        self.entries_left = self.entries_left.checked_sub(1).ok_or(CopyError::Budget)?;
        Ok(())
    }
}

/// Copies the regular file `src_name` of `src` to a new file `dst_name` of `dst`, with its
/// mode (as far as the platform has one) and mtime. Returns the bytes copied.
pub(crate) fn copy_file(
    src: &Dir,
    src_name: &OsStr,
    dst: &Dir,
    dst_name: &OsStr,
    budget: &mut Budget,
) -> Result<u64, CopyError> {
    let mut options = OpenOptions::new();
    options.read(true).follow(FollowSymlinks::No);
    let from = src.open_with(src_name, &options)?;
    let meta = from.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file").into());
    }
    budget.take_entry()?;
    budget.take(meta.len())?;
    let to = dst
        .open_with(dst_name, &platform::new_file_options())?
        .into_std();
    let result = fill_copy(from.into_std(), &to, &meta);
    if result.is_err() {
        // Leave nothing half-copied behind (the file was created just above).
        drop(to);
        let _ = platform::prepare_removal(dst, dst_name, false);
        let _ = dst.remove_file(dst_name);
    }
    result
}

fn fill_copy(
    mut from: std::fs::File,
    to: &std::fs::File,
    meta: &cap_std::fs::Metadata,
) -> Result<u64, CopyError> {
    let mut writer = io::BufWriter::with_capacity(crate::host::WRITE_BUFFER, to);
    let copied = io::copy(&mut from, &mut writer)?;
    if copied != meta.len() {
        // The file changed under the copy: what was counted is not what was written.
        return Err(io::Error::other(format!(
            "the file changed while it was copied ({} bytes expected, {copied} read)",
            meta.len()
        ))
        .into());
    }
    writer
        .into_inner()
        .map_err(io::IntoInnerError::into_error)?;
    if let Ok(modified) = meta.modified() {
        to.set_times(FileTimes::new().set_modified(modified.into_std()))?;
    }
    platform::apply_file_mode(to, platform::copy_mode(meta))?;
    Ok(copied)
}

/// What a tree copy made, and what it could not reproduce.
#[derive(Debug, Default)]
pub(crate) struct TreeCopy {
    /// Entries inside the tree that were not made again: links that could reach out of the
    /// copy or that the platform refused, and special files.
    pub(crate) links_dropped: u64,
    /// Bytes of file data copied.
    pub(crate) bytes: u64,
    /// Entries made (the top directory included).
    pub(crate) entries: u64,
}

/// What an entry of a directory being copied is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A directory (never a link to one).
    Dir,
    /// A regular file.
    File,
    /// A symlink (or, on Windows, a junction).
    Link,
    /// A FIFO, socket or device.
    Special,
}

impl EntryKind {
    fn of(kind: cap_std::fs::FileType) -> Option<EntryKind> {
        if kind.is_symlink() {
            Some(EntryKind::Link)
        } else if kind.is_dir() {
            Some(EntryKind::Dir)
        } else if kind.is_file() {
            Some(EntryKind::File)
        } else {
            None
        }
    }
}

/// The entries of `dir`, each with what it is: the listing's type where it gives one, else the
/// entry's own `lstat` (a listing on FUSE, some NFS or XFS without `ftype` says "unknown" for
/// every entry). Never follows a link.
pub(crate) fn list(dir: &Dir) -> io::Result<Vec<(std::ffi::OsString, EntryKind)>> {
    let mut out = Vec::new();
    for entry in dir.entries()? {
        let entry = entry?;
        let name = entry.file_name();
        let listed = entry.file_type().ok().and_then(EntryKind::of);
        let kind = match listed {
            Some(kind) => kind,
            None => classify(dir, &name)?,
        };
        out.push((name, kind));
    }
    Ok(out)
}

/// What `name` in `dir` is, by `lstat` (never following a link).
pub(crate) fn classify(dir: &Dir, name: &OsStr) -> io::Result<EntryKind> {
    let meta = dir.symlink_metadata(name)?;
    Ok(EntryKind::of(meta.file_type()).unwrap_or(EntryKind::Special))
}

/// Copies the directory `src` to a new directory `dst_name` of `dst_parent`: files and
/// directories with their modes and mtimes; links inside it are made again as links (never
/// followed) where they stay inside the copy, or counted as dropped. Fails, leaving nothing,
/// when the budget runs out or an entry cannot be read or classified.
pub(crate) fn copy_tree(
    src: &Dir,
    dst_parent: &Dir,
    dst_name: &OsStr,
    budget: &mut Budget,
    creator: &dyn SymlinkCreator,
    result: &mut TreeCopy,
) -> Result<(), CopyError> {
    copy_tree_at(src, dst_parent, dst_name, 0, budget, creator, result)
}

fn copy_tree_at(
    src: &Dir,
    dst_parent: &Dir,
    dst_name: &OsStr,
    depth: usize,
    budget: &mut Budget,
    creator: &dyn SymlinkCreator,
    result: &mut TreeCopy,
) -> Result<(), CopyError> {
    budget.take_entry()?;
    dst_parent.create_dir(dst_name)?;
    result.entries += 1;
    let filled = fill_tree(src, dst_parent, dst_name, depth, budget, creator, result);
    if filled.is_err() {
        // Leave nothing half-copied behind (the directory was created just above).
        let _ = crate::removal::remove_tree(dst_parent, dst_name);
    }
    filled
}

fn fill_tree(
    src: &Dir,
    dst_parent: &Dir,
    dst_name: &OsStr,
    depth: usize,
    budget: &mut Budget,
    creator: &dyn SymlinkCreator,
    result: &mut TreeCopy,
) -> Result<(), CopyError> {
    let dst = dst_parent.open_dir_nofollow(dst_name)?;
    for (name, kind) in list(src)? {
        match kind {
            EntryKind::Link => {
                budget.take_entry()?;
                let target = src.read_link_contents(&name)?;
                let link_kind = if src.metadata(&name).is_ok_and(|m| m.is_dir()) {
                    LinkKind::Dir
                } else {
                    LinkKind::File
                };
                let made = match (name.to_str(), target.to_str()) {
                    (Some(n), Some(t)) if uncork_core::path::target_stays_inside_copy(t, depth) => {
                        creator.create(&dst, n, t, link_kind).is_ok()
                            && dst.symlink_metadata(n).is_ok_and(|m| m.is_symlink())
                    }
                    _ => false,
                };
                if made {
                    result.entries += 1;
                } else {
                    result.links_dropped += 1;
                }
            }
            EntryKind::Dir => {
                let sub = src.open_dir_nofollow(&name)?;
                copy_tree_at(&sub, &dst, &name, depth + 1, budget, creator, result)?;
            }
            EntryKind::File => {
                result.bytes += copy_file(src, &name, &dst, &name, budget)?;
                result.entries += 1;
            }
            EntryKind::Special => result.links_dropped += 1,
        }
    }
    drop(dst);
    let meta = src.dir_metadata()?;
    platform::set_dir_mode(dst_parent, dst_name, platform_dir_mode(&meta))?;
    if let Ok(modified) = meta.modified() {
        dst_parent.set_symlink_times(dst_name, None, Some(SystemTimeSpec::Absolute(modified)))?;
    }
    Ok(())
}

#[cfg(unix)]
fn platform_dir_mode(meta: &cap_std::fs::Metadata) -> u32 {
    use cap_std::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(windows)]
fn platform_dir_mode(_meta: &cap_std::fs::Metadata) -> u32 {
    0o755
}
