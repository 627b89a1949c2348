//! Every zip in the peer suites (zip2's test data, libarchive's decoded test archives) either
//! reads completely (every entry, every byte of data, CRCs verified) or fails with a typed
//! format error: never a panic, never a hang. A few well-known files have exact expectations.

// A test harness, not the core: it reads the peer files from disk, on a thread it can time out.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;
use uncork_core::entry::{EntrySource, RawEntry, RawKind, SourceError};
use uncork_core::format::zip::ZipSource;
use uncork_core::path::NameOrigin;
use uncork_core::{Differentials, Limits, Rule};

fn peer_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peer-suites");
    assert!(
        root.is_dir(),
        "peer suites not found at {} (expected ../shared/peer-suites beside the workspace)",
        root.display()
    );
    root
}

/// What reading one archive gave.
#[derive(Debug, Clone)]
enum Outcome {
    /// Every entry, with its data read to the end.
    Read(Vec<(RawEntry, u64)>),
    /// A typed format error, after `entries` entries.
    Failed {
        rule: Rule,
        detail: String,
        entries: usize,
    },
    /// An input error (should not happen with files on disk).
    Input(String),
}

fn read_all(path: &Path, differentials: Differentials) -> Outcome {
    let fail = |e: SourceError, entries: usize| match e {
        SourceError::Format(f) => Outcome::Failed {
            rule: f.rule,
            detail: f.to_string(),
            entries,
        },
        SourceError::Input(e) => Outcome::Input(e.to_string()),
    };
    let file = File::open(path).expect("peer file opens");
    let mut source = match ZipSource::open(file, &Limits::default(), differentials) {
        Ok(s) => s,
        Err(e) => return fail(e, 0),
    };
    let mut entries = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match source.next_entry() {
            Ok(None) => return Outcome::Read(entries),
            Ok(Some(entry)) => {
                let mut total = 0u64;
                if matches!(entry.kind, RawKind::File { .. }) {
                    loop {
                        match source.read_data(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => total += n as u64,
                            Err(e) => return fail(e, entries.len()),
                        }
                    }
                }
                entries.push((entry, total));
            }
            Err(e) => return fail(e, entries.len()),
        }
    }
}

/// Reads `path` on a thread, failing the test on a panic or after a minute.
fn read_guarded(path: &Path, differentials: Differentials) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let owned = path.to_owned();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(read_all(&owned, differentials));
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(outcome) => {
            handle.join().expect("reader thread");
            outcome
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("reading {} panicked", path.display()),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("reading {} hangs", path.display()),
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut items: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    items.sort();
    for path in items {
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// All peer inputs: everything in zip2's test data (non-zips must fail cleanly too), and the
/// zip-family files of libarchive's decoded test archives.
fn peer_files() -> Vec<(String, PathBuf)> {
    let root = peer_root();
    let mut files = Vec::new();
    files_under(&root.join("zip2/tests/data"), &mut files);
    let mut libarchive = Vec::new();
    files_under(&root.join("libarchive/decoded"), &mut libarchive);
    files.extend(libarchive.into_iter().filter(|p| {
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_lowercase();
        name.contains("zip") || name.ends_with(".jar") || name.ends_with(".xps")
    }));
    assert!(
        files.len() > 100,
        "expected the peer suites' zip files, found {}",
        files.len()
    );
    files
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(&root)
                    .expect("under root")
                    .to_string_lossy()
                    .into_owned(),
                p,
            )
        })
        .collect()
}

/// Every peer file read with differentials allowed (as the `trusted` policy reads them): the
/// parser itself.
fn outcomes() -> BTreeMap<String, Outcome> {
    outcomes_with(Differentials::Allow)
}

fn outcomes_with(differentials: Differentials) -> BTreeMap<String, Outcome> {
    peer_files()
        .into_iter()
        .map(|(name, path)| (name, read_guarded(&path, differentials)))
        .collect()
}

fn summary(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Read(entries) => format!("ok, {} entries", entries.len()),
        Outcome::Failed {
            rule,
            detail,
            entries,
        } => format!("{rule} after {entries} entries: {detail}"),
        Outcome::Input(e) => format!("INPUT ERROR {e}"),
    }
}

/// Peer zips that do not read completely, and why. Every other zip-family peer file must
/// read completely; files that are not zips at all must be `not-an-archive`.
const REFUSED: &[(&str, &str, &str)] = &[
    // Deliberately damaged or crafted.
    (
        "libarchive/decoded/test_read_format_zip.zip",
        "crc-mismatch",
        "file2's CRC is patched to 'xxxx'",
    ),
    (
        "libarchive/decoded/test_read_format_zip_7075_utf8_paths.zip",
        "zip-header-mismatch",
        "local names 'xx' differ from central names",
    ),
    (
        "libarchive/decoded/test_read_data_into_fd_size_exceeds_declared_deflate.zip",
        "zip-corrupt",
        "more data than declared",
    ),
    (
        "libarchive/decoded/test_read_data_into_fd_size_exceeds_declared_stored.zip",
        "zip-corrupt",
        "more data than declared",
    ),
    (
        "libarchive/decoded/test_read_format_zip_size_exceeds_declared_deflate.zip",
        "zip-corrupt",
        "more data than declared",
    ),
    (
        "libarchive/decoded/test_read_format_zip_size_exceeds_declared_stored.zip",
        "zip-corrupt",
        "more data than declared",
    ),
    (
        "libarchive/decoded/test_read_format_zip_uncompressed_size_off_by_4gib.zip",
        "zip-corrupt",
        "declares 4 GiB + 5, holds 5",
    ),
    (
        "libarchive/decoded/test_read_format_zip_extra_padding.zip",
        "zip-corrupt",
        "the end record's signature is damaged",
    ),
    (
        "libarchive/decoded/test_read_format_zip_encryption_header.zip",
        "zip-corrupt",
        "encrypted central directory",
    ),
    (
        "libarchive/decoded/test_read_format_zip_bz2_hang.zip",
        "truncated",
        "a lone local header",
    ),
    (
        "libarchive/decoded/test_read_format_zip_malformed1.zip",
        "truncated",
        "a lone local header",
    ),
    (
        "libarchive/decoded/test_read_format_zip_lzma_alone_leak.zipx",
        "truncated",
        "a lone local header",
    ),
    (
        "libarchive/decoded/test_read_format_zip_zipx_lzma_oom.zipx",
        "truncated",
        "a lone local header",
    ),
    (
        "libarchive/decoded/test_read_format_zip_ppmd8_crash_1.zipx",
        "truncated",
        "a lone local header",
    ),
    (
        "libarchive/decoded/test_read_format_zip_ppmd8_crash_2.zipx",
        "truncated",
        "a lone local header",
    ),
    (
        "zip2/tests/data/raw_deflate64_index_out_of_bounds.zip",
        "truncated",
        "fuzzed: data past the end",
    ),
    (
        "zip2/tests/data/deflate64_issue_25.zip",
        "zip-corrupt",
        "fuzzed end record",
    ),
    (
        "zip2/tests/data/invalid_cde_number_of_files_allocation_greater_offset.zip",
        "zip-corrupt",
        "fuzzed end record",
    ),
    (
        "zip2/tests/data/invalid_offset.zip",
        "zip-corrupt",
        "central directory offset out of range",
    ),
    (
        "zip2/tests/data/invalid_offset2.zip",
        "zip-corrupt",
        "central directory offset out of range",
    ),
    (
        "zip2/tests/data/extended_timestamp_bad.zip",
        "zip-corrupt",
        "an empty extended-timestamp field the zip crate rejects",
    ),
    // Encryption.
    (
        "libarchive/decoded/test_read_format_zip_encryption_data.zip",
        "zip-encrypted",
        "strong encryption",
    ),
    (
        "libarchive/decoded/test_read_format_zip_encryption_partially.zip",
        "zip-encrypted",
        "second entry encrypted",
    ),
    (
        "libarchive/decoded/test_read_format_zip_traditional_encryption_data.zip",
        "zip-encrypted",
        "ZipCrypto",
    ),
    (
        "libarchive/decoded/test_read_format_zip_ppmd8_aes256_streaming.zipx",
        "zip-encrypted",
        "AES",
    ),
    (
        "libarchive/decoded/test_read_format_zip_winzip_aes128.zip",
        "zip-encrypted",
        "AES",
    ),
    (
        "libarchive/decoded/test_read_format_zip_winzip_aes256.zip",
        "zip-encrypted",
        "AES",
    ),
    (
        "libarchive/decoded/test_read_format_zip_winzip_aes256_large.zip",
        "zip-encrypted",
        "AES",
    ),
    (
        "libarchive/decoded/test_read_format_zip_winzip_aes256_large_bzip2.zip",
        "zip-encrypted",
        "AES",
    ),
    (
        "libarchive/decoded/test_read_format_zip_winzip_aes256_large_lzma.zip",
        "zip-encrypted",
        "AES",
    ),
    (
        "libarchive/decoded/test_read_format_zip_winzip_aes256_large_ppmd.zip",
        "zip-encrypted",
        "AES",
    ),
    (
        "libarchive/decoded/test_read_format_zip_winzip_aes256_large_xz.zip",
        "zip-encrypted",
        "AES",
    ),
    (
        "libarchive/decoded/test_read_format_zip_winzip_aes256_large_zstd.zip",
        "zip-encrypted",
        "AES",
    ),
    (
        "libarchive/decoded/test_read_format_zip_winzip_aes256_stored.zip",
        "zip-encrypted",
        "AES",
    ),
    ("zip2/tests/data/aes_archive.zip", "zip-encrypted", "AES"),
    (
        "zip2/tests/data/ignore_encryption_flag.zip",
        "zip-encrypted",
        "flag set on plain data",
    ),
    // Methods uncork does not read (deflate64, bzip2, lzma, zstd and xz are read: see
    // DECODED below).
    (
        "libarchive/decoded/test_read_format_zip_ppmd8.zipx",
        "unsupported-method",
        "ppmd",
    ),
    (
        "libarchive/decoded/test_read_format_zip_ppmd8_multi.zipx",
        "unsupported-method",
        "ppmd",
    ),
    (
        "libarchive/decoded/test_read_format_zip_symlink_unsupported_compression.zip",
        "unsupported-method",
        "method 200",
    ),
    ("zip2/tests/data/ppmd.zip", "unsupported-method", "ppmd"),
    (
        "zip2/tests/data/legacy/implode.zip",
        "unsupported-method",
        "implode",
    ),
    (
        "zip2/tests/data/legacy/reduce.zip",
        "unsupported-method",
        "reduce",
    ),
    (
        "zip2/tests/data/legacy/shrink.zip",
        "unsupported-method",
        "shrink",
    ),
];

/// Entries in methods read by the decoder features (all on by default); without them, these
/// are `unsupported-method`.
const DECODED: [&str; 11] = [
    "libarchive/decoded/test_read_format_zip_bzip2.zipx",
    "libarchive/decoded/test_read_format_zip_bzip2_multi.zipx",
    "libarchive/decoded/test_read_format_zip_lzma.zipx",
    "libarchive/decoded/test_read_format_zip_lzma_multi.zipx",
    "libarchive/decoded/test_read_format_zip_lzma_stream_end.zipx",
    "libarchive/decoded/test_read_format_zip_xz_multi.zipx",
    "libarchive/decoded/test_read_format_zip_zstd.zipx",
    "libarchive/decoded/test_read_format_zip_zstd_multi.zipx",
    "zip2/tests/data/deflate64.zip",
    "zip2/tests/data/lzma.zip",
    "zip2/tests/data/xz.zip",
];

const ALL_DECODERS: bool = cfg!(all(
    feature = "bzip2",
    feature = "xz",
    feature = "zstd",
    feature = "deflate64"
));

fn is_zip_family(name: &str) -> bool {
    [".zip", ".zipx", ".jar", ".xps"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

#[test]
fn every_peer_zip_reads_fully_or_fails_typed() {
    let all = outcomes();
    let mut wrong = Vec::new();
    for (name, outcome) in &all {
        if std::env::var_os("UNCORK_SHOW_PEERS").is_some() {
            println!("{name}: {}", summary(outcome));
        }
        let expected = REFUSED
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|&(_, rule, _)| rule);
        let expected = match expected {
            Some(rule) => Some(rule),
            None if !ALL_DECODERS && DECODED.contains(&name.as_str()) => Some("unsupported-method"),
            None if is_zip_family(name) => None,
            None => Some("not-an-archive"),
        };
        let ok = match (outcome, expected) {
            (Outcome::Read(entries), None) => entries.iter().all(|(e, read)| match e.kind {
                RawKind::File { size } => *read == size,
                _ => true,
            }),
            (Outcome::Failed { rule, .. }, Some(expected)) => rule.name() == expected,
            _ => false,
        };
        if !ok {
            wrong.push(format!(
                "{name}: expected {}, got {}",
                expected.unwrap_or("a full read"),
                summary(outcome)
            ));
        }
    }
    for (name, _, _) in REFUSED {
        assert!(
            all.contains_key(*name),
            "{name} is listed but missing from the peer suites"
        );
    }
    assert!(
        wrong.is_empty(),
        "unexpected outcomes:\n{}",
        wrong.join("\n")
    );
}

fn entries_of(all: &BTreeMap<String, Outcome>, name: &str) -> Vec<RawEntry> {
    match &all[name] {
        Outcome::Read(entries) => entries.iter().map(|(e, _)| e.clone()).collect(),
        other => panic!("{name}: {}", summary(other)),
    }
}

fn failure_of<'a>(all: &'a BTreeMap<String, Outcome>, name: &str) -> (Rule, &'a str, usize) {
    match &all[name] {
        Outcome::Failed {
            rule,
            detail,
            entries,
        } => (*rule, detail, *entries),
        other => panic!("{name}: {}", summary(other)),
    }
}

#[test]
fn well_known_peer_files() {
    let all = outcomes();

    let link = entries_of(&all, "zip2/tests/data/symlink.zip");
    assert_eq!(link.len(), 1);
    assert_eq!(link[0].name, b"bar");
    assert_eq!(
        link[0].kind,
        RawKind::Symlink {
            target: b"foo".to_vec()
        }
    );

    let la_link = entries_of(&all, "libarchive/decoded/test_read_format_zip_symlink.zip");
    assert_eq!(la_link[1].name, b"symlink");
    assert_eq!(
        la_link[1].kind,
        RawKind::Symlink {
            target: b"file".to_vec()
        }
    );

    // Info-ZIP's `zip -` of a pipe: zip64 sizes, and stdin's FIFO mode on a plain file.
    let z64 = entries_of(&all, "zip2/tests/data/zip64_demo.zip");
    assert_eq!(z64.len(), 1);
    assert_eq!(
        (z64[0].name.as_slice(), z64[0].mode),
        (&b"-"[..], Some(0o600))
    );
    assert!(matches!(z64[0].kind, RawKind::File { .. }));
    for name in [
        "libarchive/decoded/test_read_format_zip_zip64a.zip",
        "libarchive/decoded/test_read_format_zip_zip64b.zip",
    ] {
        assert_eq!(entries_of(&all, name).len(), 1, "{name}");
    }

    if ALL_DECODERS {
        assert_eq!(entries_of(&all, "zip2/tests/data/deflate64.zip").len(), 5);
    }
    let (rule, detail, _) = failure_of(&all, "zip2/tests/data/ppmd.zip");
    assert_eq!(rule, Rule::UnsupportedMethod);
    assert!(detail.contains("method 98 (ppmd)"), "{detail}");
    assert_eq!(
        failure_of(&all, "zip2/tests/data/aes_archive.zip").0,
        Rule::ZipEncrypted
    );
    assert_eq!(
        failure_of(&all, "zip2/tests/data/invalid_offset.zip").0,
        Rule::ZipCorrupt
    );

    let (rule, detail, read) = failure_of(&all, "libarchive/decoded/test_read_format_zip.zip");
    assert_eq!((rule, read), (Rule::CrcMismatch, 2), "{detail}");
    assert!(detail.contains("'file2'"), "{detail}");

    let dd = entries_of(&all, "zip2/tests/data/data_descriptor.zip");
    assert_eq!(
        (dd[0].name.as_slice(), &dd[0].kind),
        (&b"hello.txt"[..], &RawKind::File { size: 12 })
    );

    // Directories marked only by the MS-DOS attribute.
    let dos = entries_of(&all, "libarchive/decoded/test_read_format_zip_msdos.zip");
    let dirs: Vec<_> = dos
        .iter()
        .filter(|e| e.kind == RawKind::Dir)
        .map(|e| e.name.clone())
        .collect();
    assert_eq!(
        dirs,
        [
            b"def".to_vec(),
            b"ghi/".to_vec(),
            b"jkl".to_vec(),
            b"mno/".to_vec()
        ]
    );

    // Names: the UTF-8 flag, else legacy bytes for the planner to decode.
    let ru2 = entries_of(
        &all,
        "libarchive/decoded/test_read_format_zip_filename_utf8_ru2.zip",
    );
    assert_eq!(
        (ru2[0].name_origin, ru2[1].name_origin),
        (NameOrigin::ZipLegacy, NameOrigin::Utf8)
    );
    assert_eq!(ru2[1].name, "привет".as_bytes());
    let chinese = entries_of(&all, "zip2/tests/data/chinese.zip");
    assert_eq!(
        (chinese[0].name.as_slice(), chinese[0].name_origin),
        ("七个房间.txt".as_bytes(), NameOrigin::Utf8)
    );

    // Times: extended timestamp and NTFS fields beat the MS-DOS fields.
    let ts = entries_of(&all, "zip2/tests/data/extended_timestamp.zip");
    assert_eq!(ts[1].mtime, Some(1_714_635_025));
    let ntfs = entries_of(&all, "zip2/tests/data/ntfs.zip");
    assert_eq!(ntfs[1].mtime, Some(1_736_853_714));

    // Unix modes only from Unix hosts.
    let modes = entries_of(
        &all,
        "libarchive/decoded/test_read_format_zip_comment_stored_1.zip",
    );
    assert_eq!((modes[0].mode, modes[1].mode), (Some(0o644), Some(0o755)));
    let windows = entries_of(&all, "zip2/tests/data/windows-7zip.zip");
    assert_eq!(windows[0].mode, None);
}

/// Peer files the other presets refuse as parser differentials (every other file reads the
/// same whether differentials are refused or allowed), with the rule and what is there.
const DIFFERENTIALS: &[(&str, &str, &str)] = &[
    (
        "libarchive/decoded/test_compat_zip_2.zip",
        "zip-unlisted-data",
        "'-JUNK-' between two entries",
    ),
    (
        "libarchive/decoded/test_read_format_zip.zip",
        "zip-descriptor-mismatch",
        "file2's central CRC is patched to 'xxxx'; its data descriptor holds the real one",
    ),
    (
        "libarchive/decoded/test_read_format_zip_padded1.zip",
        "zip-prepended-data",
        "89 random bytes before the first entry",
    ),
    (
        "libarchive/decoded/test_read_format_zip_padded2.zip",
        "zip-trailing-data",
        "189 random bytes after the end record",
    ),
    (
        "libarchive/decoded/test_read_format_zip_padded3.zip",
        "zip-trailing-data",
        "189 random bytes after the end record",
    ),
    (
        "zip2/tests/data/comment_garbage.zip",
        "zip-trailing-data",
        "text after the end record's comment",
    ),
    (
        "zip2/tests/data/invalid_cde_number_of_files_allocation_smaller_offset.zip",
        "zip-prepended-data",
        "fuzzed: bytes before the first entry",
    ),
    (
        "zip2/tests/data/misaligned_comment.zip",
        "zip-trailing-data",
        "bytes after the end record's comment",
    ),
    (
        "zip2/tests/data/zip64_demo.zip",
        "zip-prepended-data",
        "'Leading junk.' before the first entry",
    ),
];

#[test]
fn peer_zips_other_tools_read_differently_are_refused() {
    let allowed = outcomes();
    let refused = outcomes_with(Differentials::Refuse);
    let mut wrong = Vec::new();
    for (name, outcome) in &refused {
        let listed = DIFFERENTIALS.iter().find(|(n, _, _)| n == name);
        let same = summary(outcome) == summary(&allowed[name]);
        match (listed, outcome) {
            (None, _) if same => {}
            (
                Some((_, rule, _)),
                Outcome::Failed {
                    rule: got,
                    entries: 0,
                    ..
                },
            ) if got.name() == *rule && !same => {}
            _ => wrong.push(format!(
                "{name}: expected {}, got {} (allowed: {})",
                listed.map_or("the same outcome", |(_, rule, _)| rule),
                summary(outcome),
                summary(&allowed[name])
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "unexpected outcomes:\n{}",
        wrong.join("\n")
    );
}
