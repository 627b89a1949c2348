// Tests read fixture files; the purity lints are for the library, not for its tests.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
// Needs every decoder (the default features).
#![cfg(all(feature = "bzip2", feature = "xz", feature = "zstd"))]

//! tar.bz2, tar.xz, tar.lzma and tar.zst end to end: fixtures made with the reference tools
//! (tests/data/compressed/README.md) extract to the same tree as the plain tar, through
//! `extract` and `extract_stream`, detected from their bytes or forced by name; decoder memory
//! and the ratio limit hold.

use std::fs;
use std::io::{Cursor, Write};
use std::path::PathBuf;
use uncork_core::memhost::MemHost;
use uncork_core::{
    Format, Limits, Options, Rule, RunError, extract, extract_stream, list, list_stream,
};

fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/compressed")
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn tree(
    bytes: Vec<u8>,
    options: &Options<'_>,
) -> Result<(String, MemHost), RunError<uncork_core::memhost::Violation>> {
    let mut host = MemHost::default();
    let report = extract(Cursor::new(bytes), options, &mut host)?;
    let format = report
        .format
        .map(|f| f.name())
        .unwrap_or_default()
        .to_owned();
    Ok((format, host))
}

const FIXTURES: [(&str, Format); 8] = [
    ("fixture.tar.bz2", Format::TarBz2),
    ("fixture-multi.tar.bz2", Format::TarBz2),
    ("fixture.tar.xz", Format::TarXz),
    ("fixture-multi.tar.xz", Format::TarXz),
    ("fixture.tar.lzma", Format::TarLzma),
    ("fixture.tar.zst", Format::TarZst),
    ("fixture-multi.tar.zst", Format::TarZst),
    ("bigdict.tar.xz", Format::TarXz), // extracts once the cap is raised (below)
];

#[test]
fn every_compression_extracts_the_plain_tree() {
    let (_, plain) = tree(data("fixture.tar"), &Options::default()).unwrap();
    assert_eq!(
        plain.file("pkg/README.md"),
        Some(&b"hello from uncork\n"[..])
    );
    assert!(plain.manifest().contains("link pkg/README -> README.md"));
    for (name, format) in &FIXTURES[..7] {
        let (found, host) = tree(data(name), &Options::default()).unwrap();
        assert_eq!(found, format.name(), "{name}");
        assert_eq!(host.tree, plain.tree, "{name}");
        // Forced by name, and read from a stream.
        let forced = Options {
            format: Some(*format),
            ..Options::default()
        };
        let mut streamed = MemHost::default();
        extract_stream(&data(name)[..], &forced, &mut streamed).unwrap();
        assert_eq!(streamed.tree, plain.tree, "{name} (stream, forced)");
        let mut names = Vec::new();
        list_stream(&data(name)[..], &Options::default(), &mut |l| {
            names.push(l.raw_name.clone())
        })
        .unwrap();
        assert_eq!(names.len(), 6, "{name}: {names:?}");
    }
}

#[test]
fn decoder_memory_is_capped() {
    for name in ["bigdict.tar.xz", "bigwindow.tar.zst"] {
        let err = tree(data(name), &Options::default()).unwrap_err();
        assert_eq!(err.rule(), Some(Rule::DecoderMemoryLimit), "{name}: {err}");
        let text = err.to_string();
        assert!(text.contains("limit 256 MiB"), "{name}: {text}");
        assert!(!Rule::DecoderMemoryLimit.hint().is_empty());
        let mut roomy = Options::default();
        roomy.policy.limits.max_decoder_memory = 2 << 30;
        let (_, host) = tree(data(name), &roomy).unwrap();
        assert_eq!(
            host.file("pkg/README.md"),
            Some(&b"hello from uncork\n"[..])
        );
    }
    let err = tree(data("bigdict.tar.xz"), &Options::default()).unwrap_err();
    assert!(err.to_string().contains("513 MiB"), "{err}");
    let err = tree(data("bigwindow.tar.zst"), &Options::default()).unwrap_err();
    assert!(err.to_string().contains("1024 MiB"), "{err}");
}

#[test]
fn damage_is_a_typed_error_at_every_cut() {
    for (name, _) in &FIXTURES[..7] {
        let bytes = data(name);
        for cut in [20, bytes.len() / 2, bytes.len() - 1] {
            let err = tree(bytes[..cut].to_vec(), &Options::default()).unwrap_err();
            assert!(
                matches!(err.rule(), Some(Rule::Truncated | Rule::CorruptCompression)),
                "{name} cut at {cut}: {err}"
            );
        }
        for at in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 5] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x20;
            if let Err(err) = tree(flipped, &Options::default()) {
                assert!(
                    matches!(
                        err.rule(),
                        Some(
                            Rule::Truncated
                                | Rule::CorruptCompression
                                | Rule::BadChecksum
                                | Rule::TrailingGarbage
                                | Rule::NotAnArchive
                        )
                    ),
                    "{name} flipped at {at}: {err}"
                );
            }
        }
        let mut garbage = bytes.clone();
        garbage.extend(b"not compressed data");
        let err = tree(garbage, &Options::default()).unwrap_err();
        assert_eq!(err.rule(), Some(Rule::TrailingGarbage), "{name}: {err}");
    }
}

/// A tar of zeros, so that every compression makes it a bomb.
fn zeros_tar() -> Vec<u8> {
    uncork_core::testkit::tar(&[("zeros", b'0', "", &vec![0u8; 8 << 20], 0o644)])
}

#[test]
fn the_ratio_limit_sees_compressed_bytes() {
    let tar = zeros_tar();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    bz.write_all(&tar).unwrap();
    let mut xz =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
    xz.write_all(&tar).unwrap();
    let mut zst = Vec::new();
    ruzstd::encoding::compress(
        &tar[..],
        &mut zst,
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    let mut options = Options::default();
    options.policy.limits = Limits {
        ratio_grace_bytes: 1 << 20,
        max_ratio: 50,
        ..Limits::default()
    };
    for (name, bytes) in [
        ("bzip2", bz.finish().unwrap()),
        ("xz", xz.finish().unwrap()),
        ("zstd", zst),
    ] {
        assert!(bytes.len() < tar.len() / 50, "{name} compresses");
        let err = tree(bytes.clone(), &options).unwrap_err();
        assert_eq!(err.rule(), Some(Rule::RatioLimit), "{name}: {err}");
        let (_, host) = tree(bytes, &Options::default()).unwrap();
        assert_eq!(host.file("zeros").map(<[u8]>::len), Some(8 << 20), "{name}");
    }
}

#[test]
fn a_compressed_non_tar_is_not_an_archive() {
    let mut zst = Vec::new();
    ruzstd::encoding::compress(
        &b"just some text, not a tar"[..],
        &mut zst,
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    let err = tree(zst.clone(), &Options::default()).unwrap_err();
    assert_eq!(err.rule(), Some(Rule::NotAnArchive), "{err}");
    assert!(
        err.to_string().contains("zstd stream does not hold a tar"),
        "{err}"
    );
    // Listing opens an archive the same way, so it says the same.
    for listed in [
        list(Cursor::new(&zst), &Options::default(), &mut |_| {}),
        list_stream(&zst[..], &Options::default(), &mut |_| {}),
    ] {
        let err = listed.unwrap_err();
        assert_eq!(err.rule(), Some(Rule::NotAnArchive), "{err}");
        assert!(err.to_string().contains("does not hold a tar"), "{err}");
    }
}
