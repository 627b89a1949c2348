//! Worker threads that decode zip entries the core handed over (`Host::take_data`), each into
//! the file the host thread already created for it.
//!
//! A zip's entries are compressed one by one, so they can be inflated side by side: on the
//! 130 MB paddlepaddle wheel the core alone spends ~90% of its time inflating. Each worker has
//! a buffer of its own and reads the archive by position ([`PositionedFile`]), as the core's
//! reader must too: they share one handle, and none of them moves its cursor. Jobs queue in a
//! bounded channel: the host thread (and through it the core) waits when the workers are
//! behind, which bounds open files and memory.
//!
//! Results come back with the position of their file in the action stream, so degradations are
//! reported in the order a single thread would have reported them. A job's error stops the
//! run: see [`Workers::wait`] and [`uncork_core::offload`] for why it outranks later errors.

use crate::error::HostError;
use crate::host::{WRITE_BUFFER, Writing};
use crate::positioned::PositionedFile;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::Scope;
use uncork_core::{DataJob, Degradation, Outcome, RunError};

/// Jobs waiting per worker, beyond the one it is running.
const QUEUED_PER_WORKER: usize = 2;

/// The workers to start: one per core (the core's and host's threads mostly wait on them).
pub(crate) fn count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8))
}

/// One file's data to decode and write.
struct Task {
    /// Position in the action stream (orders the degradations).
    seq: u64,
    job: Box<DataJob>,
    file: Writing,
}

/// What came of a task.
enum Finished {
    Done {
        seq: u64,
        path: String,
        outcome: Outcome,
    },
    /// With its position in the action stream (the archive's order).
    Failed(u64, Box<RunError<HostError>>),
    /// Not run: the run had already failed.
    Dropped,
}

/// The host thread's side of the pool. The threads start with the first file, so an archive
/// that never hands one over (a tar, a zip of small files) runs without them.
pub(crate) struct Workers<'scope, 'env> {
    scope: &'scope Scope<'scope, 'env>,
    shared: Arc<Shared>,
    threads: usize,
    started: bool,
    tasks: Option<SyncSender<Task>>,
    finished: Receiver<Finished>,
    /// Tasks sent and not yet answered.
    pending: usize,
    /// Degradations from finished files, with their position in the action stream.
    pub(crate) degraded: Vec<(u64, String, Degradation)>,
    /// The earliest failure in archive order, with its position (see [`Workers::failure`]).
    failure: Option<(u64, RunError<HostError>)>,
    stop: Arc<AtomicBool>,
}

/// What each worker thread needs.
struct Shared {
    tasks: Mutex<Receiver<Task>>,
    finished: Sender<Finished>,
    /// Cloned for each job (the job seeks to its data).
    archive: PositionedFile,
    /// The position of the earliest file that failed (`u64::MAX`: none): the files after it
    /// in the archive are dropped, those before it still run (one may fail earlier).
    failed_at: AtomicU64,
    /// Stops the core (at its next action) and the host thread.
    stop: Arc<AtomicBool>,
}

/// A pool of `threads` threads in `scope`, reading `archive` by position (each with a
/// cursor of its own); a failed file sets `stop`.
pub(crate) fn pool<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    archive: PositionedFile,
    threads: usize,
    stop: Arc<AtomicBool>,
) -> Workers<'scope, 'env> {
    let (tasks_tx, tasks) = sync_channel(threads * QUEUED_PER_WORKER);
    let (finished_tx, finished) = channel();
    let shared = Arc::new(Shared {
        tasks: Mutex::new(tasks),
        finished: finished_tx,
        archive,
        failed_at: AtomicU64::new(u64::MAX),
        stop: Arc::clone(&stop),
    });
    Workers {
        scope,
        shared,
        threads,
        started: false,
        tasks: Some(tasks_tx),
        finished,
        pending: 0,
        degraded: Vec::new(),
        failure: None,
        stop,
    }
}

impl Shared {
    /// A worker thread's loop: until the host thread closes the queue.
    fn work(&self) {
        let mut buf = DataJob::buffer();
        let mut out = Vec::with_capacity(WRITE_BUFFER);
        loop {
            let task = match self.tasks.lock() {
                Ok(tasks) => tasks.recv(),
                Err(_) => return,
            };
            let Ok(Task { seq, job, file }) = task else {
                return;
            };
            // Not `stop`: after the host thread fails at some entry, the files queued before it
            // must still be checked, as one of them may hold the earlier error.
            let finished = if seq > self.failed_at.load(Ordering::SeqCst) {
                Finished::Dropped
            } else {
                // A panic becomes the run's error: the host thread waits for every answer.
                let location = job.location().clone();
                let run = AssertUnwindSafe(|| self.run(seq, &job, file, &mut buf, &mut out));
                let finished = std::panic::catch_unwind(run).unwrap_or_else(|_| {
                    let error = RunError::Host {
                        action: "write-file",
                        location,
                        source: HostError::Protocol("a worker thread panicked"),
                    };
                    Finished::Failed(seq, Box::new(error))
                });
                if matches!(finished, Finished::Failed(..)) {
                    self.failed_at.fetch_min(seq, Ordering::SeqCst);
                    self.stop.store(true, Ordering::Relaxed);
                }
                finished
            };
            if self.finished.send(finished).is_err() {
                return;
            }
        }
    }

    /// Decodes one file into `file` and finishes it.
    fn run(
        &self,
        seq: u64,
        job: &DataJob,
        mut file: Writing,
        buf: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Finished {
        out.clear();
        let path = file.path().to_owned();
        let wrote = job.run(self.archive.clone(), buf, |piece| file.write(out, piece));
        let finished = match wrote {
            Ok(()) => file.finish(out).map_err(|source| RunError::Host {
                action: "write-file",
                location: job.location().clone(),
                source,
            }),
            Err(e) => Err(e),
        };
        match finished {
            Ok(outcome) => Finished::Done { seq, path, outcome },
            Err(e) => Finished::Failed(seq, Box::new(e)),
        }
    }
}

impl Workers<'_, '_> {
    /// Queues a file: waits while the queue is full (taking in what finished meanwhile).
    pub(crate) fn submit(&mut self, seq: u64, job: Box<DataJob>, file: Writing) {
        if !self.started {
            self.started = true;
            for _ in 0..self.threads {
                let shared = Arc::clone(&self.shared);
                self.scope.spawn(move || shared.work());
            }
        }
        self.take_finished();
        let Some(tasks) = &self.tasks else { return };
        if tasks.send(Task { seq, job, file }).is_ok() {
            self.pending += 1;
        }
    }

    /// Takes in what finished, without waiting.
    pub(crate) fn take_finished(&mut self) {
        while let Ok(finished) = self.finished.try_recv() {
            self.record(finished);
        }
    }

    /// Waits for every queued file to be finished.
    pub(crate) fn wait(&mut self) {
        while self.pending > 0 {
            match self.finished.recv() {
                Ok(finished) => self.record(finished),
                Err(_) => break,
            }
        }
    }

    /// Waits for every file, then lets the threads end.
    pub(crate) fn close(&mut self) {
        self.wait();
        self.tasks = None;
    }

    /// Whether a file failed (the run stops).
    pub(crate) fn failed(&self) -> bool {
        self.failure.is_some()
    }

    /// The failure, if a file failed. It is the run's error: the core does not wait for taken
    /// files, so every error it or the host thread met after handing a file over belongs to a
    /// later entry, which a run on one thread would never have reached. Of two failed files,
    /// the earlier in the archive.
    pub(crate) fn failure(&mut self) -> Option<RunError<HostError>> {
        self.failure.take().map(|(_, error)| error)
    }

    fn record(&mut self, finished: Finished) {
        self.pending = self.pending.saturating_sub(1);
        match finished {
            Finished::Done {
                seq,
                path,
                outcome: Outcome::Degraded(d),
            } => self.degraded.push((seq, path, d)),
            Finished::Done { .. } | Finished::Dropped => {}
            Finished::Failed(seq, error) => {
                self.stop.store(true, Ordering::Relaxed);
                if self.failure.as_ref().is_none_or(|(kept, _)| seq < *kept) {
                    self.failure = Some((seq, *error));
                }
            }
        }
    }
}
