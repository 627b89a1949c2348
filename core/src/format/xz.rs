//! xz (one or more streams, with stream padding) and the legacy `.lzma` format ("LZMA-alone"),
//! decoded by `lzma-rust2`'s push decoders (`XzStream`, `LzmaStream`): pure Rust, safe code
//! only with the features used here, build for wasm32-unknown-unknown without imports.
//!
//! The decoders' memory is bounded by [`Limits::max_decoder_memory`]: an xz block header or an
//! `.lzma` header asking for a larger dictionary is refused (`decoder-memory-limit`) before
//! anything is allocated. xz integrity checks (CRC-32, CRC-64, SHA-256) are verified.

use crate::format::stream::{Codec, Fault, Streams, Tracked, over_memory, push, starts_with};
use crate::policy::Limits;
use crate::rule::Rule;
use lzma_rust2::{Action, LzmaStream, Status, XzStream};
use std::io::{self, BufRead, BufReader, Read};

/// A memory cap in bytes as lzma-rust2's limit in KiB (`u32::MAX` means none).
fn limit_kib(cap: u64) -> u32 {
    u32::try_from(cap / 1024).unwrap_or(u32::MAX)
}

/// Maps an lzma-rust2 error to a typed one. `need_kib` is what the decoder said it needs.
fn fault(name: &str, error: io::Error, need_kib: Option<u32>, cap: u64) -> Fault {
    match error.kind() {
        io::ErrorKind::OutOfMemory => over_memory(
            name,
            "dictionary",
            need_kib.map(|k| u64::from(k) * 1024),
            cap,
        ),
        io::ErrorKind::UnexpectedEof => {
            Fault::format(Rule::Truncated, format!("the {name} stream ends early"))
        }
        io::ErrorKind::Unsupported => Fault::format(
            Rule::UnsupportedCompression,
            format!("unsupported compression: the {name} stream uses {error}"),
        ),
        _ => Fault::format(
            Rule::CorruptCompression,
            format!("the {name} stream is damaged: {error}"),
        ),
    }
}

fn action(eof: bool) -> Action {
    if eof { Action::Finish } else { Action::Run }
}

/// One xz stream.
pub(crate) struct Xz {
    decoder: XzStream,
    cap: u64,
    ended: bool,
}

impl Codec for Xz {
    /// The memory cap in bytes.
    type Config = u64;
    const NAME: &'static str = "xz";
    fn starts_stream(head: &[u8]) -> bool {
        starts_with(head, &[0xfd, b'7', b'z', b'X', b'Z', 0])
    }

    fn start(cap: &u64) -> Self {
        Xz {
            decoder: XzStream::new_mem_limit(false, limit_kib(*cap)),
            cap: *cap,
            ended: false,
        }
    }

    fn decode<B: BufRead>(
        &mut self,
        input: &mut Tracked<B>,
        out: &mut [u8],
    ) -> Result<usize, Fault> {
        let (decoder, cap) = (&mut self.decoder, self.cap);
        push(
            input,
            out,
            &mut self.ended,
            Self::NAME,
            |buf, out, eof| match decoder.process(buf, out, action(eof)) {
                Ok(r) => Ok((
                    r.bytes_consumed,
                    r.bytes_produced,
                    r.status == Status::StreamEnd,
                )),
                Err(e) => Err(fault(Self::NAME, e, decoder.memory_usage(), cap)),
            },
        )
    }
}

/// How an LZMA stream is framed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LzmaFraming {
    /// The `.lzma` file format: a 13-byte header (properties, dictionary, size).
    Alone,
    /// A zip entry (method 14): a 4-byte version and properties-length header, the properties,
    /// then raw LZMA data of `size` bytes, or ended by an end marker when `end_marker` is set.
    Zip {
        /// The entry's declared (uncompressed) size.
        size: u64,
        /// General purpose flag bit 1: the data ends with an end-of-stream marker.
        end_marker: bool,
    },
}

/// What every LZMA stream of one input shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LzmaConfig {
    framing: LzmaFraming,
    cap: u64,
}

/// One LZMA stream.
pub(crate) struct Lzma {
    /// `None` until a zip entry's header is read.
    decoder: Option<LzmaStream>,
    config: LzmaConfig,
    ended: bool,
}

impl Lzma {
    /// Reads a zip entry's LZMA header and makes the decoder.
    fn zip_header<B: BufRead>(
        &self,
        input: &mut Tracked<B>,
        size: u64,
        end_marker: bool,
    ) -> Result<LzmaStream, Fault> {
        let mut header = [0u8; 4];
        read_exact(input, &mut header)?;
        let props_len = usize::from(u16::from_le_bytes([header[2], header[3]]));
        if props_len != 5 {
            let detail =
                format!("the zip entry's LZMA header has {props_len} property bytes, not 5");
            return Err(Fault::format(Rule::CorruptCompression, detail));
        }
        let mut props = [0u8; 5];
        read_exact(input, &mut props)?;
        let dict = u32::from_le_bytes([props[1], props[2], props[3], props[4]]);
        let corrupt = |e: io::Error| {
            Fault::format(
                Rule::CorruptCompression,
                format!("the zip entry's LZMA properties are invalid: {e}"),
            )
        };
        let need_kib =
            lzma_rust2::lzma_get_memory_usage_by_props(dict, props[0]).map_err(corrupt)?;
        if need_kib > limit_kib(self.config.cap) {
            let need = u64::from(need_kib) * 1024;
            return Err(over_memory(
                "lzma",
                "dictionary",
                Some(need),
                self.config.cap,
            ));
        }
        let size = if end_marker { u64::MAX } else { size };
        LzmaStream::new_with_props(size, props[0], dict, None).map_err(corrupt)
    }
}

fn read_exact<B: BufRead>(input: &mut Tracked<B>, buf: &mut [u8]) -> Result<(), Fault> {
    input.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            Fault::format(Rule::Truncated, "the LZMA stream ends inside its header")
        }
        _ => Fault::Input(e),
    })
}

impl Codec for Lzma {
    type Config = LzmaConfig;
    const NAME: &'static str = "lzma";
    /// `.lzma` files hold one stream (xz-utils does not concatenate them either).
    fn starts_stream(_: &[u8]) -> bool {
        false
    }

    fn start(config: &LzmaConfig) -> Self {
        let decoder = match config.framing {
            LzmaFraming::Alone => Some(LzmaStream::new_mem_limit(limit_kib(config.cap), None)),
            LzmaFraming::Zip { .. } => None,
        };
        Lzma {
            decoder,
            config: *config,
            ended: false,
        }
    }

    fn decode<B: BufRead>(
        &mut self,
        input: &mut Tracked<B>,
        out: &mut [u8],
    ) -> Result<usize, Fault> {
        let decoder = match (&mut self.decoder, self.config.framing) {
            (Some(decoder), _) => decoder,
            (None, LzmaFraming::Zip { size, end_marker }) => {
                let decoder = self.zip_header(input, size, end_marker)?;
                self.decoder.insert(decoder)
            }
            (None, LzmaFraming::Alone) => unreachable!("made in start"),
        };
        let cap = self.config.cap;
        push(
            input,
            out,
            &mut self.ended,
            Self::NAME,
            |buf, out, eof| match decoder.process(buf, out, action(eof)) {
                Ok(r) => Ok((
                    r.bytes_consumed,
                    r.bytes_produced,
                    r.status == Status::StreamEnd,
                )),
                Err(e) => Err(fault(Self::NAME, e, decoder.memory_usage(), cap)),
            },
        )
    }
}

/// Decompresses a sequence of xz streams (with stream padding) as one. After the last stream
/// only zero bytes may follow; anything else is `trailing-garbage`.
pub struct XzReader<R: Read>(Streams<BufReader<R>, Xz>);

impl<R: Read> XzReader<R> {
    /// Decodes the xz data `input`, within `limits.max_decoder_memory`.
    pub fn new(input: R, limits: &Limits) -> Self {
        XzReader(Streams::tar(input, limits.max_decoder_memory))
    }
}

/// Decompresses a `.lzma` ("LZMA-alone") stream. After it only zero bytes may follow.
pub struct LzmaReader<R: Read>(Streams<BufReader<R>, Lzma>);

impl<R: Read> LzmaReader<R> {
    /// Decodes the `.lzma` data `input`, within `limits.max_decoder_memory`.
    pub fn new(input: R, limits: &Limits) -> Self {
        let config = LzmaConfig {
            framing: LzmaFraming::Alone,
            cap: limits.max_decoder_memory,
        };
        LzmaReader(Streams::tar(input, config))
    }
}

reader_impls!(XzReader);
reader_impls!(LzmaReader);

/// A zip entry's LZMA decoder (method 14): `size` is the declared size, `end_marker` the
/// general purpose flag bit 1, `cap` the memory limit.
pub(crate) fn zip_lzma(size: u64, end_marker: bool, cap: u64) -> Lzma {
    Lzma::start(&LzmaConfig {
        framing: LzmaFraming::Zip { size, end_marker },
        cap,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::SourceError;
    use crate::format::tar::CountedRead;
    use crate::format::test_support::{decode_all, rule};
    use lzma_rust2::{LzmaOptions, LzmaWriter, XzOptions, XzWriter};
    use std::io::Write;

    fn xz(data: &[u8]) -> Vec<u8> {
        let mut w = XzWriter::new(Vec::new(), XzOptions::with_preset(1)).unwrap();
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    fn lzma(data: &[u8]) -> Vec<u8> {
        let options = LzmaOptions::with_preset(1);
        let mut w = LzmaWriter::new_use_header(Vec::new(), &options, None).unwrap();
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    fn read_xz(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, SourceError> {
        decode_all(XzReader::new(bytes, limits))
    }

    fn read_lzma(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, SourceError> {
        decode_all(LzmaReader::new(bytes, limits))
    }

    fn text() -> Vec<u8> {
        b"some text that compresses ".repeat(5000)
    }

    #[test]
    fn xz_round_trip_multi_stream_and_padding() {
        let limits = Limits::default();
        let mut bytes = xz(&text());
        bytes.extend([0u8; 8]); // stream padding
        bytes.extend(xz(b"second stream"));
        bytes.extend([0u8; 100]);
        let mut reader = XzReader::new(&bytes[..], &limits);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), text().len() + 13);
        assert!(out.ends_with(b"second stream"));
        assert_eq!(reader.input_consumed(), bytes.len() as u64);
    }

    #[test]
    fn lzma_round_trip() {
        let limits = Limits::default();
        assert_eq!(read_lzma(&lzma(&text()), &limits).unwrap(), text());
        let mut padded = lzma(b"x");
        padded.extend([0u8; 10]);
        assert_eq!(read_lzma(&padded, &limits).unwrap(), b"x");
    }

    #[test]
    fn xz_damage_is_typed() {
        let limits = Limits::default();
        let good = xz(&text());
        assert_eq!(
            rule(read_xz(&good[..good.len() - 4], &limits)),
            Rule::Truncated
        );
        assert_eq!(rule(read_xz(&good[..30], &limits)), Rule::Truncated);
        assert_eq!(rule(read_xz(b"", &limits)), Rule::Truncated);
        let mut garbage = good.clone();
        garbage.extend(b"garbage");
        assert_eq!(rule(read_xz(&garbage, &limits)), Rule::TrailingGarbage);
        let mut body = good.clone();
        let mid = body.len() / 2;
        body[mid] ^= 0x55;
        assert!(matches!(
            rule(read_xz(&body, &limits)),
            Rule::CorruptCompression | Rule::Truncated
        ));
        let mut header = good;
        header[7] ^= 0x01; // stream flags, covered by the header CRC
        assert_eq!(rule(read_xz(&header, &limits)), Rule::CorruptCompression);
    }

    #[test]
    fn lzma_damage_is_typed() {
        let limits = Limits::default();
        let good = lzma(&text());
        assert_eq!(
            rule(read_lzma(&good[..good.len() - 10], &limits)),
            Rule::Truncated
        );
        assert_eq!(rule(read_lzma(&good[..5], &limits)), Rule::Truncated);
        let mut body = good;
        let mid = body.len() / 2;
        body[mid] ^= 0x55;
        assert!(matches!(
            rule(read_lzma(&body, &limits)),
            Rule::CorruptCompression | Rule::Truncated
        ));
    }

    #[test]
    fn dictionaries_past_the_cap_are_refused() {
        let small = Limits {
            max_decoder_memory: 64 * 1024,
            ..Limits::default()
        };
        let err = read_xz(&xz(b"x"), &small).unwrap_err();
        let SourceError::Format(f) = err else {
            panic!("{err:?}")
        };
        assert_eq!(f.rule, Rule::DecoderMemoryLimit);
        assert!(f.detail.contains("limit 65536 bytes"), "{}", f.detail);
        assert_eq!(
            rule(read_lzma(&lzma(b"x"), &small)),
            Rule::DecoderMemoryLimit
        );
        // A 1 GiB dictionary in an .lzma header, refused under the default cap (256 MiB)
        // before anything is allocated.
        let mut huge = lzma(b"x");
        huge[1..5].copy_from_slice(&(1u32 << 30).to_le_bytes());
        let err = read_lzma(&huge, &Limits::default()).unwrap_err();
        let SourceError::Format(f) = err else {
            panic!("{err:?}")
        };
        assert_eq!(f.rule, Rule::DecoderMemoryLimit);
        assert!(f.detail.contains("limit 256 MiB"), "{}", f.detail);
    }

    #[test]
    fn zip_lzma_framing() {
        // A zip LZMA entry: version 2 bytes, properties length (5), properties, raw data.
        let data = text();
        let alone = lzma(&data);
        let mut entry = vec![9, 20, 5, 0];
        entry.extend(&alone[..5]);
        entry.extend(&alone[13..]); // the data ends with an end marker
        let entry_reader = |limits: &Limits| {
            let config = LzmaConfig {
                framing: LzmaFraming::Zip {
                    size: data.len() as u64,
                    end_marker: true,
                },
                cap: limits.max_decoder_memory,
            };
            Streams::<_, Lzma>::new(&entry[..], config, false)
        };
        let mut out = Vec::new();
        entry_reader(&Limits::default())
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        let small = Limits {
            max_decoder_memory: 1024,
            ..Limits::default()
        };
        let err = entry_reader(&small).read_to_end(&mut out).unwrap_err();
        assert!(matches!(
            SourceError::from_io(err, 0),
            SourceError::Format(f) if f.rule == Rule::DecoderMemoryLimit
        ));
    }
}
