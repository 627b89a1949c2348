//! Whole trees: removing what this run made, copying an extracted directory in place of a link.
//! Neither ever follows a symlink.

use crate::options::SymlinkCreator;
use crate::platform;
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, SystemTimeSpec};
use cap_std::fs::{Dir, OpenOptions};
use std::ffi::OsStr;
use std::fs::FileTimes;
use std::io;
use uncork_core::LinkKind;

/// Removes `name` in `parent`: a file or link, or a directory with everything in it. Links are
/// removed, never followed. Only for trees this run made.
pub(crate) fn remove_tree(parent: &Dir, name: &OsStr) -> io::Result<()> {
    let meta = parent.symlink_metadata(name)?;
    if meta.is_dir() && !meta.is_symlink() {
        platform::prepare_removal(parent, name, true)?;
        {
            let dir = parent.open_dir_nofollow(name)?;
            for entry in dir.entries()? {
                remove_tree(&dir, &entry?.file_name())?;
            }
        }
        parent.remove_dir(name)
    } else {
        platform::prepare_removal(parent, name, false)?;
        parent.remove_file_or_symlink(name)
    }
}

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

/// What copies may still write.
#[derive(Debug)]
pub(crate) struct Budget {
    pub(crate) left: u64,
}

impl Budget {
    fn take(&mut self, bytes: u64) -> Result<(), CopyError> {
        self.left = self.left.checked_sub(bytes).ok_or(CopyError::Budget)?;
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
    writer
        .into_inner()
        .map_err(io::IntoInnerError::into_error)?;
    if let Ok(modified) = meta.modified() {
        to.set_times(FileTimes::new().set_modified(modified.into_std()))?;
    }
    platform::apply_file_mode(to, platform::copy_mode(meta))?;
    Ok(copied)
}

/// What a tree copy could not reproduce.
#[derive(Debug, Default)]
pub(crate) struct TreeCopy {
    /// Links inside the tree that could not be made again.
    pub(crate) links_dropped: u64,
    /// Bytes of file data copied.
    pub(crate) bytes: u64,
}

/// Copies the directory `src` to a new directory `dst_name` of `dst_parent`: files and
/// directories with their modes and mtimes; links inside it are made again as links (never
/// followed), or counted as dropped.
pub(crate) fn copy_tree(
    src: &Dir,
    dst_parent: &Dir,
    dst_name: &OsStr,
    budget: &mut Budget,
    creator: &dyn SymlinkCreator,
    result: &mut TreeCopy,
) -> Result<(), CopyError> {
    dst_parent.create_dir(dst_name)?;
    let filled = fill_tree(src, dst_parent, dst_name, budget, creator, result);
    if filled.is_err() {
        // Leave nothing half-copied behind (the directory was created just above).
        let _ = remove_tree(dst_parent, dst_name);
    }
    filled
}

fn fill_tree(
    src: &Dir,
    dst_parent: &Dir,
    dst_name: &OsStr,
    budget: &mut Budget,
    creator: &dyn SymlinkCreator,
    result: &mut TreeCopy,
) -> Result<(), CopyError> {
    let dst = dst_parent.open_dir_nofollow(dst_name)?;
    for entry in src.entries()? {
        let entry = entry?;
        let name = entry.file_name();
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            let target = src.read_link_contents(&name)?;
            let link_kind = if src.metadata(&name).is_ok_and(|m| m.is_dir()) {
                LinkKind::Dir
            } else {
                LinkKind::File
            };
            let made = match (name.to_str(), target.to_str()) {
                (Some(n), Some(t)) => {
                    creator.create(&dst, n, t, link_kind).is_ok()
                        && dst.symlink_metadata(n).is_ok_and(|m| m.is_symlink())
                }
                _ => false,
            };
            if !made {
                result.links_dropped += 1;
            }
        } else if kind.is_dir() {
            let sub = src.open_dir_nofollow(&name)?;
            copy_tree(&sub, &dst, &name, budget, creator, result)?;
        } else if kind.is_file() {
            result.bytes += copy_file(src, &name, &dst, &name, budget)?;
        } else {
            result.links_dropped += 1;
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
