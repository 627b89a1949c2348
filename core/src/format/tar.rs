//! tar streams: ustar, v7, GNU (long names `L`, long links `K`) and PAX (`x`, `g`), read front
//! to back. The `tar` crate parses header fields; the walk over the stream, the extension
//! records and every limit are ours, so each record is bounded before it is buffered.

use crate::entry::{EntrySource, RawEntry, RawKind, SourceError, SpecialKind};
use crate::error::{FormatError, Location, escape_bytes};
use crate::format::MAX_TRAILING_PADDING;
use crate::path::NameOrigin;
use crate::policy::{Differentials, Limits};
use crate::rule::Rule;
use std::io::{self, Read};

const BLOCK: u64 = 512;

/// A reader that knows how many compressed input bytes it has consumed.
pub trait CountedRead: Read {
    /// Bytes taken from the underlying (compressed) input so far.
    fn input_consumed(&self) -> u64;

    /// Whether this layer checks something at its end (a compressed stream's CRC and length),
    /// so that the tar reader must read it to its end. A plain input checks nothing.
    fn checks_at_end(&self) -> bool {
        true
    }
}

/// A decompressor read ahead (the tar reader asks for 512-byte headers and small files' data;
/// inflating into such small buffers cost the core 40% of its time on a many-files tar.gz).
/// Counts what the decompressor consumed, so up to one buffer of output ahead of the reader.
impl<R: CountedRead> CountedRead for io::BufReader<R> {
    fn input_consumed(&self) -> u64 {
        self.get_ref().input_consumed()
    }
    fn checks_at_end(&self) -> bool {
        self.get_ref().checks_at_end()
    }
}

/// An uncompressed input, counted.
#[derive(Debug)]
pub struct Plain<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Plain<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Plain { inner, count: 0 }
    }
}

impl<R: Read> Read for Plain<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

impl<R: Read> CountedRead for Plain<R> {
    fn input_consumed(&self) -> u64 {
        self.count
    }
    fn checks_at_end(&self) -> bool {
        false
    }
}

/// Reads entries from a tar stream.
#[derive(Debug)]
pub struct TarSource<R> {
    input: R,
    /// Bytes of the tar stream consumed so far.
    pos: u64,
    next_index: u64,
    /// Data bytes of the current entry not yet read.
    remaining: u64,
    /// Padding after the current entry's data.
    padding: u64,
    /// Offset of the current entry's header, for errors.
    entry_offset: u64,
    /// POSIX global (`g`) records that apply to every later entry: only `mtime` is honoured.
    global_mtime: Option<i64>,
    max_metadata_bytes: u64,
    /// Whether archives other tools read differently are refused.
    differentials: Differentials,
    finished: bool,
}

/// Extension records gathered before the header they apply to.
#[derive(Default)]
struct Extensions {
    gnu_name: Option<Vec<u8>>,
    gnu_link: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    pax_size: Option<u64>,
    pax_mtime: Option<Option<i64>>,
    sparse: bool,
}

impl<R: CountedRead> TarSource<R> {
    /// Reads a tar stream from `input` (already decompressed).
    pub fn new(input: R, limits: &Limits) -> Self {
        TarSource {
            input,
            pos: 0,
            next_index: 0,
            remaining: 0,
            padding: 0,
            entry_offset: 0,
            global_mtime: None,
            max_metadata_bytes: limits.max_metadata_bytes,
            differentials: Differentials::Refuse,
            finished: false,
        }
    }

    /// What to do with archives other tools read differently (default: refuse them): a
    /// symlink with a size (`symlink-with-size`), a `size` in a PAX global header
    /// (`pax-global-size`).
    pub fn with_differentials(mut self, differentials: Differentials) -> Self {
        self.differentials = differentials;
        self
    }

    fn err(&self, rule: Rule, detail: impl Into<String>, offset: u64) -> SourceError {
        SourceError::Format(FormatError::new(rule, detail).at(offset))
    }

    /// Reads exactly `buf.len()` bytes; `Ok(false)` on a clean end of input before the first byte.
    fn read_block(&mut self, buf: &mut [u8]) -> Result<bool, SourceError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.input.read(&mut buf[filled..]) {
                Ok(0) if filled == 0 => return Ok(false),
                Ok(0) => {
                    return Err(self.err(
                        Rule::Truncated,
                        "the archive ends inside a header",
                        self.pos,
                    ));
                }
                Ok(n) => {
                    filled += n;
                    self.pos += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SourceError::from_io(e, self.pos)),
            }
        }
        Ok(true)
    }

    /// Discards `n` bytes of the stream.
    fn skip(&mut self, mut n: u64) -> Result<(), SourceError> {
        let mut scratch = [0u8; 8192];
        while n > 0 {
            let want = n.min(scratch.len() as u64) as usize;
            match self.input.read(&mut scratch[..want]) {
                Ok(0) => {
                    return Err(self.err(
                        Rule::Truncated,
                        "the archive ends inside an entry's data",
                        self.pos,
                    ));
                }
                Ok(got) => {
                    n -= got as u64;
                    self.pos += got as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SourceError::from_io(e, self.pos)),
            }
        }
        Ok(())
    }

    /// Reads an extension record's data (GNU long name, PAX records), bounded by the limit.
    fn read_record(&mut self, size: u64, offset: u64) -> Result<Vec<u8>, SourceError> {
        if size > self.max_metadata_bytes {
            return Err(self.err(
                Rule::MetadataLimit,
                format!(
                    "a {size}-byte metadata record exceeds the limit of {} bytes",
                    self.max_metadata_bytes
                ),
                offset,
            ));
        }
        let mut data = vec![0u8; size as usize];
        if size > 0 && !self.read_block(&mut data)? {
            return Err(self.err(
                Rule::Truncated,
                "the archive ends inside a metadata record",
                self.pos,
            ));
        }
        self.skip(padding(size))?;
        Ok(data)
    }

    /// After the end-of-archive marker: read what follows (ignored, as tar does) so that a
    /// compressed layer below verifies its checksum and length. Bounded: a compressed stream
    /// that goes on for more than `MAX_TRAILING` bytes (a bomb hidden after the end) is
    /// refused. A plain input has nothing to verify: it is read for at most
    /// [`MAX_TRAILING_PADDING`] bytes, then left unread if they were all zeros (tape blocking,
    /// or `/dev/zero`: GNU tar stops at its end blocks too) and refused if they were not.
    fn drain(&mut self) -> Result<(), SourceError> {
        const MAX_TRAILING: u64 = 16 << 20;
        let end = self.pos;
        let bound = if self.input.checks_at_end() {
            MAX_TRAILING
        } else {
            MAX_TRAILING_PADDING
        };
        let mut zeros = true;
        let mut scratch = [0u8; 8192];
        loop {
            let want = (bound + 1 - (self.pos - end)).min(scratch.len() as u64) as usize;
            match self.input.read(&mut scratch[..want]) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    self.pos += n as u64;
                    zeros = zeros && scratch[..n].iter().all(|&b| b == 0);
                    if self.pos - end > bound {
                        if zeros && !self.input.checks_at_end() {
                            return Ok(());
                        }
                        let detail = if zeros {
                            format!("more than {bound} bytes follow the end-of-archive marker")
                        } else {
                            format!(
                                "more than {bound} bytes follow the end-of-archive marker, not all of them zero"
                            )
                        };
                        return Err(self.err(Rule::TrailingGarbage, detail, end));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SourceError::from_io(e, self.pos)),
            }
        }
    }

    fn parse_next(&mut self) -> Result<Option<RawEntry>, SourceError> {
        let mut ext = Extensions::default();
        let mut block = [0u8; BLOCK as usize];
        loop {
            let offset = self.pos;
            if !self.read_block(&mut block)? {
                if ext.has_any() {
                    return Err(self.err(
                        Rule::Truncated,
                        "the archive ends after an extension header",
                        offset,
                    ));
                }
                return Ok(None); // no end marker: accepted, as GNU tar and Python do
            }
            // Two zero blocks end the archive. A zero block followed by a valid header is
            // skipped, as GNU tar does; followed by anything else it ends the archive too (as
            // in Python and libarchive: some writers pad with junk after one zero block).
            if block.iter().all(|&b| b == 0)
                && (!self.read_block(&mut block)?
                    || block.iter().all(|&b| b == 0)
                    || verify_checksum(&block).is_err())
            {
                if ext.has_any() {
                    return Err(self.err(
                        Rule::Truncated,
                        "the archive ends after an extension header",
                        offset,
                    ));
                }
                self.drain()?;
                return Ok(None);
            }
            let header = tar::Header::from_byte_slice(&block);
            verify_checksum(&block)
                .map_err(|detail| self.err(Rule::BadChecksum, detail, offset))?;
            let type_flag = block[156];
            let header_size = numeric(&block[124..136]).map_err(|e| {
                self.err(Rule::BadHeaderField, format!("bad size field: {e}"), offset)
            })?;
            match type_flag {
                b'L' => ext.gnu_name = Some(trim_nul(self.read_record(header_size, offset)?)),
                b'K' => ext.gnu_link = Some(trim_nul(self.read_record(header_size, offset)?)),
                b'x' | b'X' => {
                    let data = self.read_record(header_size, offset)?;
                    parse_pax(&data, &mut ext)
                        .map_err(|d| self.err(Rule::PaxMalformed, d, offset))?;
                }
                b'g' => {
                    let data = self.read_record(header_size, offset)?;
                    let mut global = Extensions::default();
                    parse_pax(&data, &mut global)
                        .map_err(|d| self.err(Rule::PaxMalformed, d, offset))?;
                    if let Some(size) = global.pax_size
                        && self.differentials == Differentials::Refuse
                    {
                        let detail = format!(
                            "a PAX global header sets size={size} for the entries after it (GNU tar applies it, other readers ignore it)"
                        );
                        return Err(self.err(Rule::PaxGlobalSize, detail, offset));
                    }
                    if let Some(mtime) = global.pax_mtime {
                        self.global_mtime = mtime;
                    }
                }
                // GNU volume labels and Solaris ACL records: metadata uncork does not apply.
                b'V' | b'A' => self.skip(header_size + padding(header_size))?,
                _ => {
                    return self
                        .entry(header, type_flag, header_size, ext, offset)
                        .map(Some);
                }
            }
        }
    }

    fn entry(
        &mut self,
        header: &tar::Header,
        type_flag: u8,
        header_size: u64,
        ext: Extensions,
        offset: u64,
    ) -> Result<RawEntry, SourceError> {
        let index = self.next_index;
        self.next_index += 1;
        let header_name = header.path_bytes();
        let located = |rule: Rule, detail: String, name: &[u8]| {
            SourceError::Format(FormatError {
                rule,
                detail,
                location: Location {
                    entry: Some(index),
                    offset: Some(offset),
                    raw_path: Some(escape_bytes(name)),
                    path: None,
                },
            })
        };
        let (name, name_origin) =
            pick(ext.pax_path, ext.gnu_name, &header_name).map_err(|(a, b)| {
                located(
                    Rule::ConflictingNames,
                    format!(
                        "PAX path '{}' and GNU long name '{}' differ",
                        escape_bytes(&a),
                        escape_bytes(&b)
                    ),
                    &header_name,
                )
            })?;
        if ext.sparse || type_flag == b'S' {
            return Err(located(
                Rule::UnsupportedSparse,
                "sparse entries are not supported yet".into(),
                &name,
            ));
        }
        let size = match ext.pax_size {
            Some(pax) if header_size != 0 && header_size != pax => {
                return Err(located(
                    Rule::PaxSizeMismatch,
                    format!("the PAX size record says {pax} bytes, the header {header_size}"),
                    &name,
                ));
            }
            Some(pax) => pax,
            None => header_size,
        };
        let link = || -> Result<Vec<u8>, SourceError> {
            let header_link = header.link_name_bytes().unwrap_or_default();
            pick(ext.pax_link.clone(), ext.gnu_link.clone(), &header_link)
                .map(|(l, _)| l)
                .map_err(|(a, b)| {
                    located(
                        Rule::ConflictingNames,
                        format!(
                            "PAX linkpath '{}' and GNU long link '{}' differ",
                            escape_bytes(&a),
                            escape_bytes(&b)
                        ),
                        &name,
                    )
                })
        };
        let kind = match type_flag {
            b'0' | 0 | b'7' if name.ends_with(b"/") => RawKind::Dir, // old tar: a directory
            b'0' | 0 | b'7' => RawKind::File { size },
            b'1' => RawKind::HardLink { target: link()? },
            b'2' => RawKind::Symlink { target: link()? },
            b'3' => RawKind::Special(SpecialKind::CharDevice),
            b'4' => RawKind::Special(SpecialKind::BlockDevice),
            b'5' | b'D' => RawKind::Dir,
            b'6' => RawKind::Special(SpecialKind::Fifo),
            other => {
                let shown = if other.is_ascii_graphic() {
                    format!("'{}'", char::from(other))
                } else {
                    format!("0x{other:02x}")
                };
                return Err(located(
                    Rule::UnsupportedEntryType,
                    format!("unknown or unsupported entry type {shown}"),
                    &name,
                ));
            }
        };
        // A symlink's size is where readers part: GNU tar skips that many bytes as the link's
        // data, Python (and uncork when differentials are allowed) reads them as the next
        // header, which can hide an entry from one tool or the other.
        if matches!(kind, RawKind::Symlink { .. })
            && size != 0
            && self.differentials == Differentials::Refuse
        {
            let source = if ext.pax_size.is_some() {
                "a PAX size record"
            } else {
                "the header"
            };
            return Err(located(
                Rule::SymlinkWithSize,
                format!(
                    "{source} gives the symlink a size of {size} bytes (GNU tar skips them as its data, other readers take them for the next header)"
                ),
                &name,
            ));
        }
        // Only regular files (and GNU dump directories, skipped) carry data; header-only types
        // ignore their size field, as Go's archive/tar and GNU tar do.
        let data = match kind {
            RawKind::File { .. } => size,
            RawKind::Dir if type_flag == b'D' => size,
            _ => 0,
        };
        self.remaining = data;
        self.padding = padding(data);
        self.entry_offset = offset;
        let mode = numeric(&header.as_bytes()[100..108])
            .map_err(|e| located(Rule::BadHeaderField, format!("bad mode field: {e}"), &name))?
            & 0o7777;
        let mtime = match ext.pax_mtime {
            Some(mtime) => mtime,
            None => self
                .global_mtime
                .or_else(|| header.mtime().ok().and_then(|m| i64::try_from(m).ok())),
        };
        Ok(RawEntry {
            index,
            offset,
            name,
            name_origin,
            kind,
            mode: Some(mode as u32),
            mtime,
        })
    }
}

impl Extensions {
    fn has_any(&self) -> bool {
        self.gnu_name.is_some()
            || self.gnu_link.is_some()
            || self.pax_path.is_some()
            || self.pax_link.is_some()
            || self.pax_size.is_some()
    }
}

/// Picks a name: PAX over GNU over the header. PAX and GNU both present and different is a
/// conflict (tools disagree on which wins).
/// A name and how to decode it, or the two names that conflict.
type Picked = Result<(Vec<u8>, NameOrigin), (Vec<u8>, Vec<u8>)>;

fn pick(pax: Option<Vec<u8>>, gnu: Option<Vec<u8>>, header: &[u8]) -> Picked {
    match (pax, gnu) {
        (Some(p), Some(g)) if p != g => Err((p, g)),
        (Some(p), _) => Ok((p, NameOrigin::Utf8)),
        (None, Some(g)) => Ok((g, NameOrigin::TarHeader)),
        (None, None) => Ok((header.to_vec(), NameOrigin::TarHeader)),
    }
}

impl<R: CountedRead> EntrySource for TarSource<R> {
    fn next_entry(&mut self) -> Result<Option<RawEntry>, SourceError> {
        if self.finished {
            return Ok(None);
        }
        let rest = self.remaining + self.padding;
        self.remaining = 0;
        self.padding = 0;
        self.skip(rest)?;
        let next = self.parse_next()?;
        if next.is_none() {
            self.finished = true;
        }
        Ok(next)
    }

    fn read_data(&mut self, buf: &mut [u8]) -> Result<usize, SourceError> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.remaining) as usize;
        loop {
            match self.input.read(&mut buf[..want]) {
                Ok(0) => {
                    return Err(SourceError::Format(FormatError {
                        rule: Rule::Truncated,
                        detail: format!(
                            "the archive ends with {} bytes of this entry missing",
                            self.remaining
                        ),
                        location: Location {
                            offset: Some(self.entry_offset),
                            ..Location::default()
                        },
                    }));
                }
                Ok(n) => {
                    self.remaining -= n as u64;
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SourceError::from_io(e, self.pos)),
            }
        }
    }

    fn input_consumed(&self) -> u64 {
        self.input.input_consumed()
    }

    fn output_produced(&self) -> u64 {
        self.pos
    }
}

/// A numeric header field: base-256 when the high bit of the first byte is set (GNU, for
/// values octal cannot hold), else octal digits after optional leading spaces, ending at the
/// first space or NUL. A field with no digits is 0, as in libarchive and Go.
fn numeric(field: &[u8]) -> Result<u64, String> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        if field[0] == 0xff {
            return Err("a negative base-256 number".into());
        }
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or("a base-256 number overflows 64 bits")?;
        }
        return Ok(value);
    }
    let digits = field
        .iter()
        .skip_while(|&&b| b == b' ')
        .take_while(|&&b| b != b' ' && b != 0);
    let mut value: u64 = 0;
    for &b in digits {
        if !(b'0'..=b'7').contains(&b) {
            return Err(format!("'{}' is not an octal number", escape_bytes(field)));
        }
        value = value
            .checked_mul(8)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or("an octal number overflows 64 bits")?;
    }
    Ok(value)
}

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// GNU long names are C strings: they end at the first NUL (as in GNU tar and Go).
fn trim_nul(mut v: Vec<u8>) -> Vec<u8> {
    if let Some(nul) = v.iter().position(|&b| b == 0) {
        v.truncate(nul);
    }
    v
}

/// The header checksum: the sum of all bytes with the checksum field read as spaces. Some old
/// writers summed signed bytes; both are accepted.
fn verify_checksum(block: &[u8; BLOCK as usize]) -> Result<(), String> {
    let field = &block[148..156];
    // Leading spaces, then octal digits up to the first other byte (a NUL or a space).
    let start = field.iter().position(|&b| b != b' ').unwrap_or(field.len());
    let digits = &field[start..];
    let digits = &digits[..digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len())];
    let stored = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| u32::from_str_radix(d, 8).ok())
        .ok_or_else(|| format!("unreadable checksum field {:?}", escape_bytes(field)))?;
    // Whole-block sums (which vectorize), with the field's bytes swapped for eight spaces.
    let unsigned_sum = |bytes: &[u8]| bytes.iter().map(|&b| u32::from(b)).sum::<u32>();
    let signed_sum = |bytes: &[u8]| bytes.iter().map(|&b| i32::from(b as i8)).sum::<i32>();
    let unsigned = unsigned_sum(block) - unsigned_sum(field) + 8 * u32::from(b' ');
    let signed = signed_sum(block) - signed_sum(field) + 8 * i32::from(b' ');
    if stored == unsigned || i64::from(stored) == i64::from(signed) {
        Ok(())
    } else {
        Err(format!(
            "header checksum is {stored:o}, the header sums to {unsigned:o}"
        ))
    }
}

/// Parses PAX extended header records (`"%d %s=%s\n"`) into `ext`. Later records win.
fn parse_pax(mut data: &[u8], ext: &mut Extensions) -> Result<(), String> {
    // Some writers pad the record block with NULs.
    while data.last() == Some(&0) {
        data = &data[..data.len() - 1];
    }
    while !data.is_empty() {
        let space = data
            .iter()
            .position(|&b| b == b' ')
            .ok_or("a record has no length")?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or("a record's length is not a number")?;
        if len <= space + 1 || len > data.len() {
            return Err(format!("a record's length {len} does not fit the header"));
        }
        let record = &data[space + 1..len];
        let record = record
            .strip_suffix(b"\n")
            .ok_or("a record does not end with a newline")?;
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or("a record has no '='")?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        apply_pax(key, value, ext)?;
        data = &data[len..];
    }
    Ok(())
}

fn apply_pax(key: &[u8], value: &[u8], ext: &mut Extensions) -> Result<(), String> {
    // An empty value deletes the keyword: the header's own field applies again.
    let set = |v: &[u8]| (!v.is_empty()).then(|| v.to_vec());
    match key {
        b"path" => ext.pax_path = set(value),
        b"linkpath" => ext.pax_link = set(value),
        b"size" => {
            ext.pax_size = if value.is_empty() {
                None
            } else {
                let text =
                    std::str::from_utf8(value).map_err(|_| "the size record is not a number")?;
                Some(
                    text.parse()
                        .map_err(|_| format!("the size record '{text}' is not a number"))?,
                )
            }
        }
        b"mtime" => ext.pax_mtime = Some(parse_pax_time(value)),
        k if k.starts_with(b"GNU.sparse.") => ext.sparse = true,
        _ => {} // uid, gid, uname, gname, atime, ctime, comment, charset, vendor records: not used
    }
    Ok(())
}

/// PAX times are decimal seconds, possibly negative and fractional. Out-of-range values are
/// dropped (the mtime is then not set) rather than refusing the archive.
fn parse_pax_time(value: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(value).ok()?;
    let whole = text.split('.').next()?;
    whole.parse::<i64>().ok()
}

/// Whether a block looks like a tar header (ustar magic, or a valid checksum for v7).
pub fn looks_like_tar(head: &[u8]) -> bool {
    let Ok(block) = <&[u8; BLOCK as usize]>::try_from(head.get(..BLOCK as usize).unwrap_or(&[]))
    else {
        return false;
    };
    if &block[257..262] == b"ustar" {
        return true;
    }
    // An all-zero block is an empty archive; otherwise a v7 header must checksum.
    block.iter().all(|&b| b == 0) || (block[0] != 0 && verify_checksum(block).is_ok())
}

#[cfg(test)]
mod tests;
