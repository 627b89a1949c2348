//! Unix specifics: exact modes through file descriptors, `symlinkat`, file identity.

use crate::error::HostError;
use crate::options::SymlinkCreator;
use cap_std::fs::{Dir, Metadata, OpenOptions, OpenOptionsExt, PermissionsExt};
use std::ffi::OsStr;
use std::io;
use uncork_core::{LinkKind, Outcome};

/// The platform's name in reports.
pub(crate) const NAME: &str = "unix";

/// Options for a new file: never an existing one, never through a link, owner-only until its
/// final mode is set (after the data is written).
pub(crate) fn new_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true).mode(0o600);
    options
}

/// Sets a written file's exact mode (the umask plays no part: `fchmod`). A filesystem without
/// Unix modes (FAT, some FUSE mounts) makes it a reported degradation, not a failed run.
pub(crate) fn apply_file_mode(file: &std::fs::File, mode: u32) -> io::Result<Outcome> {
    use std::os::unix::fs::PermissionsExt as _;
    match file.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777)) {
        Ok(()) => Ok(Outcome::Done),
        Err(e) if cannot_hold(&e) => Ok(not_held(uncork_core::Effect::Mode, "modes")),
        Err(e) => Err(e),
    }
}

/// Whether the filesystem says it cannot hold what was asked (as opposed to a real failure).
pub(crate) fn cannot_hold(err: &io::Error) -> bool {
    use rustix::io::Errno;
    err.raw_os_error().is_some_and(|code| {
        [Errno::NOSYS, Errno::OPNOTSUPP, Errno::NOTSUP, Errno::PERM]
            .iter()
            .any(|e| e.raw_os_error() == code)
    })
}

/// The degradation for a mode or a time the filesystem cannot hold.
pub(crate) fn not_held(effect: uncork_core::Effect, what: &str) -> Outcome {
    Outcome::Degraded(uncork_core::Degradation {
        effect,
        fallback: uncork_core::Fallback::Skipped,
        reason: format!("the filesystem does not hold Unix {what}"),
    })
}

/// Sets the exact mode of the directory `name` in `parent`: opened with `O_NOFOLLOW`, then
/// `fchmod` (a symlink is never followed, and never chmodded).
pub(crate) fn set_dir_mode(parent: &Dir, name: &OsStr, mode: u32) -> io::Result<Outcome> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let dir = rustix::fs::openat(parent, name, flags, Mode::empty())?;
    match rustix::fs::fchmod(&dir, Mode::from_raw_mode(mode & 0o7777)) {
        Ok(()) => Ok(Outcome::Done),
        Err(e) if cannot_hold(&e.into()) => Ok(not_held(uncork_core::Effect::Mode, "modes")),
        Err(e) => Err(e.into()),
    }
}

/// The permission bits of an existing file, to give a copy the same.
pub(crate) fn copy_mode(meta: &Metadata) -> u32 {
    meta.permissions().mode() & 0o7777
}

/// Every name can be created on Unix.
pub(crate) fn check_name(_path: &str) -> Result<(), HostError> {
    Ok(())
}

/// Device and inode, to recognise a file that must not be touched.
pub(crate) fn identity(meta: &Metadata) -> Option<(u64, u64)> {
    use cap_fs_ext::MetadataExt as _;
    Some((meta.dev(), meta.ino()))
}

/// Device and inode of a path named by the caller.
pub(crate) fn path_identity(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Nothing to prepare on Unix: removal gives a directory back its owner's bits through its
/// own handle (`removal`), never by path.
pub(crate) fn prepare_removal(_parent: &Dir, _name: &OsStr, _is_dir: bool) -> io::Result<()> {
    Ok(())
}

/// Why a symlink could not be made, in a few words.
pub(crate) fn failure_reason(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(libc_eperm) if libc_eperm == rustix::io::Errno::PERM.raw_os_error() => {
            "the filesystem does not support symlinks".to_owned()
        }
        _ => format!("symlinks are unavailable ({err})"),
    }
}

/// Unix has no junctions.
pub(crate) fn make_junction(
    _parent: &Dir,
    _name: &str,
    _target: &std::path::Path,
) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "junctions exist only on Windows",
    ))
}

/// `symlinkat`: the target is stored as the archive wrote it, never resolved.
#[derive(Debug, Default)]
pub(crate) struct PlatformSymlinks;

impl SymlinkCreator for PlatformSymlinks {
    fn create(&self, parent: &Dir, name: &str, target: &str, _kind: LinkKind) -> io::Result<()> {
        parent.symlink_contents(target, name)
    }
}
