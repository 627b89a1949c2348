//! Archive formats: detection from magic bytes, and the readers.

pub mod gzip;
pub mod tar;
pub mod zip;

use crate::error::FormatError;
use crate::rule::Rule;
use std::fmt;
use std::str::FromStr;

/// An archive format uncork reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// A plain tar stream (ustar, v7, GNU, PAX).
    Tar,
    /// A gzip-compressed tar stream (one or more gzip members).
    TarGz,
    /// A zip archive.
    Zip,
}

impl Format {
    /// All formats.
    pub const ALL: [Format; 3] = [Format::Tar, Format::TarGz, Format::Zip];

    /// The name the CLI uses.
    pub fn name(self) -> &'static str {
        match self {
            Format::Tar => "tar",
            Format::TarGz => "tar.gz",
            Format::Zip => "zip",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tar" => Ok(Format::Tar),
            "tar.gz" | "tgz" | "gz" | "gzip" => Ok(Format::TarGz),
            "zip" => Ok(Format::Zip),
            _ => Err(format!(
                "unknown format '{s}' (expected tar, tar.gz or zip)"
            )),
        }
    }
}

/// How many leading bytes [`detect`] wants to see (a tar header block).
pub const SNIFF_LEN: usize = 512;

/// Decides the format from the first bytes of the input (fewer than [`SNIFF_LEN`] only when
/// the input is that short). Never looks at a file name.
pub fn detect(head: &[u8]) -> Result<Format, FormatError> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(&[0x1f, 0x8b]) {
        return Ok(Format::TarGz);
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
        return Ok(Format::Zip);
    }
    if let Some(found) = unsupported_compression(head) {
        return Err(FormatError::new(
            Rule::UnsupportedCompression,
            format!("unsupported compression: {found}"),
        )
        .at(0));
    }
    if let Some(found) = unsupported_format(head) {
        return Err(FormatError::new(
            Rule::UnsupportedFormat,
            format!("unsupported archive format: {found}"),
        )
        .at(0));
    }
    if tar::looks_like_tar(head) {
        return Ok(Format::Tar);
    }
    Err(FormatError::new(Rule::NotAnArchive, not_an_archive_detail(head)).at(0))
}

/// Compressions recognised by magic but not read.
pub(crate) fn unsupported_compression(head: &[u8]) -> Option<&'static str> {
    const TABLE: &[(&[u8], &str)] = &[
        (b"BZh", "bzip2"),
        (&[0xfd, b'7', b'z', b'X', b'Z', 0], "xz"),
        (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
        (&[0x04, 0x22, 0x4d, 0x18], "lz4"),
        (&[0x02, 0x21, 0x4c, 0x18], "lz4 (legacy)"),
        (b"LZIP", "lzip"),
        (&[0x89, b'L', b'Z', b'O', 0, 0x0d, 0x0a, 0x1a, 0x0a], "lzop"),
        (&[0x1f, 0x9d], "compress (.Z)"),
        (&[0x1f, 0xa0], "compress (LZH)"),
        (b"\x5d\x00\x00", "lzma"),
        (b"GRZipII", "grzip"),
        (b"LRZI", "lrzip"),
    ];
    TABLE
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|&(_, name)| name)
}

fn unsupported_format(head: &[u8]) -> Option<&'static str> {
    const TABLE: &[(&[u8], &str)] = &[
        (&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c], "7z"),
        (b"Rar!\x1a\x07", "rar"),
        (b"MSCF", "cab"),
        (b"xar!", "xar"),
        (b"070701", "cpio"),
        (b"070702", "cpio"),
        (b"070707", "cpio"),
        (b"!<arch>\n", "ar"),
    ];
    TABLE
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|&(_, name)| name)
}

fn not_an_archive_detail(head: &[u8]) -> String {
    if head.is_empty() {
        return "the input is empty".to_owned();
    }
    let shown: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!(
        "not an archive: the input starts with bytes {}",
        shown.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic_not_name() {
        assert_eq!(detect(&[0x1f, 0x8b, 8, 0]), Ok(Format::TarGz));
        assert_eq!(detect(b"PK\x03\x04rest"), Ok(Format::Zip));
        assert_eq!(detect(b"PK\x05\x06"), Ok(Format::Zip));
        let lz4 = detect(&[0x04, 0x22, 0x4d, 0x18, 0]).unwrap_err();
        assert_eq!(lz4.rule, Rule::UnsupportedCompression);
        assert!(lz4.detail.contains("lz4"));
        assert_eq!(
            detect(b"Rar!\x1a\x07\x00").unwrap_err().rule,
            Rule::UnsupportedFormat
        );
        let junk = detect(b"hello world").unwrap_err();
        assert_eq!(junk.rule, Rule::NotAnArchive);
        assert!(junk.detail.contains("68 65 6c"));
        assert_eq!(detect(b"").unwrap_err().detail, "the input is empty");
    }
}
