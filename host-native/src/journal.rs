//! The undo journal of an extraction into an existing directory.
//!
//! It records what the run made by identity (device and inode), not by path: undoing removes
//! only what still is what the run made, and leaves (and reports) anything another process put
//! in its place or beside it. Its memory is bounded by the entry count, not by path lengths:
//! a made entry costs its identity, and paths are kept only for the pre-existing directories
//! the run wrote into (where undo looks for what it made), for files it moved aside
//! (`--overwrite`) and for directories whose mode or mtime it changed. Platforms that give no
//! identity (Windows) keep the paths of what the run made instead.

use crate::removal::Identity;
use std::collections::HashSet;
use std::time::SystemTime;

/// A change to something that stood in the destination before the run, and how to undo it.
#[derive(Debug)]
pub(crate) enum Undo {
    /// Moved the user's `path` aside to its backup name (same directory) before replacing it.
    MovedAside { path: String },
    /// Changed a pre-existing directory's mtime.
    DirMtime { path: String, mtime: SystemTime },
}

/// The record of an extraction into an existing directory (disabled for a staged one, which is
/// discarded whole).
#[derive(Debug, Default)]
pub(crate) struct Journal {
    pub(crate) enabled: bool,
    /// Identities of everything this run made.
    made: HashSet<Identity>,
    /// What this run made, by path, where the platform gives no identity.
    made_paths: HashSet<String>,
    /// The last entry made, so that undoing it on the spot forgets it.
    last_made: Option<(String, Option<Identity>)>,
    /// Pre-existing directories the run made something in, in the order first written
    /// (`""` is the destination), with their identities.
    touched: Vec<String>,
    touched_ids: HashSet<Identity>,
    touched_paths: HashSet<String>,
    /// Changes to pre-existing things, in the order made.
    pub(crate) changes: Vec<Undo>,
    /// This run's mark in the names of the backups it makes (`.NAME.uncork-old-TOKEN`).
    token: String,
    /// Partial files named so far.
    parts: u64,
}

impl Journal {
    pub(crate) fn new(enabled: bool, token: u32) -> Self {
        Journal {
            enabled,
            token: format!("{token:08x}"),
            ..Journal::default()
        }
    }

    /// Records that the run made `path` (identity `id`, if the platform gives one).
    pub(crate) fn made(&mut self, path: &str, id: Option<Identity>) {
        if !self.enabled {
            return;
        }
        match id {
            Some(id) => {
                self.made.insert(id);
            }
            None => {
                self.made_paths.insert(path.to_owned());
            }
        }
        self.last_made = Some((path.to_owned(), id));
    }

    /// Whether the run made the entry at `path` whose identity is `id` (always true for a
    /// staged run: everything in a staging directory is the run's).
    pub(crate) fn is_made(&self, path: &str, id: Option<Identity>) -> bool {
        !self.enabled
            || match id {
                Some(id) => self.made.contains(&id),
                None => self.made_paths.contains(path),
            }
    }

    /// The set undo may remove from (identities).
    pub(crate) fn made_set(&self) -> &HashSet<Identity> {
        &self.made
    }

    /// Paths the run made, where the platform gives no identity.
    pub(crate) fn made_paths(&self) -> impl Iterator<Item = &str> {
        self.made_paths.iter().map(String::as_str)
    }

    /// Forgets the last entry made if it is `path` (it was undone on the spot).
    pub(crate) fn forget_created(&mut self, path: &str) {
        if let Some((last, id)) = self.last_made.take() {
            if last == path {
                match id {
                    Some(id) => {
                        self.made.remove(&id);
                    }
                    None => {
                        self.made_paths.remove(path);
                    }
                }
            } else {
                self.last_made = Some((last, id));
            }
        }
    }

    /// The run removes an entry it made at `path` (an archive entry replaced by a later one).
    pub(crate) fn unmade(&mut self, path: &str, id: Option<Identity>) {
        match id {
            Some(id) => {
                self.made.remove(&id);
            }
            None => {
                self.made_paths.remove(path);
            }
        }
    }

    /// Notes that the run writes into the pre-existing directory `path` (identity `id`).
    /// Returns true the first time (the caller then saves its mtime).
    pub(crate) fn touch(&mut self, path: &str, id: Option<Identity>) -> bool {
        if !self.enabled {
            return false;
        }
        let first = match id {
            Some(id) => self.touched_ids.insert(id),
            None => self.touched_paths.insert(path.to_owned()),
        };
        if first {
            self.touched.push(path.to_owned());
        }
        first
    }

    /// The pre-existing directories the run wrote into, most recent first.
    pub(crate) fn touched_rev(&self) -> impl Iterator<Item = &str> {
        self.touched.iter().rev().map(String::as_str)
    }

    pub(crate) fn record(&mut self, undo: Undo) {
        if self.enabled {
            self.changes.push(undo);
        }
    }

    /// The name a replaced file `name` is moved aside to.
    pub(crate) fn backup_name(&self, name: &str) -> String {
        backup_name(name, &self.token)
    }

    /// A new name for a file being written (`.uncork-part-TOKEN-N`): renamed to its own name
    /// once complete, so a killed run never leaves a partial file under a final name.
    pub(crate) fn part_name(&mut self) -> String {
        self.parts += 1;
        format!(
            "{}{}-{:x}",
            crate::recover::PART_MARK,
            self.token,
            self.parts
        )
    }

    /// This run's backup token.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// Forgets everything (the run committed).
    pub(crate) fn clear(&mut self) {
        let enabled = self.enabled;
        let token = std::mem::take(&mut self.token);
        *self = Journal {
            enabled,
            token,
            ..Journal::default()
        };
    }
}

/// `.NAME.uncork-old-TOKEN`: recognisable by a later run if this one is killed.
pub(crate) fn backup_name(name: &str, token: &str) -> String {
    format!(".{name}{BACKUP_MARK}{token}")
}

/// What a backup's name holds between the original name and the run's token.
pub(crate) const BACKUP_MARK: &str = ".uncork-old-";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_decide_what_was_made() {
        let mut journal = Journal::new(true, 7);
        journal.made("a", Some((1, 2)));
        assert!(journal.is_made("a", Some((1, 2))));
        assert!(!journal.is_made("a", Some((1, 3))), "same path, other file");
        journal.forget_created("a");
        assert!(!journal.is_made("a", Some((1, 2))));
        journal.made("b", None);
        assert!(journal.is_made("b", None));
        assert!(journal.touch("", Some((1, 1))));
        assert!(!journal.touch("", Some((1, 1))));
        assert_eq!(journal.backup_name("f"), ".f.uncork-old-00000007");
        let staged = Journal::new(false, 1);
        assert!(staged.is_made("anything", Some((9, 9))));
    }
}
