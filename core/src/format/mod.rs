//! Archive formats: detection from magic bytes, and the readers.

/// The public face of a compressed-tar reader `$name<R>(Streams<BufReader<R>, _>)`: `Debug`,
/// `Read` and [`CountedRead`](tar::CountedRead), all by the inner [`Streams`](stream::Streams).
/// (Defined before the modules that use it: a macro is visible below its definition.)
#[cfg(any(feature = "bzip2", feature = "xz", feature = "zstd"))]
macro_rules! reader_impls {
    ($name:ident) => {
        impl<R: std::io::Read> std::fmt::Debug for $name<R> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("consumed", &self.0.consumed())
                    .finish()
            }
        }

        impl<R: std::io::Read> std::io::Read for $name<R> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.0.read(buf)
            }
        }

        impl<R: std::io::Read> crate::format::tar::CountedRead for $name<R> {
            fn input_consumed(&self) -> u64 {
                self.0.consumed()
            }
        }
    };
}

#[cfg(feature = "bzip2")]
pub mod bzip2;
pub mod gzip;
pub mod tar;
#[cfg(feature = "xz")]
pub mod xz;
pub mod zip;
#[cfg(feature = "zstd")]
pub mod zstd;

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
    /// A bzip2-compressed tar stream (one or more bzip2 streams). Needs the `bzip2` feature.
    TarBz2,
    /// An xz-compressed tar stream (one or more xz streams). Needs the `xz` feature.
    TarXz,
    /// A tar stream compressed in the legacy `.lzma` ("LZMA-alone") format. Needs the `xz`
    /// feature.
    TarLzma,
    /// A zstd-compressed tar stream (one or more frames). Needs the `zstd` feature.
    TarZst,
    /// A zip archive.
    Zip,
}

impl Format {
    /// All formats (those whose decoder was left out of the build included: see
    /// [`Format::is_built`]).
    pub const ALL: [Format; 7] = [
        Format::Tar,
        Format::TarGz,
        Format::TarBz2,
        Format::TarXz,
        Format::TarLzma,
        Format::TarZst,
        Format::Zip,
    ];

    /// The name the CLI uses.
    pub fn name(self) -> &'static str {
        match self {
            Format::Tar => "tar",
            Format::TarGz => "tar.gz",
            Format::TarBz2 => "tar.bz2",
            Format::TarXz => "tar.xz",
            Format::TarLzma => "tar.lzma",
            Format::TarZst => "tar.zst",
            Format::Zip => "zip",
        }
    }

    /// The cargo feature of uncork-core that reads this format, when it needs one.
    pub fn feature(self) -> Option<&'static str> {
        match self {
            Format::Tar | Format::TarGz | Format::Zip => None,
            Format::TarBz2 => Some("bzip2"),
            Format::TarXz | Format::TarLzma => Some("xz"),
            Format::TarZst => Some("zstd"),
        }
    }

    /// Whether this build reads the format (its feature, if any, is on).
    pub fn is_built(self) -> bool {
        self.feature().is_none_or(feature_built)
    }

    /// The compression's name in messages ("bzip2"), for the compressed tar formats.
    pub(crate) fn compression(self) -> &'static str {
        match self {
            Format::Tar | Format::Zip => "none",
            Format::TarGz => "gzip",
            Format::TarBz2 => "bzip2",
            Format::TarXz => "xz",
            Format::TarLzma => "lzma",
            Format::TarZst => "zstd",
        }
    }

    /// The `unsupported-compression` error for a format this build leaves out.
    pub(crate) fn not_built_error(self) -> FormatError {
        FormatError::new(
            Rule::UnsupportedCompression,
            format!(
                "unsupported compression: {} (built without the '{}' feature)",
                self.compression(),
                self.feature().unwrap_or("?")
            ),
        )
        .at(0)
    }
}

/// Whether the decoder feature `name` ("bzip2", "xz", "zstd", "deflate64") is compiled in.
#[allow(clippy::match_like_matches_macro)] // each arm's value depends on the build
pub fn feature_built(name: &str) -> bool {
    match name {
        "bzip2" => cfg!(feature = "bzip2"),
        "xz" => cfg!(feature = "xz"),
        "zstd" => cfg!(feature = "zstd"),
        "deflate64" => cfg!(feature = "deflate64"),
        _ => false,
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
            "tar.bz2" | "tbz2" | "tbz" | "tb2" | "bz2" | "bzip2" => Ok(Format::TarBz2),
            "tar.xz" | "txz" | "xz" => Ok(Format::TarXz),
            "tar.lzma" | "lzma" => Ok(Format::TarLzma),
            "tar.zst" | "tar.zstd" | "tzst" | "zst" | "zstd" => Ok(Format::TarZst),
            "zip" => Ok(Format::Zip),
            _ => Err(format!(
                "unknown format '{s}' (expected tar, tar.gz, tar.bz2, tar.xz, tar.lzma, tar.zst or zip)"
            )),
        }
    }
}

/// Zero bytes read past the end of an archive before uncork stops reading: 1 MiB. Tape
/// blocking pads a tar with zeros up to its record size (10 KiB by default, 1 MiB at
/// `tar -b 2048`), and some writers pad a compressed tar the same way after its last stream;
/// an input that goes on with zeros beyond that (`/dev/zero`, a pipe that never ends) is left
/// unread rather than read for ever. Non-zero bytes after the end are refused
/// (`trailing-garbage`) as soon as they are seen. Applies after a plain tar's end blocks and
/// after the last gzip member, bzip2, xz or zstd stream.
pub const MAX_TRAILING_PADDING: u64 = 1 << 20;

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
    if is_skippable_frame(head) {
        // zstd and lz4 share skippable frames: the frame after them decides.
        let lz4 = after_skippable_frames(head).is_some_and(|rest| rest.starts_with(&LZ4_MAGIC));
        if lz4 {
            let detail = "unsupported compression: lz4";
            return Err(FormatError::new(Rule::UnsupportedCompression, detail).at(0));
        }
        return match Format::TarZst {
            f if f.is_built() => Ok(f),
            f => Err(f.not_built_error()),
        };
    }
    if let Some(format) = compressed_tar(head) {
        if !format.is_built() {
            return Err(format.not_built_error());
        }
        return Ok(format);
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

/// Compressions uncork reads (when their feature is built), by magic.
fn compressed_tar(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"BZh") && head.get(3).is_none_or(|b| (b'1'..=b'9').contains(b)) {
        return Some(Format::TarBz2);
    }
    if head.starts_with(&XZ_MAGIC) {
        return Some(Format::TarXz);
    }
    if head.starts_with(&ZSTD_MAGIC) {
        return Some(Format::TarZst);
    }
    if looks_like_lzma_alone(head) {
        return Some(Format::TarLzma);
    }
    None
}

const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];

/// A skippable frame (zstd and lz4 alike): magic 0x184D2A50..=0x184D2A5F, little-endian.
fn is_skippable_frame(head: &[u8]) -> bool {
    head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18]
}

/// What follows the leading skippable frames, or `None` when they run past `head`.
fn after_skippable_frames(head: &[u8]) -> Option<&[u8]> {
    let mut rest = head;
    while is_skippable_frame(rest) {
        let len = rest.get(4..8)?;
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]);
        rest = rest.get(8usize.checked_add(usize::try_from(len).ok()?)?..)?;
    }
    Some(rest)
}

/// The legacy `.lzma` header has no magic: a properties byte, a 32-bit dictionary size and a
/// 64-bit uncompressed size. Like libarchive, accept the properties byte every xz and LZMA SDK
/// preset writes (0x5d: lc=3, lp=0, pb=2), a dictionary of 2^n or 3 * 2^n bytes (at least
/// 4 KiB) or all ones, and a size that is unknown (all ones) or below 2^56.
fn looks_like_lzma_alone(head: &[u8]) -> bool {
    let Some(header) = head.get(..13) else {
        return false;
    };
    let dict = u32::from_le_bytes([header[1], header[2], header[3], header[4]]);
    let mut size = [0u8; 8];
    size.copy_from_slice(&header[5..13]);
    let size = u64::from_le_bytes(size);
    let dict_ok =
        dict == u32::MAX || (dict >= 4096 && matches!(dict >> dict.trailing_zeros(), 1 | 3));
    header[0] == 0x5d && dict_ok && (size == u64::MAX || size < 1 << 56)
}

/// Compressions recognised by magic but not read.
pub(crate) fn unsupported_compression(head: &[u8]) -> Option<&'static str> {
    const TABLE: &[(&[u8], &str)] = &[
        (&LZ4_MAGIC, "lz4"),
        (&[0x02, 0x21, 0x4c, 0x18], "lz4 (legacy)"),
        (b"LZIP", "lzip"),
        (&[0x89, b'L', b'Z', b'O', 0, 0x0d, 0x0a, 0x1a, 0x0a], "lzop"),
        (&[0x1f, 0x9d], "compress (.Z)"),
        (&[0x1f, 0xa0], "compress (LZH)"),
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

/// What the bzip2, xz/lzma and zstd readers share: a [`stream::Codec`] decodes one compressed
/// stream from buffered input, and [`stream::Streams`] decodes concatenated streams as one, with
/// typed errors and an exact count of the compressed bytes consumed.
// Without the tar decoders the stream machinery serves zip's deflate64 only, or nothing.
#[cfg_attr(
    not(any(feature = "bzip2", feature = "xz", feature = "zstd")),
    allow(dead_code, unused_imports)
)]
#[cfg_attr(
    not(any(
        feature = "bzip2",
        feature = "xz",
        feature = "zstd",
        feature = "deflate64"
    )),
    allow(unreachable_code, unused_mut, unused_variables)
)]
pub(crate) mod stream {
    use super::tar::CountedRead;
    use crate::entry::format_in_io;
    use crate::error::FormatError;
    use crate::rule::Rule;
    use std::io::{self, BufRead, BufReader, Read};

    /// Input buffer: large reads cost less per byte (8 KiB buffers cost ~27% in measurements).
    const INPUT_BUFFER: usize = 256 * 1024;

    /// Why a codec stopped.
    #[derive(Debug)]
    pub(crate) enum Fault {
        /// Reading the input failed.
        Input(io::Error),
        /// The compressed bytes are wrong, or need more than the limits allow (the offset is
        /// added by [`Streams`]).
        Format(FormatError),
    }

    impl Fault {
        pub(crate) fn format(rule: Rule, detail: impl Into<String>) -> Self {
            Fault::Format(FormatError::new(rule, detail))
        }
    }

    /// One compressed stream's decoder. It consumes exactly its stream's bytes from the input,
    /// so that another stream, or padding, can follow.
    pub(crate) trait Codec: Sized {
        /// Settings for every stream (the memory cap).
        type Config;
        /// The compression's name in messages.
        const NAME: &'static str;
        /// Whether `head` (one byte or more) may start another concatenated stream.
        fn starts_stream(head: &[u8]) -> bool;
        /// A decoder for one stream.
        fn start(config: &Self::Config) -> Self;
        /// Decodes into `out` (never empty); `Ok(0)` once the stream has ended and verified.
        fn decode<B: BufRead>(
            &mut self,
            input: &mut Tracked<B>,
            out: &mut [u8],
        ) -> Result<usize, Fault>;
    }

    /// Buffered input that counts the bytes consumed and keeps the underlying reader's own
    /// error, so a decoder that wraps errors cannot turn a failing disk into "corrupt data".
    #[derive(Debug)]
    pub(crate) struct Tracked<B> {
        inner: B,
        consumed: u64,
        failure: Option<io::Error>,
    }

    impl<B> Tracked<B> {
        fn note(failure: &mut Option<io::Error>, error: io::Error) -> io::Error {
            if error.kind() == io::ErrorKind::Interrupted {
                return error;
            }
            let stand_in = io::Error::new(error.kind(), "reading the input failed");
            *failure = Some(error);
            stand_in
        }
    }

    impl<B: BufRead> Read for Tracked<B> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.consumed += n as u64;
                    Ok(n)
                }
                Err(e) => Err(Self::note(&mut self.failure, e)),
            }
        }
    }

    impl<B: BufRead> BufRead for Tracked<B> {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            let failure = &mut self.failure;
            match self.inner.fill_buf() {
                Ok(buf) => Ok(buf),
                Err(e) => Err(Self::note(failure, e)),
            }
        }
        fn consume(&mut self, n: usize) {
            self.consumed += n as u64;
            self.inner.consume(n);
        }
    }

    enum Stage<C> {
        /// Before a stream (or after one): the next bytes decide.
        Between,
        /// Decoding a stream.
        In(C),
        /// The input ended cleanly.
        Done,
        /// A previous call failed; no further reads.
        Failed,
    }

    /// Decodes a sequence of streams as one. After the last one only zero bytes may follow
    /// (tape padding); anything else is `trailing-garbage`. Zeros are read for at most
    /// [`MAX_TRAILING_PADDING`](super::MAX_TRAILING_PADDING) bytes, then the input is left
    /// unread.
    pub(crate) struct Streams<B, C: Codec> {
        input: Tracked<B>,
        stage: Stage<C>,
        config: C::Config,
        /// Streams completed, for messages.
        streams: u64,
        /// Whether anything may follow the first stream (false: a zip entry, which ends where
        /// its stream ends).
        concatenated: bool,
    }

    impl<R: Read, C: Codec> Streams<BufReader<R>, C> {
        /// A compressed tar stream.
        pub(crate) fn tar(input: R, config: C::Config) -> Self {
            Streams::new(BufReader::with_capacity(INPUT_BUFFER, input), config, true)
        }
    }

    impl<B: BufRead, C: Codec> Streams<B, C> {
        /// Decodes `input`: concatenated streams, or exactly one.
        pub(crate) fn new(input: B, config: C::Config, concatenated: bool) -> Self {
            Streams {
                input: Tracked {
                    inner: input,
                    consumed: 0,
                    failure: None,
                },
                stage: Stage::Between,
                config,
                streams: 0,
                concatenated,
            }
        }

        /// Compressed bytes consumed so far (read-ahead not counted).
        pub(crate) fn consumed(&self) -> u64 {
            self.input.consumed
        }

        /// After a stream: `Ok(true)` if another one starts, `Ok(false)` at a clean end.
        fn another_stream(&mut self) -> io::Result<bool> {
            if self.streams == 0 {
                return Ok(true); // the first stream is always read: an empty input is truncated
            }
            if !self.concatenated {
                return Ok(false);
            }
            let mut zeros = 0u64;
            loop {
                let at = self.input.consumed;
                if zeros >= super::MAX_TRAILING_PADDING {
                    return Ok(false);
                }
                let buf = match self.input.fill_buf() {
                    Ok(buf) => buf,
                    Err(e) => return Err(self.input.failure.take().unwrap_or(e)),
                };
                if buf.is_empty() {
                    return Ok(false);
                }
                if C::starts_stream(buf) {
                    return Ok(true);
                }
                match buf.iter().position(|&b| b != 0) {
                    Some(0) => {
                        let detail =
                            format!("data that is not {} follows the compressed stream", C::NAME);
                        let error = FormatError::new(Rule::TrailingGarbage, detail).at(at);
                        return Err(format_in_io(error));
                    }
                    Some(n) => {
                        zeros += n as u64;
                        self.input.consume(n);
                    }
                    None => {
                        let n = buf.len();
                        zeros += n as u64;
                        self.input.consume(n);
                    }
                }
            }
        }
    }

    impl<B: BufRead, C: Codec> Read for Streams<B, C> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if buf.is_empty() {
                return Ok(0);
            }
            loop {
                match std::mem::replace(&mut self.stage, Stage::Failed) {
                    Stage::Failed => {
                        let detail = format!("the {} stream already failed", C::NAME);
                        return Err(io::Error::other(detail));
                    }
                    Stage::Done => {
                        self.stage = Stage::Done;
                        return Ok(0);
                    }
                    Stage::Between => match self.another_stream() {
                        Ok(true) => self.stage = Stage::In(C::start(&self.config)),
                        Ok(false) => self.stage = Stage::Done,
                        Err(e) => return Err(e),
                    },
                    Stage::In(mut codec) => match codec.decode(&mut self.input, buf) {
                        Ok(0) => {
                            self.streams += 1;
                            self.stage = Stage::Between;
                        }
                        Ok(n) => {
                            self.stage = Stage::In(codec);
                            return Ok(n);
                        }
                        Err(Fault::Input(e)) if e.kind() == io::ErrorKind::Interrupted => {
                            self.stage = Stage::In(codec);
                        }
                        Err(fault) => {
                            if let Some(e) = self.input.failure.take() {
                                return Err(e);
                            }
                            return Err(match fault {
                                Fault::Input(e) => e,
                                Fault::Format(mut f) => {
                                    if self.streams > 0 && f.rule != Rule::DecoderMemoryLimit {
                                        f.detail =
                                            format!("{} (stream {})", f.detail, self.streams + 1);
                                    }
                                    format_in_io(f.at(self.input.consumed))
                                }
                            });
                        }
                    },
                }
            }
        }
    }

    impl<B: BufRead, C: Codec> CountedRead for Streams<B, C> {
        fn input_consumed(&self) -> u64 {
            self.input.consumed
        }
    }

    /// Drives a push decoder (`step` takes input and output slices and returns bytes consumed,
    /// bytes produced and whether the stream ended) over buffered input. `ended` is the
    /// codec's own flag; the end of input inside the stream is `truncated`.
    #[cfg(any(feature = "bzip2", feature = "xz", feature = "deflate64"))]
    pub(crate) fn push<B: BufRead>(
        input: &mut Tracked<B>,
        out: &mut [u8],
        ended: &mut bool,
        name: &str,
        mut step: impl FnMut(&[u8], &mut [u8], bool) -> Result<(usize, usize, bool), Fault>,
    ) -> Result<usize, Fault> {
        if *ended {
            return Ok(0);
        }
        loop {
            let buf = input.fill_buf().map_err(Fault::Input)?;
            let eof = buf.is_empty();
            let (consumed, produced, end) = step(buf, out, eof)?;
            input.consume(consumed);
            if end {
                *ended = true;
                return Ok(produced);
            }
            if produced > 0 {
                return Ok(produced);
            }
            if eof {
                let detail = format!("the {name} stream ends early");
                return Err(Fault::format(Rule::Truncated, detail));
            }
            if consumed == 0 {
                let detail = format!("the {name} decoder made no progress on its input");
                return Err(Fault::format(Rule::CorruptCompression, detail));
            }
        }
    }

    /// Whether `head` starts with `magic` (or with its first bytes, when `head` is shorter).
    pub(crate) fn starts_with(head: &[u8], magic: &[u8]) -> bool {
        let n = magic.len().min(head.len());
        head[..n] == magic[..n]
    }

    /// Deflate64 (zip method 9), decoded by the `deflate64` crate (a safe port of .NET's
    /// inflater): 64 KiB window, no memory limit needed.
    #[cfg(feature = "deflate64")]
    pub(crate) struct Deflate64 {
        inflater: Box<deflate64::InflaterManaged>,
        ended: bool,
    }

    #[cfg(feature = "deflate64")]
    impl Codec for Deflate64 {
        type Config = ();
        const NAME: &'static str = "deflate64";

        fn starts_stream(_: &[u8]) -> bool {
            false
        }

        fn start(_: &()) -> Self {
            Deflate64 {
                inflater: Box::new(deflate64::InflaterManaged::new()),
                ended: false,
            }
        }

        fn decode<B: BufRead>(
            &mut self,
            input: &mut Tracked<B>,
            out: &mut [u8],
        ) -> Result<usize, Fault> {
            let inflater = &mut self.inflater;
            push(input, out, &mut self.ended, Self::NAME, |buf, out, _eof| {
                let r = inflater.inflate(buf, out);
                if r.data_error {
                    let detail = "the deflate64 stream is damaged";
                    return Err(Fault::format(Rule::CorruptCompression, detail));
                }
                Ok((r.bytes_consumed, r.bytes_written, inflater.finished()))
            })
        }
    }

    /// The decoder of one zip entry's data, for the methods beyond stored and deflate. It keeps
    /// only the codec's state: the entry's buffered bytes are handed to every read.
    pub(crate) struct EntryDecoder(AnyCodec);

    #[allow(clippy::large_enum_variant)] // one per zip reader
    enum AnyCodec {
        /// Never made: keeps the enum inhabited when no decoder is built.
        #[allow(dead_code)]
        None(std::convert::Infallible),
        #[cfg(feature = "bzip2")]
        Bzip2(super::bzip2::Bzip2),
        #[cfg(feature = "xz")]
        Xz(super::xz::Xz),
        #[cfg(feature = "xz")]
        Lzma(super::xz::Lzma),
        #[cfg(feature = "zstd")]
        Zstd(super::zstd::Zstd),
        #[cfg(feature = "deflate64")]
        Deflate64(Deflate64),
    }

    impl EntryDecoder {
        /// The cargo feature that reads zip `method` (beyond stored and deflate), if any does.
        pub(crate) fn feature(method: u16) -> Option<&'static str> {
            match method {
                9 => Some("deflate64"),
                12 => Some("bzip2"),
                14 | 95 => Some("xz"),
                20 | 93 => Some("zstd"),
                _ => None,
            }
        }

        /// A decoder for zip `method`, when this build reads it. `size` is the entry's declared
        /// size and `flags` its general purpose flags (an LZMA entry needs both); `cap` is
        /// `max_decoder_memory`.
        #[allow(unused_variables)]
        pub(crate) fn for_method(method: u16, size: u64, flags: u16, cap: u64) -> Option<Self> {
            let codec = match method {
                #[cfg(feature = "deflate64")]
                9 => AnyCodec::Deflate64(Deflate64::start(&())),
                #[cfg(feature = "bzip2")]
                12 => AnyCodec::Bzip2(super::bzip2::Bzip2::start(&())),
                #[cfg(feature = "xz")]
                14 => AnyCodec::Lzma(super::xz::zip_lzma(size, flags & 2 != 0, cap)),
                #[cfg(feature = "zstd")]
                20 | 93 => AnyCodec::Zstd(super::zstd::Zstd::start(&cap)),
                #[cfg(feature = "xz")]
                95 => AnyCodec::Xz(super::xz::Xz::start(&cap)),
                _ => return None,
            };
            Some(EntryDecoder(codec))
        }

        /// Decodes from the entry's bytes into `out`; `Ok(0)` at the end of its stream. A
        /// damaged stream is a [`FormatError`] inside the `io::Error` (see `format_in_io`).
        pub(crate) fn read<B: BufRead>(&mut self, input: B, out: &mut [u8]) -> io::Result<usize> {
            if out.is_empty() {
                return Ok(0);
            }
            let mut input = Tracked {
                inner: input,
                consumed: 0,
                failure: None,
            };
            let result = match &mut self.0 {
                AnyCodec::None(never) => match *never {},
                #[cfg(feature = "bzip2")]
                AnyCodec::Bzip2(c) => c.decode(&mut input, out),
                #[cfg(feature = "xz")]
                AnyCodec::Xz(c) => c.decode(&mut input, out),
                #[cfg(feature = "xz")]
                AnyCodec::Lzma(c) => c.decode(&mut input, out),
                #[cfg(feature = "zstd")]
                AnyCodec::Zstd(c) => c.decode(&mut input, out),
                #[cfg(feature = "deflate64")]
                AnyCodec::Deflate64(c) => c.decode(&mut input, out),
            };
            match result {
                Ok(n) => Ok(n),
                Err(_) if input.failure.is_some() => Err(input
                    .failure
                    .take()
                    .unwrap_or_else(|| io::Error::other("reading the input failed"))),
                Err(Fault::Input(e)) => Err(e),
                Err(Fault::Format(f)) => Err(format_in_io(f)),
            }
        }
    }

    /// `bytes` as a size for messages (whole MiB rounded up, as xz shows them).
    #[cfg(any(feature = "xz", feature = "zstd"))]
    pub(crate) fn show_size(bytes: u64) -> String {
        const MIB: u64 = 1 << 20;
        if bytes >= MIB {
            format!("{} MiB", bytes.div_ceil(MIB))
        } else {
            format!("{bytes} bytes")
        }
    }

    /// The `decoder-memory-limit` error.
    #[cfg(any(feature = "xz", feature = "zstd"))]
    pub(crate) fn over_memory(name: &str, what: &str, needed: Option<u64>, cap: u64) -> Fault {
        let needs = match needed {
            Some(n) => format!("needs {} of decoder memory", show_size(n)),
            None => "needs more decoder memory than allowed".to_owned(),
        };
        Fault::format(
            Rule::DecoderMemoryLimit,
            format!(
                "the {name} stream's {what} {needs} (limit {})",
                show_size(cap)
            ),
        )
    }
}

/// What the decoders' unit tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::entry::SourceError;
    use crate::rule::Rule;
    use std::io::Read;

    /// Everything `reader` yields, or the error it stopped with (as the core reports it).
    pub(crate) fn decode_all(mut reader: impl Read) -> Result<Vec<u8>, SourceError> {
        let mut out = Vec::new();
        reader
            .read_to_end(&mut out)
            .map_err(|e| SourceError::from_io(e, 0))?;
        Ok(out)
    }

    /// The rule of the format error `decoded` must be.
    pub(crate) fn rule(decoded: Result<Vec<u8>, SourceError>) -> Rule {
        match decoded {
            Err(SourceError::Format(f)) => f.rule,
            other => panic!("expected a format error, got {other:?}"),
        }
    }
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

    fn built_or_named(head: &[u8], format: Format) {
        match detect(head) {
            Ok(found) => {
                assert!(format.is_built());
                assert_eq!(found, format);
            }
            Err(e) => {
                assert!(!format.is_built());
                assert_eq!(e.rule, Rule::UnsupportedCompression);
                let feature = format.feature().unwrap_or_default();
                assert!(
                    e.detail
                        .contains(&format!("built without the '{feature}' feature"))
                );
            }
        }
    }

    #[test]
    fn detects_the_other_tar_compressions() {
        built_or_named(b"BZh91AY&SY", Format::TarBz2);
        built_or_named(&[0xfd, b'7', b'z', b'X', b'Z', 0, 0, 4], Format::TarXz);
        built_or_named(&[0x28, 0xb5, 0x2f, 0xfd, 4, 0], Format::TarZst);
        // zstd after a skippable frame, and a skippable frame running past the head
        let mut skippable = vec![0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9];
        skippable.extend([0x28, 0xb5, 0x2f, 0xfd]);
        built_or_named(&skippable, Format::TarZst);
        built_or_named(&[0x5f, 0x2a, 0x4d, 0x18, 0xff, 0xff, 0, 0], Format::TarZst);
        // .lzma as xz-utils writes it: properties 0x5d, an 8 MiB dictionary, unknown size
        let mut lzma = vec![0x5d, 0, 0, 0x80, 0];
        lzma.extend([0xff; 8]);
        built_or_named(&lzma, Format::TarLzma);
        // lz4 after skippable frames is still lz4
        let lz4 = [
            0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0, 0x04, 0x22, 0x4d, 0x18, 0x64,
        ];
        assert!(detect(&lz4).unwrap_err().detail.contains("lz4"));
        for (head, name) in [
            (&b"LZIP\x01"[..], "lzip"),
            (
                &[0x89, b'L', b'Z', b'O', 0, 0x0d, 0x0a, 0x1a, 0x0a][..],
                "lzop",
            ),
            (&[0x1f, 0x9d, 0x90][..], "compress (.Z)"),
        ] {
            let e = detect(head).unwrap_err();
            assert_eq!(e.rule, Rule::UnsupportedCompression);
            assert_eq!(e.detail, format!("unsupported compression: {name}"));
        }
        // A tar whose first name is "]" is not mistaken for .lzma (its dictionary would be 0).
        let mut tar = vec![0u8; 512];
        tar[0] = b']';
        assert_ne!(detect(&tar).ok(), Some(Format::TarLzma));
    }

    #[test]
    fn names_and_aliases_parse() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
        }
        for (alias, format) in [
            ("tbz2", Format::TarBz2),
            ("tbz", Format::TarBz2),
            ("bzip2", Format::TarBz2),
            ("txz", Format::TarXz),
            ("xz", Format::TarXz),
            ("lzma", Format::TarLzma),
            ("tzst", Format::TarZst),
            ("tar.zstd", Format::TarZst),
            ("zstd", Format::TarZst),
        ] {
            assert_eq!(alias.parse::<Format>(), Ok(format), "{alias}");
        }
        assert!("tar.lz4".parse::<Format>().is_err());
    }
}
