// Tests read fixture files; the purity lints are for the library, not for its tests.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
// Needs every decoder (the default features).
#![cfg(all(feature = "bzip2", feature = "xz", feature = "zstd"))]

//! Conformance over other extractors' compressed test data (../shared/peer-suites): every
//! compressed tar (bzip2, xz, lzma, zstd, and the compressions uncork does not read: lz4, lzip,
//! lzop, compress, grzip, lrzip) and every zip using a method other than stored and deflate
//! either extracts fully into the reference host or fails with a typed error, never a panic.
//! The outcome of each is pinned in `compression_peer_expected.txt` beside this file, with a
//! digest of the extracted tree (regenerate with UPDATE_GOLDEN=1).

use std::fmt::Write as _;
use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;
use uncork_core::memhost::{MemHost, MemNode};
use uncork_core::{Options, Rule, RunError, extract};

fn peer_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peer-suites");
    assert!(
        root.is_dir(),
        "peer suites not found at {} (CI keeps shared/ beside the repo)",
        root.display()
    );
    root
}

/// libarchive's compressed tars (and single compressed files), by name.
fn is_compressed_tar(name: &str) -> bool {
    let compat = ["bzip2", "xz", "zstd", "lz4", "lzip", "lzop", "lzma"]
        .iter()
        .any(|c| name.starts_with(&format!("test_compat_{c}_")));
    compat
        || name.starts_with("test_read_filter_")
        || [
            ".tar.Z",
            ".pax.Z",
            ".tar.bz2",
            ".tar.xz",
            ".tar.lzma",
            ".tar.zst",
        ]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Zips whose entries use methods other than stored and deflate (or are encrypted with them).
fn is_method_zip(name: &str) -> bool {
    const ZIP2: [&str; 6] = [
        "deflate64.zip",
        "deflate64_issue_25.zip",
        "raw_deflate64_index_out_of_bounds.zip",
        "lzma.zip",
        "xz.zip",
        "ppmd.zip",
    ];
    ZIP2.contains(&name)
        || (name.starts_with("test_read_format_zip")
            && (name.ends_with(".zipx")
                || [
                    "bzip2",
                    "bz2",
                    "lzma",
                    "xz",
                    "zstd",
                    "ppmd",
                    "unsupported_compression",
                ]
                .iter()
                .any(|m| name.contains(m))))
}

fn peer_files() -> Vec<PathBuf> {
    let root = peer_root();
    let mut files = Vec::new();
    for (dir, pick) in [
        ("libarchive/decoded", is_compressed_tar as fn(&str) -> bool),
        ("libarchive/decoded", is_method_zip),
        ("zip2/tests/data", is_method_zip),
    ] {
        for entry in fs::read_dir(root.join(dir)).expect("peer suite folder") {
            let path = entry.expect("dir entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if pick(name) {
                files.push(path);
            }
        }
    }
    files.sort();
    files.dedup();
    files
}

/// A digest of the extracted tree: its manifest and every file's bytes (CRC-32, hex).
fn digest(host: &MemHost) -> String {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(host.manifest().as_bytes());
    for node in host.tree.values() {
        if let MemNode::File { data, .. } = node {
            hasher.update(data);
        }
    }
    format!("{:08x}", hasher.finalize())
}

/// What extracting one file gave: `ok entries=N files=N bytes=N tree=DIGEST`, or the error.
#[derive(Debug, Clone)]
struct Outcome {
    text: String,
    rule: Option<Rule>,
    tree: Option<String>,
}

fn extract_one(bytes: Vec<u8>) -> Outcome {
    let mut host = MemHost::default();
    match extract(Cursor::new(bytes), &Options::default(), &mut host) {
        Ok(r) => {
            let tree = digest(&host);
            Outcome {
                text: format!(
                    "ok entries={} files={} dirs={} symlinks={} bytes={} tree={tree}",
                    r.entries, r.files, r.dirs, r.symlinks, r.bytes
                ),
                rule: None,
                tree: Some(tree),
            }
        }
        Err(RunError::Host { source, .. }) => {
            panic!("the core broke its own order contract: {source}")
        }
        Err(RunError::Input(e)) => panic!("input error reading a file in memory: {e}"),
        Err(e) => Outcome {
            text: e.to_string(),
            rule: e.rule(),
            tree: None,
        },
    }
}

/// Extracts `path` on a thread: a panic or a hang (a minute) fails the test with the name.
fn outcome(path: &Path) -> Outcome {
    let bytes = fs::read(path).expect("read peer file");
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(extract_one(bytes));
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(o) => o,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{}: hangs", path.display()),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let _ = worker.join();
            panic!("{}: panicked", path.display())
        }
    }
}

fn name_of(path: &Path) -> String {
    let root = peer_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn peer_compressed_archives_extract_or_fail_typed() {
    let mut text = String::new();
    for file in peer_files() {
        let o = outcome(&file);
        let _ = writeln!(text, "{}: {}", name_of(&file), o.text);
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compression_peer_expected.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&golden, &text).expect("write golden");
        return;
    }
    let expected =
        fs::read_to_string(&golden).expect("golden file (run with UPDATE_GOLDEN=1 to create it)");
    assert_eq!(
        text, expected,
        "peer outcomes changed; review, then UPDATE_GOLDEN=1"
    );
}

/// libarchive's test_compat_* archives hold the same tar in every compression: each must
/// extract to exactly the tree the gzip one gives.
#[test]
fn every_compression_gives_the_gzip_tree() {
    let dir = peer_root().join("libarchive/decoded");
    let reference = outcome(&dir.join("test_compat_gzip_1.tgz"));
    let tree = reference.tree.expect("the gzip reference extracts");
    for name in [
        "test_compat_bzip2_1.tbz",
        "test_compat_xz_1.txz",
        "test_compat_zstd_1.tar.zst",
        "test_compat_zstd_2.tar.zst", // starts with a skippable frame
    ] {
        let o = outcome(&dir.join(name));
        assert_eq!(o.tree.as_deref(), Some(tree.as_str()), "{name}: {}", o.text);
    }
    // Data that is not bzip2 follows the stream (libarchive accepts it; uncork, as for gzip,
    // refuses what follows a compressed stream unless it is zero padding).
    let o = outcome(&dir.join("test_compat_bzip2_2.tbz"));
    assert_eq!(o.rule, Some(Rule::TrailingGarbage), "{}", o.text);
}

/// Compressions uncork does not read fail with `unsupported-compression`, naming the method.
#[test]
fn unread_compressions_are_named() {
    let dir = peer_root().join("libarchive/decoded");
    for (name, method) in [
        ("test_compat_lz4_1.tar.lz4", "lz4"),
        ("test_compat_lz4_3.tar.lz4", "lz4 (legacy)"),
        ("test_compat_lzip_1.tlz", "lzip"),
        ("test_compat_lzop_1.tar.lzo", "lzop"),
        ("test_compat_mac-1.tar.Z", "compress (.Z)"),
        ("test_read_filter_grzip.tar.grz", "grzip"),
        ("test_read_filter_lrzip.tar.lrz", "lrzip"),
    ] {
        let o = outcome(&dir.join(name));
        assert_eq!(
            o.rule,
            Some(Rule::UnsupportedCompression),
            "{name}: {}",
            o.text
        );
        assert!(
            o.text
                .contains(&format!("unsupported compression: {method}")),
            "{name}: {}",
            o.text
        );
    }
}
