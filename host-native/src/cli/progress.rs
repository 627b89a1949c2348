//! The progress bar: on standard error, only when it is a terminal and the user did not ask for
//! quiet or JSON output. Position: compressed bytes read; message: entries and bytes of the files begun.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    read: Arc<AtomicU64>,
    entries: u64,
    written: u64,
}

impl Progress {
    /// A bar if `wanted` and standard error is a terminal; `total` is the input's size.
    pub(crate) fn new(wanted: bool, total: Option<u64>, read: Arc<AtomicU64>) -> Self {
        let bar = (wanted && std::io::stderr().is_terminal()).then(|| {
            let bar = match total {
                Some(total) => {
                    ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                }
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            };
            let template = if total.is_some() {
                "{spinner} [{bar:30}] {bytes}/{total_bytes} read, {msg} ({eta})"
            } else {
                "{spinner} {bytes} read, {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Progress {
            bar,
            read,
            entries: 0,
            written: 0,
        }
    }

    /// Counts one action (entries: paths made; bytes: file data).
    pub(crate) fn on_action(&mut self, action: &uncork_core::Action<'_>) {
        use uncork_core::Action;
        match action {
            // Counted when the file begins: a zip's file data may be written by workers,
            // with no `FileData` actions passing here.
            Action::BeginFile { size, .. } => {
                self.entries += 1;
                self.written += size;
            }
            Action::MakeDir { .. } | Action::HardLink { .. } | Action::Symlink { .. } => {
                self.entries += 1;
            }
            _ => return,
        }
        if let Some(bar) = &self.bar {
            bar.set_position(self.read.load(Ordering::Relaxed));
            bar.set_message(format!(
                "{} entries, {} written",
                self.entries,
                super::render::human_size(self.written)
            ));
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
