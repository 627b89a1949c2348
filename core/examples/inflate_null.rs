// Examples read files; the purity lints are for the library, not for its examples.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

//! Decompresses a gzip file into nothing: the floor under extracting a tar.gz on this machine
//! with the inflate the core uses (flate2 over zlib-rs, 256 KiB buffers), with no tar parsing,
//! no planning and no filesystem work. `bench/run.sh` prints it beside the extractors.
//!
//! `cargo run --release -p uncork-core --example inflate_null -- FILE.gz`

use flate2::bufread::MultiGzDecoder;
use std::io::{BufReader, Read};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: inflate_null FILE.gz")?;
    let file = BufReader::with_capacity(256 * 1024, std::fs::File::open(path)?);
    let mut decoder = MultiGzDecoder::new(file);
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        match decoder.read(&mut buf)? {
            0 => break,
            n => total += n as u64,
        }
    }
    println!("{total} bytes");
    Ok(())
}
