//! What every extraction returns: counts, skipped entries and every degradation.

use crate::action::{Degradation, Effect, Fallback};
use crate::format::Format;
use crate::rule::Rule;
use std::fmt;

/// The outcome of a successful extraction (or plan).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The format that was read.
    pub format: Option<Format>,
    /// Entries read from the archive (extension headers not counted).
    pub entries: u64,
    /// Regular files written.
    pub files: u64,
    /// Directories made (explicit and implied parents).
    pub dirs: u64,
    /// Symlinks asked for (made, or degraded as reported).
    pub symlinks: u64,
    /// Hard links asked for.
    pub hard_links: u64,
    /// Bytes of file data written.
    pub bytes: u64,
    /// Entries the policy skipped (entries left out by `Options::select` are not listed).
    pub skipped: Vec<Skipped>,
    /// Effects the host carried out differently (never mode skips: those are counted below).
    pub degradations: Vec<Degraded>,
    /// Modes the host could not apply at all (e.g. WASI has none).
    pub modes_not_applied: u64,
    /// Mtimes the host could not apply at all.
    pub mtimes_not_applied: u64,
}

/// An entry that was not extracted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The entry's (normalized, when possible) name.
    pub path: String,
    /// The rule that skipped it.
    pub rule: Rule,
}

/// A degradation at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degraded {
    /// The path of the action.
    pub path: String,
    /// What happened instead.
    pub degradation: Degradation,
}

impl fmt::Display for Degraded {
    /// `README: symlink → copy of README.md (no symlink privilege)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.degradation)
    }
}

impl Report {
    /// Records a host's degradation of the action at `path` (modes and mtimes a host cannot
    /// set at all are counted, not listed). The core calls it for every degraded outcome; a
    /// host that answers later (on another thread) calls it itself.
    pub fn record(&mut self, path: &str, degradation: Degradation) {
        match (degradation.effect, &degradation.fallback) {
            (Effect::Mode, Fallback::Skipped) => self.modes_not_applied += 1,
            (Effect::Mtime, Fallback::Skipped) => self.mtimes_not_applied += 1,
            _ => self.degradations.push(Degraded {
                path: path.to_owned(),
                degradation,
            }),
        }
    }
}
