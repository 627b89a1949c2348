//! Archives no honest writer makes, by name (`format generator NAME` in a `case.txt`).
//!
//! Each generator is deterministic: the same bytes on every run and every machine.

use crate::archive::gzip;

use crate::recipe::TarStyle;
use crate::tarwriter::{self, Header, append_data, append_meta, header_block, pax_record};
use crate::zipwriter::{self, ZipEntry};

/// The bytes of generator `name`.
pub fn generate(name: &str) -> Result<Vec<u8>, String> {
    Ok(match name {
        // ---- tar differentials and metadata ----
        "pax-size-mismatch" => pax_size_mismatch(),
        "pax-garbage-record" => {
            let mut out = Vec::new();
            append_meta(
                &mut out,
                TarStyle::Pax,
                b'x',
                b"PaxHeader",
                b"99 path=short\n",
            );
            file(&mut out, b"victim.txt", b"data\n");
            end(out)
        }
        "pax-and-gnu-names-conflict" => {
            let mut out = Vec::new();
            let mut long = b"gnu/".to_vec();
            long.extend(std::iter::repeat_n(b'g', 120));
            long.push(0);
            append_meta(
                &mut out,
                TarStyle::Gnu,
                b'x',
                b"PaxHeader",
                &pax_record("path", b"pax/name.txt"),
            );
            append_meta(&mut out, TarStyle::Gnu, b'L', b"././@LongLink", &long);
            file(&mut out, b"header-name.txt", b"which name?\n");
            end(out)
        }
        "huge-gnu-long-name" => {
            // A GNU long-name record claiming 1 GiB: refused before it is read.
            let mut out = Vec::new();
            let h = Header {
                name: b"././@LongLink",
                mode: 0o644,
                size: 1 << 30,
                flag: b'L',
                ..Header::default()
            };
            out.extend_from_slice(&header_block(TarStyle::Gnu, &h));
            out.extend(std::iter::repeat_n(b'a', 4096));
            out
        }
        "huge-pax-record" => {
            let mut out = Vec::new();
            let h = Header {
                name: b"PaxHeader",
                mode: 0o644,
                size: 3 << 30,
                flag: b'x',
                ..Header::default()
            };
            out.extend_from_slice(&header_block(TarStyle::Pax, &h));
            out.extend_from_slice(b"3221225472 path=");
            out.resize(out.len().div_ceil(512) * 512, b'a');
            out
        }
        "gnu-sparse-terabytes" => {
            // An old-GNU sparse entry ('S') declaring a 4 TiB real size.
            let mut out = Vec::new();
            let h = Header {
                name: b"sparse.img",
                mode: 0o644,
                size: 512,
                flag: b'S',
                ..Header::default()
            };
            let mut b = header_block(TarStyle::Gnu, &h);
            // realsize (483..495) in base-256: 4 TiB.
            b[483] = 0x80;
            b[487..495].copy_from_slice(&(4u64 << 40).to_be_bytes());
            tarwriter::checksum(&mut b);
            out.extend_from_slice(&b);
            append_data(&mut out, &[0u8; 512]);
            end(out)
        }
        "size-near-2-63" => {
            // A file whose header claims 2^63 - 1 bytes (base-256), with 1 KiB behind it.
            let mut out = Vec::new();
            let h = Header {
                name: b"huge.bin",
                mode: 0o644,
                size: 0,
                flag: b'0',
                ..Header::default()
            };
            let mut b = header_block(TarStyle::Gnu, &h);
            b[124..136].fill(0);
            b[124] = 0x80;
            b[128..136].copy_from_slice(&(i64::MAX as u64).to_be_bytes());
            tarwriter::checksum(&mut b);
            out.extend_from_slice(&b);
            out.extend(std::iter::repeat_n(7u8, 1024));
            out
        }
        "bad-checksum" => {
            let mut out = Vec::new();
            file(&mut out, b"first.txt", b"ok\n");
            let start = out.len();
            file(&mut out, b"second.txt", b"damaged header\n");
            out[start + 148] ^= 0x01;
            end(out)
        }
        "truncated-tar" => {
            let mut out = Vec::new();
            file(&mut out, b"complete.txt", b"whole\n");
            file(&mut out, b"cut.bin", &[b'x'; 3000]);
            out.truncate(out.len() - 1500);
            out
        }
        "truncated-gz" => {
            let mut out = Vec::new();
            file(&mut out, b"a.txt", &[b'a'; 20_000]);
            let gz = gzip(&end(out));
            gz[..gz.len() / 2].to_vec()
        }
        "gzip-bad-crc" => {
            let mut out = Vec::new();
            file(&mut out, b"a.txt", b"checked by the gzip trailer\n");
            let mut gz = gzip(&end(out));
            let n = gz.len();
            gz[n - 8] ^= 0xff;
            gz
        }
        "gzip-trailing-garbage" => {
            let mut out = Vec::new();
            file(&mut out, b"a.txt", b"then junk\n");
            let mut gz = gzip(&end(out));
            gz.extend_from_slice(b"this is not a gzip member, nor zero padding");
            gz
        }
        "random-bytes" => {
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            (0..4096)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect()
        }
        "gzip-bomb" => gzip_zeros(1, 200 << 20),
        "gzip-multi-member-bomb" => gzip_zeros(40, 5 << 20),
        "nested-archive" => {
            // A tar.gz inside a tar.gz: extracted as a file, never opened.
            let mut inner = Vec::new();
            file(&mut inner, b"inner.txt", b"inside\n");
            let inner = gzip(&end(inner));
            let mut out = Vec::new();
            file(&mut out, b"outer/inner.tar.gz", &inner);
            gzip(&end(out))
        }
        // ---- zip ----
        "zip-name-mismatch" => {
            let mut e = ZipEntry::stored("innocent.txt", b"payload\n");
            e.local_name = b"../evil.txt".to_vec();
            zipwriter::zip(&[e], b"")
        }
        "zip-size-mismatch" => {
            let mut e = ZipEntry::stored("a.txt", b"payload\n");
            e.local_size = 4;
            zipwriter::zip(&[e], b"")
        }
        "zip-crc-mismatch" => {
            let mut e = ZipEntry::deflated("a.txt", b"the CRC says otherwise\n");
            e.crc ^= 0xdead_beef;
            zipwriter::zip(&[e], b"")
        }
        "zip-large-duplicate" => zipwriter::zip(
            &[
                ZipEntry::deflated("d/a.bin", &large(100_000, 1)),
                ZipEntry::deflated("d/b.bin", &large(80_000, 2)),
                ZipEntry::deflated("d/a.bin", &large(120_000, 3)),
            ],
            b"",
        ),
        "zip-large-two-bad-crcs" => {
            let mut slow = ZipEntry::deflated("big/slow.bin", &large(1_000_000, 1));
            slow.crc ^= 1;
            let mut quick = ZipEntry::deflated("big/quick.bin", &large(70_000, 2));
            quick.crc ^= 1;
            let entries = [
                ZipEntry::deflated("big/ok.bin", &large(80_000, 3)),
                slow,
                quick,
            ];
            zipwriter::zip(&entries, b"")
        }
        "zip-large-crc-then-dotdot" => {
            let big = |name: &str, seed: u8| ZipEntry::deflated(name, &large(200_000, seed));
            let mut bad = big("big/b.bin", 2);
            bad.crc ^= 0x0101_0101;
            let entries = [
                big("big/a.bin", 1),
                bad,
                big("big/c.bin", 3),
                ZipEntry::deflated("../escape.txt", b"up\n"),
            ];
            zipwriter::zip(&entries, b"")
        }
        "zip-overlap" => {
            // Two central entries pointing at one local header: the "better zip bomb" shape.
            let data = vec![0u8; 1 << 20];
            let a = ZipEntry::deflated("a.bin", &data);
            let mut b = a.clone();
            b.name = b"b.bin".to_vec();
            let (mut out, offsets) = zipwriter::locals(std::slice::from_ref(&a));
            let cd = zipwriter::central(&[a, b], &[offsets[0], offsets[0]]);
            let cd_offset = out.len() as u32;
            out.extend_from_slice(&cd);
            out.extend(zipwriter::end_record(2, cd.len() as u32, cd_offset, b""));
            out
        }
        "zip-encrypted" => {
            let mut e = ZipEntry::stored(
                "secret.txt",
                b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0cciphertext",
            );
            e.flags |= 1;
            zipwriter::zip(&[e], b"")
        }
        "zip-unknown-method" => {
            let mut e = ZipEntry::stored("odd.bin", b"compressed with method 99");
            e.method = 77;
            zipwriter::zip(&[e], b"")
        }
        "zip-deflate-bomb" => {
            let data = vec![0u8; 300 << 20];
            zipwriter::zip(&[ZipEntry::deflated("zeros.bin", &data)], b"")
        }
        "zip-concatenated" => {
            // Two whole zips back to back: the last end record names only the second's entries,
            // with offsets relative to the second (as `cat a.zip b.zip` gives).
            let first = zipwriter::zip(&[ZipEntry::stored("first.txt", b"one\n")], b"");
            let second = zipwriter::zip(&[ZipEntry::stored("second.txt", b"two\n")], b"");
            [first, second].concat()
        }
        "zip-fake-end-in-comment" => {
            // The comment holds a second end record pointing at a different directory.
            let real = [ZipEntry::stored("real.txt", b"real\n")];
            let decoy = [ZipEntry::stored("decoy.txt", b"decoy\n")];
            let (mut out, offsets) = zipwriter::locals(&[real[0].clone(), decoy[0].clone()]);
            let cd_real = zipwriter::central(&real, &offsets[..1]);
            let cd_decoy = zipwriter::central(&decoy, &offsets[1..]);
            let real_at = out.len() as u32;
            out.extend_from_slice(&cd_real);
            let decoy_at = out.len() as u32;
            out.extend_from_slice(&cd_decoy);
            let fake = zipwriter::end_record(1, cd_decoy.len() as u32, decoy_at, b"");
            out.extend(zipwriter::end_record(
                1,
                cd_real.len() as u32,
                real_at,
                &fake,
            ));
            out
        }
        "zip-bad-offset" => {
            let mut e = ZipEntry::stored("a.txt", b"where am I\n");
            e.offset_override = Some(0x7fff_0000);
            zipwriter::zip(&[e], b"")
        }
        "zip-trailing-data" => {
            let mut z = zipwriter::zip(&[ZipEntry::stored("a.txt", b"fine\n")], b"");
            z.extend_from_slice(&[0x55; 100]);
            z
        }
        "zip-hidden-local-entry" => {
            // A local entry the central directory does not list (only readers that scan local
            // headers see it).
            let hidden = ZipEntry::stored("hidden.txt", b"not in the directory\n");
            let shown = ZipEntry::stored("shown.txt", b"listed\n");
            let (mut out, offsets) = zipwriter::locals(&[hidden, shown.clone()]);
            let cd = zipwriter::central(std::slice::from_ref(&shown), &offsets[1..]);
            let at = out.len() as u32;
            out.extend_from_slice(&cd);
            out.extend(zipwriter::end_record(1, cd.len() as u32, at, b""));
            out
        }
        "zip-lying-count" => {
            // The end record claims 60,000 entries; the directory holds one.
            let e = ZipEntry::stored("one.txt", b"1\n");
            let (mut out, offsets) = zipwriter::locals(std::slice::from_ref(&e));
            let cd = zipwriter::central(std::slice::from_ref(&e), &offsets);
            let at = out.len() as u32;
            out.extend_from_slice(&cd);
            out.extend(zipwriter::end_record(60_000, cd.len() as u32, at, b""));
            out
        }
        "zip-non-utf8-name" => {
            let mut e = ZipEntry::stored("x", b"latin-1 name\n");
            e.name = b"caf\xe9.txt".to_vec();
            e.local_name = e.name.clone();
            e.flags = 0;
            zipwriter::zip(&[e], b"")
        }
        "zip64-lying-size" => zip64_lying_size(),
        // ---- parser differentials (refused unless the policy is trusted) ----
        "zip-duplicate-name" => zipwriter::zip(
            &[
                ZipEntry::stored("a.txt", b"the first a.txt\n"),
                ZipEntry::stored("b.txt", b"between\n"),
                ZipEntry::stored("a.txt", b"the second a.txt\n"),
            ],
            b"",
        ),
        "zip-descriptor-mismatch" => zip_descriptor_mismatch(),
        "zip64-end-records-disagree" => zip64_end_records_disagree(),
        "tar-symlink-with-size" => symlink_with_size(false),
        "pax-symlink-size" => symlink_with_size(true),
        "pax-global-size" => pax_global_size(),
        other => return Err(format!("no generator named '{other}'")),
    })
}

fn file(out: &mut Vec<u8>, name: &[u8], data: &[u8]) {
    let h = Header {
        name,
        mode: 0o644,
        size: data.len() as u64,
        mtime: 1_700_000_000,
        flag: b'0',
        ..Header::default()
    };
    out.extend_from_slice(&header_block(TarStyle::Ustar, &h));
    append_data(out, data);
}

fn end(mut out: Vec<u8>) -> Vec<u8> {
    out.resize(out.len() + 1024, 0);
    out
}

/// A tar file entry of `members * per_member` zero bytes, gzip-compressed in `members` members.
fn gzip_zeros(members: usize, per_member: usize) -> Vec<u8> {
    let total = (members * per_member) as u64;
    let h = Header {
        name: b"zeros.bin",
        mode: 0o644,
        size: total,
        mtime: 1_700_000_000,
        flag: b'0',
        ..Header::default()
    };
    let mut head = header_block(TarStyle::Ustar, &h).to_vec();
    let zeros = vec![0u8; per_member];
    let mut out = Vec::new();
    for i in 0..members {
        let mut chunk = if i == 0 {
            std::mem::take(&mut head)
        } else {
            Vec::new()
        };
        chunk.extend_from_slice(&zeros);
        if i + 1 == members {
            chunk.resize(chunk.len() + 1024, 0);
        }
        out.extend(crate::archive::gzip_level(&chunk, 9));
    }
    out
}

/// PAX `size` says 0 while the header says 1024: a reader trusting the header sees a smuggled
/// entry inside the data.
fn pax_size_mismatch() -> Vec<u8> {
    let mut out = Vec::new();
    append_meta(
        &mut out,
        TarStyle::Pax,
        b'x',
        b"PaxHeader",
        &pax_record("size", b"0"),
    );
    let mut smuggled = Vec::new();
    file(&mut smuggled, b"smuggled.txt", b"hidden\n");
    let h = Header {
        name: b"cover.txt",
        mode: 0o644,
        size: smuggled.len() as u64,
        mtime: 1_700_000_000,
        flag: b'0',
        ..Header::default()
    };
    out.extend_from_slice(&header_block(TarStyle::Pax, &h));
    append_data(&mut out, &smuggled);
    end(out)
}

/// A stored entry whose zip64 extra fields (local and central, in agreement) claim 2^62
/// uncompressed bytes for 5 bytes of data.
fn zip64_lying_size() -> Vec<u8> {
    let data = b"hello";
    let name = b"huge.bin";
    let mut extra = Vec::new();
    extra.extend_from_slice(&1u16.to_le_bytes());
    extra.extend_from_slice(&16u16.to_le_bytes());
    extra.extend_from_slice(&(1u64 << 62).to_le_bytes());
    extra.extend_from_slice(&(data.len() as u64).to_le_bytes());
    let crc = crc32fast::hash(data);
    let mut out = Vec::new();
    let put16 = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_le_bytes());
    let put32 = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());
    put32(&mut out, 0x0403_4b50);
    put16(&mut out, 45);
    put16(&mut out, 1 << 11);
    put16(&mut out, 0);
    put32(&mut out, 0);
    put32(&mut out, crc);
    put32(&mut out, u32::MAX);
    put32(&mut out, u32::MAX);
    put16(&mut out, name.len() as u16);
    put16(&mut out, extra.len() as u16);
    out.extend_from_slice(name);
    out.extend_from_slice(&extra);
    out.extend_from_slice(data);
    let cd_at = out.len() as u32;
    put32(&mut out, 0x0201_4b50);
    put16(&mut out, (3 << 8) | 45);
    put16(&mut out, 45);
    put16(&mut out, 1 << 11);
    put16(&mut out, 0);
    put32(&mut out, 0);
    put32(&mut out, crc);
    put32(&mut out, u32::MAX);
    put32(&mut out, u32::MAX);
    put16(&mut out, name.len() as u16);
    put16(&mut out, extra.len() as u16);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put32(&mut out, 0o100644 << 16);
    put32(&mut out, 0);
    out.extend_from_slice(name);
    out.extend_from_slice(&extra);
    let cd_len = out.len() as u32 - cd_at;
    out.extend(zipwriter::end_record(1, cd_len, cd_at, b""));
    out
}

/// A data descriptor (signature, CRC-32, 32-bit sizes).
fn descriptor(crc: u32, compressed: u32, size: u32) -> Vec<u8> {
    let mut d = b"PK\x07\x08".to_vec();
    for v in [crc, compressed, size] {
        d.extend_from_slice(&v.to_le_bytes());
    }
    d
}

/// The first entry announces a data descriptor whose CRC-32 is not the central directory's
/// (Go's archive/zip checks the descriptor, Python and the zip crate read the central one).
fn zip_descriptor_mismatch() -> Vec<u8> {
    let mut a = ZipEntry::stored("a.txt", b"described twice\n");
    a.flags |= 1 << 3;
    let b = ZipEntry::stored("b.txt", b"second\n");
    let (mut out, _) = zipwriter::locals(std::slice::from_ref(&a));
    out.extend(descriptor(
        a.crc ^ 0x5a5a_5a5a,
        a.stored.len() as u32,
        a.size,
    ));
    let b_at = out.len() as u32;
    out.extend(zipwriter::locals(std::slice::from_ref(&b)).0);
    let cd = zipwriter::central(&[a, b], &[0, b_at]);
    let cd_at = out.len() as u32;
    out.extend_from_slice(&cd);
    out.extend(zipwriter::end_record(2, cd.len() as u32, cd_at, b""));
    out
}

/// Two central directories: A lists `benign.txt`, B lists `payload.sh`. The ZIP64 end record
/// names B; the classic end record saturates its entry count (so the ZIP64 record applies to
/// readers that take it whole) but names A by size and offset, as unzip, libarchive and
/// Python read it.
fn zip64_end_records_disagree() -> Vec<u8> {
    let benign = ZipEntry::stored("benign.txt", b"nothing to see\n");
    let payload = ZipEntry::stored("payload.sh", b"#!/bin/sh\necho payload\n");
    let (mut out, offsets) = zipwriter::locals(&[benign.clone(), payload.clone()]);
    let cd_a = zipwriter::central(std::slice::from_ref(&benign), &offsets[..1]);
    let cd_b = zipwriter::central(std::slice::from_ref(&payload), &offsets[1..]);
    let a_at = out.len() as u32;
    out.extend_from_slice(&cd_a);
    let b_at = out.len() as u64;
    out.extend_from_slice(&cd_b);
    let eocd64_at = out.len() as u64;
    let put16 = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_le_bytes());
    let put32 = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());
    let put64 = |out: &mut Vec<u8>, v: u64| out.extend_from_slice(&v.to_le_bytes());
    put32(&mut out, 0x0606_4b50);
    put64(&mut out, 44);
    put16(&mut out, (3 << 8) | 45);
    put16(&mut out, 45);
    put32(&mut out, 0);
    put32(&mut out, 0);
    put64(&mut out, 1);
    put64(&mut out, 1);
    put64(&mut out, cd_b.len() as u64);
    put64(&mut out, b_at);
    put32(&mut out, 0x0706_4b50);
    put32(&mut out, 0);
    put64(&mut out, eocd64_at);
    put32(&mut out, 1);
    put32(&mut out, 0x0605_4b50);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, 0xFFFF);
    put16(&mut out, 0xFFFF);
    put32(&mut out, cd_a.len() as u32);
    put32(&mut out, a_at);
    put16(&mut out, 0);
    out
}

/// A symlink whose size (in its header, or in a PAX record) covers a whole file entry: GNU tar
/// skips those bytes as the link's data; Python reads them as the next header and extracts
/// `smuggled.txt`.
fn symlink_with_size(pax: bool) -> Vec<u8> {
    let mut smuggled = Vec::new();
    file(
        &mut smuggled,
        b"smuggled.txt",
        b"only some tools see this\n",
    );
    let mut out = Vec::new();
    file(&mut out, b"target.txt", b"the link's target\n");
    if pax {
        append_meta(
            &mut out,
            TarStyle::Pax,
            b'x',
            b"PaxHeader",
            &pax_record("size", smuggled.len().to_string().as_bytes()),
        );
    }
    let h = Header {
        name: b"link",
        link: b"target.txt",
        mode: 0o777,
        size: if pax { 0 } else { smuggled.len() as u64 },
        mtime: 1_700_000_000,
        flag: b'2',
        ..Header::default()
    };
    out.extend_from_slice(&header_block(TarStyle::Pax, &h));
    out.extend_from_slice(&smuggled);
    file(&mut out, b"after.txt", b"after the link\n");
    end(out)
}

/// A PAX global header with `size=0`: GNU tar gives every later entry that size, so the data
/// of `cover.txt` (a whole file entry) becomes the next header for it; other readers ignore
/// the record.
fn pax_global_size() -> Vec<u8> {
    let mut smuggled = Vec::new();
    file(&mut smuggled, b"smuggled.txt", b"only GNU tar sees this\n");
    let mut out = Vec::new();
    append_meta(
        &mut out,
        TarStyle::Pax,
        b'g',
        b"GlobalHead",
        &pax_record("size", b"0"),
    );
    let h = Header {
        name: b"cover.txt",
        mode: 0o644,
        size: smuggled.len() as u64,
        mtime: 1_700_000_000,
        flag: b'0',
        ..Header::default()
    };
    out.extend_from_slice(&header_block(TarStyle::Pax, &h));
    append_data(&mut out, &smuggled);
    end(out)
}

/// `len` bytes that deflate well but not trivially, differing by `seed`.
fn large(len: u32, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i % 253) as u8 ^ seed).collect()
}
