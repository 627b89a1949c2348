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
//! - memory stays bounded: at most `BATCHES` batches of at most `BATCH_BYTES` of file data
//!   each. A batch carries its file data in one buffer, allocated once, and batches go back to
//!   the core's thread to be refilled, so file data costs no allocation (and no fresh page
//!   faults) per chunk.
//!
//! [`extract_file`] adds worker threads for zip archives: the core hands them the data of
//! files of `TAKE_FROM` bytes and more, and each worker inflates and writes such a file by
//! itself (`crate::workers`). The host's thread still creates every file, in order; it waits
//! for the workers before anything that may read what they write (links, a replaced entry,
//! directory modes and times), and a worker's error is the run's error.

// These functions return what `uncork_core::extract` returns, for a drop-in replacement.
#![allow(clippy::result_large_err)]

use crate::error::HostError;
use crate::host::NativeHost;
use crate::positioned::PositionedFile;
use crate::workers;
use std::io::{Read, Seek};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, channel, sync_channel};
use std::time::Duration;
use uncork_core::action::{Action, Degradation, Host, LinkKind, Outcome};
use uncork_core::{DataJob, Location, Options, Report, Rule, RunError};

/// Batches queued between the threads.
const IN_FLIGHT: usize = 4;
/// Batches made at most: `IN_FLIGHT` queued, one on the host's thread, one being filled. When
/// all are out, the core waits for the host to give one back.
const BATCHES: usize = IN_FLIGHT + 2;
/// File data one batch carries at most: a chunk that does not fit is split across batches, so
/// a batch's buffer is allocated once at this size and never grows.
const BATCH_BYTES: usize = 256 * 1024;
/// How often the host's thread looks at the cancel token while it waits for the core.
const CANCEL_POLL: Duration = Duration::from_millis(50);
/// Actions in one batch before it is sent.
const BATCH_ACTIONS: usize = 512;
/// Files from this size up are decoded by the workers when the core offers them (zip). Below
/// it, handing a file over costs more than inflating it here: on a sdist-like zip (7,600 files,
/// 90% under 16 KiB) taking every file made the run 1.3x slower, taking those from 64 KiB up
/// made it slightly faster.
const TAKE_FROM: u64 = 64 * 1024;

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
    /// The chunk's bytes in the batch's data buffer.
    FileData(Range<usize>),
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
    /// The data of the file just begun, taken to be decoded by a worker (see `crate::workers`).
    Take(Box<DataJob>),
}

impl Owned {
    /// `data` is the batch's data buffer: a chunk of file data is appended to it.
    fn new(action: &Action<'_>, data: &mut Vec<u8>) -> Owned {
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
            Action::FileData { data: chunk } => {
                let start = data.len();
                data.extend_from_slice(chunk);
                Owned::FileData(start..data.len())
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

    /// The action again, its file data read from the batch's `data`.
    fn view<'a>(&'a self, data: &'a [u8]) -> Action<'a> {
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
            Owned::FileData(range) => Action::FileData {
                data: &data[range.clone()],
            },
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
            // Never viewed: the host thread hands it to the workers.
            Owned::Take(_) => Action::EndFile,
        }
    }
}

/// One action and where it came from (`None` when it is where the previous action was: the
/// entry's location is sent once, with its first action).
#[derive(Debug)]
struct Message {
    action: Owned,
    here: Option<Arc<Location>>,
}

/// Actions in archive order, and the file data they carry.
#[derive(Debug)]
struct Batch {
    messages: Vec<Message>,
    data: Vec<u8>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            // One more than a full batch: a taken file's message is pushed without a check.
            messages: Vec::with_capacity(BATCH_ACTIONS + 1),
            data: Vec::with_capacity(BATCH_BYTES),
        }
    }
}

/// The host the core sees on its thread: it queues each action and answers at once.
struct Forward {
    batches: SyncSender<Batch>,
    /// Emptied batches coming back from the host's thread, to be filled again.
    spare: Receiver<Batch>,
    /// Batches made so far (at most `BATCHES`).
    made: usize,
    batch: Batch,
    /// The location last sent.
    sent: Option<Arc<Location>>,
    /// Set by the host's thread when an action failed: the core stops at its next action.
    stopped: Arc<AtomicBool>,
    /// Whether workers decode taken files (the archive is a file they can read).
    taking: bool,
}

/// The host's thread failed (its error is reported instead of this one).
#[derive(Debug, thiserror::Error)]
#[error("the extraction stopped on the host's thread")]
struct Stopped;

impl Forward {
    fn send(&mut self) -> Result<(), Stopped> {
        if self.batch.messages.is_empty() {
            return Ok(());
        }
        let next = match self.spare.try_recv() {
            Ok(batch) => batch,
            Err(_) if self.made < BATCHES => {
                self.made += 1;
                Batch::new()
            }
            // The host's thread gives every batch back, even after a failure, until the core
            // is done; the channel closes only if that thread panicked.
            Err(_) => self.spare.recv().map_err(|_| Stopped)?,
        };
        let batch = std::mem::replace(&mut self.batch, next);
        self.batches.send(batch).map_err(|_| Stopped)
    }

    /// Queues one action (a chunk of file data must fit the batch's buffer).
    fn push(&mut self, action: &Action<'_>, here: &Location) -> Result<(), Stopped> {
        let owned = Owned::new(action, &mut self.batch.data);
        // Sent again when it changed (one copy, shared by the message and `sent`): the core
        // gives all of an entry's actions one location.
        let here = (self.sent.as_deref() != Some(here)).then(|| {
            let here = Arc::new(here.clone());
            self.sent = Some(Arc::clone(&here));
            here
        });
        self.batch.messages.push(Message {
            action: owned,
            here,
        });
        if self.batch.data.len() >= BATCH_BYTES || self.batch.messages.len() >= BATCH_ACTIONS {
            self.send()?;
        }
        Ok(())
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
        if let Action::FileData { data } = *action {
            let mut rest = data;
            while !rest.is_empty() {
                let room = BATCH_BYTES - self.batch.data.len();
                let (piece, after) = rest.split_at(room.min(rest.len()));
                self.push(&Action::FileData { data: piece }, here)?;
                rest = after;
            }
        } else {
            self.push(action, here)?;
        }
        Ok(Outcome::Done)
    }

    fn take_data(&mut self, job: &DataJob) -> bool {
        // After a failure the core is about to stop: nothing more is handed over.
        if !self.taking || job.size() < TAKE_FROM || self.stopped.load(Ordering::Relaxed) {
            return false;
        }
        self.batch.messages.push(Message {
            action: Owned::Take(Box::new(job.clone())),
            here: None,
        });
        true
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
    pipelined(host, None, |forward| {
        uncork_core::extract(input, options, forward)
    })
}

/// Extracts the archive file `archive` as [`extract`] does, while worker threads decode the
/// entries of a zip side by side. Everyone reads the archive through a clone of `archive`, by
/// position, each with a cursor of its own (a positioned read moves the handle's cursor on
/// Windows); a [`PositionedFile::counted`] archive counts what all of them read (the CLI's
/// progress).
pub fn extract_file(
    archive: PositionedFile,
    options: &Options<'_>,
    host: &mut NativeHost<'_>,
) -> Result<Report, RunError<HostError>> {
    let input = archive.clone();
    pipelined(host, Some(archive), |forward| {
        uncork_core::extract(input, options, forward)
    })
}

/// Extracts a stream (standard input) with the core on its own thread.
pub fn extract_stream<R: Read + Send>(
    input: R,
    options: &Options<'_>,
    host: &mut NativeHost<'_>,
) -> Result<Report, RunError<HostError>> {
    pipelined(host, None, |forward| {
        uncork_core::extract_stream(input, options, forward)
    })
}

fn pipelined<P>(
    host: &mut NativeHost<'_>,
    archive: Option<PositionedFile>,
    produce: P,
) -> Result<Report, RunError<HostError>>
where
    P: FnOnce(&mut Forward) -> Result<Report, RunError<Stopped>> + Send,
{
    let stopped = Arc::new(AtomicBool::new(false));
    std::thread::scope(|scope| {
        // Made in here, so that if the host's thread panics, unwinding drops them before the
        // scope waits for the core: the core then stops instead of waiting for ever.
        let (batches_tx, batches) = sync_channel::<Batch>(IN_FLIGHT);
        let (spare_tx, spare): (Sender<Batch>, Receiver<Batch>) = channel();
        let mut forward = Forward {
            batches: batches_tx,
            spare,
            made: 1,
            batch: Batch::new(),
            sent: None,
            stopped: Arc::clone(&stopped),
            taking: archive.is_some(),
        };
        let mut workers = archive
            .map(|archive| workers::pool(scope, archive, workers::count(), Arc::clone(&stopped)));
        let core = scope.spawn(move || {
            let result = produce(&mut forward);
            // What is still batched goes too (unless the host already stopped).
            let _ = forward.send();
            result
        });
        let mut failure: Option<RunError<HostError>> = None;
        // With their position in the action stream: workers finish files out of order.
        let mut degraded: Vec<(u64, String, Degradation)> = Vec::new();
        let mut entry = Arc::new(Location::default());
        let mut seq = 0u64;
        loop {
            let mut batch = match batches.recv_timeout(CANCEL_POLL) {
                Ok(batch) => batch,
                Err(RecvTimeoutError::Timeout) => {
                    // The core is busy (or blocked reading): a cancelled run stops it from here.
                    if failure.is_none()
                        && let Some(why) = host.cancelled()
                    {
                        stopped.store(true, Ordering::Relaxed);
                        failure = Some(RunError::Host {
                            action: "cancel",
                            location: Location::clone(&entry),
                            source: HostError::Cancelled { why },
                        });
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            for message in batch.messages.drain(..) {
                if let Some(here) = message.here {
                    entry = here;
                }
                if failure.is_some() || workers.as_ref().is_some_and(|w| w.failed()) {
                    continue;
                }
                seq += 1;
                let action = match message.action {
                    Owned::Take(job) => {
                        // The file was just begun: a worker writes its data and finishes it.
                        match (host.detach_file(), workers.as_mut()) {
                            (Ok(file), Some(workers)) => workers.submit(seq, job, file),
                            (Err(source), _) => {
                                stopped.store(true, Ordering::Relaxed);
                                failure = Some(RunError::Host {
                                    action: "write-file",
                                    location: Location::clone(&entry),
                                    source,
                                });
                            }
                            (Ok(_), None) => {
                                stopped.store(true, Ordering::Relaxed);
                                failure = Some(RunError::Host {
                                    action: "write-file",
                                    location: Location::clone(&entry),
                                    source: HostError::Protocol("file data taken with no workers"),
                                });
                            }
                        }
                        continue;
                    }
                    action => action,
                };
                let action = action.view(&batch.data);
                if let Some(workers) = workers.as_mut()
                    && !beside_workers(&action)
                {
                    workers.wait();
                    if workers.failed() {
                        continue;
                    }
                }
                match host.apply(&action) {
                    Ok(Outcome::Done) => {}
                    Ok(Outcome::Degraded(d)) => {
                        let path = action.path().or(entry.path.as_deref()).unwrap_or("");
                        degraded.push((seq, path.to_owned(), d));
                    }
                    Err(source) => {
                        stopped.store(true, Ordering::Relaxed);
                        let mut location = Location::clone(&entry);
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
            if let Some(workers) = workers.as_mut() {
                workers.take_finished();
            }
            batch.data.clear();
            let _ = spare_tx.send(batch);
        }
        let produced = match core.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if let Some(workers) = workers.as_mut() {
            workers.close();
            degraded.append(&mut workers.degraded);
            if let Some(error) = workers.failure() {
                return Err(error);
            }
        }
        match (failure, produced) {
            (Some(error), _) => Err(error),
            (None, Ok(mut report)) => {
                degraded.sort_by_key(|(seq, ..)| *seq);
                for (_, path, d) in degraded {
                    report.record(&path, d);
                }
                Ok(report)
            }
            (None, Err(error)) => Err(convert(error)),
        }
    })
}

/// Whether `action` may run while workers still write files: it creates something new and
/// reads nothing they write. Links (a copy fallback reads its target), replacing an earlier
/// entry (perhaps a file still being written) and directory modes and times wait for them.
fn beside_workers(action: &Action<'_>) -> bool {
    matches!(
        action,
        Action::MakeDir { replace: false, .. }
            | Action::BeginFile { replace: false, .. }
            | Action::FileData { .. }
            | Action::EndFile
            | Action::Skip { .. }
    )
}
