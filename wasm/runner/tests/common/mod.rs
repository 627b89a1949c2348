//! What the runner's tests share: a tree read back from disk, and the native core's tree for
//! the same archive (its in-memory reference host) in the same terms.

// Each test binary compiles this module for itself and uses only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use uncork_core::memhost::{MemHost, MemNode};
use uncork_core::policy::Preset;
use uncork_core::{Options, Policy};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether the host under test can set permission bits (Node can, WASI has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modes {
    Compared,
    Ignored,
}

/// A node of an extracted tree; modes are `None` when [`Modes::Ignored`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir(Option<u32>),
    File(Option<u32>, Vec<u8>),
    Link(String),
}

impl Modes {
    fn keep(self, mode: u32) -> Option<u32> {
        (self == Modes::Compared).then_some(mode & 0o7777)
    }
}

/// Everything below `root`, by relative path; links are read, never followed.
pub fn disk_tree(root: &Path, modes: Modes) -> BTreeMap<String, Node> {
    let mut tree = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = modes.keep(meta.permissions().mode());
            let node = if meta.file_type().is_symlink() {
                Node::Link(
                    std::fs::read_link(&path)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                )
            } else if meta.is_dir() {
                stack.push(path.clone());
                Node::Dir(mode)
            } else {
                Node::File(mode, std::fs::read(&path).unwrap())
            };
            tree.insert(rel, node);
        }
    }
    tree
}

/// The native core's tree for `archive` under `preset`.
pub fn native_tree(archive: &[u8], preset: Preset, modes: Modes) -> BTreeMap<String, Node> {
    let mut host = MemHost::default();
    let options = Options {
        policy: Policy::preset(preset),
        ..Options::default()
    };
    uncork_core::extract(Cursor::new(archive), &options, &mut host).unwrap();
    host.tree
        .into_iter()
        .map(|(path, node)| {
            let node = match node {
                MemNode::Dir { mode, .. } => Node::Dir(modes.keep(mode)),
                MemNode::File { data, mode, .. } => Node::File(modes.keep(mode), data),
                MemNode::Symlink { target, .. } => Node::Link(target),
            };
            (path, node)
        })
        .collect()
}

/// A tar refused at its last entry (`link-outside-root`) after two directories and two files
/// were written: what a failed run must take away again.
pub fn refused_after_writing() -> Vec<u8> {
    uncork_core::testkit::tar(&[
        ("top/", b'5', "", b"", 0o755),
        ("top/sub/one.txt", b'0', "", b"one", 0o644),
        ("top/two.txt", b'0', "", b"two", 0o644),
        ("top/evil", b'2', "../../etc/passwd", b"", 0o777),
    ])
}

/// The names directly in `dir`.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Makes the directory `path` with an mtime long past, and returns that mtime.
pub fn old_dir(path: &Path) -> std::time::SystemTime {
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    std::fs::create_dir(path).unwrap();
    std::fs::File::open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
    when
}

/// The mtime of `path` (not following a link).
pub fn mtime(path: &Path) -> std::time::SystemTime {
    std::fs::symlink_metadata(path).unwrap().modified().unwrap()
}
