//! Shared by the extraction targets: small limits (so a run never exhausts memory) and the
//! in-memory host, which checks the core's order contract on every action.

use std::io::Cursor;
use uncork_core::memhost::MemHost;
use uncork_core::{Format, Limits, Options, Policy, Preset, RunError, extract};

pub fn run(bytes: &[u8], format: Option<Format>) {
    // One extraction per input (speed): the input's length picks the preset, so both link
    // scopes (inside only, anywhere) are explored.
    let preset = if bytes.len() % 2 == 0 { Preset::Data } else { Preset::Trusted };
    {
        let mut policy = Policy::preset(preset);
        policy.limits = Limits {
            max_total_bytes: 8 << 20,
            max_entry_bytes: 4 << 20,
            max_entries: 10_000,
            ratio_grace_bytes: 1 << 20,
            max_metadata_bytes: 64 << 10,
            ..Limits::default()
        };
        let options = Options { policy, format, ..Options::default() };
        let mut host = MemHost::default();
        match extract(Cursor::new(bytes), &options, &mut host) {
            Ok(report) => assert!(report.bytes <= 8 << 20),
            // The reference host refusing an action means the core broke its own contract.
            Err(RunError::Host { source, .. }) => panic!("order contract violated: {source}"),
            Err(_) => {}
        }
    }
}
