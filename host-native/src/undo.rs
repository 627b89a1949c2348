//! The primitives committing and undoing a run need, each on a handle or an `*at` call with
//! no symlink followed: set a directory's mtime through its handle, rename without replacing,
//! lock a destination against a second run.

use cap_std::fs::{Dir, Metadata};
use std::ffi::OsStr;
use std::io;
use std::time::SystemTime;

/// Whether this process may set the times of the file `meta` describes (its owner, or root).
#[cfg(unix)]
pub(crate) fn may_set_times(meta: &Metadata) -> bool {
    let euid = rustix::process::geteuid();
    euid.is_root() || cap_std::fs::MetadataExt::uid(meta) == euid.as_raw()
}

#[cfg(windows)]
pub(crate) fn may_set_times(_meta: &Metadata) -> bool {
    true
}

/// The permission bits `meta` shows, where the platform has them.
#[cfg(unix)]
pub(crate) fn mode_of(meta: &Metadata) -> Option<u32> {
    use cap_std::fs::PermissionsExt;
    Some(meta.permissions().mode() & 0o7777)
}

#[cfg(windows)]
pub(crate) fn mode_of(_meta: &Metadata) -> Option<u32> {
    None
}

/// Sets the mtime of the directory `dir` refers to (through its handle: a link that now stands
/// at its path is not followed, nor is the link a trusted directory was reached through).
#[cfg(unix)]
pub(crate) fn set_dir_mtime(dir: &Dir, mtime: SystemTime) -> io::Result<()> {
    use rustix::fs::{Timespec, Timestamps, UTIME_OMIT};
    let since = |t: SystemTime| -> Timespec {
        match t.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => Timespec {
                tv_sec: d.as_secs() as _,
                tv_nsec: d.subsec_nanos() as _,
            },
            Err(before) => {
                let d = before.duration();
                let (mut secs, mut nanos) = (-(d.as_secs() as i64), -(d.subsec_nanos() as i64));
                if nanos < 0 {
                    secs -= 1;
                    nanos += 1_000_000_000;
                }
                Timespec {
                    tv_sec: secs as _,
                    tv_nsec: nanos as _,
                }
            }
        }
    };
    let times = Timestamps {
        last_access: Timespec {
            tv_sec: 0,
            tv_nsec: UTIME_OMIT as _,
        },
        last_modification: since(mtime),
    };
    // cap-std's directory handles may be `O_PATH`, which `futimens` refuses; the handle's
    // /proc/self/fd entry names exactly its inode.
    let proc_path = format!("/proc/self/fd/{}", rustix::fd::AsRawFd::as_raw_fd(dir));
    rustix::fs::utimensat(
        rustix::fs::CWD,
        proc_path.as_str(),
        &times,
        rustix::fs::AtFlags::empty(),
    )?;
    Ok(())
}

#[cfg(windows)]
pub(crate) fn set_dir_mtime(dir: &Dir, mtime: SystemTime) -> io::Result<()> {
    use cap_fs_ext::{DirExt, SystemTimeSpec};
    dir.set_symlink_times(
        ".",
        None,
        Some(SystemTimeSpec::Absolute(
            cap_std::time::SystemTime::from_std(mtime),
        )),
    )
}

/// Renames `from` in `dir` to `to` in `to_dir`, failing with `AlreadyExists` if `to` exists
/// (`renameat2(RENAME_NOREPLACE)` where the kernel and filesystem have it, so that two runs
/// committing one destination cannot both win).
pub(crate) fn rename_noreplace(
    dir: &Dir,
    from: &OsStr,
    to_dir: &Dir,
    to: &OsStr,
) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::RenameFlags;
        match rustix::fs::renameat_with(dir, from, to_dir, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::INVAL) | Err(rustix::io::Errno::NOSYS) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Without the flag: look, then rename (a narrow window remains).
    match to_dir.symlink_metadata(to) {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the destination appeared during the extraction",
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => dir.rename(from, to_dir, to),
        Err(e) => Err(e),
    }
}

/// A held advisory lock; released when dropped.
#[derive(Debug)]
pub(crate) struct Lock {
    #[cfg(unix)]
    _fd: rustix::fd::OwnedFd,
}

/// Takes an exclusive advisory lock on the directory `dir` without waiting: `None` when
/// another process holds it. Windows: no lock is taken (always `Some`).
#[cfg(unix)]
pub(crate) fn try_lock(dir: &Dir) -> io::Result<Option<Lock>> {
    use rustix::fs::{FlockOperation, Mode, OFlags};
    // A handle of its own (cap-std's may be `O_PATH`, which flock refuses).
    let fd = rustix::fs::openat(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(Lock { _fd: fd })),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        // A filesystem without locks (some network mounts): run unlocked rather than not at all.
        Err(rustix::io::Errno::NOLCK) | Err(rustix::io::Errno::OPNOTSUPP) => {
            Ok(Some(Lock { _fd: fd }))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(windows)]
pub(crate) fn try_lock(_dir: &Dir) -> io::Result<Option<Lock>> {
    Ok(Some(Lock {}))
}
