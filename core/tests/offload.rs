//! A host that takes every file's data (`Host::take_data`) and decodes it with its own reader
//! on the archive gets the same tree, the same report and the same error as the core decoding
//! it itself: on every zip of the peer suites, under the default limits and under limits tight
//! enough to stop many of them part-way (entry size and total; ratio).

// A test harness, not the core: it reads the peer files from disk.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use uncork_core::memhost::MemHost;
use uncork_core::testkit::{extract_taking, outcome_text};
use uncork_core::{Limits, Options, Policy, extract};

fn peer_zips() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peer-suites");
    let mut out = Vec::new();
    let mut stack = vec![
        root.join("zip2/tests/data"),
        root.join("libarchive/decoded"),
    ];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("peer suites beside the workspace") {
            let path = entry.expect("dir entry").path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_lowercase();
            if path.is_dir() {
                stack.push(path);
            } else if name.contains("zip") || name.ends_with(".jar") {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(out.len() > 80, "found only {} peer zips", out.len());
    out
}

/// Both ways under `limits`; returns the files taken.
fn compare(path: &Path, limits: &Limits) -> usize {
    let options = Options {
        policy: Policy {
            limits: limits.clone(),
            ..Policy::default()
        },
        ..Options::default()
    };
    let bytes = std::fs::read(path).expect("peer zip reads");
    let mut alone = MemHost::default();
    let result = extract(Cursor::new(&bytes), &options, &mut alone);
    let expected = outcome_text(&result, &alone);
    let (result, taking, taken) = extract_taking(&bytes, &options);
    assert_eq!(
        outcome_text(&result, &taking),
        expected,
        "{}",
        path.display()
    );
    taken
}

#[test]
fn taken_data_gives_what_the_core_gives() {
    let sizes = Limits {
        max_entry_bytes: 3000,
        max_total_bytes: 20_000,
        ..Limits::default()
    };
    let ratio = Limits {
        max_ratio: 3,
        ratio_grace_bytes: 0,
        ..Limits::default()
    };
    let (mut taken, mut zips) = (0, 0);
    for path in peer_zips() {
        taken += compare(&path, &Limits::default());
        taken += compare(&path, &sizes);
        taken += compare(&path, &ratio);
        zips += 1;
    }
    // The comparison means something only if files were taken.
    assert!(taken > 200, "only {taken} jobs in {zips} zips");
}
