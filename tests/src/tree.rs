//! An extracted tree read back from disk, and its manifest text.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// What a profile can tell about permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modes {
    /// All of them (`0755`).
    Full,
    /// Only whether the owner may write (Windows' read-only attribute): `rw` or `r-`.
    OwnerWrite,
    /// None (WASI has no modes): `-`.
    None,
}

impl Modes {
    /// The manifest's form of a mode.
    pub fn show(self, mode: u32) -> String {
        match self {
            Modes::Full => format!("{:04o}", mode & 0o7777),
            Modes::OwnerWrite if mode & 0o200 != 0 => "rw".into(),
            Modes::OwnerWrite => "r-".into(),
            Modes::None => "-".into(),
        }
    }
}

/// One node of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A directory.
    Dir {
        /// Its mode, as the profile shows it.
        mode: String,
        /// Seconds since the epoch.
        mtime: i64,
    },
    /// A regular file.
    File {
        /// Its mode, as the profile shows it.
        mode: String,
        /// Bytes.
        size: u64,
        /// sha256 of the content, hex.
        sha256: String,
        /// Seconds since the epoch.
        mtime: i64,
    },
    /// A symlink.
    Link {
        /// The target as stored.
        target: String,
    },
    /// Anything else (a FIFO, a device).
    Other,
}

/// A tree: `/`-separated relative paths to nodes.
pub type Tree = BTreeMap<String, Node>;

/// Reads the tree below `root` (without following links).
pub fn read(root: &Path, modes: Modes) -> std::io::Result<Tree> {
    let mut tree = Tree::new();
    walk(root, "", modes, &mut tree)?;
    Ok(tree)
}

fn walk(dir: &Path, prefix: &str, modes: Modes, tree: &mut Tree) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path)?;
        let mode = mode_of(&meta);
        let mtime = mtime_of(&meta);
        let node = if meta.file_type().is_symlink() {
            Node::Link {
                target: std::fs::read_link(&path)?.to_string_lossy().into_owned(),
            }
        } else if meta.is_dir() {
            walk(&path, &rel, modes, tree)?;
            Node::Dir {
                mode: modes.show(mode),
                mtime,
            }
        } else if meta.is_file() {
            let (size, sha256) = hash_restricted(&path, mode)?;
            Node::File {
                mode: modes.show(mode),
                size,
                sha256,
                mtime,
            }
        } else {
            Node::Other
        };
        tree.insert(rel, node);
    }
    Ok(())
}

/// Size and sha256 of a file, streamed, even one extracted with mode 000 (CI runs as root,
/// a developer may not).
fn hash_restricted(path: &Path, mode: u32) -> std::io::Result<(u64, String)> {
    match hash(path) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            set_mode(path, mode | 0o400)?;
            let result = hash(path);
            set_mode(path, mode)?;
            result
        }
        other => other,
    }
}

fn hash(path: &Path) -> std::io::Result<(u64, String)> {
    use std::io::Read;
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    if meta.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

fn mtime_of(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The manifest lines of a tree, sorted by path.
pub fn manifest(tree: &Tree) -> String {
    let mut out = String::new();
    for (path, node) in tree {
        let _ = match node {
            Node::Dir { mode, mtime } => {
                writeln!(out, "dir  {mode:>4} {path}/ {}", show_mtime(*mtime))
            }
            Node::File {
                mode,
                size,
                sha256,
                mtime,
            } => writeln!(
                out,
                "file {mode:>4} {path} size={size} sha256={} {}",
                &sha256[..16],
                show_mtime(*mtime)
            ),
            Node::Link { target } => writeln!(out, "link      {path} -> {target}"),
            Node::Other => writeln!(out, "other     {path}"),
        };
    }
    out
}

/// Times from the last day (a directory the archive does not list gets the time it was made)
/// are shown as `mtime=now`, so goldens do not change from run to run.
fn show_mtime(mtime: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if mtime > now - 86_400 {
        "mtime=now".into()
    } else {
        format!("mtime={mtime}")
    }
}

/// Makes every directory below `root` writable again, so a tree with 0555 directories can be
/// removed.
#[cfg(unix)]
pub fn make_removable(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(root) else {
        return;
    };
    if meta.is_dir() {
        let _ = std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755));
        if let Ok(entries) = std::fs::read_dir(root) {
            for e in entries.flatten() {
                make_removable(&e.path());
            }
        }
    }
}

/// Makes every directory below `root` writable again (nothing to do off Unix).
#[cfg(not(unix))]
pub fn make_removable(_: &Path) {}
