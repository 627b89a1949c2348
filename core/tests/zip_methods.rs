// Tests read fixture files; the purity lints are for the library, not for its tests.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
// Needs every decoder (the default features).
#![cfg(all(
    feature = "bzip2",
    feature = "xz",
    feature = "zstd",
    feature = "deflate64"
))]

//! zip's other methods: bzip2 (12), lzma (14), zstd (93), xz (95) entries made here with pure
//! encoders extract; damage is a typed error naming the entry; decoder memory is capped;
//! methods uncork does not read are named.

use std::io::{Cursor, Write};
use uncork_core::memhost::MemHost;
use uncork_core::{Options, Rule, RunError, extract};

/// A zip with one entry `name` whose data is `data` compressed as `method` into `packed`.
fn zip_of(name: &str, method: u16, flags: u16, packed: &[u8], data: &[u8]) -> Vec<u8> {
    let crc = crc32fast::hash(data);
    let mut out = Vec::new();
    let header = |out: &mut Vec<u8>| {
        out.extend(20u16.to_le_bytes()); // version needed
        out.extend(flags.to_le_bytes());
        out.extend(method.to_le_bytes());
        out.extend([0, 0, 0x21, 0]); // time, date (1980-01-01)
        out.extend(crc.to_le_bytes());
        out.extend((packed.len() as u32).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes()); // extra length
    };
    out.extend(b"PK\x03\x04");
    header(&mut out);
    out.extend(name.as_bytes());
    out.extend(packed);
    let central = out.len();
    out.extend(b"PK\x01\x02");
    out.extend(20u16.to_le_bytes()); // version made by
    header(&mut out);
    out.extend([0u8; 6]); // comment length, disk, internal attributes
    out.extend(0u32.to_le_bytes()); // external attributes
    out.extend(0u32.to_le_bytes()); // local header offset
    out.extend(name.as_bytes());
    let central_len = out.len() - central;
    out.extend(b"PK\x05\x06");
    out.extend([0u8; 4]);
    out.extend(1u16.to_le_bytes());
    out.extend(1u16.to_le_bytes());
    out.extend((central_len as u32).to_le_bytes());
    out.extend((central as u32).to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn text() -> Vec<u8> {
    b"zip entries in every method uncork reads\n".repeat(3000)
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut w =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

/// zip's LZMA framing: version, properties length, properties, raw data with an end marker.
fn lzma(data: &[u8]) -> Vec<u8> {
    let options = lzma_rust2::LzmaOptions::with_preset(6);
    let mut w = lzma_rust2::LzmaWriter::new_use_header(Vec::new(), &options, None).unwrap();
    w.write_all(data).unwrap();
    let alone = w.finish().unwrap();
    let mut packed = vec![9, 20, 5, 0];
    packed.extend(&alone[..5]);
    packed.extend(&alone[13..]);
    packed
}

fn zstd(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    ruzstd::encoding::compress(data, &mut out, ruzstd::encoding::CompressionLevel::Fastest);
    out
}

/// (method, flags, packed) for each method.
fn methods() -> Vec<(u16, u16, Vec<u8>)> {
    let data = text();
    vec![
        (12, 0, bzip2(&data)),
        (14, 2, lzma(&data)),
        (93, 0, zstd(&data)),
        (95, 0, xz(&data)),
    ]
}

fn run(
    zip: Vec<u8>,
    options: &Options<'_>,
) -> Result<MemHost, RunError<uncork_core::memhost::Violation>> {
    let mut host = MemHost::default();
    extract(Cursor::new(zip), options, &mut host)?;
    Ok(host)
}

#[test]
fn every_method_extracts() {
    let data = text();
    for (method, flags, packed) in methods() {
        assert!(packed.len() < data.len() / 10, "method {method} compresses");
        let host = run(
            zip_of("f.txt", method, flags, &packed, &data),
            &Options::default(),
        )
        .unwrap_or_else(|e| panic!("method {method}: {e}"));
        assert_eq!(host.file("f.txt"), Some(&data[..]), "method {method}");
    }
    // LZMA without the end marker: the declared size ends it.
    let alone_no_marker = {
        let options = lzma_rust2::LzmaOptions::with_preset(6);
        let mut w =
            lzma_rust2::LzmaWriter::new_use_header(Vec::new(), &options, Some(data.len() as u64))
                .unwrap();
        w.write_all(&data).unwrap();
        w.finish().unwrap()
    };
    let mut packed = vec![9, 20, 5, 0];
    packed.extend(&alone_no_marker[..5]);
    packed.extend(&alone_no_marker[13..]);
    let host = run(zip_of("f.txt", 14, 0, &packed, &data), &Options::default()).unwrap();
    assert_eq!(host.file("f.txt"), Some(&data[..]));
}

#[test]
fn damage_is_typed_and_located() {
    let data = text();
    for (method, flags, packed) in methods() {
        let cut = zip_of("f.txt", method, flags, &packed[..packed.len() / 2], &data);
        let err = run(cut, &Options::default()).unwrap_err();
        assert_eq!(
            err.rule(),
            Some(Rule::CorruptCompression),
            "method {method} cut: {err}"
        );
        assert_eq!(
            err.location().and_then(|l| l.raw_path.as_deref()),
            Some("f.txt"),
            "method {method}: {err}"
        );
        let mut flipped = packed.clone();
        let at = flipped.len() / 2;
        flipped[at] ^= 0x55;
        let err = run(
            zip_of("f.txt", method, flags, &flipped, &data),
            &Options::default(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err.rule(),
                Some(Rule::CorruptCompression | Rule::CrcMismatch | Rule::ZipCorrupt)
            ),
            "method {method} flipped: {err}"
        );
        // Empty data for a compressed method: an empty file.
        let host = run(zip_of("e", method, flags, &[], &[]), &Options::default()).unwrap();
        assert_eq!(host.file("e"), Some(&[][..]), "method {method}");
    }
}

#[test]
fn decoder_memory_is_capped_in_zips_too() {
    let data = text();
    let mut small = Options::default();
    // 64 KiB: xz and lzma preset 6 want an 8 MiB dictionary, the zstd frame a 120 KB window
    small.policy.limits.max_decoder_memory = 64 << 10;
    for (method, flags, packed) in methods() {
        let result = run(zip_of("f.txt", method, flags, &packed, &data), &small).map(|_| ());
        match method {
            12 => assert!(result.is_ok(), "bzip2 needs no cap"),
            _ => {
                let rule = result.as_ref().err().and_then(RunError::rule);
                assert_eq!(
                    rule,
                    Some(Rule::DecoderMemoryLimit),
                    "method {method}: {result:?}"
                );
            }
        }
    }
}

#[test]
fn unread_methods_are_named() {
    for (method, name) in [(98u16, "ppmd"), (6, "implode"), (1, "shrink")] {
        let err = run(
            zip_of("f", method, 0, b"xxxx", b"yyyy"),
            &Options::default(),
        )
        .unwrap_err();
        assert_eq!(err.rule(), Some(Rule::UnsupportedMethod), "{err}");
        assert!(err.to_string().contains(&format!("({name})")), "{err}");
    }
}
