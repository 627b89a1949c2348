// Tests read fixture files; the purity lints are for the library, not for its tests.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

//! Conformance over other extractors' tar test data (../shared/peer-suites): every file either
//! extracts fully into the reference host or fails with a typed error; the outcome of each is
//! pinned in `tar_peer_expected.txt` beside this file (regenerate with UPDATE_GOLDEN=1).

use std::fmt::Write as _;
use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use uncork_core::memhost::MemHost;
use uncork_core::{Options, Policy, Preset, RunError, extract};

fn peer_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peer-suites");
    assert!(
        root.is_dir(),
        "peer suites not found at {} (CI keeps shared/ beside the repo)",
        root.display()
    );
    root
}

fn tar_files() -> Vec<PathBuf> {
    let root = peer_root();
    let mut files = Vec::new();
    for dir in [
        "tar-rs/tests/archives",
        "tar-split/archive/tar/testdata",
        "tar-split/tar/asm/testdata",
        "libarchive/decoded",
    ] {
        for entry in fs::read_dir(root.join(dir)).expect("peer suite folder") {
            let path = entry.expect("dir entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            let is_tar =
                name.ends_with(".tar") || name.ends_with(".tar.gz") || name.ends_with(".tgz");
            if is_tar && !name.contains("zip") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// One line per file: `name: ok entries=N files=N dirs=N symlinks=N hardlinks=N bytes=N` or
/// `name: <rule>: <detail> (at <location>)`.
fn outcome(path: &Path, policy: &Policy) -> String {
    let bytes = fs::read(path).expect("read peer file");
    let mut host = MemHost::default();
    let options = Options {
        policy: policy.clone(),
        ..Options::default()
    };
    match extract(Cursor::new(bytes), &options, &mut host) {
        Ok(r) => format!(
            "ok entries={} files={} dirs={} symlinks={} hardlinks={} bytes={} skipped={}",
            r.entries,
            r.files,
            r.dirs,
            r.symlinks,
            r.hard_links,
            r.bytes,
            r.skipped.len()
        ),
        Err(RunError::Host { source, .. }) => panic!(
            "{}: the core broke its own order contract: {source}",
            path.display()
        ),
        Err(RunError::Input(e)) => panic!(
            "{}: input error reading a file in memory: {e}",
            path.display()
        ),
        Err(e) => e.to_string(),
    }
}

#[test]
fn peer_tar_archives_extract_or_fail_typed() {
    let root = peer_root();
    let mut text = String::new();
    for preset in [Preset::Data, Preset::Tar] {
        let policy = Policy::preset(preset);
        for file in tar_files() {
            let name = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            let _ = writeln!(text, "{preset} {name}: {}", outcome(&file, &policy));
        }
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tar_peer_expected.txt");
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
