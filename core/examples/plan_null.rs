// Examples read files; the purity lints are for the library, not for its examples.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

//! Plans an archive into a host that discards everything: the core's own cost (reading,
//! decompressing, planning), with no filesystem work. Used to compare with `gzip -dc`.
//!
//! `cargo run --release -p uncork-core --example plan_null -- ARCHIVE`

use std::convert::Infallible;
use uncork_core::{Action, Host, Options, Outcome, extract};

struct Null(u64);

impl Host for Null {
    type Error = Infallible;
    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, Infallible> {
        if let Action::FileData { data } = action {
            self.0 += data.len() as u64;
        }
        Ok(Outcome::Done)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: plan_null ARCHIVE")?;
    let file = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(path)?);
    let mut host = Null(0);
    let report = extract(file, &Options::default(), &mut host)?;
    println!("{} entries, {} bytes of file data", report.entries, host.0);
    Ok(())
}
