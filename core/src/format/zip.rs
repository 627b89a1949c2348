//! zip archives, read with random access.
//!
//! The `zip` crate finds the end record and parses the central directory (zip64 included, and
//! archives with a prefix such as self-extractors). Everything after that is ours: each central
//! header is re-read as stored (flags, method, name and extra fields exactly as written), every
//! local header is parsed and compared with its central header, entries that share bytes are
//! refused before the first one is yielded, and entry data is read, inflated and CRC-checked
//! here, so each limit counts real bytes.
//!
//! Unless differentials are allowed (the `trusted` policy), a zip that other tools would read
//! differently is refused when it is opened, each case with its own rule: two entries with one
//! name, bytes before the first entry or between entries that no listed entry covers (a hidden
//! local entry), bytes after the end record, a data descriptor that disagrees with the central
//! directory, and end records (classic and ZIP64, or a second one) that name different central
//! directories. The layout this accepts is the one every writer makes: entries from offset 0,
//! each local header, data and data descriptor right after the previous one, then the central
//! directory, the ZIP64 end record and locator if any, and the end record, whose comment ends
//! the file.
//!
//! Entries are yielded in central-directory order. The stored (0) and deflate (8) methods are
//! read here; deflate64 (9), bzip2 (12), lzma (14), zstd (93) and xz (95) by the decoders of
//! `format::stream` when their features are built. Encrypted entries are refused.

mod data;

pub use data::ZipData;

use crate::crc32::crc32;
use crate::entry::{EntrySource, RawEntry, RawKind, SourceError};
use crate::error::{FormatError, Location, escape_bytes};
use crate::format::stream::EntryDecoder;
use crate::path::NameOrigin;
use crate::policy::{Differentials, Limits};
use crate::rule::Rule;
use data::{DataReader, Input};
use std::collections::{HashMap, HashSet};
use std::io::{self, BufReader, Read, Seek, SeekFrom};

/// Input buffer for entry data (large reads: 8 KiB buffers cost ~27% in measurements).
const INPUT_BUFFER: usize = 128 * 1024;
/// Buffer for reading the central directory (the `zip` crate reads it in small pieces) and the
/// local headers (in file order, so most are already in the buffer).
const HEADER_BUFFER: usize = 16 * 1024;
/// Gaps up to this size between one entry's data and the next are read past, not sought over.
const SKIP_BY_READING: u64 = 16 * 1024;

const LOCAL_SIG: [u8; 4] = *b"PK\x03\x04";
const CENTRAL_SIG: [u8; 4] = *b"PK\x01\x02";
const EOCD_SIG: [u8; 4] = *b"PK\x05\x06";
/// The marker a split or spanned archive starts with (also written before single archives).
const SPANNED_SIG: [u8; 4] = *b"PK\x07\x08";
/// A data descriptor's optional signature (the same bytes as the spanned-archive marker).
const DESCRIPTOR_SIG: [u8; 4] = *b"PK\x07\x08";
const ZIP64_EOCD_SIG: [u8; 4] = *b"PK\x06\x06";
const ZIP64_LOCATOR_SIG: [u8; 4] = *b"PK\x06\x07";
/// The central directory's digital signature record (APPNOTE 4.3.13), between the directory
/// and the end records.
const DIGITAL_SIGNATURE_SIG: [u8; 4] = *b"PK\x05\x05";
const EOCD_LEN: u64 = 22;
const ZIP64_EOCD_LEN: u64 = 56;
const ZIP64_LOCATOR_LEN: u64 = 20;
const LOCAL_LEN: u64 = 30;
const CENTRAL_LEN: u64 = 46;
/// The end record (22 bytes) plus the longest comment.
const EOCD_SEARCH: u64 = 22 + 0xFFFF;

const FLAG_ENCRYPTED: u16 = 1 << 0;
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
const FLAG_UTF8: u16 = 1 << 11;

const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
const METHOD_AES: u16 = 99;

const EXTRA_ZIP64: u16 = 0x0001;
const EXTRA_NTFS: u16 = 0x000a;
const EXTRA_EXT_TIMESTAMP: u16 = 0x5455;
const EXTRA_UNICODE_PATH: u16 = 0x7075;

/// "Version made by" host systems whose external attributes carry a Unix mode.
const HOST_UNIX: u8 = 3;
const HOST_OSX: u8 = 19;

const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFDIR: u32 = 0o040_000;
const DOS_DIRECTORY: u32 = 0x10;

/// Reads the entries of a zip archive from a seekable input.
pub struct ZipSource<R: Read + Seek> {
    entries: Vec<Central>,
    /// Index into `entries` of the next entry to yield.
    next: usize,
    /// Index into `entries` of the entry whose data `read_data` reads, if any.
    reading: Option<usize>,
    data: DataReader<R>,
    /// Raw bytes consumed by entries before the current one.
    consumed_before: u64,
    /// Decompressed bytes produced so far.
    produced: u64,
    max_decoder_memory: u64,
    max_metadata_bytes: u64,
}

impl<R: Read + Seek> std::fmt::Debug for ZipSource<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipSource")
            .field("entries", &self.entries.len())
            .field("next", &self.next)
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

/// One central-directory entry, as stored, with what its local header said.
#[derive(Debug, Clone)]
struct Central {
    /// Position in the central directory.
    index: u64,
    /// Where the local header starts (archive prefix included).
    header_start: u64,
    /// The name's bytes as stored in the central header.
    name: Vec<u8>,
    flags: u16,
    method: u16,
    crc32: u32,
    compressed_size: u64,
    size: u64,
    /// "Version made by": host system in the high byte.
    made_by: u16,
    external: u32,
    dos_time: u16,
    dos_date: u16,
    /// The central header's extra fields, unparsed.
    extra: Vec<u8>,
    /// The local header, checked against this entry (errors are reported when the entry is reached).
    local: Result<Local, FormatError>,
}

#[derive(Debug, Clone)]
struct Local {
    data_start: u64,
    /// Modification time from the local extended-timestamp field.
    mtime: Option<i64>,
}

/// A central header as stored, before zip64 resolution.
struct RawCentral {
    made_by: u16,
    flags: u16,
    method: u16,
    dos_time: u16,
    dos_date: u16,
    crc32: u32,
    compressed_size: u32,
    size: u32,
    name: Vec<u8>,
    extra: Vec<u8>,
    external: u32,
    offset: u32,
    /// Bytes the header occupies, name, extra field and comment included.
    len: usize,
}

/// What the `zip` crate resolved for one central header.
#[derive(Clone, Copy)]
struct Resolved {
    header_start: u64,
    compressed_size: u64,
    size: u64,
}

impl<R: Read + Seek> ZipSource<R> {
    /// Opens a zip archive: finds the end record, reads the central directory and every local
    /// header, and refuses overlapping entries and, as [`ZipSource::open`] with
    /// [`Differentials::Refuse`], archives other tools read differently. Per-entry problems
    /// (an unsupported method, encryption, a local header that disagrees) are reported when the
    /// entry is reached.
    pub fn new(reader: R, limits: &Limits) -> Result<Self, SourceError> {
        Self::open(reader, limits, Differentials::Refuse)
    }

    /// [`ZipSource::new`], with `differentials` deciding whether archives other tools read
    /// differently are refused (see the module's documentation).
    pub fn open(
        mut reader: R,
        limits: &Limits,
        differentials: Differentials,
    ) -> Result<Self, SourceError> {
        let strict = differentials == Differentials::Refuse;
        let file_len = reader.seek(SeekFrom::End(0)).map_err(SourceError::Input)?;
        let (resolved, cd_start, archive_offset) = open_directory(&mut reader, file_len)?;

        // The central headers in directory order. The crate's list is keyed by name, so a name
        // stored twice appears once; walking the directory finds the others again.
        let cd = read_directory(&mut reader, &resolved, cd_start, file_len)?;
        let mut entries = Vec::with_capacity(resolved.len());
        let mut rel = 0;
        while rel < cd.len() {
            let (index, pos) = (entries.len() as u64, cd_start + rel as u64);
            let raw = parse_central(&cd[rel..], pos).map_err(|e| with_entry(e, index))?;
            let res = match resolved.get(&pos) {
                Some(&res) => res,
                None => resolve_zip64(&raw, archive_offset).map_err(|detail| {
                    let location = Location {
                        entry: Some(index),
                        ..Location::at(pos)
                    };
                    format_err(Rule::ZipCorrupt, detail, location)
                })?,
            };
            rel += raw.len;
            entries.push(Central {
                index,
                header_start: res.header_start,
                name: raw.name,
                flags: raw.flags,
                method: raw.method,
                crc32: raw.crc32,
                compressed_size: res.compressed_size,
                size: res.size,
                made_by: raw.made_by,
                external: raw.external,
                dos_time: raw.dos_time,
                dos_date: raw.dos_date,
                extra: raw.extra,
                local: Err(FormatError::new(Rule::ZipCorrupt, "local header not read")),
            });
        }

        // Every local header (in file order, through a small buffer), and the bytes each
        // entry occupies.
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|&i| entries[i].header_start);
        let mut extents = Vec::with_capacity(entries.len());
        let mut at = Positioned {
            inner: BufReader::with_capacity(HEADER_BUFFER, &mut reader),
            pos: None,
        };
        for i in order {
            let (extent, local) = read_local(&mut at, &entries[i], file_len, cd_start, strict)?;
            entries[i].local = local;
            if let Some((start, end)) = extent {
                extents.push((start, end, i));
            }
        }
        drop(at);
        check_overlaps(&entries, &mut extents)?;
        if strict {
            let layout = Layout {
                cd_start,
                cd_len: cd.len() as u64,
                archive_offset,
                file_len,
            };
            check_differentials(&mut reader, &entries, &extents, &layout)?;
        }

        Ok(ZipSource {
            entries,
            next: 0,
            reading: None,
            data: DataReader::new(Input::new(reader), limits.max_decoder_memory),
            consumed_before: 0,
            produced: 0,
            max_decoder_memory: limits.max_decoder_memory,
            max_metadata_bytes: limits.max_metadata_bytes,
        })
    }

    /// Leaves the current entry (its unread data is skipped, unverified).
    fn finish_current(&mut self) {
        self.consumed_before += self.data.finish();
        self.reading = None;
    }

    /// Positions the input at `entry`'s data and makes it current.
    fn begin_data(&mut self, entry: usize, data_start: u64) -> Result<(), SourceError> {
        self.data.begin(&self.entries[entry], data_start)?;
        self.reading = Some(entry);
        Ok(())
    }

    /// Reads decompressed data of the current entry, verifying length and CRC at its end.
    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, SourceError> {
        let Some(i) = self.reading else {
            return Ok(0);
        };
        self.data.read(&self.entries[i], buf, &mut self.produced)
    }

    /// Reads a symlink's whole target (bounded by the metadata limit).
    fn read_target(&mut self, entry: usize) -> Result<Vec<u8>, SourceError> {
        let e = &self.entries[entry];
        if e.size > self.max_metadata_bytes {
            let detail = format!(
                "the symlink target is {} bytes long (limit {})",
                e.size, self.max_metadata_bytes
            );
            return Err(entry_err(e, Rule::MetadataLimit, detail));
        }
        let mut target = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = self.read_body(&mut chunk)?;
            if n == 0 {
                return Ok(target);
            }
            target.extend_from_slice(&chunk[..n]);
            if target.len() as u64 > self.max_metadata_bytes {
                let e = &self.entries[entry];
                let detail = format!(
                    "the symlink target is longer than {} bytes",
                    self.max_metadata_bytes
                );
                return Err(entry_err(e, Rule::MetadataLimit, detail));
            }
        }
    }
}

impl<R: Read + Seek> EntrySource for ZipSource<R> {
    fn next_entry(&mut self) -> Result<Option<RawEntry>, SourceError> {
        self.finish_current();
        let i = self.next;
        let Some(e) = self.entries.get(i) else {
            return Ok(None);
        };
        self.next += 1;
        let local = match &e.local {
            Ok(local) => local.clone(),
            Err(err) => return Err(SourceError::Format(err.clone())),
        };
        let (name, name_origin) = entry_name(e);
        let kind = kind_of(e);
        let mode = unix_mode(e).map(|m| m & 0o7777);
        let mtime = mtime_of(e, local.mtime);
        let kind = match kind {
            Kind::Dir => RawKind::Dir,
            Kind::File | Kind::Symlink => {
                check_readable(e)?;
                self.begin_data(i, local.data_start)?;
                if kind == Kind::File {
                    RawKind::File {
                        size: self.entries[i].size,
                    }
                } else {
                    let target = self.read_target(i)?;
                    self.finish_current();
                    RawKind::Symlink { target }
                }
            }
        };
        let e = &self.entries[i];
        Ok(Some(RawEntry {
            index: e.index,
            offset: e.header_start,
            name,
            name_origin,
            kind,
            mode,
            mtime,
        }))
    }

    fn read_data(&mut self, buf: &mut [u8]) -> Result<usize, SourceError> {
        self.read_body(buf)
    }

    fn input_consumed(&self) -> u64 {
        self.consumed_before + self.data.consumed()
    }

    fn output_produced(&self) -> u64 {
        self.produced
    }

    fn detached_data(&self) -> Option<ZipData> {
        let e = &self.entries[self.reading?];
        let local = e.local.as_ref().ok()?;
        Some(ZipData::new(e, local.data_start, self.max_decoder_memory))
    }

    fn data_taken(&mut self) {
        self.produced += self.data.taken();
    }
}

// ---- opening ----

/// Lets the `zip` crate find the end record and parse the central directory. Returns what it
/// resolved for each central header (keyed by the header's position), where the directory
/// starts, and the archive's offset in the input (a self-extractor's prefix).
fn open_directory<R: Read + Seek>(
    reader: &mut R,
    file_len: u64,
) -> Result<(HashMap<u64, Resolved>, u64, u64), SourceError> {
    let archive = match zip::ZipArchive::new(BufReader::with_capacity(HEADER_BUFFER, &mut *reader))
    {
        Ok(archive) => archive,
        Err(error) => return Err(open_error(reader, file_len, error)),
    };
    let mut resolved = HashMap::with_capacity(archive.len());
    for i in 0..archive.len() {
        let entry = archive.by_index_data(i).map_err(|e| {
            format_err(
                Rule::ZipCorrupt,
                format!("central directory: {e}"),
                Location::default(),
            )
        })?;
        resolved.insert(
            entry.central_header_start(),
            Resolved {
                header_start: entry.header_start(),
                compressed_size: entry.compressed_size(),
                size: entry.size(),
            },
        );
    }
    Ok((
        resolved,
        archive.central_directory_start(),
        archive.offset(),
    ))
}

/// Why the `zip` crate could not open the archive, as a typed error.
fn open_error<R: Read + Seek>(
    reader: &mut R,
    file_len: u64,
    error: zip::result::ZipError,
) -> SourceError {
    let error = match error {
        zip::result::ZipError::Io(io_error)
            if !matches!(
                io_error.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
            ) =>
        {
            return SourceError::Input(io_error);
        }
        other => other,
    };
    if file_len == 0 {
        return format_err(Rule::NotAnArchive, "the input is empty", Location::at(0));
    }
    // Is there an end record at all?
    let tail_start = file_len.saturating_sub(EOCD_SEARCH);
    let mut tail = vec![0u8; (file_len - tail_start) as usize];
    if let Err(e) = read_exact_at(reader, tail_start, &mut tail) {
        return e;
    }
    if tail.windows(4).any(|w| w == EOCD_SIG) {
        return format_err(
            Rule::ZipCorrupt,
            format!("the central directory cannot be read: {error}"),
            Location::default(),
        );
    }
    if tail.windows(4).any(|w| w == CENTRAL_SIG) {
        return format_err(
            Rule::ZipCorrupt,
            format!("the end-of-central-directory record is missing or damaged: {error}"),
            Location::default(),
        );
    }
    let mut head = [0u8; 4];
    let starts_like_zip =
        read_exact_at(reader, 0, &mut head).is_ok() && (head == LOCAL_SIG || head == SPANNED_SIG);
    if starts_like_zip {
        return format_err(
            Rule::Truncated,
            "the zip has no end-of-central-directory record: the archive is incomplete",
            Location::at(file_len),
        );
    }
    format_err(
        Rule::NotAnArchive,
        "no zip end-of-central-directory record found",
        Location::default(),
    )
}

/// Reads the central directory's bytes: from its start to the end of the last header the
/// `zip` crate parsed.
fn read_directory<R: Read + Seek>(
    reader: &mut R,
    resolved: &HashMap<u64, Resolved>,
    cd_start: u64,
    file_len: u64,
) -> Result<Vec<u8>, SourceError> {
    let Some(&last) = resolved.keys().max() else {
        return Ok(Vec::new());
    };
    let corrupt = |detail: String| format_err(Rule::ZipCorrupt, detail, Location::at(last));
    if last < cd_start
        || last
            .checked_add(CENTRAL_LEN)
            .is_none_or(|end| end > file_len)
    {
        return Err(corrupt(format!(
            "central header at {last} lies outside the file ({file_len} bytes)"
        )));
    }
    let mut h = [0u8; CENTRAL_LEN as usize];
    read_exact_at(reader, last, &mut h)?;
    let len = CENTRAL_LEN
        + u64::from(u16_at(&h, 28))
        + u64::from(u16_at(&h, 30))
        + u64::from(u16_at(&h, 32));
    let cd_len = (last + len)
        .checked_sub(cd_start)
        .filter(|_| last + len <= file_len);
    let Some(cd_len) = cd_len.and_then(|n| usize::try_from(n).ok()) else {
        return Err(corrupt(format!(
            "central header at {last} runs past the end of the file"
        )));
    };
    let mut cd = vec![0u8; cd_len];
    read_exact_at(reader, cd_start, &mut cd)?;
    Ok(cd)
}

/// Parses the central header at the start of `bytes` (found at `pos`), as stored.
fn parse_central(bytes: &[u8], pos: u64) -> Result<RawCentral, SourceError> {
    let corrupt = |detail: String| format_err(Rule::ZipCorrupt, detail, Location::at(pos));
    if bytes.len() < CENTRAL_LEN as usize || bytes[..4] != CENTRAL_SIG {
        return Err(corrupt(format!("no central header at {pos}")));
    }
    let (name_len, extra_len, comment_len) = (
        usize::from(u16_at(bytes, 28)),
        usize::from(u16_at(bytes, 30)),
        usize::from(u16_at(bytes, 32)),
    );
    let name_at = CENTRAL_LEN as usize;
    let len = name_at + name_len + extra_len + comment_len;
    if len > bytes.len() {
        return Err(corrupt(format!(
            "the central header at {pos} runs past the central directory"
        )));
    }
    Ok(RawCentral {
        made_by: u16_at(bytes, 4),
        flags: u16_at(bytes, 8),
        method: u16_at(bytes, 10),
        dos_time: u16_at(bytes, 12),
        dos_date: u16_at(bytes, 14),
        crc32: u32_at(bytes, 16),
        compressed_size: u32_at(bytes, 20),
        size: u32_at(bytes, 24),
        name: bytes[name_at..name_at + name_len].to_vec(),
        extra: bytes[name_at + name_len..name_at + name_len + extra_len].to_vec(),
        external: u32_at(bytes, 38),
        offset: u32_at(bytes, 42),
        len,
    })
}

/// A buffered reader that knows its position, so that reads at nearby offsets (local headers in
/// file order) are served from the buffer instead of a seek and a read each.
struct Positioned<'a, R> {
    inner: BufReader<&'a mut R>,
    /// The logical position, when known.
    pos: Option<u64>,
}

impl<R: Read + Seek> Positioned<'_, R> {
    fn read_at(&mut self, at: u64, buf: &mut [u8]) -> io::Result<()> {
        let delta = self
            .pos
            .and_then(|pos| i64::try_from(i128::from(at) - i128::from(pos)).ok());
        self.pos = None;
        match delta {
            Some(0) => {}
            Some(delta) => self.inner.seek_relative(delta)?,
            None => {
                self.inner.seek(SeekFrom::Start(at))?;
            }
        }
        self.inner.read_exact(buf)?;
        self.pos = Some(at + buf.len() as u64);
        Ok(())
    }
}

/// Resolves a central header's zip64 fields ourselves: only for headers the `zip` crate
/// dropped (a name stored twice), which it parsed successfully under the other name.
fn resolve_zip64(raw: &RawCentral, archive_offset: u64) -> Result<Resolved, String> {
    let mut size = u64::from(raw.size);
    let mut compressed_size = u64::from(raw.compressed_size);
    let mut offset = u64::from(raw.offset);
    if let Some(data) = find_extra(&raw.extra, EXTRA_ZIP64) {
        let mut fields = data.chunks_exact(8).map(|c| u64_at(c, 0));
        let mut next = |field: &mut u64| {
            if *field == 0xFFFF_FFFF {
                *field = fields.next().ok_or("zip64 extra field too short")?;
            }
            Ok::<(), &str>(())
        };
        next(&mut size)?;
        next(&mut compressed_size)?;
        next(&mut offset)?;
    }
    let header_start = offset
        .checked_add(archive_offset)
        .ok_or("local header offset overflows")?;
    Ok(Resolved {
        header_start,
        compressed_size,
        size,
    })
}

/// Reads and checks `entry`'s local header. Returns the bytes the entry occupies (when the
/// header could be read) and the header's verdict. Only input failures are returned as errors.
#[allow(clippy::type_complexity)]
fn read_local<R: Read + Seek>(
    reader: &mut Positioned<'_, R>,
    entry: &Central,
    file_len: u64,
    cd_start: u64,
    strict: bool,
) -> Result<(Option<(u64, u64)>, Result<Local, FormatError>), SourceError> {
    let start = entry.header_start;
    let fail = |rule: Rule, detail: String| entry_format_err(entry, rule, detail);
    if start >= cd_start
        || start
            .checked_add(LOCAL_LEN)
            .is_none_or(|end| end > file_len)
    {
        let detail = format!(
            "the local header offset {start} is outside the archive's data (central directory at {cd_start})"
        );
        return Ok((None, Err(fail(Rule::ZipCorrupt, detail))));
    }
    let mut h = [0u8; LOCAL_LEN as usize];
    if let Err(e) = reader.read_at(start, &mut h) {
        return match SourceError::from_io(e, start) {
            SourceError::Format(e) => Ok((None, Err(fail(e.rule, e.detail)))),
            input => Err(input),
        };
    }
    if h[..4] != LOCAL_SIG {
        return Ok((
            None,
            Err(fail(
                Rule::ZipCorrupt,
                format!("no local header signature at offset {start}"),
            )),
        ));
    }
    let (name_len, extra_len) = (u64::from(u16_at(&h, 26)), u64::from(u16_at(&h, 28)));
    let data_start = start + LOCAL_LEN + name_len + extra_len;
    let data_end = data_start.saturating_add(entry.compressed_size);
    let extent = Some((start, data_end.max(data_start)));
    if data_start > file_len {
        return Ok((
            extent,
            Err(fail(
                Rule::Truncated,
                "the archive ends inside a local header".into(),
            )),
        ));
    }
    let mut name_extra = vec![0u8; (name_len + extra_len) as usize];
    if let Err(e) = reader.read_at(start + LOCAL_LEN, &mut name_extra) {
        return match SourceError::from_io(e, start) {
            SourceError::Format(e) => Ok((extent, Err(fail(e.rule, e.detail)))),
            input => Err(input),
        };
    }
    let (name, extra) = name_extra.split_at(name_len as usize);
    let verdict = check_local(entry, &h, name, extra).and_then(|()| {
        if data_end > file_len {
            let detail = format!("the entry's {} bytes of data run past the end of the file", entry.compressed_size);
            return Err(fail(Rule::Truncated, detail));
        }
        if data_end > cd_start {
            let detail = format!("the entry's data (ending at {data_end}) runs into the central directory (at {cd_start})");
            return Err(fail(Rule::ZipCorrupt, detail));
        }
        Ok(Local { data_start, mtime: find_extra(extra, EXTRA_EXT_TIMESTAMP).and_then(ext_timestamp) })
    });
    // The data descriptor belongs to the entry's bytes: checked, and counted in its extent.
    // Whether one follows the data is the local header's to say (a streaming reader knows no
    // other), whatever the central header's flags.
    // An encrypted entry is refused when reached (and an AES one's descriptor holds no CRC).
    if strict
        && verdict.is_ok()
        && u16_at(&h, 6) & FLAG_DATA_DESCRIPTOR != 0
        && !is_encrypted(entry)
    {
        let room = (cd_start - data_end).min(24) as usize;
        let mut descriptor = [0u8; 24];
        if let Err(e) = reader.read_at(data_end, &mut descriptor[..room]) {
            return match SourceError::from_io(e, data_end) {
                SourceError::Format(e) => Ok((extent, Err(fail(e.rule, e.detail)))),
                input => Err(input),
            };
        }
        return Ok(
            match check_descriptor(entry, &descriptor[..room], data_end) {
                Ok(len) => (Some((start, data_end + len)), verdict),
                Err(e) => (extent, Err(e)),
            },
        );
    }
    Ok((extent, verdict))
}

/// Checks the data descriptor at the start of `bytes` (found at `at`, right after the entry's
/// data) against the central directory: its CRC-32 and both sizes must match. The signature is
/// optional and the sizes are 4 or 8 bytes (ZIP64), so each of the four layouts is tried.
/// Returns the descriptor's length.
fn check_descriptor(entry: &Central, bytes: &[u8], at: u64) -> Result<u64, FormatError> {
    let central = (entry.crc32, entry.compressed_size, entry.size);
    let mut seen = None;
    for (signed, wide) in [(true, false), (true, true), (false, false), (false, true)] {
        let skip = if signed { 4 } else { 0 };
        let len = skip + if wide { 20 } else { 12 };
        if bytes.len() < len || (signed && bytes[..4] != DESCRIPTOR_SIG) {
            continue;
        }
        let b = &bytes[skip..];
        let found = if wide {
            (u32_at(b, 0), u64_at(b, 4), u64_at(b, 12))
        } else {
            (
                u32_at(b, 0),
                u64::from(u32_at(b, 4)),
                u64::from(u32_at(b, 8)),
            )
        };
        if found == central {
            return Ok(len as u64);
        }
        seen.get_or_insert(found);
    }
    let detail = match seen {
        Some((crc, compressed, size)) => format!(
            "the data descriptor at offset {at} says CRC-32 {crc:08x}, {compressed} compressed and {size} bytes; the central directory {:08x}, {} and {}",
            entry.crc32, entry.compressed_size, entry.size
        ),
        None => format!(
            "the local header announces a data descriptor, but none fits at offset {at} before the central directory"
        ),
    };
    Err(entry_format_err(entry, Rule::ZipDescriptorMismatch, detail))
}

/// Where the central directory is, as the `zip` crate found it.
struct Layout {
    cd_start: u64,
    cd_len: u64,
    /// The offset every recorded offset is relative to (a prefix's length).
    archive_offset: u64,
    file_len: u64,
}

/// Refuses archives that other tools read differently (see the module's documentation).
fn check_differentials<R: Read + Seek>(
    reader: &mut R,
    entries: &[Central],
    extents: &[(u64, u64, usize)],
    layout: &Layout,
) -> Result<(), SourceError> {
    check_duplicate_names(entries)?;
    check_end_records(reader, entries.len() as u64, layout)?;
    if let Some(Err(e)) = entries.iter().map(|e| &e.local).find(|local| {
        local
            .as_ref()
            .is_err_and(|e| e.rule == Rule::ZipDescriptorMismatch)
    }) {
        return Err(SourceError::Format(e.clone()));
    }
    // An entry whose local header is unreadable, or that is encrypted, is refused when
    // reached; its bytes are not known, so the gaps around it cannot be told apart from hidden
    // content.
    if entries.iter().any(|e| e.local.is_err() || is_encrypted(e)) {
        return Ok(());
    }
    check_coverage(reader, extents, layout)
}

/// Two entries with one name: which one wins depends on the tool.
fn check_duplicate_names(entries: &[Central]) -> Result<(), SourceError> {
    let mut raw = HashSet::with_capacity(entries.len());
    let mut decoded = HashMap::with_capacity(entries.len());
    for e in entries {
        let (name, _) = entry_name(e);
        let earlier = if raw.insert(e.name.as_slice()) {
            decoded.insert(name, e.index)
        } else {
            entries
                .iter()
                .find(|other| other.name == e.name)
                .map(|other| other.index)
        };
        if let Some(earlier) = earlier {
            let detail = format!(
                "entries {earlier} and {} are both named '{}' in the central directory (tools disagree on which one wins)",
                e.index,
                escape_bytes(&e.name)
            );
            return Err(entry_err(e, Rule::ZipDuplicateName, detail));
        }
    }
    Ok(())
}

/// The end records must follow the central directory, name it (where a classic field is not
/// saturated, and always in the ZIP64 record), and end the file with their comment.
fn check_end_records<R: Read + Seek>(
    reader: &mut R,
    count: u64,
    layout: &Layout,
) -> Result<(), SourceError> {
    let Layout {
        cd_start,
        cd_len,
        archive_offset,
        file_len,
    } = *layout;
    let disagree =
        |detail: String, at: u64| format_err(Rule::ZipEndRecordsDisagree, detail, Location::at(at));
    let cd_offset = cd_start - archive_offset;
    let mut at = cd_start + cd_len;
    let peek = |reader: &mut R, at: u64| {
        let mut sig = [0u8; 4];
        if at.saturating_add(4) <= file_len {
            read_exact_at(reader, at, &mut sig)?;
        }
        Ok::<_, SourceError>(sig)
    };
    if peek(reader, at)? == DIGITAL_SIGNATURE_SIG && at + 6 <= file_len {
        let mut h = [0u8; 6];
        read_exact_at(reader, at, &mut h)?;
        at += 6 + u64::from(u16_at(&h, 4));
    }
    let mut zip64 = None;
    if peek(reader, at)? == ZIP64_EOCD_SIG && at + ZIP64_EOCD_LEN <= file_len {
        let mut r = [0u8; ZIP64_EOCD_LEN as usize];
        read_exact_at(reader, at, &mut r)?;
        let (total, size, offset) = (u64_at(&r, 32), u64_at(&r, 40), u64_at(&r, 48));
        if (total, size, offset) != (count, cd_len, cd_offset) {
            return Err(disagree(
                format!(
                    "the ZIP64 end record at offset {at} names a central directory of {total} entries, {size} bytes at offset {offset}; the one read has {count}, {cd_len} bytes at offset {cd_offset}"
                ),
                at,
            ));
        }
        let record = at;
        at = at.saturating_add(12).saturating_add(u64_at(&r, 4));
        let mut l = [0u8; ZIP64_LOCATOR_LEN as usize];
        if peek(reader, at)? != ZIP64_LOCATOR_SIG || at + ZIP64_LOCATOR_LEN > file_len {
            return Err(disagree(
                format!("no ZIP64 end locator follows the ZIP64 end record at offset {record}"),
                at,
            ));
        }
        read_exact_at(reader, at, &mut l)?;
        let pointed = u64_at(&l, 8);
        if pointed.checked_add(archive_offset) != Some(record) {
            return Err(disagree(
                format!(
                    "the ZIP64 end locator points at offset {pointed}, the ZIP64 end record is at {}",
                    record.saturating_sub(archive_offset)
                ),
                at,
            ));
        }
        at += ZIP64_LOCATOR_LEN;
        zip64 = Some(record);
    }
    if peek(reader, at)? != EOCD_SIG || at + EOCD_LEN > file_len {
        return Err(disagree(
            format!(
                "no end record follows the central directory (which ends at offset {at}): the end record read is elsewhere, and other tools may read another one"
            ),
            at,
        ));
    }
    let mut r = [0u8; EOCD_LEN as usize];
    read_exact_at(reader, at, &mut r)?;
    let fields = [
        ("entries", u64::from(u16_at(&r, 10)), 0xFFFF, count),
        ("size", u64::from(u32_at(&r, 12)), 0xFFFF_FFFF, cd_len),
        ("offset", u64::from(u32_at(&r, 16)), 0xFFFF_FFFF, cd_offset),
    ];
    for (what, classic, saturated, actual) in fields {
        if classic != actual && !(classic == saturated && zip64.is_some()) {
            let zip64 = match zip64 {
                Some(record) => format!(" (the ZIP64 end record at offset {record} says {actual})"),
                None => String::new(),
            };
            return Err(disagree(
                format!(
                    "the end record at offset {at} gives the central directory's {what} as {classic}, the directory read has {actual}{zip64}"
                ),
                at,
            ));
        }
    }
    let end = at + EOCD_LEN + u64::from(u16_at(&r, 20));
    if end < file_len && !zeros(reader, end, file_len - end)? {
        let detail = format!(
            "{} bytes follow the end record and its comment (which end at offset {end})",
            file_len - end
        );
        return Err(format_err(Rule::ZipTrailingData, detail, Location::at(end)));
    }
    if end > file_len {
        return Err(disagree(
            format!(
                "the end record at offset {at} has a comment that runs past the end of the file"
            ),
            at,
        ));
    }
    Ok(())
}

/// Every byte from offset 0 to the central directory must belong to a listed entry (its local
/// header, data and data descriptor), or be zero padding: other bytes before the first one are
/// a prefix (a self-extractor's stub, or another archive), bytes between them hidden content.
fn check_coverage<R: Read + Seek>(
    reader: &mut R,
    extents: &[(u64, u64, usize)],
    layout: &Layout,
) -> Result<(), SourceError> {
    let mut covered = 0u64;
    let starts = extents
        .iter()
        .map(|&(start, end, _)| (start, end))
        .chain([(layout.cd_start, layout.cd_start)]);
    for (start, end) in starts {
        if start > covered && !zeros(reader, covered, start - covered)? {
            let gap = start - covered;
            if covered == 0 {
                let mut head = [0u8; 4];
                let local =
                    gap >= 4 && read_exact_at(reader, 0, &mut head).is_ok() && head == LOCAL_SIG;
                if layout.archive_offset > 0 || !local {
                    let detail = format!(
                        "{gap} bytes come before the first entry (a self-extracting stub, or another archive that other tools would read instead)"
                    );
                    return Err(format_err(Rule::ZipPrependedData, detail, Location::at(0)));
                }
            }
            let what = if start == layout.cd_start {
                "the central directory"
            } else {
                "the next entry"
            };
            let detail = format!(
                "{gap} bytes at offset {covered}, before {what}, belong to no entry the central directory lists (readers that scan local headers would extract them)"
            );
            return Err(format_err(
                Rule::ZipUnlistedData,
                detail,
                Location::at(covered),
            ));
        }
        covered = covered.max(end);
    }
    Ok(())
}

/// Whether the `len` bytes at `at` are zero padding: all zeros, and at most
/// [`MAX_TRAILING_PADDING`](crate::format::MAX_TRAILING_PADDING) of them. Padding hides
/// nothing (some writers align entries or pad the file to a block), so it is no differential.
fn zeros<R: Read + Seek>(reader: &mut R, at: u64, len: u64) -> Result<bool, SourceError> {
    if len > crate::format::MAX_TRAILING_PADDING {
        return Ok(false);
    }
    let mut buf = vec![0u8; len as usize];
    read_exact_at(reader, at, &mut buf)?;
    Ok(buf.iter().all(|&b| b == 0))
}

/// Compares a local header with its central header.
fn check_local(entry: &Central, h: &[u8], name: &[u8], extra: &[u8]) -> Result<(), FormatError> {
    let mismatch = |detail: String| entry_format_err(entry, Rule::ZipHeaderMismatch, detail);
    if name != entry.name.as_slice() {
        return Err(mismatch(format!(
            "the local header names the entry '{}', the central directory '{}'",
            escape_bytes(name),
            escape_bytes(&entry.name)
        )));
    }
    let (flags, method) = (u16_at(h, 6), u16_at(h, 8));
    if method != entry.method {
        return Err(mismatch(format!(
            "the local header says method {method}, the central directory {}",
            entry.method
        )));
    }
    if (flags ^ entry.flags) & FLAG_ENCRYPTED != 0 {
        return Err(mismatch(
            "the local and central headers disagree on whether the entry is encrypted".into(),
        ));
    }
    let crc = u32_at(h, 14);
    let (mut compressed_size, mut size) = (u64::from(u32_at(h, 18)), u64::from(u32_at(h, 22)));
    if (compressed_size == 0xFFFF_FFFF || size == 0xFFFF_FFFF)
        && let Some(data) = find_extra(extra, EXTRA_ZIP64)
    {
        // APPNOTE 4.5.3: the local zip64 field holds both sizes; tolerate writers that store
        // only the ones whose 32-bit field overflowed.
        if data.len() >= 16 {
            (size, compressed_size) = (u64_at(data, 0), u64_at(data, 8));
        } else if data.len() >= 8 {
            if size == 0xFFFF_FFFF {
                size = u64_at(data, 0);
            } else {
                compressed_size = u64_at(data, 0);
            }
        }
    }
    // With a data descriptor, the local fields may be zero (the values follow the data).
    let deferred = flags & FLAG_DATA_DESCRIPTOR != 0;
    let agrees = |local: u64, central: u64| local == central || (deferred && local == 0);
    let fields = [
        ("CRC-32", u64::from(crc), u64::from(entry.crc32)),
        ("compressed size", compressed_size, entry.compressed_size),
        ("size", size, entry.size),
    ];
    for (what, local, central) in fields {
        if !agrees(local, central) {
            return Err(mismatch(format!(
                "the local header says {what} {local}, the central directory {central}"
            )));
        }
    }
    Ok(())
}

/// Refuses entries whose bytes (local header and data) overlap: "a better zip bomb" reuses one
/// compressed stream for many entries.
fn check_overlaps(
    entries: &[Central],
    extents: &mut [(u64, u64, usize)],
) -> Result<(), SourceError> {
    extents.sort_unstable();
    let mut furthest: Option<(u64, usize)> = None;
    for &(start, end, i) in extents.iter() {
        if let Some((prev_end, prev)) = furthest
            && start < prev_end
        {
            let (a, b) = (&entries[prev], &entries[i]);
            let detail = format!(
                "entry {} ('{}', local header at {}) overlaps entry {} ('{}', bytes {}..{})",
                b.index,
                escape_bytes(&b.name),
                start,
                a.index,
                escape_bytes(&a.name),
                a.header_start,
                prev_end
            );
            return Err(entry_err(b, Rule::ZipOverlap, detail));
        }
        if furthest.is_none_or(|(prev_end, _)| end > prev_end) {
            furthest = Some((end, i));
        }
    }
    Ok(())
}

// ---- interpreting an entry ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink,
}

fn unix_mode(e: &Central) -> Option<u32> {
    let host = (e.made_by >> 8) as u8;
    let mode = e.external >> 16;
    (matches!(host, HOST_UNIX | HOST_OSX) && mode != 0).then_some(mode)
}

fn kind_of(e: &Central) -> Kind {
    if e.name.ends_with(b"/") {
        return Kind::Dir;
    }
    // Other Unix types (a FIFO: Info-ZIP records stdin's mode for `zip - `) hold data like any
    // file, and extract as one, as unzip and Python do: zip has no device or FIFO entries.
    match unix_mode(e).map(|mode| mode & S_IFMT) {
        Some(S_IFDIR) => return Kind::Dir,
        Some(S_IFLNK) => return Kind::Symlink,
        Some(0) | None => {}
        Some(_) => return Kind::File,
    }
    if e.external & DOS_DIRECTORY != 0 && e.size == 0 {
        return Kind::Dir;
    }
    Kind::File
}

fn is_encrypted(e: &Central) -> bool {
    e.flags & FLAG_ENCRYPTED != 0 || e.method == METHOD_AES
}

/// Refuses what we cannot decode: encryption, then methods this build has no decoder for.
fn check_readable(e: &Central) -> Result<(), SourceError> {
    if is_encrypted(e) {
        let how = if e.method == METHOD_AES {
            "AES encryption"
        } else if e.flags & FLAG_STRONG_ENCRYPTION != 0 {
            "PKWARE strong encryption"
        } else {
            "traditional PKWARE encryption"
        };
        return Err(entry_err(
            e,
            Rule::ZipEncrypted,
            format!("the entry is encrypted ({how})"),
        ));
    }
    let feature = EntryDecoder::feature(e.method);
    let decoded = feature.is_some_and(crate::format::feature_built);
    if e.method != METHOD_STORED && e.method != METHOD_DEFLATE && !decoded {
        let detail = match (method_name(e.method), feature) {
            (Some(name), Some(feature)) => format!(
                "unsupported compression method {} ({name}; built without the '{feature}' feature)",
                e.method
            ),
            (Some(name), None) => format!("unsupported compression method {} ({name})", e.method),
            (None, _) => format!("unsupported compression method {}", e.method),
        };
        return Err(entry_err(e, Rule::UnsupportedMethod, detail));
    }
    Ok(())
}

/// APPNOTE 4.4.5 method names.
fn method_name(method: u16) -> Option<&'static str> {
    Some(match method {
        0 => "stored",
        1 => "shrink",
        2..=5 => "reduce",
        6 => "implode",
        7 => "tokenize",
        8 => "deflate",
        9 => "deflate64",
        10 => "PKWARE DCL implode",
        12 => "bzip2",
        14 => "lzma",
        16 => "IBM z/OS CMPSC",
        18 => "IBM TERSE",
        19 => "IBM LZ77 z",
        20 | 93 => "zstd",
        94 => "mp3",
        95 => "xz",
        96 => "jpeg",
        97 => "wavpack",
        98 => "ppmd",
        99 => "AES",
        _ => return None,
    })
}

/// The name and how to decode it: the UTF-8 flag, else a matching Info-ZIP Unicode Path
/// field, else the legacy bytes.
fn entry_name(e: &Central) -> (Vec<u8>, NameOrigin) {
    if e.flags & FLAG_UTF8 != 0 {
        return (e.name.clone(), NameOrigin::Utf8);
    }
    if let Some(data) = find_extra(&e.extra, EXTRA_UNICODE_PATH)
        && data.len() >= 5
        && data[0] == 1
        && u32_at(data, 1) == crc32(&e.name)
        && std::str::from_utf8(&data[5..]).is_ok()
    {
        return (data[5..].to_vec(), NameOrigin::Utf8);
    }
    (e.name.clone(), NameOrigin::ZipLegacy)
}

/// The modification time: extended timestamp (central, then local), NTFS times, else the
/// MS-DOS date and time read as UTC.
fn mtime_of(e: &Central, local: Option<i64>) -> Option<i64> {
    find_extra(&e.extra, EXTRA_EXT_TIMESTAMP)
        .and_then(ext_timestamp)
        .or(local)
        .or_else(|| find_extra(&e.extra, EXTRA_NTFS).and_then(ntfs_mtime))
        .or_else(|| dos_time(e.dos_date, e.dos_time))
}

/// The Info-ZIP extended timestamp's mtime (flag bit 0): an unsigned 32-bit count of seconds,
/// as libarchive and Go read it.
fn ext_timestamp(data: &[u8]) -> Option<i64> {
    (data.len() >= 5 && data[0] & 1 != 0).then(|| i64::from(u32_at(data, 1)))
}

/// The NTFS extra field's mtime (attribute tag 1): 100 ns ticks since 1601.
fn ntfs_mtime(data: &[u8]) -> Option<i64> {
    let mut rest = data.get(4..)?;
    while rest.len() >= 4 {
        let (tag, size) = (u16_at(rest, 0), usize::from(u16_at(rest, 2)));
        let body = rest.get(4..4 + size)?;
        if tag == 1 && size >= 24 {
            let ticks = u64_at(body, 0);
            return (ticks != 0).then(|| (ticks / 10_000_000) as i64 - 11_644_473_600);
        }
        rest = &rest[4 + size..];
    }
    None
}

/// An MS-DOS date and time, read as UTC; `None` when a field is out of range.
fn dos_time(date: u16, time: u16) -> Option<i64> {
    let year = 1980 + i64::from(date >> 9);
    let month = u32::from((date >> 5) & 0xF);
    let day = u32::from(date & 0x1F);
    let (hour, minute, second) = (
        i64::from(time >> 11),
        i64::from((time >> 5) & 0x3F),
        i64::from(time & 0x1F) * 2,
    );
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---- bytes ----

/// The body of the first extra field with `id` (a malformed tail ends the search).
fn find_extra(extra: &[u8], id: u16) -> Option<&[u8]> {
    let mut rest = extra;
    while rest.len() >= 4 {
        let (tag, size) = (u16_at(rest, 0), usize::from(u16_at(rest, 2)));
        let body = rest.get(4..4 + size)?;
        if tag == id {
            return Some(body);
        }
        rest = &rest[4 + size..];
    }
    None
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(bytes)
}

fn read_exact_at<R: Read + Seek>(
    reader: &mut R,
    pos: u64,
    buf: &mut [u8],
) -> Result<(), SourceError> {
    reader
        .seek(SeekFrom::Start(pos))
        .map_err(SourceError::Input)?;
    reader
        .read_exact(buf)
        .map_err(|e| SourceError::from_io(e, pos))
}

// ---- errors ----

fn format_err(rule: Rule, detail: impl Into<String>, location: Location) -> SourceError {
    SourceError::Format(FormatError {
        rule,
        detail: detail.into(),
        location,
    })
}

fn entry_location(e: &Central) -> Location {
    Location {
        entry: Some(e.index),
        offset: Some(e.header_start),
        raw_path: Some(escape_bytes(&e.name)),
        path: None,
    }
}

fn entry_format_err(e: &Central, rule: Rule, detail: impl Into<String>) -> FormatError {
    FormatError {
        rule,
        detail: detail.into(),
        location: entry_location(e),
    }
}

fn entry_err(e: &Central, rule: Rule, detail: impl Into<String>) -> SourceError {
    SourceError::Format(entry_format_err(e, rule, detail))
}

fn with_entry(error: SourceError, index: u64) -> SourceError {
    match error {
        SourceError::Format(mut e) => {
            e.location.entry.get_or_insert(index);
            SourceError::Format(e)
        }
        input => input,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    /// One entry of a hand-built zip.
    #[derive(Clone)]
    struct H {
        name: Vec<u8>,
        /// The bytes stored as the entry's data.
        data: Vec<u8>,
        method: u16,
        flags: u16,
        crc: u32,
        size: u32,
        made_by: u16,
        external: u32,
        extra: Vec<u8>,
        time: u16,
        date: u16,
        /// Point the central header at this offset, and write no local header.
        offset: Option<u32>,
        /// Bytes written after the data (a data descriptor).
        descriptor: Vec<u8>,
        /// Write the local header and data, but no central header.
        unlisted: bool,
    }

    impl H {
        fn stored(name: &str, data: &[u8]) -> H {
            H {
                name: name.as_bytes().to_vec(),
                data: data.to_vec(),
                method: METHOD_STORED,
                flags: 0,
                crc: crc32fast::hash(data),
                size: data.len() as u32,
                made_by: 0x0314,
                external: 0o100_644 << 16,
                extra: Vec::new(),
                time: 28093,
                date: 22621,
                offset: None,
                descriptor: Vec::new(),
                unlisted: false,
            }
        }

        /// The data descriptor this entry's central header agrees with: with or without the
        /// signature, 4- or 8-byte sizes.
        fn with_descriptor(mut self, signed: bool, wide: bool) -> H {
            self.flags |= FLAG_DATA_DESCRIPTOR;
            let mut d = Vec::new();
            if signed {
                d.extend_from_slice(&DESCRIPTOR_SIG);
            }
            d.extend_from_slice(&self.crc.to_le_bytes());
            for size in [self.data.len() as u64, u64::from(self.size)] {
                if wide {
                    d.extend_from_slice(&size.to_le_bytes());
                } else {
                    d.extend_from_slice(&(size as u32).to_le_bytes());
                }
            }
            self.descriptor = d;
            self
        }
    }

    /// Local headers and data, central directory, end record.
    fn hand(entries: &[H]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut offsets = Vec::new();
        for e in entries {
            if let Some(offset) = e.offset {
                offsets.push(offset);
                continue;
            }
            offsets.push(out.len() as u32);
            out.extend_from_slice(&LOCAL_SIG);
            for v in [20, e.flags, e.method, e.time, e.date] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for v in [e.crc, e.data.len() as u32, e.size] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            out.extend_from_slice(&(e.extra.len() as u16).to_le_bytes());
            out.extend_from_slice(&e.name);
            out.extend_from_slice(&e.extra);
            out.extend_from_slice(&e.data);
            out.extend_from_slice(&e.descriptor);
        }
        let cd_start = out.len() as u32;
        let listed = entries.iter().filter(|e| !e.unlisted).count() as u16;
        for (e, offset) in entries.iter().zip(&offsets) {
            if e.unlisted {
                continue;
            }
            out.extend_from_slice(&CENTRAL_SIG);
            for v in [e.made_by, 20, e.flags, e.method, e.time, e.date] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for v in [e.crc, e.data.len() as u32, e.size] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for v in [e.name.len() as u16, e.extra.len() as u16, 0, 0, 0] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&e.external.to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&e.name);
            out.extend_from_slice(&e.extra);
        }
        let cd_len = out.len() as u32 - cd_start;
        out.extend_from_slice(&EOCD_SIG);
        for v in [0u16, 0, listed, listed] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&cd_len.to_le_bytes());
        out.extend_from_slice(&cd_start.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    /// A zip written by the `zip` crate.
    fn written(
        f: impl FnOnce(&mut ZipWriter<Cursor<Vec<u8>>>) -> zip::result::ZipResult<()>,
    ) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        f(&mut w).expect("zip writes");
        w.finish().expect("zip finishes").into_inner()
    }

    fn format(e: SourceError) -> FormatError {
        match e {
            SourceError::Format(f) => f,
            SourceError::Input(e) => panic!("input error: {e}"),
        }
    }

    fn open(bytes: Vec<u8>) -> Result<ZipSource<Cursor<Vec<u8>>>, FormatError> {
        ZipSource::new(Cursor::new(bytes), &Limits::default()).map_err(format)
    }

    /// Opened with differentials allowed (the `trusted` policy).
    fn open_allowing(bytes: Vec<u8>) -> Result<ZipSource<Cursor<Vec<u8>>>, FormatError> {
        ZipSource::open(Cursor::new(bytes), &Limits::default(), Differentials::Allow)
            .map_err(format)
    }

    fn read_allowing(bytes: Vec<u8>) -> Result<Vec<(RawEntry, Vec<u8>)>, FormatError> {
        read_source(&mut open_allowing(bytes)?)
    }

    /// The names of the entries read with differentials allowed.
    fn names_allowing(bytes: Vec<u8>) -> Vec<String> {
        read_allowing(bytes)
            .expect("read when differentials are allowed")
            .into_iter()
            .map(|(e, _)| String::from_utf8_lossy(&e.name).into_owned())
            .collect()
    }

    /// The error opening `bytes` (differentials refused) stops with.
    fn refused(bytes: Vec<u8>) -> FormatError {
        open(bytes).expect_err("the archive is refused when opened")
    }

    /// Every entry with its data (small reads, to cross buffer boundaries).
    fn read_all(bytes: Vec<u8>) -> Result<Vec<(RawEntry, Vec<u8>)>, FormatError> {
        read_source(&mut open(bytes)?)
    }

    fn read_source(
        source: &mut ZipSource<Cursor<Vec<u8>>>,
    ) -> Result<Vec<(RawEntry, Vec<u8>)>, FormatError> {
        let mut out = Vec::new();
        while let Some(entry) = source.next_entry().map_err(format)? {
            let mut data = Vec::new();
            let mut buf = [0u8; 1000];
            loop {
                let n = source.read_data(&mut buf).map_err(format)?;
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
            }
            out.push((entry, data));
        }
        Ok(out)
    }

    fn rule(bytes: Vec<u8>) -> Rule {
        read_all(bytes).expect_err("the archive is refused").rule
    }

    fn text(len: usize) -> Vec<u8> {
        let mut x = 0x2545_F491_u32;
        (0..len)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if i % 3 == 0 {
                    b'a' + (x % 26) as u8
                } else {
                    b"the quick brown fox "[i % 20]
                }
            })
            .collect()
    }

    #[test]
    fn stored_entries_read_with_names_modes_and_times() {
        let entries = read_all(hand(&[
            H::stored("a.txt", b"hello"),
            H::stored("dir/b.txt", b""),
        ]))
        .unwrap();
        assert_eq!(entries.len(), 2);
        let (a, data) = &entries[0];
        assert_eq!(a.name, b"a.txt");
        assert_eq!(a.name_origin, NameOrigin::ZipLegacy);
        assert_eq!(a.kind, RawKind::File { size: 5 });
        assert_eq!(a.mode, Some(0o644));
        assert_eq!(a.mtime, Some(1_709_214_358), "2024-02-29 13:45:58 as UTC");
        assert_eq!((a.index, a.offset), (0, 0));
        assert_eq!(data, b"hello");
        assert_eq!(entries[1].0.offset, 30 + 5 + 5);
        assert_eq!(entries[1].1, b"");
    }

    #[test]
    fn deflate_reads_and_counts_bytes() {
        let content = text(700_000);
        let zip = written(|w| {
            let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
            w.start_file("big.txt", opts)?;
            w.write_all(&content)?;
            w.start_file("empty", opts)?;
            Ok(())
        });
        let mut source = open(zip.clone()).unwrap();
        let entries = read_source(&mut source).unwrap();
        assert_eq!(entries[0].1, content);
        assert_eq!(entries[1].1, b"");
        assert_eq!(source.output_produced(), content.len() as u64);
        let archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        let compressed: u64 = (0..2)
            .map(|i| archive.by_index_data(i).unwrap().compressed_size())
            .sum();
        assert_eq!(source.input_consumed(), compressed);
        assert!(source.input_consumed() < content.len() as u64 / 2);
    }

    #[test]
    fn consumed_counts_only_what_was_read() {
        let zip = hand(&[H::stored("a", &[7; 5000]), H::stored("b", &[8; 100])]);
        let mut source = open(zip).unwrap();
        source.next_entry().unwrap();
        let mut buf = [0u8; 1000];
        assert_eq!(source.read_data(&mut buf).unwrap(), 1000);
        assert_eq!(
            (source.input_consumed(), source.output_produced()),
            (1000, 1000)
        );
        source.next_entry().unwrap();
        assert_eq!(source.read_data(&mut buf).unwrap(), 100);
        assert_eq!(source.read_data(&mut buf).unwrap(), 0);
        assert_eq!(
            (source.input_consumed(), source.output_produced()),
            (1100, 1100)
        );
        assert!(source.next_entry().unwrap().is_none());
        assert!(source.next_entry().unwrap().is_none());
    }

    #[test]
    fn directories_by_name_unix_mode_or_dos_attribute() {
        let mut unix_dir = H::stored("udir", b"");
        unix_dir.external = (0o040_755 << 16) | 0x10;
        let mut dos_dir = H::stored("dosdir", b"");
        (dos_dir.made_by, dos_dir.external) = (0x0014, 0x10);
        let mut dos_file = H::stored("dosfile", b"x");
        (dos_file.made_by, dos_file.external) = (0x0014, 0x20);
        let mut fifo = H::stored("-", b"piped");
        fifo.external = 0o010_600 << 16;
        let zip = hand(&[H::stored("plain/", b""), unix_dir, dos_dir, dos_file, fifo]);
        let entries = read_all(zip).unwrap();
        let kinds: Vec<_> = entries
            .iter()
            .map(|(e, _)| (e.kind.clone(), e.mode))
            .collect();
        assert_eq!(
            kinds,
            [
                (RawKind::Dir, Some(0o644)),
                (RawKind::Dir, Some(0o755)),
                (RawKind::Dir, None),
                (RawKind::File { size: 1 }, None),
                (RawKind::File { size: 5 }, Some(0o600)),
            ]
        );
        assert_eq!(
            entries[4].1, b"piped",
            "a FIFO recorded by `zip -` is a file"
        );
    }

    #[test]
    fn unix_modes_keep_all_twelve_bits() {
        let mut suid = H::stored("suid", b"#!");
        suid.external = 0o104_755 << 16;
        let zip = written(|w| {
            w.add_directory("d/", SimpleFileOptions::default().unix_permissions(0o700))
        });
        let entries = read_all(hand(&[suid])).unwrap();
        assert_eq!(
            entries[0].0.mode,
            Some(0o4755),
            "the policy decides what to strip"
        );
        let entries = read_all(zip).unwrap();
        assert_eq!(
            (entries[0].0.kind.clone(), entries[0].0.mode),
            (RawKind::Dir, Some(0o700))
        );
    }

    #[test]
    fn symlink_stored_before_its_target() {
        let zip = written(|w| {
            let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
            w.add_symlink("pkg/README", "README.md", opts)?;
            w.start_file("pkg/README.md", opts)?;
            w.write_all(b"# readme\n")?;
            Ok(())
        });
        let entries = read_all(zip).unwrap();
        assert_eq!(
            entries[0].0.kind,
            RawKind::Symlink {
                target: b"README.md".to_vec()
            }
        );
        assert_eq!(entries[0].1, b"", "a symlink has no data to read");
        assert_eq!(entries[1].0.kind, RawKind::File { size: 9 });
        assert_eq!(entries[1].1, b"# readme\n");
    }

    #[test]
    fn symlink_targets_are_bounded_and_checked() {
        let zip =
            written(|w| w.add_symlink("l", "a-rather-long-target", SimpleFileOptions::default()));
        let limits = Limits {
            max_metadata_bytes: 4,
            ..Limits::default()
        };
        let mut source = ZipSource::new(Cursor::new(zip), &limits).unwrap();
        assert_eq!(
            format(source.next_entry().unwrap_err()).rule,
            Rule::MetadataLimit
        );

        let mut link = H::stored("l", b"target");
        link.external = 0o120_777 << 16;
        link.crc ^= 1;
        assert_eq!(rule(hand(&[link])), Rule::CrcMismatch);
    }

    #[test]
    fn data_descriptors_read() {
        let mut w = ZipWriter::new_stream(Vec::new());
        let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        w.start_file("streamed.txt", opts).unwrap();
        w.write_all(&text(5000)).unwrap();
        w.start_file(
            "stored.txt",
            opts.compression_method(CompressionMethod::Stored),
        )
        .unwrap();
        w.write_all(b"stored").unwrap();
        let zip = w.finish().unwrap().into_inner();
        assert_ne!(
            u16_at(&zip, 6) & FLAG_DATA_DESCRIPTOR,
            0,
            "the writer used a data descriptor"
        );
        let entries = read_all(zip).unwrap();
        assert_eq!(entries[0].1, text(5000));
        assert_eq!(entries[1].1, b"stored");
    }

    #[test]
    fn zip64_entries_read() {
        let zip = written(|w| {
            let opts = SimpleFileOptions::default().large_file(true);
            w.start_file("a", opts.compression_method(CompressionMethod::Deflated))?;
            w.write_all(&text(3000))?;
            w.start_file("b", opts.compression_method(CompressionMethod::Stored))?;
            w.write_all(b"bee")?;
            Ok(())
        });
        assert!(
            find_extra_in(&zip, EXTRA_ZIP64),
            "the writer used zip64 fields"
        );
        let entries = read_all(zip).unwrap();
        assert_eq!(entries[0].1, text(3000));
        assert_eq!(entries[1].1, b"bee");
    }

    fn find_extra_in(zip: &[u8], id: u16) -> bool {
        zip.windows(2).any(|w| u16_at(w, 0) == id)
    }

    #[test]
    fn crc_mismatch_when_a_data_byte_flips() {
        let mut zip = hand(&[H::stored("a", b"hello world")]);
        zip[30 + 1 + 3] ^= 0x20;
        let mut source = open(zip).unwrap();
        source.next_entry().unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(
            source.read_data(&mut buf).unwrap(),
            11,
            "data comes out before the check"
        );
        let err = format(source.read_data(&mut buf).unwrap_err());
        assert_eq!(err.rule, Rule::CrcMismatch);
        assert_eq!(err.location.entry, Some(0));
        assert_eq!(err.location.raw_path.as_deref(), Some("a"));

        // In deflate data too.
        let zip = written(|w| {
            w.start_file(
                "d",
                SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
            )?;
            Ok(w.write_all(&[0u8; 10_000])?)
        });
        let mut bad = zip.clone();
        let crc_at = 14;
        bad[crc_at] ^= 1;
        let cd = zip.windows(4).position(|w| w == CENTRAL_SIG).unwrap();
        bad[cd + 16] ^= 1;
        assert_eq!(rule(bad), Rule::CrcMismatch);
    }

    #[test]
    fn local_and_central_headers_must_agree() {
        let zip = hand(&[H::stored("name", b"data")]);
        let patched = |at: usize, value: u8| {
            let mut z = zip.clone();
            z[at] = value;
            z
        };
        let err = read_all(patched(30, b'N')).unwrap_err();
        assert_eq!(err.rule, Rule::ZipHeaderMismatch);
        assert!(err.detail.contains("'Name'"), "{}", err.detail);
        assert_eq!(rule(patched(8, 8)), Rule::ZipHeaderMismatch, "method");
        assert_eq!(rule(patched(14, 0)), Rule::ZipHeaderMismatch, "CRC");
        assert_eq!(
            rule(patched(18, 3)),
            Rule::ZipHeaderMismatch,
            "compressed size"
        );
        assert_eq!(rule(patched(22, 3)), Rule::ZipHeaderMismatch, "size");
        assert_eq!(
            rule(patched(6, 1)),
            Rule::ZipHeaderMismatch,
            "encryption flag"
        );
        assert_eq!(rule(patched(0, b'X')), Rule::ZipCorrupt, "local signature");
        // With a data descriptor, zero local fields are fine; wrong ones are not.
        let dd = H::stored("name", b"data").with_descriptor(true, false);
        let mut zip = hand(&[dd]);
        zip[14..26].fill(0);
        assert_eq!(read_all(zip.clone()).unwrap()[0].1, b"data");
        zip[22] = 9;
        assert_eq!(rule(zip), Rule::ZipHeaderMismatch);
    }

    #[test]
    fn overlapping_entries_are_refused_before_any_entry() {
        // Two central entries sharing one local header and its data (full overlap).
        let mut twin = H::stored("b", b"payload");
        twin.name = b"a".to_vec();
        twin.offset = Some(0);
        let zip = hand(&[H::stored("a", b"payload"), twin]);
        let err = open(zip).unwrap_err();
        assert_eq!(err.rule, Rule::ZipOverlap);
        assert_eq!(err.location.entry, Some(1));

        // A local header quoted inside another entry's data.
        let inner = hand(&[H::stored("in", b"zzzz")]);
        let inner_local = inner[..30 + 2 + 4].to_vec();
        let mut quoted = H::stored("in", b"zzzz");
        quoted.offset = Some(30 + 3);
        let mut outer = H::stored("out", &inner_local);
        outer.data.extend_from_slice(b"tail");
        outer.crc = crc32fast::hash(&outer.data);
        outer.size = outer.data.len() as u32;
        assert_eq!(
            open(hand(&[outer, quoted])).unwrap_err().rule,
            Rule::ZipOverlap
        );
    }

    #[test]
    fn encrypted_entries_are_refused_when_reached() {
        let mut enc = H::stored("secret", b"xxxx");
        enc.flags = FLAG_ENCRYPTED;
        let mut source = open(hand(&[H::stored("plain", b"ok"), enc.clone()])).unwrap();
        assert!(source.next_entry().unwrap().is_some());
        let err = format(source.next_entry().unwrap_err());
        assert_eq!(err.rule, Rule::ZipEncrypted);
        assert_eq!(err.location.entry, Some(1));

        let mut aes = H::stored("aes", b"xxxx");
        aes.method = METHOD_AES;
        assert_eq!(rule(hand(&[aes])), Rule::ZipEncrypted);
    }

    #[test]
    fn unknown_methods_are_named() {
        let mut shrunk = H::stored("s", b"...");
        shrunk.method = 1;
        let err = read_all(hand(&[shrunk])).unwrap_err();
        assert_eq!(err.rule, Rule::UnsupportedMethod);
        assert_eq!(err.detail, "unsupported compression method 1 (shrink)");
        let mut bz = H::stored("b", b"BZh9...");
        bz.method = 12;
        let err = read_all(hand(&[bz])).unwrap_err();
        if cfg!(feature = "bzip2") {
            assert_eq!(err.rule, Rule::CorruptCompression, "{}", err.detail);
        } else {
            assert_eq!(
                err.detail,
                "unsupported compression method 12 (bzip2; built without the 'bzip2' feature)"
            );
        }
        let mut odd = H::stored("o", b"?");
        odd.method = 77;
        assert_eq!(
            read_all(hand(&[odd])).unwrap_err().detail,
            "unsupported compression method 77"
        );
        // A directory has no data: its method does not matter.
        let mut dir = H::stored("d/", b"");
        dir.method = 14;
        assert_eq!(read_all(hand(&[dir])).unwrap()[0].0.kind, RawKind::Dir);
    }

    #[test]
    fn truncation() {
        let zip = hand(&[H::stored("a", &[1; 100])]);
        assert_eq!(
            rule(zip[..60].to_vec()),
            Rule::Truncated,
            "cut inside the data"
        );
        // The central directory claims more data than the file holds.
        let mut e = H::stored("a", &[1; 100]);
        e.offset = Some(0);
        let mut long = hand(&[H::stored("a", &[1; 100])]);
        let cd = long.windows(4).position(|w| w == CENTRAL_SIG).unwrap();
        long[cd + 20..cd + 24].copy_from_slice(&5000u32.to_le_bytes());
        long[18..22].copy_from_slice(&5000u32.to_le_bytes());
        assert_eq!(rule(long), Rule::Truncated);
    }

    #[test]
    fn not_a_zip_and_empty_zip() {
        assert_eq!(
            open(b"hello, world".to_vec()).unwrap_err().rule,
            Rule::NotAnArchive
        );
        assert_eq!(open(Vec::new()).unwrap_err().rule, Rule::NotAnArchive);
        assert!(read_all(hand(&[])).unwrap().is_empty());
        let mut damaged = hand(&[H::stored("a", b"x")]);
        let eocd = damaged.len() - 22;
        damaged[eocd] = b'Q';
        assert_eq!(open(damaged).unwrap_err().rule, Rule::ZipCorrupt);
    }

    #[test]
    fn sizes_must_match_exactly() {
        let mut more = H::stored("a", b"0123456789");
        more.size = 4;
        more.crc = crc32fast::hash(b"0123");
        let mut source = open(hand(&[more])).unwrap();
        source.next_entry().unwrap();
        let mut buf = [0u8; 64];
        let err = format(source.read_data(&mut buf).unwrap_err());
        assert_eq!(err.rule, Rule::ZipCorrupt);
        assert_eq!(
            source.output_produced(),
            5,
            "at most one byte past the declared size"
        );
        assert!(err.detail.contains("declares 4 bytes"), "{}", err.detail);

        let mut less = H::stored("a", b"0123");
        less.size = 10;
        let err = read_all(hand(&[less])).unwrap_err();
        assert_eq!(err.rule, Rule::ZipCorrupt);
        assert!(err.detail.contains("holds only 4"), "{}", err.detail);
    }

    #[test]
    fn damaged_deflate_data() {
        let mut garbage = H::stored("g", &[0xff; 64]);
        garbage.method = METHOD_DEFLATE;
        garbage.size = 100;
        assert_eq!(rule(hand(&[garbage])), Rule::CorruptCompression);
        // A deflate stream that does not end within the compressed size.
        let zip = written(|w| {
            w.start_file(
                "d",
                SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
            )?;
            Ok(w.write_all(&text(20_000))?)
        });
        let archive = zip::ZipArchive::new(Cursor::new(zip.clone())).unwrap();
        let e = archive.by_index_data(0).unwrap();
        let (name_len, csize) = (1, e.compressed_size() as usize);
        let raw = &zip[30 + name_len..30 + name_len + csize];
        let mut cut = H::stored("d", &raw[..csize / 2]);
        (cut.method, cut.size, cut.crc) = (METHOD_DEFLATE, 20_000, e.crc32());
        assert_eq!(rule(hand(&[cut])), Rule::CorruptCompression);
    }

    #[test]
    fn name_origins() {
        let mut flagged = H::stored("caf\u{e9}", b"");
        flagged.flags = FLAG_UTF8;
        let legacy = H::stored("x", b"");
        let mut cp437 = H::stored("", b"");
        cp437.name = b"caf\x82".to_vec();
        let mut extra = vec![0x75, 0x70, 0, 0, 1];
        extra.extend_from_slice(&crc32fast::hash(&cp437.name).to_le_bytes());
        extra.extend_from_slice("café".as_bytes());
        extra[2] = (extra.len() - 4) as u8;
        cp437.extra = extra.clone();
        let mut stale = H::stored("", b"");
        stale.name = b"other".to_vec();
        stale.extra = extra;
        let zip = hand(&[flagged, legacy, cp437, stale]);
        let err = refused(zip.clone());
        assert_eq!(
            (err.rule, err.location.entry),
            (Rule::ZipDuplicateName, Some(2)),
            "'café' twice once decoded: {err}"
        );
        let entries = read_allowing(zip).unwrap();
        let names: Vec<_> = entries
            .iter()
            .map(|(e, _)| (e.name.clone(), e.name_origin))
            .collect();
        assert_eq!(
            names,
            [
                ("café".as_bytes().to_vec(), NameOrigin::Utf8),
                (b"x".to_vec(), NameOrigin::ZipLegacy),
                ("café".as_bytes().to_vec(), NameOrigin::Utf8),
                (b"other".to_vec(), NameOrigin::ZipLegacy),
            ]
        );
    }

    #[test]
    fn modification_times() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(dos_time(0x0021, 0), Some(315_532_800), "1980-01-01");
        assert_eq!(
            dos_time(0xFF9F, 0xBF7D),
            Some(4_354_819_198),
            "2107-12-31 23:59:58"
        );
        assert_eq!(dos_time(0, 0), None, "month 0");
        assert_eq!(dos_time((44 << 9) | (2 << 5) | 30, 0), None, "2024-02-30");
        assert_eq!(dos_time((43 << 9) | (2 << 5) | 29, 0), None, "2023-02-29");
        assert_eq!(dos_time(0x0021, 24 << 11), None, "hour 24");

        let mut ut = H::stored("t", b"");
        ut.extra = vec![0x55, 0x54, 5, 0, 1];
        ut.extra.extend_from_slice(&1_234_567_890u32.to_le_bytes());
        let mut bad = H::stored("bad", b"");
        bad.date = 0;
        let entries = read_all(hand(&[ut, bad])).unwrap();
        assert_eq!(
            entries[0].0.mtime,
            Some(1_234_567_890),
            "extended timestamp wins"
        );
        assert_eq!(entries[1].0.mtime, None);
    }

    #[test]
    fn duplicate_names_are_refused_or_all_yielded_in_order() {
        let zip = hand(&[
            H::stored("a", b"first"),
            H::stored("b", b"middle"),
            H::stored("a", b"second"),
        ]);
        let err = refused(zip.clone());
        assert_eq!(err.rule, Rule::ZipDuplicateName);
        assert_eq!(err.location.entry, Some(2));
        assert!(err.detail.contains("entries 0 and 2"), "{err}");
        let entries = read_allowing(zip).unwrap();
        let seen: Vec<_> = entries
            .iter()
            .map(|(e, d)| (e.index, e.name.clone(), d.clone()))
            .collect();
        assert_eq!(
            seen,
            [
                (0, b"a".to_vec(), b"first".to_vec()),
                (1, b"b".to_vec(), b"middle".to_vec()),
                (2, b"a".to_vec(), b"second".to_vec()),
            ]
        );
    }

    #[test]
    fn self_extracting_prefix() {
        let zip = written(|w| {
            w.start_file("inside.txt", SimpleFileOptions::default())?;
            Ok(w.write_all(b"payload")?)
        });
        let mut sfx = b"#!/bin/sh\necho this is a stub\nexit 0\n".to_vec();
        let prefix = sfx.len() as u64;
        sfx.extend_from_slice(&zip);
        let err = refused(sfx.clone());
        assert_eq!(err.rule, Rule::ZipPrependedData);
        assert!(err.detail.starts_with(&format!("{prefix} bytes")), "{err}");
        let entries = read_allowing(sfx).unwrap();
        assert_eq!(entries[0].1, b"payload");
        assert_eq!(entries[0].0.offset, prefix);
    }

    #[test]
    fn unlisted_local_entries_are_refused() {
        // Before the first listed entry, at offset 0, and between two listed entries.
        let mut hidden = H::stored("hidden.txt", b"not in the directory\n");
        hidden.unlisted = true;
        let shown = H::stored("shown.txt", b"listed\n");
        let zip = hand(&[hidden.clone(), shown.clone()]);
        let err = refused(zip.clone());
        assert_eq!(err.rule, Rule::ZipUnlistedData);
        assert_eq!(err.location.offset, Some(0));
        assert_eq!(names_allowing(zip), ["shown.txt"]);

        let zip = hand(&[H::stored("a", b"1"), hidden, shown]);
        let err = refused(zip.clone());
        assert_eq!(err.rule, Rule::ZipUnlistedData);
        assert_eq!(
            err.location.offset,
            Some(30 + 1 + 1),
            "right after the first entry"
        );
        assert_eq!(names_allowing(zip), ["a", "shown.txt"]);
    }

    #[test]
    fn bytes_after_the_end_record_are_refused() {
        let zip = hand(&[H::stored("a.txt", b"fine\n")]);
        let mut trailing = zip.clone();
        trailing.extend_from_slice(&[0x55; 100]);
        let err = refused(trailing.clone());
        assert_eq!(err.rule, Rule::ZipTrailingData);
        assert_eq!(err.location.offset, Some(zip.len() as u64));
        assert!(err.detail.starts_with("100 bytes follow"), "{err}");
        assert_eq!(names_allowing(trailing), ["a.txt"]);
        // A comment that ends the file is the end record's own.
        let mut commented = zip.clone();
        let n = commented.len();
        commented[n - 2..].copy_from_slice(&5u16.to_le_bytes());
        commented.extend_from_slice(b"hello");
        assert_eq!(read_all(commented).unwrap().len(), 1);
    }

    #[test]
    fn data_descriptors_must_agree_with_the_central_directory() {
        for (signed, wide) in [(true, false), (true, true), (false, false), (false, true)] {
            let zip = hand(&[
                H::stored("a", b"first").with_descriptor(signed, wide),
                H::stored("b", b"second"),
            ]);
            let entries = read_all(zip).unwrap_or_else(|e| panic!("{signed} {wide}: {e}"));
            assert_eq!(entries[1].1, b"second");
        }
        let mut bad_crc = H::stored("a", b"first").with_descriptor(true, false);
        bad_crc.descriptor[4] ^= 1;
        let mut bad_size = H::stored("a", b"first").with_descriptor(false, false);
        bad_size.descriptor[8] = 4;
        for e in [bad_crc, bad_size] {
            let zip = hand(&[e, H::stored("b", b"second")]);
            let err = refused(zip.clone());
            assert_eq!(err.rule, Rule::ZipDescriptorMismatch);
            assert_eq!(err.location.entry, Some(0));
            assert!(
                err.detail.contains("the data descriptor at offset 36"),
                "{err}"
            );
            assert_eq!(names_allowing(zip), ["a", "b"]);
        }
        // Announced, but missing: the next local header is where the descriptor should be.
        let mut missing = H::stored("a", b"first");
        missing.flags |= FLAG_DATA_DESCRIPTOR;
        let zip = hand(&[missing, H::stored("b", b"second")]);
        assert_eq!(refused(zip).rule, Rule::ZipDescriptorMismatch);
        // A descriptor the flags do not announce is bytes no entry lists.
        let mut unannounced = H::stored("a", b"first").with_descriptor(true, false);
        unannounced.flags = 0;
        assert_eq!(refused(hand(&[unannounced])).rule, Rule::ZipUnlistedData);
    }

    #[test]
    fn prepended_archives_are_refused() {
        // `cat first.zip second.zip`: offsets relative to the second.
        let first = hand(&[H::stored("first.txt", b"one\n")]);
        let second = hand(&[H::stored("second.txt", b"two\n")]);
        let both = [first.clone(), second].concat();
        let err = refused(both.clone());
        assert_eq!(err.rule, Rule::ZipPrependedData);
        assert!(
            err.detail.starts_with(&format!("{} bytes", first.len())),
            "{err}"
        );
        assert_eq!(names_allowing(both), ["second.txt"]);
        // A stub whose length the offsets include (`zip -A`): still a prefix.
        let mut e = H::stored("inside.txt", b"payload");
        let stub = b"#!/bin/sh\nexit 0\n".to_vec();
        e.offset = Some(stub.len() as u32);
        let mut adjusted = stub.clone();
        let local = hand(&[H::stored("inside.txt", b"payload")]);
        let cd_at = u32_at(&local, local.len() - 6) as usize;
        adjusted.extend_from_slice(&local[..cd_at]);
        let tail = hand(&[e]);
        adjusted.extend_from_slice(&tail);
        let n = adjusted.len();
        let cd_offset = (stub.len() + cd_at) as u32;
        adjusted[n - 6..n - 2].copy_from_slice(&cd_offset.to_le_bytes());
        assert_eq!(names_allowing(adjusted.clone()), ["inside.txt"]);
        let err = refused(adjusted);
        assert_eq!(err.rule, Rule::ZipPrependedData);
    }

    /// Local entries `a` and `b`; central directory A lists `a`, B lists `b`. The ZIP64 end
    /// record names B, the classic end record (entries saturated, so ZIP64 applies) names A.
    fn zip64_against_classic() -> Vec<u8> {
        let a = H::stored("benign.txt", b"hello\n");
        let b = H::stored("payload.sh", b"#!/bin/sh\necho pwned\n");
        let both = hand(&[a.clone(), b.clone()]);
        let cd_at = u32_at(&both, both.len() - 6) as usize;
        let cd_a_len = 46 + a.name.len();
        let mut out = both[..both.len() - 22].to_vec();
        let (cd_a, cd_b) = (cd_at, cd_at + cd_a_len);
        let cd_b_len = out.len() - cd_b;
        let eocd64 = out.len() as u64;
        out.extend_from_slice(&ZIP64_EOCD_SIG);
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&[45, 3, 45, 0]);
        out.extend_from_slice(&[0; 8]);
        for v in [1u64, 1, cd_b_len as u64, cd_b as u64] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&ZIP64_LOCATOR_SIG);
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&eocd64.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&EOCD_SIG);
        for v in [0u16, 0, 0xFFFF, 0xFFFF] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(cd_a_len as u32).to_le_bytes());
        out.extend_from_slice(&(cd_a as u32).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    #[test]
    fn end_records_naming_different_directories_are_refused() {
        let zip = zip64_against_classic();
        assert_eq!(
            names_allowing(zip.clone()),
            ["payload.sh"],
            "the zip crate follows the ZIP64 record; unzip and libarchive the classic one"
        );
        let err = refused(zip);
        assert_eq!(err.rule, Rule::ZipEndRecordsDisagree);
        assert!(err.detail.contains("offset as"), "{err}");

        // A second end record in the first one's comment, naming another directory.
        let real = H::stored("real.txt", b"real\n");
        let decoy = H::stored("decoy.txt", b"decoy\n");
        let both = hand(&[real.clone(), decoy]);
        let cd_at = u32_at(&both, both.len() - 6) as usize;
        let cd_real_len = 46 + real.name.len();
        let mut out = both[..both.len() - 22].to_vec();
        let decoy_at = cd_at + cd_real_len;
        let mut fake = EOCD_SIG.to_vec();
        for v in [0u16, 0, 1, 1] {
            fake.extend_from_slice(&v.to_le_bytes());
        }
        fake.extend_from_slice(&((out.len() - decoy_at) as u32).to_le_bytes());
        fake.extend_from_slice(&(decoy_at as u32).to_le_bytes());
        fake.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&EOCD_SIG);
        for v in [0u16, 0, 1, 1] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(cd_real_len as u32).to_le_bytes());
        out.extend_from_slice(&(cd_at as u32).to_le_bytes());
        out.extend_from_slice(&(fake.len() as u16).to_le_bytes());
        out.extend_from_slice(&fake);
        assert_eq!(names_allowing(out.clone()), ["decoy.txt"]);
        assert_eq!(refused(out).rule, Rule::ZipEndRecordsDisagree);
    }

    /// `zip` (from [`hand`], no comment) with ZIP64 end records naming its central directory,
    /// and a classic end record whose fields are saturated, or (`real`) the true values.
    fn with_zip64_end(zip: &[u8], real: bool) -> Vec<u8> {
        let count = u64::from(u16_at(zip, zip.len() - 12));
        let cd_len = u64::from(u32_at(zip, zip.len() - 10));
        let cd_at = u64::from(u32_at(zip, zip.len() - 6));
        let mut out = zip[..zip.len() - 22].to_vec();
        let eocd64 = out.len() as u64;
        out.extend_from_slice(&ZIP64_EOCD_SIG);
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&[45, 3, 45, 0]);
        out.extend_from_slice(&[0; 8]);
        for v in [count, count, cd_len, cd_at] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&ZIP64_LOCATOR_SIG);
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&eocd64.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&EOCD_SIG);
        let n = if real { count as u16 } else { 0xFFFF };
        for v in [0u16, 0, n, n] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [cd_len, cd_at] {
            let v = if real { v as u32 } else { u32::MAX };
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    #[test]
    fn zip64_end_records_that_agree_pass() {
        let zip = hand(&[H::stored("a", b"1"), H::stored("b", b"22")]);
        for real in [false, true] {
            let entries = read_all(with_zip64_end(&zip, real)).unwrap();
            assert_eq!(entries[1].1, b"22", "classic fields real: {real}");
        }
        // The locator must point at the ZIP64 end record.
        let mut off = with_zip64_end(&zip, false);
        let locator = off.len() - 22 - 20;
        off[locator + 8] += 1;
        assert_eq!(
            open_allowing(off.clone()).unwrap_err().rule,
            Rule::ZipCorrupt
        );
        assert_eq!(
            refused(off).rule,
            Rule::ZipCorrupt,
            "the zip crate finds no ZIP64 record"
        );
    }

    /// A reader whose reads fail inside `bad` once armed (a disk error, not damage).
    struct Failing {
        inner: Cursor<Vec<u8>>,
        bad: std::ops::Range<u64>,
        armed: std::rc::Rc<std::cell::Cell<bool>>,
    }

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let pos = self.inner.position();
            if !self.armed.get() {
                return self.inner.read(buf);
            }
            if self.bad.contains(&pos)
                || (pos < self.bad.start && pos + buf.len() as u64 > self.bad.start)
            {
                return Err(io::Error::other("disk on fire"));
            }
            self.inner.read(buf)
        }
    }

    impl Seek for Failing {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    #[test]
    fn input_failures_are_not_format_errors() {
        let zip = hand(&[H::stored("a", &[5; 10_000])]);
        let armed = std::rc::Rc::new(std::cell::Cell::new(false));
        let reader = Failing {
            inner: Cursor::new(zip),
            bad: 5000..6000,
            armed: armed.clone(),
        };
        let mut source = ZipSource::new(reader, &Limits::default()).unwrap();
        armed.set(true);
        source.next_entry().unwrap();
        let mut buf = [0u8; 4096];
        let err = loop {
            match source.read_data(&mut buf) {
                Ok(0) => panic!("the read should fail"),
                Ok(_) => {}
                Err(e) => break e,
            }
        };
        assert!(matches!(err, SourceError::Input(_)), "{err:?}");
    }
}
