//! What a format reader hands the planner: one record per archive entry, format-neutral.

use crate::error::FormatError;
use crate::path::NameOrigin;
use std::io;

/// One archive entry as stored, before any policy is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// Zero-based index in archive order (tar extension headers are not entries).
    pub index: u64,
    /// Byte offset of the entry's header (tar: in the decompressed stream; zip: local header).
    pub offset: u64,
    /// The name's bytes as stored (after PAX / GNU long-name / zip Unicode-path resolution).
    pub name: Vec<u8>,
    /// How `name` is to be decoded.
    pub name_origin: NameOrigin,
    /// What the entry is.
    pub kind: RawKind,
    /// Permission bits as stored (`0o7777` at most), when the format has them.
    pub mode: Option<u32>,
    /// Modification time in seconds since the Unix epoch, when known.
    pub mtime: Option<i64>,
}

/// The type of an entry, with what belongs to the type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawKind {
    /// A regular file of `size` declared bytes; its data is read with [`EntrySource::read_data`].
    File {
        /// Declared size (a hint: limits count the bytes actually read).
        size: u64,
    },
    /// A directory.
    Dir,
    /// A symlink; `target` as stored (how it decodes is `name_origin`'s rule too).
    Symlink {
        /// The target's bytes.
        target: Vec<u8>,
    },
    /// A hard link to an earlier entry, named by its archive path.
    HardLink {
        /// The target's bytes.
        target: Vec<u8>,
    },
    /// A character or block device, or a FIFO. Never created.
    Special(SpecialKind),
}

/// Device and FIFO entry types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialKind {
    /// Character device.
    CharDevice,
    /// Block device.
    BlockDevice,
    /// Named pipe.
    Fifo,
}

impl SpecialKind {
    /// The name in dumps and listings.
    pub fn name(self) -> &'static str {
        match self {
            SpecialKind::CharDevice => "char-device",
            SpecialKind::BlockDevice => "block-device",
            SpecialKind::Fifo => "fifo",
        }
    }
}

/// A format reader: yields entries in archive order and the data of the current one.
///
/// Readers own all format decisions (headers, checksums, compression, CRCs) and report them as
/// [`FormatError`]s; they enforce `max_metadata_bytes` on records they buffer. Everything
/// about the *tree* is the planner's.
pub trait EntrySource {
    /// The next entry, or `None` after the last one (end-of-archive reached and verified).
    fn next_entry(&mut self) -> Result<Option<RawEntry>, SourceError>;

    /// Reads the current entry's data into `buf`; `Ok(0)` at its end, after verifying any
    /// checksum the format carries. Only meaningful for [`RawKind::File`].
    fn read_data(&mut self, buf: &mut [u8]) -> Result<usize, SourceError>;

    /// Bytes consumed from the (compressed) input so far, for the ratio limit.
    fn input_consumed(&self) -> u64;

    /// Bytes of archive stream produced so far (decompressed), for the ratio limit.
    fn output_produced(&self) -> u64;

    /// The current file's data described for decoding away from this reader, when the format
    /// allows it (zip: random access) and nothing of it was read yet.
    fn detached_data(&self) -> Option<crate::format::zip::ZipData> {
        None
    }

    /// The current file's data is decoded and verified elsewhere (from [`Self::detached_data`]):
    /// count it as read to its end.
    fn data_taken(&mut self) {}
}

/// Why a reader stopped: the archive's bytes are wrong, or reading them failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The bytes are not a valid archive (never an I/O problem).
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The underlying reader failed (disk, pipe): not the archive's fault.
    #[error("reading the archive failed: {0}")]
    Input(#[source] io::Error),
}

/// Carries a [`FormatError`] through an `io::Read` boundary (a decompressor inside the tar
/// reader) and back out again; never returned to users inside an `io::Error`.
pub(crate) fn format_in_io(error: FormatError) -> io::Error {
    io::Error::other(error)
}

impl SourceError {
    /// Classifies an `io::Error` from a reader stack: a smuggled [`FormatError`] comes back out;
    /// an unexpected end of data is truncation at `offset`; anything else is an input failure.
    pub(crate) fn from_io(error: io::Error, offset: u64) -> Self {
        if error
            .get_ref()
            .is_some_and(|inner| inner.is::<FormatError>())
        {
            if let Some(inner) = error.into_inner()
                && let Ok(format) = inner.downcast::<FormatError>()
            {
                return SourceError::Format(*format);
            }
            return SourceError::Format(
                FormatError::new(crate::rule::Rule::CorruptCompression, "damaged data").at(offset),
            );
        }
        if error.kind() == io::ErrorKind::UnexpectedEof {
            return SourceError::Format(
                FormatError::new(crate::rule::Rule::Truncated, "the archive ends early").at(offset),
            );
        }
        SourceError::Input(error)
    }
}
