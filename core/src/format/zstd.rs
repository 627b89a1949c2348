//! zstd: one or more frames, skippable frames between them, decoded by `ruzstd`: pure Rust,
//! builds for wasm32-unknown-unknown without imports.
//!
//! A frame's window (what the decoder keeps in memory) is bounded by
//! [`Limits::max_decoder_memory`]: a frame header asking for more is refused
//! (`decoder-memory-limit`) before anything is allocated. Content checksums are verified.
//! Frames that need a dictionary are refused (`unsupported-compression`).

use crate::format::stream::{Codec, Fault, Streams, Tracked, over_memory, starts_with};
use crate::policy::Limits;
use crate::rule::Rule;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use std::io::{self, BufRead, BufReader, Read};

const FRAME_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
enum State {
    /// Before the frame header.
    Header,
    /// Skipping the rest of a skippable frame.
    Skip(u64),
    /// Decoding a frame's blocks.
    Blocks,
    /// The frame ended and verified.
    Ended,
}

/// One zstd frame (or skippable frame).
pub(crate) struct Zstd {
    decoder: FrameDecoder,
    state: State,
    cap: u64,
}

/// Whether an unexpected end of input caused `error`.
fn ends_early(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(error);
    while let Some(e) = cur {
        if e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::UnexpectedEof)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

impl Zstd {
    fn fault(&self, error: FrameDecoderError) -> Fault {
        match error {
            FrameDecoderError::WindowSizeTooBig { requested, .. } => {
                over_memory("zstd", "window", Some(requested), self.cap)
            }
            FrameDecoderError::DictNotProvided { dict_id } => Fault::format(
                Rule::UnsupportedCompression,
                format!(
                    "unsupported compression: the zstd frame needs dictionary {dict_id}, which uncork does not have"
                ),
            ),
            e if ends_early(&e) => Fault::format(Rule::Truncated, "the zstd stream ends early"),
            e => Fault::format(
                Rule::CorruptCompression,
                format!("the zstd stream is damaged: {e}"),
            ),
        }
    }
}

impl Codec for Zstd {
    /// The memory cap in bytes.
    type Config = u64;
    const NAME: &'static str = "zstd";
    fn starts_stream(head: &[u8]) -> bool {
        // Skippable frames: magic 0x184D2A50..=0x184D2A5F, little-endian.
        starts_with(head, &FRAME_MAGIC)
            || (head[0] & 0xf0 == 0x50 && starts_with(&head[1..], &[0x2a, 0x4d, 0x18]))
    }

    fn start(cap: &u64) -> Self {
        let mut decoder = FrameDecoder::new();
        decoder.set_max_window_size(*cap);
        Zstd {
            decoder,
            state: State::Header,
            cap: *cap,
        }
    }

    fn decode<B: BufRead>(
        &mut self,
        input: &mut Tracked<B>,
        out: &mut [u8],
    ) -> Result<usize, Fault> {
        loop {
            match self.state {
                State::Ended => return Ok(0),
                State::Header => match self.decoder.init(&mut *input) {
                    Ok(()) => self.state = State::Blocks,
                    Err(FrameDecoderError::ReadFrameHeaderError(
                        ReadFrameHeaderError::SkipFrame { length, .. },
                    )) => self.state = State::Skip(u64::from(length)),
                    Err(e) => return Err(self.fault(e)),
                },
                State::Skip(0) => {
                    self.state = State::Ended;
                    return Ok(0);
                }
                State::Skip(left) => {
                    let buf = input.fill_buf().map_err(Fault::Input)?;
                    if buf.is_empty() {
                        return Err(Fault::format(
                            Rule::Truncated,
                            "the zstd stream ends inside a skippable frame",
                        ));
                    }
                    let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    input.consume(n);
                    self.state = State::Skip(left - n as u64);
                }
                State::Blocks => {
                    while self.decoder.can_collect() == 0 && !self.decoder.is_finished() {
                        self.decoder
                            .decode_blocks(&mut *input, BlockDecodingStrategy::UptoBlocks(1))
                            .map_err(|e| self.fault(e))?;
                    }
                    let n = self.decoder.read(out).map_err(|e| {
                        Fault::format(
                            Rule::CorruptCompression,
                            format!("the zstd stream is damaged: {e}"),
                        )
                    })?;
                    if n > 0 {
                        return Ok(n);
                    }
                    if let (Some(stored), Some(computed)) = (
                        self.decoder.get_checksum_from_data(),
                        self.decoder.get_calculated_checksum(),
                    ) && stored != computed
                    {
                        let detail = format!(
                            "the zstd frame's content checksum is {stored:08x}, the data's {computed:08x}"
                        );
                        return Err(Fault::format(Rule::CorruptCompression, detail));
                    }
                    self.state = State::Ended;
                    return Ok(0);
                }
            }
        }
    }
}

/// Decompresses a sequence of zstd frames (skippable frames skipped) as one. After the last
/// frame only zero bytes may follow; anything else is `trailing-garbage`.
pub struct ZstdReader<R: Read>(Streams<BufReader<R>, Zstd>);

impl<R: Read> ZstdReader<R> {
    /// Decodes the zstd data `input`, within `limits.max_decoder_memory`.
    pub fn new(input: R, limits: &Limits) -> Self {
        ZstdReader(Streams::tar(input, limits.max_decoder_memory))
    }
}

reader_impls!(ZstdReader);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::SourceError;
    use crate::format::tar::CountedRead;
    use crate::format::test_support::{decode_all, rule};
    use ruzstd::encoding::{CompressionLevel, compress};

    fn zst(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        compress(data, &mut out, CompressionLevel::Fastest);
        out
    }

    /// A frame by hand: no checksum, no content size, `window` as the window descriptor, one
    /// raw (stored) last block holding `data`.
    fn raw_frame(window: u8, data: &[u8]) -> Vec<u8> {
        let mut frame = FRAME_MAGIC.to_vec();
        frame.push(0x00); // frame header descriptor: nothing optional
        frame.push(window);
        let header = 1 | (data.len() as u32) << 3; // last block, raw
        frame.extend(&header.to_le_bytes()[..3]);
        frame.extend(data);
        frame
    }

    fn read_all(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, SourceError> {
        decode_all(ZstdReader::new(bytes, limits))
    }

    fn text() -> Vec<u8> {
        b"some text that compresses ".repeat(5000)
    }

    #[test]
    fn round_trip_frames_skippable_frames_and_padding() {
        let limits = Limits::default();
        let mut bytes = zst(&text());
        bytes.extend([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, b'a', b'b', b'c']); // skippable
        bytes.extend(raw_frame(0, b"second frame"));
        bytes.extend([0u8; 100]);
        let mut reader = ZstdReader::new(&bytes[..], &limits);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), text().len() + 12);
        assert!(out.ends_with(b"second frame"));
        assert_eq!(reader.input_consumed(), bytes.len() as u64);
    }

    #[test]
    fn damage_is_typed() {
        let limits = Limits::default();
        let good = zst(&text());
        assert_eq!(
            rule(read_all(&good[..good.len() - 4], &limits)),
            Rule::Truncated
        );
        assert_eq!(rule(read_all(&good[..6], &limits)), Rule::Truncated);
        assert_eq!(rule(read_all(b"", &limits)), Rule::Truncated);
        let mut garbage = good.clone();
        garbage.extend(b"garbage");
        assert_eq!(rule(read_all(&garbage, &limits)), Rule::TrailingGarbage);
        let mut body = good.clone();
        let mid = body.len() / 2;
        body[mid] ^= 0x55;
        assert!(matches!(
            rule(read_all(&body, &limits)),
            Rule::CorruptCompression | Rule::Truncated
        ));
        let mut frame = raw_frame(0, b"abc");
        frame[4] = 0x04; // declare a content checksum ...
        frame.extend([1, 2, 3, 4]); // ... that is wrong
        assert_eq!(rule(read_all(&frame, &limits)), Rule::CorruptCompression);
        let mut dict = raw_frame(0, b"abc");
        dict[4] = 0x01; // a 1-byte dictionary id follows the window descriptor
        dict.insert(6, 7);
        assert_eq!(rule(read_all(&dict, &limits)), Rule::UnsupportedCompression);
    }

    #[test]
    fn windows_past_the_cap_are_refused() {
        // Window descriptor 0xa8: exponent 21, window 2^31 = 2 GiB.
        let huge = raw_frame(0xa8, b"tiny data, giant window");
        let err = read_all(&huge, &Limits::default()).unwrap_err();
        let SourceError::Format(f) = err else {
            panic!("{err:?}")
        };
        assert_eq!(f.rule, Rule::DecoderMemoryLimit);
        assert!(f.detail.contains("2048 MiB"), "{}", f.detail);
        assert!(f.detail.contains("limit 256 MiB"), "{}", f.detail);
        let roomy = Limits {
            max_decoder_memory: 4 << 30,
            ..Limits::default()
        };
        assert_eq!(read_all(&huge, &roomy).unwrap(), b"tiny data, giant window");
    }
}
