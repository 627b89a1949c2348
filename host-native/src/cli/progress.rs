//! The progress bar: on standard error, only when it is a terminal and the user did not ask for
//! quiet or JSON output. Position: compressed bytes read (by the core and the zip workers);
//! message: paths made and bytes of file data written.
//!
//! A thread of its own redraws it from shared counters every tenth of a second, so the bar
//! keeps moving while the host's thread waits (for the workers' large files, at the end).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

const REDRAW_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub(crate) struct Progress {
    shown: Option<Shown>,
}

#[derive(Debug)]
struct Shown {
    counts: Arc<Counts>,
    ticker: JoinHandle<()>,
}

/// What the bar shows, shared with the thread that draws it.
#[derive(Debug)]
struct Counts {
    read: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
    entries: AtomicU64,
    done: AtomicBool,
}

impl Progress {
    /// A bar if `wanted` and standard error is a terminal; `total` is the input's size, `read`
    /// and `written` the counts of bytes read from it and of file data written.
    pub(crate) fn new(
        wanted: bool,
        total: Option<u64>,
        read: Arc<AtomicU64>,
        written: Arc<AtomicU64>,
    ) -> Self {
        let shown = (wanted && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            let template = if total.is_some() {
                "{spinner} [{bar:30}] {bytes}/{total_bytes} read, {msg} ({eta})"
            } else {
                "{spinner} {bytes} read, {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            let counts = Arc::new(Counts {
                read,
                written,
                entries: AtomicU64::new(0),
                done: AtomicBool::new(false),
            });
            let shared = Arc::clone(&counts);
            let ticker = std::thread::spawn(move || {
                while !shared.done.load(Ordering::Relaxed) {
                    shared.draw(&bar);
                    std::thread::park_timeout(REDRAW_EVERY);
                }
                bar.finish_and_clear();
            });
            Shown { counts, ticker }
        });
        Progress { shown }
    }

    /// What counts the paths made, for the host's observer (it owns what it counts into).
    pub(crate) fn tally(&self) -> Tally {
        Tally(self.shown.as_ref().map(|shown| Arc::clone(&shown.counts)))
    }

    /// Removes the bar (as dropping it does, on every way out).
    pub(crate) fn finish(self) {}
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(shown) = self.shown.take() {
            shown.counts.done.store(true, Ordering::Relaxed);
            shown.ticker.thread().unpark();
            // A panic in the drawing thread only lost the bar.
            let _ = shown.ticker.join();
        }
    }
}

/// Counts the paths made, for the bar (nothing when there is no bar).
#[derive(Debug)]
pub(crate) struct Tally(Option<Arc<Counts>>);

impl Tally {
    /// Counts one action (a path made).
    pub(crate) fn on_action(&self, action: &uncork_core::Action<'_>) {
        use uncork_core::Action;
        if let Some(counts) = &self.0
            && matches!(
                action,
                Action::BeginFile { .. }
                    | Action::MakeDir { .. }
                    | Action::HardLink { .. }
                    | Action::Symlink { .. }
            )
        {
            counts.entries.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Counts {
    fn draw(&self, bar: &ProgressBar) {
        // Readers after a seek read a little again (a buffer's worth): never past the end.
        let read = self.read.load(Ordering::Relaxed);
        bar.set_position(bar.length().map_or(read, |total| read.min(total)));
        bar.set_message(format!(
            "{} paths made, {} written",
            self.entries.load(Ordering::Relaxed),
            super::render::human_size(self.written.load(Ordering::Relaxed))
        ));
    }
}
