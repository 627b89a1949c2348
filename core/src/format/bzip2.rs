//! bzip2: one or more streams (as `pbzip2` writes them), decoded by the `bzip2` crate with its
//! default backend, `libbz2-rs-sys`: a Rust port of the reference libbzip2, no C, builds for
//! wasm32-unknown-unknown without imports. It verifies every block's and the stream's CRC.
//!
//! A bzip2 decoder needs at most about 3.6 MiB (900 kB blocks), so no memory limit applies.

use crate::format::stream::{Codec, Fault, Streams, Tracked, push, starts_with};
use crate::rule::Rule;
use bzip2::{Decompress, Status};
use std::io::{BufRead, BufReader, Read};

/// One bzip2 stream.
pub(crate) struct Bzip2 {
    decoder: Decompress,
    ended: bool,
}

impl Codec for Bzip2 {
    type Config = ();
    const NAME: &'static str = "bzip2";
    fn starts_stream(head: &[u8]) -> bool {
        starts_with(head, b"BZh")
    }

    fn start(_: &()) -> Self {
        Bzip2 {
            decoder: Decompress::new(false),
            ended: false,
        }
    }

    fn decode<B: BufRead>(
        &mut self,
        input: &mut Tracked<B>,
        out: &mut [u8],
    ) -> Result<usize, Fault> {
        let decoder = &mut self.decoder;
        push(input, out, &mut self.ended, Self::NAME, |buf, out, _eof| {
            let (in_before, out_before) = (decoder.total_in(), decoder.total_out());
            let status = decoder.decompress(buf, out);
            let consumed = (decoder.total_in() - in_before) as usize;
            let produced = (decoder.total_out() - out_before) as usize;
            match status {
                Ok(Status::StreamEnd) => Ok((consumed, produced, true)),
                Ok(_) => Ok((consumed, produced, false)),
                Err(e) => Err(Fault::format(
                    Rule::CorruptCompression,
                    format!("the bzip2 stream is damaged: {e}"),
                )),
            }
        })
    }
}

/// Decompresses a sequence of bzip2 streams as one. After the last stream only zero bytes may
/// follow (tape padding); anything else is `trailing-garbage`.
pub struct Bzip2Reader<R: Read>(Streams<BufReader<R>, Bzip2>);

impl<R: Read> Bzip2Reader<R> {
    /// Decodes the bzip2 data `input`.
    pub fn new(input: R) -> Self {
        Bzip2Reader(Streams::tar(input, ()))
    }
}

reader_impls!(Bzip2Reader);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::SourceError;
    use crate::format::tar::CountedRead;
    use crate::format::test_support::{decode_all, rule};
    use bzip2::Compression;
    use bzip2::write::BzEncoder;
    use std::io;
    use std::io::Write;

    fn bz(data: &[u8]) -> Vec<u8> {
        let mut e = BzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<u8>, SourceError> {
        decode_all(Bzip2Reader::new(bytes))
    }

    #[test]
    fn round_trip_multi_stream_and_zero_padding() {
        let text = b"some text that compresses ".repeat(5000);
        let mut bytes = bz(&text);
        bytes.extend(bz(b"second stream"));
        bytes.extend([0u8; 100]);
        let mut reader = Bzip2Reader::new(&bytes[..]);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), text.len() + 13);
        assert!(out.ends_with(b"second stream"));
        assert_eq!(reader.input_consumed(), bytes.len() as u64);
    }

    #[test]
    fn damage_is_typed() {
        let good = bz(&b"some text that compresses ".repeat(1000));
        assert_eq!(rule(read_all(&good[..good.len() - 4])), Rule::Truncated);
        assert_eq!(rule(read_all(&good[..20])), Rule::Truncated);
        assert_eq!(rule(read_all(b"")), Rule::Truncated);
        let mut garbage = good.clone();
        garbage.extend(b"garbage");
        assert_eq!(rule(read_all(&garbage)), Rule::TrailingGarbage);
        let mut body = good.clone();
        let mid = body.len() / 2;
        body[mid] ^= 0x55;
        assert!(matches!(
            rule(read_all(&body)),
            Rule::CorruptCompression | Rule::Truncated
        ));
        let mut crc = good;
        let n = crc.len();
        crc[n - 3] ^= 0x01; // the stream CRC sits in the last bytes
        assert_eq!(rule(read_all(&crc)), Rule::CorruptCompression);
        assert_eq!(rule(read_all(b"BZh9 not really")), Rule::CorruptCompression);
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
        let err = Bzip2Reader::new(Broken).read(&mut [0u8; 10]).unwrap_err();
        assert!(matches!(
            SourceError::from_io(err, 0),
            SourceError::Input(e) if e.to_string() == "disk on fire"
        ));
    }
}
