//! Helpers shared by the integration tests: archives built in code, the `uncork` command, and
//! snapshots of directory trees (to prove a failed run changed nothing).
#![allow(dead_code)]

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use uncork_core::testkit;

pub const FILE: u8 = b'0';
pub const HARDLINK: u8 = b'1';
pub const SYMLINK: u8 = b'2';
pub const DIR: u8 = b'5';

/// A ustar archive: `(name, type flag, link target, data, mode)`.
pub fn tar(entries: &[(&str, u8, &str, &[u8], u32)]) -> Vec<u8> {
    testkit::tar(entries)
}

/// gzip-compressed bytes.
pub fn gz(data: &[u8]) -> Vec<u8> {
    testkit::gzip(data)
}

/// What a zip entry is.
pub enum Z<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Link(&'a str, &'a str),
}

/// A zip archive (stored, with Unix modes).
pub fn zip(entries: &[Z<'_>]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let base = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for entry in entries {
        match *entry {
            Z::File(name, data, mode) => {
                writer
                    .start_file(name, base.unix_permissions(mode))
                    .unwrap();
                writer.write_all(data).unwrap();
            }
            Z::Dir(name) => writer
                .add_directory(name, base.unix_permissions(0o755))
                .unwrap(),
            Z::Link(name, target) => writer
                .add_symlink(name, target, base.unix_permissions(0o777))
                .unwrap(),
        }
    }
    writer.finish().unwrap().into_inner()
}

/// The founding case, built in code: `README` (a link to `README.md`) stored before its target.
pub fn founding_tar() -> Vec<u8> {
    tar(&[
        ("pgpdump-1.5/", DIR, "", b"", 0o755),
        ("pgpdump-1.5/README", SYMLINK, "README.md", b"", 0o777),
        ("pgpdump-1.5/README.md", FILE, "", b"# pgpdump\n", 0o644),
        (
            "pgpdump-1.5/setup.py",
            FILE,
            "",
            b"from setuptools import setup\n",
            0o644,
        ),
        ("pgpdump-1.5/bin/pgpdump", FILE, "", b"#!/bin/sh\n", 0o755),
    ])
}

/// The repository's example archives.
pub fn example(name: &str) -> PathBuf {
    absolute(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("examples")
            .join(name),
    )
}

/// A build-time path made absolute for this process (under Wine, `/x` means the current
/// drive's `\\x`, and a child process may run on another drive).
fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `uncork` executable built for these tests.
pub fn uncork_exe() -> PathBuf {
    absolute(Path::new(env!("CARGO_BIN_EXE_uncork")))
}

/// A scratch directory with the archive written into it as `name`.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `bytes` as `name` (outside the extraction destinations used by the tests).
    pub fn archive(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// A path below the scratch directory.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }
}

/// The `uncork` binary, run in `cwd`.
pub fn uncork(cwd: &Path) -> Command {
    // Not `Command::cargo_bin`: it would prefix the cross-test runner (wine) inside Wine.
    let mut cmd = Command::new(uncork_exe());
    cmd.current_dir(cwd);
    cmd
}

/// Every entry below `root`: kind, size, permissions, mtime, content or link target. Two equal
/// snapshots mean nothing observable changed.
pub fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let meta = std::fs::symlink_metadata(dir).unwrap();
    let rel = dir
        .strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/");
    out.insert(
        format!("{rel}/"),
        format!("dir {} {:?}", perms(&meta), meta.modified().ok()),
    );
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if meta.file_type().is_symlink() {
            out.insert(
                rel,
                format!("link -> {}", std::fs::read_link(&path).unwrap().display()),
            );
        } else if meta.is_dir() {
            walk(root, &path, out);
        } else {
            let data = std::fs::read(&path).unwrap();
            out.insert(
                rel,
                format!(
                    "file {} {:?} {}",
                    perms(&meta),
                    meta.modified().ok(),
                    String::from_utf8_lossy(&data)
                ),
            );
        }
    }
}

#[cfg(unix)]
fn perms(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::PermissionsExt;
    format!("{:o}", meta.permissions().mode() & 0o7777)
}

#[cfg(windows)]
fn perms(meta: &std::fs::Metadata) -> String {
    if meta.permissions().readonly() {
        "ro".to_owned()
    } else {
        "rw".to_owned()
    }
}

/// Names in `dir` (to find leftovers such as staging directories).
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The Unix permission bits of a path (not following links).
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

/// A file's content as text.
pub fn read(path: &Path) -> String {
    String::from_utf8(std::fs::read(path).unwrap()).unwrap()
}

/// Whether this Windows process runs under Wine (ntdll exports `wine_get_version`).
#[cfg(windows)]
pub fn running_under_wine() -> bool {
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
    let ntdll: Vec<u16> = "ntdll.dll".encode_utf16().chain(Some(0)).collect();
    // SAFETY: a NUL-terminated module name; ntdll is always loaded; the name is NUL-terminated.
    unsafe {
        let module = GetModuleHandleW(ntdll.as_ptr());
        !module.is_null() && GetProcAddress(module, c"wine_get_version".as_ptr().cast()).is_some()
    }
}

/// Never on Unix.
#[cfg(not(windows))]
pub fn running_under_wine() -> bool {
    false
}
