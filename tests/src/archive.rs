//! A recipe's archive bytes: tar in any header style and compression, zip, a generator, or a
//! committed file.

use crate::recipe::{Compression, DEFAULT_MTIME, Entry, Format, Kind, Recipe};
use crate::{generators, tarwriter};
use std::io::{Cursor, Write};
use std::path::Path;

/// The archive a recipe describes. `repo` is the repository root (for `format file`).
pub fn build(recipe: &Recipe, repo: &Path) -> Result<Vec<u8>, String> {
    let bytes = match &recipe.format {
        Format::Tar(style) => compress(recipe.compress, &tarwriter::tar(*style, &recipe.entries)?)?,
        Format::Zip { deflate } => zip(&recipe.entries, *deflate)?,
        Format::Generator(name) => generators::generate(name)?,
        Format::File(path) => {
            std::fs::read(repo.join(path)).map_err(|e| format!("reading {path}: {e}"))?
        }
    };
    Ok(bytes)
}

/// Compresses a tar stream.
pub fn compress(kind: Compression, tar: &[u8]) -> Result<Vec<u8>, String> {
    let io = |e: std::io::Error| e.to_string();
    Ok(match kind {
        Compression::None => tar.to_vec(),
        Compression::Gzip => gzip(tar),
        Compression::GzipMulti => {
            // Cut at sizes that are not block multiples: members need not align with entries.
            let a = tar.len() / 3 + 7;
            let b = (2 * tar.len() / 3 + 13).min(tar.len());
            let a = a.min(b);
            [gzip(&tar[..a]), gzip(&tar[a..b]), gzip(&tar[b..])].concat()
        }
        Compression::Bzip2 => {
            let mut w = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            w.write_all(tar).map_err(io)?;
            w.finish().map_err(io)?
        }
        Compression::Xz => {
            let mut w =
                lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1))
                    .map_err(io)?;
            w.write_all(tar).map_err(io)?;
            w.finish().map_err(io)?
        }
        Compression::Zstd => ruzstd::encoding::compress_to_vec(
            Cursor::new(tar),
            ruzstd::encoding::CompressionLevel::Fastest,
        ),
    })
}

/// One gzip member (deterministic: no name, mtime 0).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    gzip_level(data, 6)
}

/// One gzip member at a deflate `level` (0-10). Written with miniz_oxide directly, so the bytes
/// (and so the goldens) do not depend on which backend flate2 uses for reading.
pub fn gzip_level(data: &[u8], level: u8) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(miniz_oxide::deflate::compress_to_vec(data, level));
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// A zip of the entries (directories, files, symlinks; unix modes in the external attributes).
fn zip(entries: &[Entry], deflate: bool) -> Result<Vec<u8>, String> {
    use zip::write::SimpleFileOptions;
    let err = |e: zip::result::ZipError| e.to_string();
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    for (i, e) in entries.iter().enumerate() {
        let name = String::from_utf8(e.name.clone())
            .map_err(|_| format!("entry {i}: zip names here are UTF-8 (use a generator)"))?;
        let when = dos_time(e.mtime.unwrap_or(DEFAULT_MTIME));
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(when);
        match &e.kind {
            Kind::File => {
                w.start_file(name, options.unix_permissions(e.mode.unwrap_or(0o644)))
                    .map_err(err)?;
                w.write_all(&e.data).map_err(|e| e.to_string())?;
            }
            Kind::Dir => w
                .add_directory(name, options.unix_permissions(e.mode.unwrap_or(0o755)))
                .map_err(err)?,
            Kind::Symlink(target) => {
                let target = String::from_utf8(target.clone())
                    .map_err(|_| format!("entry {i}: zip link targets here are UTF-8"))?;
                w.add_symlink(name, target, options.unix_permissions(0o777))
                    .map_err(err)?;
            }
            other => return Err(format!("entry {i}: zip cannot hold {other:?}")),
        }
    }
    Ok(w.finish().map_err(err)?.into_inner())
}

/// The DOS date and time of a Unix time, read as UTC (zip stores no zone).
fn dos_time(unix: i64) -> zip::DateTime {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    zip::DateTime::from_date_and_time(
        year as u16,
        month as u8,
        day as u8,
        (secs / 3600) as u8,
        (secs / 60 % 60) as u8,
        (secs % 60) as u8,
    )
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dos_time_of_a_known_date() {
        // 2023-11-14 22:13:20 UTC
        let t = dos_time(1_700_000_000);
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2023, 11, 14, 22, 13, 20)
        );
    }
}
