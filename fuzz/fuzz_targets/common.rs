//! Shared by the extraction targets: small limits (so a run never exhausts memory) and the
//! in-memory host, which checks the core's order contract on every action. Each input is
//! extracted twice: by the core alone, and by a host that takes every file's data
//! (`Host::take_data`, as the native host's zip workers do) and decodes it at once; the two
//! must give the same tree, report and error.

use std::io::Cursor;
use uncork_core::memhost::{MemHost, Violation};
use uncork_core::{
    Action, DataJob, Format, Host, Limits, Options, Outcome, Policy, Preset, Report, RunError,
    extract,
};

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
    let expected = outcome(alone, &host);

    let mut taking = Taking {
        inner: MemHost::default(),
        archive: bytes,
        buf: DataJob::buffer(),
        failed: None,
    };
    let result = extract(Cursor::new(bytes), &options, &mut taking);
    let result = match taking.failed.take() {
        Some(job_error) => Err(job_error),
        None => result,
    };
    assert_eq!(
        outcome(result, &taking.inner),
        expected,
        "taken data decoded differently"
    );
}

/// Takes every file's data and decodes it at once into the inner host.
struct Taking<'a> {
    inner: MemHost,
    archive: &'a [u8],
    buf: Vec<u8>,
    /// The first job's error: the run's, ahead of anything the core reports later.
    failed: Option<RunError<Violation>>,
}

impl Host for Taking<'_> {
    type Error = Violation;

    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, Violation> {
        self.inner.apply(action)
    }

    fn take_data(&mut self, job: &DataJob) -> bool {
        if self.failed.is_none() {
            let inner = &mut self.inner;
            let result = job.run(Cursor::new(self.archive), &mut self.buf, |data| {
                inner.apply(&Action::FileData { data }).map(|_| ())
            });
            self.failed = result.err();
        }
        true
    }
}

fn outcome(result: Result<Report, RunError<Violation>>, host: &MemHost) -> String {
    match result {
        Ok(report) => format!("{report:?}\n{}", host.manifest()),
        Err(e) => format!("error: {e:?}"),
    }
}
