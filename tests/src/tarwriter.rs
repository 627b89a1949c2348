//! A tar writer for the corpus: every header style, any name bytes, deterministic output.
//!
//! Written here rather than taken from the `tar` crate's builder because the corpus needs
//! archives a careful writer refuses to make (`..` names, non-UTF-8 bytes, raw type flags) and
//! exact control over which header style carries a long name.

use crate::recipe::{DEFAULT_MTIME, Entry, Kind, TarStyle};

const BLOCK: usize = 512;

/// One header block's fields.
#[derive(Debug, Default, Clone)]
pub struct Header<'a> {
    /// The name field (up to 100 bytes; longer is cut).
    pub name: &'a [u8],
    /// The ustar prefix field (up to 155 bytes).
    pub prefix: &'a [u8],
    /// The link name field.
    pub link: &'a [u8],
    /// Permission bits.
    pub mode: u32,
    /// The size field.
    pub size: u64,
    /// The mtime field.
    pub mtime: i64,
    /// The type flag.
    pub flag: u8,
}

/// Encodes one header block in `style` (magic and checksum included).
pub fn header_block(style: TarStyle, h: &Header<'_>) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    put(&mut b[0..100], h.name);
    octal(&mut b[100..108], u64::from(h.mode));
    octal(&mut b[108..116], 1000);
    octal(&mut b[116..124], 1000);
    numeric(&mut b[124..136], h.size);
    octal(&mut b[136..148], u64::try_from(h.mtime).unwrap_or(0));
    b[156] = h.flag;
    put(&mut b[157..257], h.link);
    match style {
        TarStyle::V7 => {}
        TarStyle::Ustar | TarStyle::Pax => {
            b[257..263].copy_from_slice(b"ustar\0");
            b[263..265].copy_from_slice(b"00");
        }
        TarStyle::Gnu => b[257..265].copy_from_slice(b"ustar  \0"),
    }
    if style != TarStyle::V7 {
        put(&mut b[265..297], b"user");
        put(&mut b[297..329], b"group");
        put(&mut b[345..500], h.prefix);
    }
    checksum(&mut b);
    b
}

/// Recomputes a header's checksum.
pub fn checksum(b: &mut [u8; BLOCK]) {
    b[148..156].fill(b' ');
    let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
    b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

fn put(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    let text = &text.as_bytes()[text.len().saturating_sub(width)..];
    field[..width].copy_from_slice(text);
    field[width] = 0;
}

/// Octal when it fits, else GNU base-256 (sizes of 8 GiB and more).
fn numeric(field: &mut [u8], value: u64) {
    if value < 1 << (3 * (field.len() - 1)) {
        octal(field, value);
    } else {
        field.fill(0);
        field[0] = 0x80;
        let bytes = value.to_be_bytes();
        let n = field.len();
        field[n - 8..].copy_from_slice(&bytes);
    }
}

/// Appends `data` and pads it to a block.
pub fn append_data(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
}

/// A PAX record `LEN key=value\n`.
pub fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut r = format!("{len} {key}=").into_bytes();
    r.extend_from_slice(value);
    r.push(b'\n');
    r
}

/// Appends a whole extended-header entry (`x`, `g`, `L` or `K`) holding `data`.
pub fn append_meta(out: &mut Vec<u8>, style: TarStyle, flag: u8, name: &[u8], data: &[u8]) {
    let h = Header {
        name,
        mode: 0o644,
        size: data.len() as u64,
        flag,
        ..Header::default()
    };
    out.extend_from_slice(&header_block(style, &h));
    append_data(out, data);
}

fn type_flag(style: TarStyle, kind: &Kind) -> u8 {
    match kind {
        Kind::File if style == TarStyle::V7 => 0,
        Kind::File => b'0',
        Kind::HardLink(_) => b'1',
        Kind::Symlink(_) => b'2',
        Kind::CharDevice => b'3',
        Kind::Dir if style == TarStyle::V7 => 0,
        Kind::Dir => b'5',
        Kind::Fifo => b'6',
        Kind::Raw(flag) => *flag,
    }
}

/// Splits a long name into ustar prefix and name at a `/`, if it can be.
fn split_ustar(name: &[u8]) -> Option<(&[u8], &[u8])> {
    if name.len() <= 100 {
        return Some((&[], name));
    }
    (0..name.len())
        .rev()
        .filter(|&i| name[i] == b'/')
        .find(|&i| i <= 155 && name.len() - i - 1 <= 100 && i > 0)
        .map(|i| (&name[..i], &name[i + 1..]))
}

/// Writes one entry (with whatever extra records its style needs for long names).
pub fn append_entry(out: &mut Vec<u8>, style: TarStyle, e: &Entry) -> Result<(), String> {
    let link: &[u8] = match &e.kind {
        Kind::Symlink(t) | Kind::HardLink(t) => t,
        _ => b"",
    };
    let default_mode = match e.kind {
        Kind::Dir => 0o755,
        Kind::Symlink(_) => 0o777,
        _ => 0o644,
    };
    let mtime = e.mtime.unwrap_or(DEFAULT_MTIME);
    let mut name: &[u8] = &e.name;
    let mut prefix: &[u8] = &[];
    let mut link_field = link;
    let needs_pax = |v: &[u8]| v.len() > 100 || !v.is_ascii() || v.contains(&0);
    match style {
        TarStyle::V7 => {
            if name.len() > 100 || link.len() > 100 {
                return Err("v7 names and link targets are at most 100 bytes".into());
            }
        }
        TarStyle::Ustar => {
            (prefix, name) =
                split_ustar(name).ok_or("the name does not fit ustar's prefix and name fields")?;
            if link.len() > 100 {
                return Err("ustar link targets are at most 100 bytes".into());
            }
        }
        TarStyle::Gnu => {
            if link.len() > 100 {
                let mut data = link.to_vec();
                data.push(0);
                append_meta(out, style, b'K', b"././@LongLink", &data);
                link_field = &link[..100];
            }
            if name.len() > 100 {
                let mut data = name.to_vec();
                data.push(0);
                append_meta(out, style, b'L', b"././@LongLink", &data);
                name = &name[..100];
            }
        }
        TarStyle::Pax => {
            let mut records = Vec::new();
            if needs_pax(name) {
                records.extend(pax_record("path", name));
                name = b"pax-long-name";
            }
            if needs_pax(link) {
                records.extend(pax_record("linkpath", link));
                link_field = b"pax-long-link";
            }
            if e.mtime.is_some() {
                records.extend(pax_record("mtime", mtime.to_string().as_bytes()));
            }
            if !records.is_empty() {
                append_meta(out, style, b'x', b"PaxHeader/entry", &records);
            }
        }
    }
    // Links and directories carry no data, unless a hostile recipe gives them some.
    let data: &[u8] = if matches!(e.kind, Kind::File | Kind::Raw(_) | Kind::HardLink(_)) {
        &e.data
    } else {
        &[]
    };
    let h = Header {
        name,
        prefix,
        link: link_field,
        mode: e.mode.unwrap_or(default_mode),
        size: data.len() as u64,
        mtime,
        flag: type_flag(style, &e.kind),
    };
    out.extend_from_slice(&header_block(style, &h));
    append_data(out, data);
    Ok(())
}

/// A whole archive: the entries, then two zero blocks.
pub fn tar(style: TarStyle, entries: &[Entry]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        append_entry(&mut out, style, e).map_err(|m| format!("entry {i}: {m}"))?;
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    Ok(out)
}
