//! One zip entry's data: positioned, decompressed, and checked for length and CRC-32.
//!
//! [`ZipSource`](super::ZipSource) reads every entry's data through one [`DataReader`] on the
//! core's thread. A host with threads may instead take a file's data ([`ZipData`]) and decode
//! it elsewhere with a reader of its own: the same code then runs on the same bytes, so it
//! finds the same errors at the same points (see `crate::offload`).

use super::{Central, INPUT_BUFFER, METHOD_STORED, SKIP_BY_READING, entry_err, method_name};
use crate::crc32::Crc32;
use crate::entry::{EntrySource, RawEntry, SourceError};
use crate::error::FormatError;
use crate::format::stream::EntryDecoder;
use crate::rule::Rule;
use flate2::bufread::DeflateDecoder;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Take};

/// The input, remembering whether it failed (its errors are input errors, not corruption) and
/// where it is.
pub(super) struct Input<R> {
    pub(super) inner: R,
    failed: bool,
    /// The input's position, when known.
    pos: Option<u64>,
}

impl<R> Input<R> {
    pub(super) fn new(inner: R) -> Self {
        Input {
            inner,
            failed: false,
            pos: None,
        }
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.pos = self.pos.map(|pos| pos + n as u64);
                Ok(n)
            }
            Err(e) => {
                self.failed = e.kind() != io::ErrorKind::Interrupted;
                self.pos = None;
                Err(e)
            }
        }
    }
}

impl<R: Read + Seek> Input<R> {
    /// Moves to `to`. Entries read in file order are separated only by a local header: such a
    /// short gap is read past rather than sought over, which keeps a buffered input's buffer.
    fn go_to(&mut self, to: u64) -> io::Result<()> {
        if let Some(pos) = self.pos
            && to >= pos
            && to - pos <= SKIP_BY_READING
        {
            let gap = to - pos;
            if io::copy(&mut self.by_ref().take(gap), &mut io::sink())? == gap {
                return Ok(());
            }
        }
        self.pos = None;
        self.inner.seek(SeekFrom::Start(to))?;
        self.pos = Some(to);
        Ok(())
    }
}

/// The entry whose data is being read.
#[derive(Debug)]
struct Current {
    method: u16,
    compressed_size: u64,
    declared: u64,
    produced: u64,
    crc: Crc32,
    /// Read to its end and verified.
    done: bool,
}

/// Reads one entry's data at a time. The input is wrapped once: raw bytes through a buffered,
/// limited reader, with the inflater on top (stored entries are read below it).
pub(super) struct DataReader<R> {
    stack: DeflateDecoder<BufReader<Take<Input<R>>>>,
    /// The current entry's decoder for the other methods (reading below the inflater).
    other: Option<EntryDecoder>,
    /// `Limits::max_decoder_memory`, for those decoders.
    max_decoder_memory: u64,
    current: Option<Current>,
}

impl<R: Read + Seek> DataReader<R> {
    pub(super) fn new(input: Input<R>, max_decoder_memory: u64) -> Self {
        DataReader {
            stack: DeflateDecoder::new(BufReader::with_capacity(INPUT_BUFFER, input.take(0))),
            other: None,
            max_decoder_memory,
            current: None,
        }
    }

    /// Raw bytes of the current entry consumed so far: all of them once it was read to its end.
    pub(super) fn consumed(&self) -> u64 {
        match &self.current {
            Some(cur) if cur.done => cur.compressed_size,
            Some(cur) => {
                let buffered = self.stack.get_ref().buffer().len() as u64;
                let left = self.stack.get_ref().get_ref().limit();
                cur.compressed_size
                    .saturating_sub(left)
                    .saturating_sub(buffered)
            }
            None => 0,
        }
    }

    /// Leaves the current entry (its unread data is skipped, unverified); returns the raw
    /// bytes it consumed.
    pub(super) fn finish(&mut self) -> u64 {
        let consumed = self.consumed();
        self.current = None;
        consumed
    }

    /// Marks the current entry as read to its end and verified elsewhere (a host decodes it,
    /// see [`ZipData`]); returns the bytes it has yet to produce.
    pub(super) fn taken(&mut self) -> u64 {
        match self.current.as_mut() {
            Some(cur) if !cur.done => {
                let rest = cur.declared.saturating_sub(cur.produced);
                cur.done = true;
                cur.produced = cur.declared;
                rest
            }
            _ => 0,
        }
    }

    /// Positions the input at `entry`'s data and makes it current.
    pub(super) fn begin(&mut self, e: &Central, data_start: u64) -> Result<(), SourceError> {
        self.other = EntryDecoder::for_method(e.method, e.size, e.flags, self.max_decoder_memory);
        let buffered = self.stack.get_ref().buffer().len();
        let bufreader = self.stack.get_mut();
        bufreader.consume(buffered);
        let take = bufreader.get_mut();
        take.set_limit(e.compressed_size);
        take.get_mut()
            .go_to(data_start)
            .map_err(SourceError::Input)?;
        self.stack.reset_data();
        self.current = Some(Current {
            method: e.method,
            compressed_size: e.compressed_size,
            declared: e.size,
            produced: 0,
            crc: Crc32::new(),
            done: false,
        });
        Ok(())
    }

    /// Reads decompressed data of the current entry (`entry`), verifying length and CRC at its
    /// end. What comes out is counted into `produced` (also when it is then refused).
    pub(super) fn read(
        &mut self,
        entry: &Central,
        buf: &mut [u8],
        produced: &mut u64,
    ) -> Result<usize, SourceError> {
        let Some(cur) = self.current.as_ref() else {
            return Ok(0);
        };
        if cur.done || buf.is_empty() {
            return Ok(0);
        }
        // Never produce more than one byte past the declared size before failing.
        let allowed = cur.declared.saturating_add(1).saturating_sub(cur.produced);
        let want = usize::try_from(allowed)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let stored = cur.method == METHOD_STORED;
        let empty_compressed = !stored && cur.compressed_size == 0 && cur.declared == 0;
        let n = loop {
            let result = if empty_compressed {
                Ok(0)
            } else if let Some(other) = self.other.as_mut() {
                other.read(self.stack.get_mut(), &mut buf[..want])
            } else if stored {
                self.stack.get_mut().read(&mut buf[..want])
            } else {
                self.stack.read(&mut buf[..want])
            };
            match result {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(entry, e)),
            }
        };
        let Some(cur) = self.current.as_mut() else {
            return Ok(0);
        };
        cur.produced += n as u64;
        *produced += n as u64;
        cur.crc.update(&buf[..n]);
        if cur.produced > cur.declared {
            let detail = format!(
                "the entry declares {} bytes, but its data holds more",
                cur.declared
            );
            return Err(entry_err(entry, Rule::ZipCorrupt, detail));
        }
        if n == 0 {
            let left = self.stack.get_ref().get_ref().limit();
            if stored && left > 0 {
                return Err(entry_err(
                    entry,
                    Rule::Truncated,
                    "the archive ends inside the entry's data",
                ));
            }
            if cur.produced < cur.declared {
                let detail = format!(
                    "the entry declares {} bytes, but its data holds only {}",
                    cur.declared, cur.produced
                );
                return Err(entry_err(entry, Rule::ZipCorrupt, detail));
            }
            let crc = cur.crc.value();
            if crc != entry.crc32 {
                let detail = format!(
                    "CRC-32 of the data is {crc:08x}, the central directory says {:08x}",
                    entry.crc32
                );
                return Err(entry_err(entry, Rule::CrcMismatch, detail));
            }
            cur.done = true;
        }
        Ok(n)
    }

    /// Classifies an error from the reader stack.
    fn read_error(&self, entry: &Central, error: io::Error) -> SourceError {
        let Some(cur) = self.current.as_ref() else {
            return SourceError::Input(error);
        };
        let take = self.stack.get_ref().get_ref();
        if take.get_ref().failed {
            return SourceError::Input(error);
        }
        // The other methods' decoders report typed errors.
        let mut error = error;
        if error.get_ref().is_some_and(|e| e.is::<FormatError>()) {
            let Some(Ok(f)) = error.into_inner().map(|e| e.downcast::<FormatError>()) else {
                return entry_err(entry, Rule::CorruptCompression, "damaged data");
            };
            if f.rule != Rule::Truncated {
                return entry_err(entry, f.rule, f.detail);
            }
            error = io::Error::new(io::ErrorKind::UnexpectedEof, f.detail);
        }
        if error.kind() == io::ErrorKind::UnexpectedEof {
            if take.limit() > 0 {
                return entry_err(
                    entry,
                    Rule::Truncated,
                    "the archive ends inside the entry's data",
                );
            }
            let detail = format!(
                "the {} stream does not end within the entry's {} compressed bytes",
                method_name(cur.method).unwrap_or("compressed"),
                cur.compressed_size
            );
            return entry_err(entry, Rule::CorruptCompression, detail);
        }
        entry_err(
            entry,
            Rule::CorruptCompression,
            format!("bad deflate data: {error}"),
        )
    }
}

/// A file entry's data, described so that it can be decoded away from the archive's reader:
/// where it starts, and the central header it is checked against.
#[derive(Debug, Clone)]
pub struct ZipData {
    entry: Central,
    data_start: u64,
    max_decoder_memory: u64,
}

impl ZipData {
    pub(super) fn new(entry: &Central, data_start: u64, max_decoder_memory: u64) -> Self {
        ZipData {
            entry: entry.clone(),
            data_start,
            max_decoder_memory,
        }
    }

    /// The declared (decompressed) size.
    pub fn size(&self) -> u64 {
        self.entry.size
    }

    /// The entry's data in `input` as an [`EntrySource`] positioned at that data, whose
    /// counters start from `consumed` and `produced` (the archive's, before this entry).
    pub(crate) fn open<R: Read + Seek>(
        &self,
        input: R,
        consumed: u64,
        produced: u64,
    ) -> Result<OneEntry<'_, R>, SourceError> {
        let mut reader = DataReader::new(Input::new(input), self.max_decoder_memory);
        reader.begin(&self.entry, self.data_start)?;
        Ok(OneEntry {
            data: self,
            reader,
            consumed,
            produced,
        })
    }
}

/// One entry's data read on its own, counting on from the archive's counters.
pub(crate) struct OneEntry<'a, R> {
    data: &'a ZipData,
    reader: DataReader<R>,
    consumed: u64,
    produced: u64,
}

impl<R: Read + Seek> EntrySource for OneEntry<'_, R> {
    fn next_entry(&mut self) -> Result<Option<RawEntry>, SourceError> {
        Ok(None)
    }

    fn read_data(&mut self, buf: &mut [u8]) -> Result<usize, SourceError> {
        self.reader.read(&self.data.entry, buf, &mut self.produced)
    }

    fn input_consumed(&self) -> u64 {
        self.consumed + self.reader.consumed()
    }

    fn output_produced(&self) -> u64 {
        self.produced
    }
}
