//! Windows specifics: `CreateSymbolicLinkW` (verified afterwards), junctions, the read-only
//! attribute, and the names Windows cannot create.
//!
//! Files and directories are created through cap-std handles (`NtCreateFile` relative to the
//! parent directory's handle, so path length is not limited by `MAX_PATH`). Symlinks and
//! junctions need a full path: it is taken from the parent's handle with
//! `GetFinalPathNameByHandleW`, which yields the `\\?\` long-path form.

#![allow(unsafe_code)]

use crate::error::HostError;
use crate::options::SymlinkCreator;
use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, Metadata, OpenOptions};
use std::ffi::OsStr;
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::os::windows::io::AsRawHandle;
use std::path::{Path, PathBuf};
use uncork_core::{Degradation, Effect, Fallback, LinkKind, Outcome};
use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_INVALID_PARAMETER, ERROR_PRIVILEGE_NOT_HELD, GENERIC_WRITE, HANDLE,
    INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, CreateSymbolicLinkW, FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT,
    GetFinalPathNameByHandleW, OPEN_EXISTING, SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE,
    SYMBOLIC_LINK_FLAG_DIRECTORY,
};
use windows_sys::Win32::System::IO::DeviceIoControl;
use windows_sys::Win32::System::Ioctl::FSCTL_SET_REPARSE_POINT;

/// The platform's name in reports.
pub(crate) const NAME: &str = "windows";

const IO_REPARSE_TAG_MOUNT_POINT: u32 = 0xA000_0003;

/// Options for a new file: never an existing one, never through a link.
pub(crate) fn new_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options
        .write(true)
        .create_new(true)
        .follow(FollowSymlinks::No);
    options
}

/// The read-only attribute stands for a mode without owner write; nothing else of a mode
/// exists on Windows.
pub(crate) fn apply_file_mode(file: &std::fs::File, mode: u32) -> io::Result<Outcome> {
    if mode & 0o200 == 0 {
        let mut perms = file.metadata()?.permissions();
        perms.set_readonly(true);
        file.set_permissions(perms)?;
    }
    Ok(Outcome::Done)
}

/// Directories have no permission bits on Windows.
pub(crate) fn set_dir_mode(_parent: &Dir, _name: &OsStr, _mode: u32) -> io::Result<Outcome> {
    Ok(Outcome::Degraded(Degradation {
        effect: Effect::Mode,
        fallback: Fallback::Skipped,
        reason: "Windows directories have no permission bits".to_owned(),
    }))
}

/// The mode a copy of an existing file gets (only the read-only attribute carries over).
pub(crate) fn copy_mode(meta: &Metadata) -> u32 {
    if meta.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

/// Refuses names Windows cannot create (reserved device names, trailing dots and spaces,
/// `:<>"|?*`), whatever the policy.
pub(crate) fn check_name(path: &str) -> Result<(), HostError> {
    for component in path.split('/') {
        if let Some(rule) = uncork_core::path::windows_name_problem(component) {
            return Err(HostError::WindowsName {
                path: path.to_owned(),
                component: component.to_owned(),
                rule,
            });
        }
    }
    Ok(())
}

/// File identity is not compared on Windows (an open file cannot be moved there anyway).
pub(crate) fn identity(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

/// File identity is not compared on Windows.
pub(crate) fn path_identity(_path: &Path) -> Option<(u64, u64)> {
    None
}

/// Clears the read-only attribute of a file this run made, so it can be removed.
pub(crate) fn prepare_removal(
    parent: &Dir,
    name: &std::ffi::OsStr,
    is_dir: bool,
) -> io::Result<()> {
    let meta = parent.symlink_metadata(name)?;
    if !is_dir && meta.is_file() && meta.permissions().readonly() {
        let mut perms = meta.permissions();
        perms.set_readonly(false);
        parent.set_permissions(name, perms)?;
    }
    Ok(())
}

/// Why a symlink could not be made, in a few words.
pub(crate) fn failure_reason(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) if code == ERROR_PRIVILEGE_NOT_HELD as i32 => "no symlink privilege".to_owned(),
        _ => format!("symlinks are unavailable ({err})"),
    }
}

fn wide(s: &OsStr) -> Vec<u16> {
    s.encode_wide().chain(Some(0)).collect()
}

/// The full path of an open directory, in the `\\?\` form.
pub(crate) fn final_path(dir: &Dir) -> io::Result<PathBuf> {
    let handle = dir.as_raw_handle() as HANDLE;
    let mut buf = vec![0u16; 512];
    loop {
        // SAFETY: `handle` is a live handle owned by `dir`; `buf` is valid for `buf.len()` u16s.
        let n = unsafe { GetFinalPathNameByHandleW(handle, buf.as_mut_ptr(), buf.len() as u32, 0) }
            as usize;
        if n == 0 {
            return Err(io::Error::last_os_error());
        }
        if n < buf.len() {
            buf.truncate(n);
            return Ok(PathBuf::from(std::ffi::OsString::from_wide(&buf)));
        }
        buf.resize(n + 1, 0);
    }
}

/// `CreateSymbolicLinkW`, the unprivileged flag first, the kind from the core.
#[derive(Debug, Default)]
pub(crate) struct PlatformSymlinks;

impl SymlinkCreator for PlatformSymlinks {
    fn create(&self, parent: &Dir, name: &str, target: &str, kind: LinkKind) -> io::Result<()> {
        let link = wide(final_path(parent)?.join(name).as_os_str());
        let target = wide(OsStr::new(&target.replace('/', "\\")));
        let kind_flag = if kind == LinkKind::Dir {
            SYMBOLIC_LINK_FLAG_DIRECTORY
        } else {
            0
        };
        for flags in [
            kind_flag | SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE,
            kind_flag,
        ] {
            // SAFETY: both strings are NUL-terminated UTF-16 buffers that outlive the call.
            if unsafe { CreateSymbolicLinkW(link.as_ptr(), target.as_ptr(), flags) } {
                return Ok(());
            }
            let err = io::Error::last_os_error();
            // Windows before 10 1703 rejects the unprivileged flag itself.
            if err.raw_os_error() != Some(ERROR_INVALID_PARAMETER as i32) {
                return Err(err);
            }
        }
        Err(io::Error::last_os_error())
    }
}

/// Makes `name` in `parent` a junction to the absolute directory `target`. Undone (the empty
/// directory removed) when it fails.
pub(crate) fn make_junction(parent: &Dir, name: &str, target: &Path) -> io::Result<()> {
    parent.create_dir(name)?;
    let result = set_mount_point(parent, name, target);
    if result.is_err() {
        let _ = parent.remove_dir(name);
    }
    result
}

fn set_mount_point(parent: &Dir, name: &str, target: &Path) -> io::Result<()> {
    let full = wide(final_path(parent)?.join(name).as_os_str());
    let target = target.as_os_str().to_string_lossy();
    let plain = target.strip_prefix(r"\\?\").unwrap_or(&target);
    let substitute: Vec<u16> = OsStr::new(&format!(r"\??\{plain}")).encode_wide().collect();
    let print: Vec<u16> = OsStr::new(plain).encode_wide().collect();
    let path_bytes = (substitute.len() + 1 + print.len() + 1) * 2;
    let data_len = 8 + path_bytes;
    let mut buf: Vec<u8> = Vec::with_capacity(8 + data_len);
    buf.extend_from_slice(&IO_REPARSE_TAG_MOUNT_POINT.to_le_bytes());
    buf.extend_from_slice(
        &u16::try_from(data_len)
            .map_err(|_| too_long())?
            .to_le_bytes(),
    );
    buf.extend_from_slice(&0u16.to_le_bytes());
    buf.extend_from_slice(&0u16.to_le_bytes());
    buf.extend_from_slice(
        &u16::try_from(substitute.len() * 2)
            .map_err(|_| too_long())?
            .to_le_bytes(),
    );
    buf.extend_from_slice(
        &u16::try_from((substitute.len() + 1) * 2)
            .map_err(|_| too_long())?
            .to_le_bytes(),
    );
    buf.extend_from_slice(
        &u16::try_from(print.len() * 2)
            .map_err(|_| too_long())?
            .to_le_bytes(),
    );
    for unit in substitute.iter().chain(&[0]).chain(&print).chain(&[0]) {
        buf.extend_from_slice(&unit.to_le_bytes());
    }
    // SAFETY: `full` is a NUL-terminated UTF-16 path; the handle is closed below.
    let handle = unsafe {
        CreateFileW(
            full.as_ptr(),
            GENERIC_WRITE,
            0,
            std::ptr::null(),
            OPEN_EXISTING,
            FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS,
            std::ptr::null_mut(),
        )
    };
    if handle == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    let mut returned = 0u32;
    // SAFETY: `buf` holds a complete REPARSE_DATA_BUFFER of `buf.len()` bytes; no output buffer.
    let ok = unsafe {
        DeviceIoControl(
            handle,
            FSCTL_SET_REPARSE_POINT,
            buf.as_ptr().cast(),
            buf.len() as u32,
            std::ptr::null_mut(),
            0,
            &mut returned,
            std::ptr::null_mut(),
        )
    };
    let err = io::Error::last_os_error();
    // SAFETY: `handle` was opened above and is closed exactly once.
    unsafe { CloseHandle(handle) };
    if ok == 0 { Err(err) } else { Ok(()) }
}

fn too_long() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the junction target is too long",
    )
}
