//! A host that takes every file's data (`Host::take_data`) and decodes it with its own handle
//! on the archive gets the same tree, the same report and the same error as the core decoding
//! it itself: on every zip of the peer suites, under the default limits and under limits tight
//! enough to stop many of them part-way (entry size and total; ratio).

// A test harness, not the core: it opens the peer files from disk.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::fs::File;
use std::path::{Path, PathBuf};
use uncork_core::memhost::{MemHost, Violation};
use uncork_core::{Action, DataJob, Host, Limits, Options, Outcome, Policy, RunError, extract};

fn peer_zips() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peer-suites");
    let mut out = Vec::new();
    let mut stack = vec![
        root.join("zip2/tests/data"),
        root.join("libarchive/decoded"),
    ];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("peer suites beside the workspace") {
            let path = entry.expect("dir entry").path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_lowercase();
            if path.is_dir() {
                stack.push(path);
            } else if name.contains("zip") || name.ends_with(".jar") {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(out.len() > 80, "found only {} peer zips", out.len());
    out
}

/// Takes every job and runs it at once, on the same thread, into the inner host: the action
/// stream it sees is then the core's own, and any difference is the job's.
struct Taking<'a> {
    inner: MemHost,
    archive: &'a Path,
    buf: Vec<u8>,
    taken: usize,
    /// The first job's error: the run's error, ahead of anything the core reports later.
    failed: Option<RunError<Violation>>,
}

impl Host for Taking<'_> {
    type Error = Violation;

    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, Violation> {
        self.inner.apply(action)
    }

    fn take_data(&mut self, job: &DataJob) -> bool {
        self.taken += 1;
        if self.failed.is_none() {
            let archive = File::open(self.archive).expect("archive opens again");
            let inner = &mut self.inner;
            let result = job.run(archive, &mut self.buf, |data| {
                inner.apply(&Action::FileData { data }).map(|_| ())
            });
            self.failed = result.err();
        }
        true
    }
}

/// What a run gave: the tree and the report, or the error's text.
fn outcome(result: Result<uncork_core::Report, RunError<Violation>>, host: &MemHost) -> String {
    match result {
        Ok(report) => format!("{report:?}\n{}", host.manifest()),
        Err(e) => format!("error: {e:?}"),
    }
}

fn compare(path: &Path, limits: &Limits) -> usize {
    let options = Options {
        policy: Policy {
            limits: limits.clone(),
            ..Policy::default()
        },
        ..Options::default()
    };
    let mut alone = MemHost::default();
    let file = File::open(path).expect("peer zip opens");
    let expected = outcome(extract(file, &options, &mut alone), &alone);

    let mut taking = Taking {
        inner: MemHost::default(),
        archive: path,
        buf: DataJob::buffer(),
        taken: 0,
        failed: None,
    };
    let file = File::open(path).expect("peer zip opens");
    let result = extract(file, &options, &mut taking);
    let result = match taking.failed.take() {
        Some(job_error) => Err(job_error),
        None => result,
    };
    let got = outcome(result, &taking.inner);
    assert_eq!(got, expected, "{}", path.display());
    taking.taken
}

#[test]
fn taken_data_gives_what_the_core_gives() {
    let sizes = Limits {
        max_entry_bytes: 3000,
        max_total_bytes: 20_000,
        ..Limits::default()
    };
    let ratio = Limits {
        max_ratio: 3,
        ratio_grace_bytes: 0,
        ..Limits::default()
    };
    let (mut taken, mut zips) = (0, 0);
    for path in peer_zips() {
        taken += compare(&path, &Limits::default());
        taken += compare(&path, &sizes);
        taken += compare(&path, &ratio);
        zips += 1;
    }
    // The comparison means something only if files were taken.
    assert!(taken > 200, "only {taken} jobs in {zips} zips");
}
