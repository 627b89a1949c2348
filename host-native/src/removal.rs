//! Removing what this run made, never following a symlink and never acting on a path resolved
//! a second time.
//!
//! On Unix every directory is opened `O_NOFOLLOW | O_DIRECTORY` relative to its parent's handle
//! and made removable with `fchmod` on that handle: a directory swapped for a symlink during
//! the run (by another user who can rename entries in the destination) is unlinked as a link,
//! and what it points at is never touched. With a [`Scope::Made`] set, only entries whose
//! identity (device and inode) the run recorded are removed; anything else is left in place and
//! listed in [`Leftovers`].

use std::collections::HashSet;
use std::ffi::OsStr;
use std::io;

use cap_std::fs::Dir;

/// A file's identity: device and inode (Unix), volume serial and file index (Windows).
pub(crate) type Identity = (u64, u64);

/// What a removal may take.
#[derive(Clone, Copy)]
pub(crate) enum Scope<'s> {
    /// Everything below the name (a staging directory: only this run writes there).
    Everything,
    /// Only entries whose identity is in the set; the rest is left and reported.
    Made(&'s HashSet<Identity>),
}

impl Scope<'_> {
    fn owns(&self, id: Option<Identity>) -> bool {
        match self {
            Scope::Everything => true,
            // Without an identity (a platform that gives none) the journal's word is all there is.
            Scope::Made(set) => id.is_none_or(|id| set.contains(&id)),
        }
    }
}

/// Entries a removal left because the run did not make them.
#[derive(Debug, Default)]
pub(crate) struct Leftovers {
    /// The first few, as paths relative to the destination.
    pub(crate) paths: Vec<String>,
    /// How many in all.
    pub(crate) count: u64,
}

impl Leftovers {
    const KEPT: usize = 8;

    pub(crate) fn add(&mut self, path: String) {
        self.count += 1;
        if self.paths.len() < Self::KEPT {
            self.paths.push(path);
        }
    }
}

/// Removes `name` in `parent`: a file or link, or a directory with everything in it that
/// `scope` allows (a directory that keeps something foreign stays too). Links are removed,
/// never followed.
/// `display` is its path as reported (relative to the destination).
pub(crate) fn remove_scoped(
    parent: &Dir,
    name: &OsStr,
    display: &str,
    scope: Scope<'_>,
    left: &mut Leftovers,
) -> io::Result<()> {
    imp::remove(parent, name, display, scope, left)
}

/// Removes what `scope` allows in the directory `dir` (at `display`); false when something
/// foreign stays in it (and so must the directory).
fn remove_contents(
    dir: &Dir,
    display: &str,
    scope: Scope<'_>,
    left: &mut Leftovers,
) -> io::Result<bool> {
    let before = left.count;
    for entry in dir.entries()? {
        let child = entry?.file_name();
        let child_display = format!("{display}/{}", child.to_string_lossy());
        imp::remove(dir, &child, &child_display, scope, left)?;
    }
    Ok(left.count == before)
}

/// Removes `name` in `parent` with everything in it (a tree only this run wrote into).
pub(crate) fn remove_tree(parent: &Dir, name: &OsStr) -> io::Result<()> {
    let mut left = Leftovers::default();
    remove_scoped(
        parent,
        name,
        &name.to_string_lossy(),
        Scope::Everything,
        &mut left,
    )
}

#[cfg(unix)]
mod imp {
    use super::{Leftovers, Scope};
    use rustix::fs::{AtFlags, Mode, OFlags};
    use rustix::io::Errno;
    use std::ffi::OsStr;
    use std::io;

    use cap_std::fs::Dir;

    // The fields' types differ between Unix systems.
    #[allow(clippy::unnecessary_cast)]
    fn identity(stat: &rustix::fs::Stat) -> super::Identity {
        (stat.st_dev as u64, stat.st_ino as u64)
    }

    pub(super) fn remove(
        parent: &Dir,
        name: &OsStr,
        display: &str,
        scope: Scope<'_>,
        left: &mut Leftovers,
    ) -> io::Result<()> {
        let dir = match open_dir_nofollow(parent, name, scope)? {
            Opened::Dir(dir) => dir,
            Opened::Foreign => {
                left.add(display.to_owned());
                return Ok(());
            }
            // Not a directory (or no longer there): a file or a link, unlinked by name.
            Opened::NotADir => {
                let stat = match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(stat) => stat,
                    Err(Errno::NOENT) => return Ok(()),
                    Err(e) => return Err(e.into()),
                };
                if !scope.owns(Some(identity(&stat))) {
                    left.add(display.to_owned());
                    return Ok(());
                }
                return match rustix::fs::unlinkat(parent, name, AtFlags::empty()) {
                    Ok(()) | Err(Errno::NOENT) => Ok(()),
                    // Swapped for a directory since: that directory is not ours.
                    Err(Errno::ISDIR) | Err(Errno::PERM) if is_dir_now(parent, name) => {
                        left.add(display.to_owned());
                        Ok(())
                    }
                    Err(e) => Err(e.into()),
                };
            }
        };
        let dir = Dir::from_std_file(std::fs::File::from(dir));
        let emptied = super::remove_contents(&dir, display, scope, left)?;
        drop(dir);
        if !emptied {
            // Something foreign stays inside: so does the directory.
            return Ok(());
        }
        match rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            // Something was added meanwhile, or the name now holds something else: leave it.
            Err(Errno::NOTEMPTY) | Err(Errno::EXIST) | Err(Errno::NOTDIR) => {
                left.add(display.to_owned());
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    fn is_dir_now(parent: &Dir, name: &OsStr) -> bool {
        rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|s| rustix::fs::FileType::from_raw_mode(s.st_mode).is_dir())
    }

    enum Opened {
        Dir(rustix::fd::OwnedFd),
        /// A directory the run did not make: left untouched, its mode too.
        Foreign,
        NotADir,
    }

    /// Opens the directory `name` for reading without following a symlink and, if `scope`
    /// owns it, gives its owner read, write and search through the handle where its final mode
    /// took them away.
    fn open_dir_nofollow(parent: &Dir, name: &OsStr, scope: Scope<'_>) -> io::Result<Opened> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::openat(parent, name, flags, Mode::empty()) {
            Ok(fd) => {
                let stat = rustix::fs::fstat(&fd)?;
                if !scope.owns(Some(identity(&stat))) {
                    return Ok(Opened::Foreign);
                }
                if stat.st_mode & 0o700 != 0o700 {
                    rustix::fs::fchmod(&fd, Mode::from_raw_mode((stat.st_mode | 0o700) & 0o7777))?;
                }
                Ok(Opened::Dir(fd))
            }
            Err(Errno::NOTDIR) | Err(Errno::LOOP) | Err(Errno::NOENT) => Ok(Opened::NotADir),
            Err(Errno::ACCESS) => open_unreadable_dir(parent, name, flags, scope),
            Err(e) => Err(e.into()),
        }
    }

    /// A directory its owner cannot read (mode 0o000 from the archive): opened as a path
    /// (`O_PATH`, no permission needed, still `O_NOFOLLOW`), given owner rwx through that very
    /// inode, then opened for reading and checked to be the same inode.
    fn open_unreadable_dir(
        parent: &Dir,
        name: &OsStr,
        flags: OFlags,
        scope: Scope<'_>,
    ) -> io::Result<Opened> {
        let path_flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let handle = rustix::fs::openat(parent, name, path_flags, Mode::empty())?;
        let stat = rustix::fs::fstat(&handle)?;
        if !scope.owns(Some(identity(&stat))) {
            return Ok(Opened::Foreign);
        }
        // fchmod refuses an O_PATH descriptor; /proc/self/fd/N names exactly this inode.
        let proc_path = format!("/proc/self/fd/{}", rustix::fd::AsRawFd::as_raw_fd(&handle));
        rustix::fs::chmod(
            proc_path.as_str(),
            Mode::from_raw_mode((stat.st_mode | 0o700) & 0o7777),
        )?;
        let fd = rustix::fs::openat(parent, name, flags, Mode::empty())?;
        let again = rustix::fs::fstat(&fd)?;
        if identity(&again) != identity(&stat) {
            return Ok(Opened::Foreign);
        }
        Ok(Opened::Dir(fd))
    }
}

#[cfg(windows)]
mod imp {
    use super::{Leftovers, Scope};
    use crate::platform;
    use cap_fs_ext::DirExt;
    use cap_std::fs::Dir;
    use std::ffi::OsStr;
    use std::io;

    pub(super) fn remove(
        parent: &Dir,
        name: &OsStr,
        display: &str,
        scope: Scope<'_>,
        left: &mut Leftovers,
    ) -> io::Result<()> {
        let meta = match parent.symlink_metadata(name) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if !scope.owns(platform::identity(&meta)) {
            left.add(display.to_owned());
            return Ok(());
        }
        if meta.is_dir() && !meta.is_symlink() {
            let dir = parent.open_dir_nofollow(name)?;
            let emptied = super::remove_contents(&dir, display, scope, left)?;
            // Closed before the removal (Windows refuses to remove an open directory).
            drop(dir);
            if !emptied {
                return Ok(());
            }
            parent.remove_dir(name)
        } else {
            platform::prepare_removal(parent, name, false)?;
            parent.remove_file_or_symlink(name)
        }
    }
}
