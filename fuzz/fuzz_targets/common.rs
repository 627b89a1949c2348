//! Shared by the extraction targets: small limits (so a run never exhausts memory) and the
//! in-memory host, which checks the core's order contract on every action. Each input is
//! extracted twice: by the core alone, and by a host that takes every file's data
//! (`Host::take_data`, as the native host's zip workers do) and decodes it at once; the two
//! must give the same tree, report and error.

use std::io::Cursor;
use uncork_core::memhost::MemHost;
use uncork_core::testkit::{extract_taking, outcome_text};
use uncork_core::{Format, Limits, Options, Policy, Preset, RunError, extract};

pub fn run(bytes: &[u8], format: Option<Format>) {
    // One policy per input (speed): the input's length picks the preset, so both link scopes
    // (inside only, anywhere) are explored.
    let preset = if bytes.len() % 2 == 0 {
        Preset::Data
    } else {
        Preset::Trusted
    };
    let mut policy = Policy::preset(preset);
    policy.limits = Limits {
        max_total_bytes: 8 << 20,
        max_entry_bytes: 4 << 20,
        max_entries: 10_000,
        ratio_grace_bytes: 1 << 20,
        max_metadata_bytes: 64 << 10,
        ..Limits::default()
    };
    let options = Options {
        policy,
        format,
        ..Options::default()
    };
    let mut host = MemHost::default();
    let alone = extract(Cursor::new(bytes), &options, &mut host);
    match &alone {
        Ok(report) => assert!(report.bytes <= 8 << 20),
        // The reference host refusing an action means the core broke its own contract.
        Err(RunError::Host { source, .. }) => panic!("order contract violated: {source}"),
        Err(_) => {}
    }
    let (taken, taking, _) = extract_taking(bytes, &options);
    assert_eq!(
        outcome_text(&taken, &taking),
        outcome_text(&alone, &host),
        "taken data decoded differently"
    );
}
