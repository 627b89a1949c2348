//! gzip: one or more members, each a header (RFC 1952), a deflate stream and a trailer.
//!
//! The deflate stream is flate2's `bufread::DeflateDecoder` over zlib-rs: pure Rust, builds for
//! wasm32, and (with flate2's `runtime_detection`) picks AVX2 inflate at run time on x86_64,
//! which took planning a 64 MB tar.gz from 120 to 87 ms. It consumes exactly the deflate bytes
//! from a `BufRead`, which is what multi-member handling needs. Headers and trailers are read
//! here rather than by flate2's `GzDecoder` so that the CRC-32 is the core's own (`crc32.rs`):
//! under wasm, flate2's (zlib-rs's braid) took a third of the WASI command's time on large
//! files.

use crate::crc32::Crc32;
use crate::entry::format_in_io;
use crate::error::FormatError;
use crate::format::MAX_TRAILING_PADDING;
use crate::format::tar::CountedRead;
use crate::rule::Rule;
use flate2::bufread::DeflateDecoder;
use std::io::{self, BufRead, BufReader, Read};

/// Input buffer: large reads cost less per byte (8 KiB buffers cost ~27% in measurements).
const INPUT_BUFFER: usize = 256 * 1024;

type Input<R> = BufReader<Counting<R>>;

/// Decompresses a sequence of gzip members as one stream. The input must start with a member;
/// after the last member only zero bytes may follow (tape padding), read for at most
/// [`MAX_TRAILING_PADDING`] bytes before the input is left unread; anything else is
/// `trailing-garbage`.
pub struct GzipReader<R: Read> {
    stage: Stage<R>,
    /// Members completed, for error messages.
    members: u64,
}

enum Stage<R: Read> {
    /// Between members (or before the first): the next byte decides.
    Between(Input<R>),
    /// Decoding a member's deflate stream.
    /// (Boxed: the inflate state is large, and the stage moves on every read.)
    Member(Box<Member<R>>),
    /// The stream ended.
    Done(Input<R>),
    /// A previous call failed half-way; no further reads.
    Failed,
}

impl<R: Read> std::fmt::Debug for GzipReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GzipReader")
            .field("members", &self.members)
            .finish()
    }
}

/// A member being inflated, with what its trailer will be checked against.
struct Member<R: Read> {
    inflate: DeflateDecoder<Input<R>>,
    crc: Crc32,
    /// Bytes out, modulo 2^32 as the trailer keeps them.
    size: u32,
}

/// The offset in the compressed input of the next byte `input` will hand out.
fn position<R: Read>(input: &Input<R>) -> u64 {
    input.get_ref().count - input.buffer().len() as u64
}

struct Counting<R> {
    inner: R,
    count: u64,
    /// The underlying reader failed: its errors are input errors, not corruption.
    failed: bool,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.count += n as u64;
                Ok(n)
            }
            Err(e) => {
                self.failed = e.kind() != io::ErrorKind::Interrupted;
                Err(e)
            }
        }
    }
}

impl<R: Read> GzipReader<R> {
    /// Decodes the gzip stream `input`.
    pub fn new(input: R) -> Self {
        let input = BufReader::with_capacity(
            INPUT_BUFFER,
            Counting {
                inner: input,
                count: 0,
                failed: false,
            },
        );
        GzipReader {
            stage: Stage::Between(input),
            members: 0,
        }
    }

    fn input(&self) -> Option<&Input<R>> {
        match &self.stage {
            Stage::Between(i) | Stage::Done(i) => Some(i),
            Stage::Member(m) => Some(m.inflate.get_ref()),
            Stage::Failed => None,
        }
    }

    /// Compressed bytes decoded so far (excluding read-ahead).
    fn consumed(&self) -> u64 {
        self.input().map_or(0, position)
    }

    /// Classifies an error from the decoder.
    fn classify(&self, input: &Input<R>, error: io::Error) -> io::Error {
        if input.get_ref().failed || error.get_ref().is_some_and(|e| e.is::<FormatError>()) {
            return error;
        }
        let at = position(input);
        let member = self.members + 1;
        let format = if error.kind() == io::ErrorKind::UnexpectedEof {
            FormatError::new(
                Rule::Truncated,
                format!("the gzip stream ends early (member {member})"),
            )
        } else {
            FormatError::new(
                Rule::CorruptCompression,
                format!("gzip member {member} is damaged: {error}"),
            )
        };
        format_in_io(format.at(at))
    }
}

/// After a member: `Ok(true)` if another member starts, `Ok(false)` at a clean end (the end of
/// the input, or [`MAX_TRAILING_PADDING`] zero bytes).
fn another_member<R: Read>(input: &mut Input<R>) -> io::Result<bool> {
    let mut zeros = 0u64;
    loop {
        let at = position(input);
        if zeros >= MAX_TRAILING_PADDING {
            return Ok(false);
        }
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        if buf[0] == 0x1f {
            return Ok(true);
        }
        if buf.iter().any(|&b| b != 0) {
            let detail = "data that is not gzip follows the compressed stream";
            return Err(format_in_io(
                FormatError::new(Rule::TrailingGarbage, detail).at(at),
            ));
        }
        let n = buf.len().min((MAX_TRAILING_PADDING - zeros) as usize);
        zeros += n as u64;
        input.consume(n);
    }
}

impl<R: Read> Read for GzipReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match std::mem::replace(&mut self.stage, Stage::Failed) {
                Stage::Failed => return Err(io::Error::other("the gzip stream already failed")),
                Stage::Done(input) => {
                    self.stage = Stage::Done(input);
                    return Ok(0);
                }
                Stage::Between(mut input) => {
                    // The first member is read whatever the input starts with: zeros are
                    // padding only after a member (`/dev/zero` is not an empty gzip stream).
                    let another = match self.members {
                        0 => Ok(true),
                        _ => another_member(&mut input),
                    };
                    match another {
                        Ok(true) => {
                            if let Err(e) = skip_header(&mut input, self.members + 1) {
                                return Err(self.classify(&input, e));
                            }
                            self.stage = Stage::Member(Box::new(Member {
                                inflate: DeflateDecoder::new(input),
                                crc: Crc32::new(),
                                size: 0,
                            }));
                        }
                        Ok(false) => self.stage = Stage::Done(input),
                        Err(e) => return Err(e),
                    }
                }
                Stage::Member(mut member) => match member.inflate.read(buf) {
                    Ok(0) => {
                        let Member { inflate, crc, size } = *member;
                        let mut input = inflate.into_inner();
                        if let Err(e) = check_trailer(&mut input, &crc, size, self.members + 1) {
                            return Err(self.classify(&input, e));
                        }
                        self.members += 1;
                        self.stage = Stage::Between(input);
                    }
                    Ok(n) => {
                        member.crc.update(&buf[..n]);
                        member.size = member.size.wrapping_add(n as u32);
                        self.stage = Stage::Member(member);
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                        self.stage = Stage::Member(member)
                    }
                    Err(e) => return Err(self.classify(member.inflate.get_ref(), e)),
                },
            }
        }
    }
}

/// Header flags (RFC 1952, 2.3.1).
const FHCRC: u8 = 1 << 1;
const FEXTRA: u8 = 1 << 2;
const FNAME: u8 = 1 << 3;
const FCOMMENT: u8 = 1 << 4;
const FRESERVED: u8 = 0xe0;

/// Reads member `member`'s header up to its deflate stream, checking what can be checked.
fn skip_header<R: Read>(input: &mut Input<R>, member: u64) -> io::Result<()> {
    let at = position(input);
    let bad =
        |detail: String| format_in_io(FormatError::new(Rule::CorruptCompression, detail).at(at));
    let mut crc = Crc32::new();
    let mut take = |input: &mut Input<R>, buf: &mut [u8]| -> io::Result<()> {
        input.read_exact(buf)?;
        crc.update(buf);
        Ok(())
    };
    let mut fixed = [0u8; 10];
    take(input, &mut fixed)?;
    if fixed[..2] != [0x1f, 0x8b] && member == 1 {
        let detail = format!(
            "not gzip data: the input starts with bytes {:02x} {:02x}, not a gzip header (1f 8b)",
            fixed[0], fixed[1]
        );
        return Err(format_in_io(
            FormatError::new(Rule::NotAnArchive, detail).at(at),
        ));
    }
    if fixed[..2] != [0x1f, 0x8b] {
        return Err(bad(format!(
            "gzip member {member} does not start with a gzip header"
        )));
    }
    if fixed[2] != 8 {
        let method = fixed[2];
        return Err(bad(format!(
            "gzip member {member} uses compression method {method}, not deflate (8)"
        )));
    }
    let flags = fixed[3];
    if flags & FRESERVED != 0 {
        return Err(bad(format!(
            "gzip member {member} sets reserved header flags ({flags:#04x})"
        )));
    }
    if flags & FEXTRA != 0 {
        let mut len = [0u8; 2];
        take(input, &mut len)?;
        let mut left = usize::from(u16::from_le_bytes(len));
        let mut chunk = [0u8; 256];
        while left > 0 {
            let n = left.min(chunk.len());
            take(input, &mut chunk[..n])?;
            left -= n;
        }
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            // A zero-terminated string (a file name, a comment), skipped.
            let mut byte = [0u8; 1];
            loop {
                take(input, &mut byte)?;
                if byte[0] == 0 {
                    break;
                }
            }
        }
    }
    if flags & FHCRC != 0 {
        let want = crc.value() as u16;
        let mut stored = [0u8; 2];
        input.read_exact(&mut stored)?;
        let stored = u16::from_le_bytes(stored);
        if stored != want {
            return Err(bad(format!(
                "gzip member {member}'s header CRC is {want:04x}, the header says {stored:04x}"
            )));
        }
    }
    Ok(())
}

/// Reads a member's trailer and compares it with what was inflated.
fn check_trailer<R: Read>(
    input: &mut Input<R>,
    crc: &Crc32,
    size: u32,
    member: u64,
) -> io::Result<()> {
    let at = position(input);
    let mut trailer = [0u8; 8];
    input.read_exact(&mut trailer)?;
    let stored_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let stored_size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    let detail = if stored_crc != crc.value() {
        format!(
            "gzip member {member} is damaged: the CRC-32 of its data is {:08x}, its trailer says {stored_crc:08x}",
            crc.value()
        )
    } else if stored_size != size {
        format!(
            "gzip member {member} is damaged: it inflates to {size} bytes (mod 2^32), its trailer says {stored_size}"
        )
    } else {
        return Ok(());
    };
    Err(format_in_io(
        FormatError::new(Rule::CorruptCompression, detail).at(at),
    ))
}

impl<R: Read> CountedRead for GzipReader<R> {
    fn input_consumed(&self) -> u64 {
        self.consumed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::SourceError;
    use crate::format::test_support::{decode_all, rule};
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<u8>, SourceError> {
        decode_all(GzipReader::new(bytes))
    }

    #[test]
    fn multi_member_and_zero_padding() {
        let mut bytes = gz(b"hello ");
        bytes.extend(gz(b"world"));
        bytes.extend([0u8; 100]);
        assert_eq!(read_all(&bytes).unwrap(), b"hello world");
    }

    #[test]
    fn damage_is_typed() {
        let good = gz(&b"some text that compresses ".repeat(100));
        let mut crc = good.clone();
        let n = crc.len();
        crc[n - 8] ^= 0xff;
        assert_eq!(rule(read_all(&crc)), Rule::CorruptCompression);
        assert_eq!(rule(read_all(&good[..good.len() - 4])), Rule::Truncated);
        let mut garbage = good.clone();
        garbage.extend(b"garbage");
        assert_eq!(rule(read_all(&garbage)), Rule::TrailingGarbage);
        let mut body = good;
        body[12] ^= 0x55;
        assert!(matches!(
            rule(read_all(&body)),
            Rule::CorruptCompression | Rule::Truncated
        ));
    }

    /// A member by hand: `flags` with the optional fields they announce, `hcrc` as the header
    /// CRC when FHCRC is set (None: the right one), then deflate data and the trailer.
    fn member(flags: u8, method: u8, hcrc: Option<u16>, data: &[u8]) -> Vec<u8> {
        let mut m = vec![0x1f, 0x8b, method, flags, 1, 2, 3, 4, 0, 3];
        if flags & FEXTRA != 0 {
            m.extend([5, 0, b'a', b'b', 0, b'c', b'd']);
        }
        if flags & FNAME != 0 {
            m.extend(b"name.tar\0");
        }
        if flags & FCOMMENT != 0 {
            m.extend(b"a comment\0");
        }
        if flags & FHCRC != 0 {
            let want = crate::crc32::crc32(&m) as u16;
            m.extend(hcrc.unwrap_or(want).to_le_bytes());
        }
        let mut e = flate2::write::DeflateEncoder::new(m, Compression::fast());
        e.write_all(data).unwrap();
        let mut m = e.finish().unwrap();
        m.extend(crate::crc32::crc32(data).to_le_bytes());
        m.extend((data.len() as u32).to_le_bytes());
        m
    }

    #[test]
    fn optional_header_fields_are_skipped_and_checked() {
        let all = FEXTRA | FNAME | FCOMMENT | FHCRC;
        let mut bytes = member(all, 8, None, b"first ");
        bytes.extend(member(FNAME, 8, None, b"second"));
        assert_eq!(read_all(&bytes).unwrap(), b"first second");
        assert_eq!(
            rule(read_all(&member(all, 8, Some(0x1234), b"x"))),
            Rule::CorruptCompression
        );
        assert_eq!(
            rule(read_all(&member(0x20, 8, None, b"x"))),
            Rule::CorruptCompression
        );
        assert_eq!(
            rule(read_all(&member(0, 7, None, b"x"))),
            Rule::CorruptCompression
        );
        let whole = member(all, 8, None, b"x");
        assert_eq!(rule(read_all(&whole[..14])), Rule::Truncated);
    }

    #[test]
    fn the_trailer_is_checked() {
        let good = member(0, 8, None, b"data data data");
        assert_eq!(read_all(&good).unwrap(), b"data data data");
        let mut size = good.clone();
        let n = size.len();
        size[n - 4] ^= 1;
        let err = read_all(&size).unwrap_err();
        assert!(err.to_string().contains("inflates to 14 bytes"), "{err}");
        let mut crc = good.clone();
        crc[n - 8] ^= 1;
        let err = read_all(&crc).unwrap_err();
        assert!(err.to_string().contains("CRC-32"), "{err}");
        assert_eq!(rule(read_all(&good[..n - 3])), Rule::Truncated);
    }

    #[test]
    fn input_failures_stay_input_errors() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "disk on fire",
                ))
            }
        }
        let err = GzipReader::new(Broken).read(&mut [0u8; 10]).unwrap_err();
        assert!(matches!(
            SourceError::from_io(err, 0),
            SourceError::Input(_)
        ));
    }
}
