//! A zip writer with every field in reach, so generators can make zips that lie: local headers
//! that disagree with the central directory, overlapping entries, wrong CRCs, fake end records.

/// One zip entry, as it will be written (both headers start from these fields).
#[derive(Debug, Clone)]
pub struct ZipEntry {
    /// Name bytes in the central directory.
    pub name: Vec<u8>,
    /// Name bytes in the local header (normally the same).
    pub local_name: Vec<u8>,
    /// Compression method.
    pub method: u16,
    /// General-purpose flags (bit 0: encrypted; bit 11: UTF-8 names).
    pub flags: u16,
    /// The stored (possibly compressed) bytes.
    pub stored: Vec<u8>,
    /// CRC-32 of the uncompressed data, as both headers claim it.
    pub crc: u32,
    /// Uncompressed size, as the central directory claims it.
    pub size: u32,
    /// Uncompressed size, as the local header claims it.
    pub local_size: u32,
    /// Unix mode (in the high half of the external attributes; made-by Unix).
    pub unix_mode: u32,
    /// Where the central directory says the local header is (`None`: where it was written).
    pub offset_override: Option<u32>,
}

impl ZipEntry {
    /// A stored file.
    pub fn stored(name: &str, data: &[u8]) -> ZipEntry {
        ZipEntry {
            name: name.as_bytes().to_vec(),
            local_name: name.as_bytes().to_vec(),
            method: 0,
            flags: 1 << 11,
            stored: data.to_vec(),
            crc: crc32fast::hash(data),
            size: data.len() as u32,
            local_size: data.len() as u32,
            unix_mode: 0o100644,
            offset_override: None,
        }
    }

    /// A deflated file.
    pub fn deflated(name: &str, data: &[u8]) -> ZipEntry {
        let compressed = miniz_oxide::deflate::compress_to_vec(data, 9);
        ZipEntry {
            method: 8,
            stored: compressed,
            ..ZipEntry::stored(name, data)
        }
    }
}

const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (43 << 9) | (11 << 5) | 14; // 2023-11-14

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Local headers and data, in order; returns the bytes and each entry's local header offset.
pub fn locals(entries: &[ZipEntry]) -> (Vec<u8>, Vec<u32>) {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for e in entries {
        offsets.push(out.len() as u32);
        u32le(&mut out, 0x0403_4b50);
        u16le(&mut out, 20);
        u16le(&mut out, e.flags);
        u16le(&mut out, e.method);
        u16le(&mut out, DOS_TIME);
        u16le(&mut out, DOS_DATE);
        u32le(&mut out, e.crc);
        u32le(&mut out, e.stored.len() as u32);
        u32le(&mut out, e.local_size);
        u16le(&mut out, e.local_name.len() as u16);
        u16le(&mut out, 0);
        out.extend_from_slice(&e.local_name);
        out.extend_from_slice(&e.stored);
    }
    (out, offsets)
}

/// The central directory for `entries` whose local headers are at `offsets`.
pub fn central(entries: &[ZipEntry], offsets: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    for (e, &offset) in entries.iter().zip(offsets) {
        u32le(&mut out, 0x0201_4b50);
        u16le(&mut out, (3 << 8) | 20); // made by Unix
        u16le(&mut out, 20);
        u16le(&mut out, e.flags);
        u16le(&mut out, e.method);
        u16le(&mut out, DOS_TIME);
        u16le(&mut out, DOS_DATE);
        u32le(&mut out, e.crc);
        u32le(&mut out, e.stored.len() as u32);
        u32le(&mut out, e.size);
        u16le(&mut out, e.name.len() as u16);
        u16le(&mut out, 0); // extra
        u16le(&mut out, 0); // comment
        u16le(&mut out, 0); // disk
        u16le(&mut out, 0); // internal attributes
        u32le(&mut out, e.unix_mode << 16);
        u32le(&mut out, e.offset_override.unwrap_or(offset));
        out.extend_from_slice(&e.name);
    }
    out
}

/// An end-of-central-directory record.
pub fn end_record(count: u16, cd_size: u32, cd_offset: u32, comment: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, count);
    u16le(&mut out, count);
    u32le(&mut out, cd_size);
    u32le(&mut out, cd_offset);
    u16le(&mut out, comment.len() as u16);
    out.extend_from_slice(comment);
    out
}

/// A whole zip: locals, central directory, end record with `comment`.
pub fn zip(entries: &[ZipEntry], comment: &[u8]) -> Vec<u8> {
    let (mut out, offsets) = locals(entries);
    let cd = central(entries, &offsets);
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&cd);
    out.extend(end_record(
        entries.len() as u16,
        cd.len() as u32,
        cd_offset,
        comment,
    ));
    out
}
