//! Input that never ends: after the end of the archive (a tar's end blocks, the last compressed
//! stream) uncork reads a bounded amount of zero padding and stops; input that is not an
//! archive at all is refused at once. The input here serves zeros after a prefix and fails
//! once it has served far more than any bound (so a reader that does not stop fails the test
//! instead of spinning for ever): nothing here is timed.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;
use uncork_core::memhost::MemHost;
use uncork_core::{Format, Options, extract_stream, testkit};

/// `uncork_core::format::MAX_TRAILING_PADDING`, written out so that this file also builds
/// against the core before the bound existed (where these tests fail).
const MAX_TRAILING_PADDING: u64 = 1 << 20;
/// Zeros served after the prefix before the input gives up (a stand-in for "for ever").
const CAP: u64 = 256 << 20;
/// Read-ahead the readers may take past the padding limit (a decoder's input buffer, a
/// `BufReader` of decoded bytes).
const SLACK: u64 = 1 << 20;

/// `prefix`, then zeros up to [`CAP`], then an error. Counts the zeros served.
struct Endless {
    prefix: io::Cursor<Vec<u8>>,
    zeros: Rc<Cell<u64>>,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.prefix.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        let served = self.zeros.get();
        if served >= CAP {
            return Err(io::Error::other(
                "read 256 MiB of zeros: the reader never stops",
            ));
        }
        let n = buf.len().min((CAP - served) as usize);
        buf[..n].fill(0);
        self.zeros.set(served + n as u64);
        Ok(n)
    }
}

/// Extracts `prefix` followed by endless zeros; returns the outcome (the rule's name, or the
/// number of files) and the zeros read.
fn run(prefix: Vec<u8>, format: Option<Format>) -> (Result<u64, String>, u64) {
    let zeros = Rc::new(Cell::new(0));
    let input = Endless {
        prefix: io::Cursor::new(prefix),
        zeros: zeros.clone(),
    };
    let options = Options {
        format,
        ..Options::default()
    };
    let mut host = MemHost::default();
    let result = extract_stream(input, &options, &mut host)
        .map(|report| report.files)
        .map_err(|e| match e.rule() {
            Some(rule) => rule.name().to_owned(),
            None => e.to_string(),
        });
    (result, zeros.get())
}

#[test]
fn the_padding_bound_is_the_documented_one() {
    assert_eq!(
        uncork_core::format::MAX_TRAILING_PADDING,
        MAX_TRAILING_PADDING
    );
}

fn archive() -> Vec<u8> {
    testkit::tar(&[
        ("dir/", b'5', "", b"", 0o755),
        ("dir/a.txt", b'0', "", b"hello\n", 0o644),
    ])
}

#[test]
fn a_tar_gz_followed_by_endless_zeros_extracts_and_stops() {
    for format in [None, Some(Format::TarGz)] {
        let (result, zeros) = run(testkit::gzip(&archive()), format);
        assert_eq!(result, Ok(1), "{format:?}");
        assert!(
            zeros <= MAX_TRAILING_PADDING + SLACK,
            "{zeros} bytes of zeros read"
        );
    }
}

#[test]
fn dev_zero_as_tar_gz_is_refused_at_once() {
    let (result, zeros) = run(Vec::new(), Some(Format::TarGz));
    assert_eq!(result, Err("not-an-archive".to_owned()));
    assert!(zeros <= SLACK, "{zeros} bytes of zeros read");
}

#[test]
fn a_plain_tar_followed_by_endless_zeros_extracts_and_stops() {
    let (result, zeros) = run(archive(), None);
    assert_eq!(result, Ok(1));
    assert!(zeros <= MAX_TRAILING_PADDING + SLACK, "{zeros} bytes read");
    // Zeros alone are an empty tar (two zero blocks end it), as GNU tar reads /dev/zero.
    let (result, zeros) = run(Vec::new(), Some(Format::Tar));
    assert_eq!(result, Ok(0));
    assert!(zeros <= MAX_TRAILING_PADDING + SLACK, "{zeros} bytes read");
}

#[test]
fn a_tar_xz_followed_by_endless_zeros_extracts_and_stops() {
    use lzma_rust2::{XzOptions, XzWriter};
    use std::io::Write;
    let mut writer = XzWriter::new(Vec::new(), XzOptions::with_preset(1)).expect("xz writer");
    writer.write_all(&archive()).expect("xz compresses");
    let xz = writer.finish().expect("xz finishes");
    let (result, zeros) = run(xz, None);
    assert_eq!(result, Ok(1));
    assert!(
        zeros <= MAX_TRAILING_PADDING + SLACK,
        "{zeros} bytes of zeros read"
    );
}
