//! # uncork-planner
//!
//! The pure core of uncork as a WebAssembly component, world `uncork:extract/planner`
//! (`wit/uncork.wit`). Archive bytes come from the imported `source` interface, every action
//! goes to the imported `sink`, and `plan` returns the report. It imports nothing from WASI: it
//! is built for `wasm32-unknown-unknown` and wrapped as a component by `scripts/build-wasm.sh`.
//!
//! Everything here is conversion between the WIT types and `uncork-core`'s; the decisions are
//! the core's, so the action stream is the same as the native core's for the same archive.

#![deny(unsafe_code)]

mod convert;

use std::io::{self, BufReader, Read, Seek, SeekFrom};
use uncork_core::action::{Action, Host, Outcome};

/// The generated bindings (the only unsafe code: the canonical ABI glue).
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "planner",
        // Imports take borrowed data: a file-data chunk goes to the sink without a copy.
        ownership: Borrowing { duplicate_if_necessary: true },
        pub_export_macro: true,
    });
}

use bindings::Guest;
use bindings::uncork::extract::{sink, source, types as wit};

/// How many bytes one `read-at` or `read` asks the source for.
const READ_CHUNK: usize = 256 * 1024;

struct Component;

impl Guest for Component {
    fn plan(options: wit::Options) -> Result<wit::Report, wit::Error> {
        let options = convert::options(&options);
        let mut host = Sink;
        let result = match source::size() {
            Some(size) => {
                let input = BufReader::with_capacity(READ_CHUNK, RandomAccess { pos: 0, size });
                uncork_core::extract(input, &options, &mut host)
            }
            None => {
                let input = BufReader::with_capacity(READ_CHUNK, Stream);
                uncork_core::extract_stream(input, &options, &mut host)
            }
        };
        result
            .map(|report| convert::report(&report))
            .map_err(|e| convert::error(&e))
    }
}

#[allow(unsafe_code)]
mod export {
    use super::Component;
    crate::bindings::export!(Component with_types_in crate::bindings);
}

/// The source as a file: `read-at`.
struct RandomAccess {
    pos: u64,
    size: u64,
}

impl Read for RandomAccess {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.size {
            return Ok(0);
        }
        let len = buf.len().min(READ_CHUNK) as u32;
        let data = source::read_at(self.pos, len).map_err(io::Error::other)?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RandomAccess {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

/// The source as a stream: `read`.
struct Stream;

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let len = buf.len().min(READ_CHUNK) as u32;
        let data = source::read(len).map_err(io::Error::other)?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }
}

/// The imported sink as the core's [`Host`].
struct Sink;

/// The sink refused an action; its message as it gave it.
#[derive(Debug)]
struct SinkError(String);

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SinkError {}

impl Host for Sink {
    type Error = SinkError;

    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, SinkError> {
        let outcome = convert::with_action(action, sink::apply).map_err(SinkError)?;
        Ok(convert::outcome(outcome))
    }
}
