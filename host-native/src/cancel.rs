//! Stopping a run from outside: a token the caller (or a signal handler) sets, and an optional
//! deadline. The host checks it before every action, and while it waits for the core; a run
//! that sees it stops and is undone exactly as a failed one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Why a run was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// [`CancelToken::cancel`] was called.
    Requested,
    /// A signal arrived (its number; see [`CancelToken::signal_flag`]).
    Signal(i32),
    /// The deadline passed.
    Deadline,
}

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cancelled::Requested => f.write_str("the run was cancelled"),
            Cancelled::Signal(n) => write!(f, "interrupted by {}", signal_name(*n)),
            Cancelled::Deadline => f.write_str("the deadline passed"),
        }
    }
}

fn signal_name(n: i32) -> String {
    match n {
        1 => "SIGHUP".to_owned(),
        2 => "SIGINT".to_owned(),
        15 => "SIGTERM".to_owned(),
        n => format!("signal {n}"),
    }
}

/// Set from any thread to stop a run; clones share the state.
///
/// ```
/// let token = uncork_native::CancelToken::new()
///     .with_deadline(std::time::Instant::now() + std::time::Duration::from_secs(60));
/// let options = uncork_native::HostOptions { cancel: Some(token.clone()), ..Default::default() };
/// // …hand `options` to an extraction on another thread, then, to stop it:
/// token.cancel();
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    /// 0: running; a signal number; or `REQUESTED`.
    state: Arc<AtomicUsize>,
    deadline: Option<Instant>,
}

const REQUESTED: usize = usize::MAX;

impl CancelToken {
    /// A token nobody has set yet, without a deadline.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// The same token with a deadline: the run stops once it passes.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Asks the run to stop.
    pub fn cancel(&self) {
        let _ = self
            .state
            .compare_exchange(0, REQUESTED, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// The flag a signal handler stores the signal's number into (async-signal-safe: an atomic
    /// store, e.g. `signal_hook::flag::register_usize(sig, flag, sig as usize)`).
    pub fn signal_flag(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.state)
    }

    /// Whether, and why, the run should stop.
    pub fn reason(&self) -> Option<Cancelled> {
        match self.state.load(Ordering::Relaxed) {
            0 => {}
            REQUESTED => return Some(Cancelled::Requested),
            n => return Some(Cancelled::Signal(n as i32)),
        }
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Some(Cancelled::Deadline),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons() {
        let token = CancelToken::new();
        assert_eq!(token.reason(), None);
        token.signal_flag().store(15, Ordering::Relaxed);
        assert_eq!(token.reason(), Some(Cancelled::Signal(15)));
        assert_eq!(
            token.reason().unwrap().to_string(),
            "interrupted by SIGTERM"
        );
        let late = CancelToken::new().with_deadline(Instant::now());
        assert_eq!(late.reason(), Some(Cancelled::Deadline));
        let asked = CancelToken::new();
        asked.clone().cancel();
        assert_eq!(asked.reason(), Some(Cancelled::Requested));
    }
}
