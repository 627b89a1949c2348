//! Pipelined extraction: the core (reading, decompressing, planning) runs on a thread of its
//! own while the host's filesystem work runs on the caller's thread, joined by a bounded
//! channel of action batches.
//!
//! Decompression and file creation take about the same time on an sdist-like archive, so
//! overlapping them is most of the way to the disk's own speed. The action stream is carried
//! out in exactly the order the core emitted it, so every order guarantee holds; only the host's
//! answers arrive later:
//!
//! - a degraded outcome is recorded into the report after the core finishes, in order;
//! - a host error stops the core at its next action (its [`Location`] was sent along, so the
//!   error still names the entry);
//! - memory stays bounded: at most [`IN_FLIGHT`] batches of about [`BATCH_BYTES`] each, and
//!   data buffers are recycled rather than allocated per chunk.

// These functions return what `uncork_core::extract` returns, for a drop-in replacement.
#![allow(clippy::result_large_err)]

use crate::error::HostError;
use crate::host::NativeHost;
use std::io::{Read, Seek};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use uncork_core::action::{Action, Degradation, Host, LinkKind, Outcome};
use uncork_core::{Location, Options, Report, Rule, RunError};

/// Batches queued between the threads.
const IN_FLIGHT: usize = 4;
/// File data in one batch before it is sent.
const BATCH_BYTES: usize = 256 * 1024;
/// Actions in one batch before it is sent.
const BATCH_ACTIONS: usize = 512;

/// An action the core emitted, owned so it can cross to the host's thread.
#[derive(Debug)]
enum Owned {
    MakeDir {
        path: String,
        replace: bool,
    },
    BeginFile {
        path: String,
        size: u64,
        mode: u32,
        mtime: Option<i64>,
        replace: bool,
    },
    FileData(Vec<u8>),
    EndFile,
    HardLink {
        path: String,
        target: String,
        replace: bool,
    },
    Symlink {
        path: String,
        target: String,
        resolved: Option<String>,
        kind: LinkKind,
        replace: bool,
    },
    SetMode {
        path: String,
        mode: u32,
    },
    SetMtime {
        path: String,
        mtime: i64,
    },
    Skip {
        path: String,
        rule: Rule,
    },
}

impl Owned {
    fn new(action: &Action<'_>, buffer: impl FnOnce() -> Vec<u8>) -> Owned {
        let s = str::to_owned;
        match *action {
            Action::MakeDir { path, replace } => Owned::MakeDir {
                path: s(path),
                replace,
            },
            Action::BeginFile {
                path,
                size,
                mode,
                mtime,
                replace,
            } => Owned::BeginFile {
                path: s(path),
                size,
                mode,
                mtime,
                replace,
            },
            Action::FileData { data } => {
                let mut buf = buffer();
                buf.clear();
                buf.extend_from_slice(data);
                Owned::FileData(buf)
            }
            Action::EndFile => Owned::EndFile,
            Action::HardLink {
                path,
                target,
                replace,
            } => Owned::HardLink {
                path: s(path),
                target: s(target),
                replace,
            },
            Action::Symlink {
                path,
                target,
                resolved,
                kind,
                replace,
            } => Owned::Symlink {
                path: s(path),
                target: s(target),
                resolved: resolved.map(s),
                kind,
                replace,
            },
            Action::SetMode { path, mode } => Owned::SetMode {
                path: s(path),
                mode,
            },
            Action::SetMtime { path, mtime } => Owned::SetMtime {
                path: s(path),
                mtime,
            },
            Action::Skip { path, rule } => Owned::Skip {
                path: s(path),
                rule,
            },
        }
    }

    fn view(&self) -> Action<'_> {
        match self {
            Owned::MakeDir { path, replace } => Action::MakeDir {
                path,
                replace: *replace,
            },
            Owned::BeginFile {
                path,
                size,
                mode,
                mtime,
                replace,
            } => Action::BeginFile {
                path,
                size: *size,
                mode: *mode,
                mtime: *mtime,
                replace: *replace,
            },
            Owned::FileData(data) => Action::FileData { data },
            Owned::EndFile => Action::EndFile,
            Owned::HardLink {
                path,
                target,
                replace,
            } => Action::HardLink {
                path,
                target,
                replace: *replace,
            },
            Owned::Symlink {
                path,
                target,
                resolved,
                kind,
                replace,
            } => Action::Symlink {
                path,
                target,
                resolved: resolved.as_deref(),
                kind: *kind,
                replace: *replace,
            },
            Owned::SetMode { path, mode } => Action::SetMode { path, mode: *mode },
            Owned::SetMtime { path, mtime } => Action::SetMtime {
                path,
                mtime: *mtime,
            },
            Owned::Skip { path, rule } => Action::Skip { path, rule: *rule },
        }
    }
}

/// One action and where it came from (`None` for file data: the file's own begin says).
#[derive(Debug)]
struct Message {
    action: Owned,
    here: Option<Location>,
}

/// The host the core sees on its thread: it queues each action and answers at once.
struct Forward {
    batches: SyncSender<Vec<Message>>,
    /// Data buffers coming back from the host's thread.
    spare: Receiver<Vec<u8>>,
    batch: Vec<Message>,
    batch_bytes: usize,
    /// Set by the host's thread when an action failed: the core stops at its next action.
    stopped: Arc<AtomicBool>,
}

/// The host's thread failed (its error is reported instead of this one).
#[derive(Debug, thiserror::Error)]
#[error("the extraction stopped on the host's thread")]
struct Stopped;

impl Forward {
    fn send(&mut self) -> Result<(), Stopped> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(64));
        self.batch_bytes = 0;
        self.batches.send(batch).map_err(|_| Stopped)
    }
}

impl Host for Forward {
    type Error = Stopped;

    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, Stopped> {
        self.apply_at(action, &Location::default())
    }

    fn apply_at(&mut self, action: &Action<'_>, here: &Location) -> Result<Outcome, Stopped> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err(Stopped);
        }
        let spare = &self.spare;
        let owned = Owned::new(action, || {
            spare
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(BATCH_BYTES))
        });
        if let Owned::FileData(data) = &owned {
            self.batch_bytes += data.len();
        }
        let here = (!matches!(owned, Owned::FileData(_))).then(|| here.clone());
        self.batch.push(Message {
            action: owned,
            here,
        });
        if self.batch_bytes >= BATCH_BYTES || self.batch.len() >= BATCH_ACTIONS {
            self.send()?;
        }
        Ok(Outcome::Done)
    }
}

/// The core's error with the forwarding host's error type, as the host's.
fn convert(error: RunError<Stopped>) -> RunError<HostError> {
    match error {
        RunError::Format(e) => RunError::Format(e),
        RunError::Refused(e) => RunError::Refused(e),
        RunError::Input(e) => RunError::Input(e),
        // Only when the host's thread stopped, and then its own error is returned instead.
        RunError::Host {
            action, location, ..
        } => RunError::Host {
            action,
            location,
            source: HostError::Protocol("the host stopped without an error"),
        },
    }
}

/// Extracts a seekable input with the core on its own thread (see the module docs).
pub fn extract<R: Read + Seek + Send>(
    input: R,
    options: &Options<'_>,
    host: &mut NativeHost<'_>,
) -> Result<Report, RunError<HostError>> {
    pipelined(host, |forward| {
        uncork_core::extract(input, options, forward)
    })
}

/// Extracts a stream (standard input) with the core on its own thread.
pub fn extract_stream<R: Read + Send>(
    input: R,
    options: &Options<'_>,
    host: &mut NativeHost<'_>,
) -> Result<Report, RunError<HostError>> {
    pipelined(host, |forward| {
        uncork_core::extract_stream(input, options, forward)
    })
}

fn pipelined<P>(host: &mut NativeHost<'_>, produce: P) -> Result<Report, RunError<HostError>>
where
    P: FnOnce(&mut Forward) -> Result<Report, RunError<Stopped>> + Send,
{
    let (batches_tx, batches) = sync_channel::<Vec<Message>>(IN_FLIGHT);
    let (spare_tx, spare): (Sender<Vec<u8>>, Receiver<Vec<u8>>) = channel();
    let stopped = Arc::new(AtomicBool::new(false));
    let mut forward = Forward {
        batches: batches_tx,
        spare,
        batch: Vec::with_capacity(64),
        batch_bytes: 0,
        stopped: Arc::clone(&stopped),
    };
    std::thread::scope(|scope| {
        let core = scope.spawn(move || {
            let result = produce(&mut forward);
            // What is still batched goes too (unless the host already stopped).
            let _ = forward.send();
            result
        });
        let mut failure: Option<RunError<HostError>> = None;
        let mut degraded: Vec<(String, Degradation)> = Vec::new();
        let mut entry = Location::default();
        for batch in batches.iter() {
            for message in batch {
                if let Some(here) = message.here {
                    entry = here;
                }
                if failure.is_none() {
                    let action = message.action.view();
                    match host.apply(&action) {
                        Ok(Outcome::Done) => {}
                        Ok(Outcome::Degraded(d)) => {
                            let path = action.path().or(entry.path.as_deref()).unwrap_or("");
                            degraded.push((path.to_owned(), d));
                        }
                        Err(source) => {
                            stopped.store(true, Ordering::Relaxed);
                            let mut location = entry.clone();
                            if let Some(path) = action.path() {
                                location.path = Some(path.to_owned());
                            }
                            failure = Some(RunError::Host {
                                action: action.name(),
                                location,
                                source,
                            });
                        }
                    }
                }
                if let Owned::FileData(buf) = message.action {
                    let _ = spare_tx.send(buf);
                }
            }
        }
        let produced = match core.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        match (failure, produced) {
            (Some(error), _) => Err(error),
            (None, Ok(mut report)) => {
                for (path, d) in degraded {
                    report.record(&path, d);
                }
                Ok(report)
            }
            (None, Err(error)) => Err(convert(error)),
        }
    })
}
