//! The reference host: carries actions out on an in-memory tree and checks the core's order
//! guarantees as it goes. The core's own tests drive it; so can anyone embedding the core.

use crate::action::{Action, Host, LinkKind, Outcome};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One node of the in-memory tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemNode {
    /// A directory with its mode and mtime.
    Dir {
        /// Permission bits.
        mode: u32,
        /// Modification time.
        mtime: Option<i64>,
    },
    /// A file.
    File {
        /// Contents.
        data: Vec<u8>,
        /// Permission bits.
        mode: u32,
        /// Modification time.
        mtime: Option<i64>,
    },
    /// A symlink.
    Symlink {
        /// Target as written.
        target: String,
        /// The core's verdict on the target.
        kind: LinkKind,
    },
}

/// A contract violation the in-memory host detected: a bug in the core if it ever fires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order violation: {0}")]
pub struct Violation(pub String);

/// An in-memory destination.
#[derive(Debug, Default, Clone)]
pub struct MemHost {
    /// The tree, by normalized path.
    pub tree: BTreeMap<String, MemNode>,
    current: Option<String>,
    symlinks_started: bool,
    metadata_started: bool,
}

impl MemHost {
    fn violation(what: String) -> Result<Outcome, Violation> {
        Err(Violation(what))
    }

    /// The parent must exist as a directory, never as a link.
    fn check_parent(&self, path: &str) -> Result<(), Violation> {
        let Some((parent, _)) = path.rsplit_once('/') else {
            return Ok(());
        };
        match self.tree.get(parent) {
            Some(MemNode::Dir { .. }) => Ok(()),
            Some(MemNode::Symlink { .. }) => Err(Violation(format!(
                "'{path}' would be written through the symlink '{parent}'"
            ))),
            other => Err(Violation(format!(
                "'{path}' before its parent directory (found {other:?})"
            ))),
        }
    }

    fn check_free(&self, path: &str, replace: bool) -> Result<(), Violation> {
        match (self.tree.get(path), replace) {
            (None, false) => Ok(()),
            (Some(MemNode::Dir { .. }), _) => {
                Err(Violation(format!("'{path}' would replace a directory")))
            }
            (Some(_), true) => Ok(()),
            (Some(_), false) => Err(Violation(format!(
                "'{path}' exists and replace was not set"
            ))),
            (None, true) => Err(Violation(format!(
                "'{path}': replace set but nothing is there"
            ))),
        }
    }

    /// A sorted text listing: `kind mode size path [-> target]`, one line per node.
    pub fn manifest(&self) -> String {
        let mut out = String::new();
        for (path, node) in &self.tree {
            let _ = match node {
                MemNode::Dir { mode, .. } => writeln!(out, "dir  {mode:04o} {path}"),
                MemNode::File { data, mode, .. } => {
                    writeln!(out, "file {mode:04o} {} {path}", data.len())
                }
                MemNode::Symlink { target, kind } => {
                    writeln!(out, "link {path} -> {target} ({})", kind.name())
                }
            };
        }
        out
    }

    /// A file's contents.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        match self.tree.get(path) {
            Some(MemNode::File { data, .. }) => Some(data),
            _ => None,
        }
    }
}

impl Host for MemHost {
    type Error = Violation;

    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, Violation> {
        let after_links = |what: &str| format!("{what} after symlinks started");
        match *action {
            Action::MakeDir { path, replace } => {
                if self.symlinks_started {
                    return Self::violation(after_links("mkdir"));
                }
                self.check_parent(path)?;
                self.check_free(path, replace)?;
                self.tree.insert(
                    path.to_owned(),
                    MemNode::Dir {
                        mode: 0o700,
                        mtime: None,
                    },
                );
            }
            Action::BeginFile {
                path,
                mode,
                mtime,
                replace,
                ..
            } => {
                if self.symlinks_started {
                    return Self::violation(after_links("file"));
                }
                if self.current.is_some() {
                    return Self::violation(format!("'{path}' begun inside another file"));
                }
                self.check_parent(path)?;
                self.check_free(path, replace)?;
                self.tree.insert(
                    path.to_owned(),
                    MemNode::File {
                        data: Vec::new(),
                        mode,
                        mtime,
                    },
                );
                self.current = Some(path.to_owned());
            }
            Action::FileData { data } => {
                let Some(path) = &self.current else {
                    return Self::violation("data outside a file".into());
                };
                if let Some(MemNode::File { data: contents, .. }) = self.tree.get_mut(path) {
                    contents.extend_from_slice(data);
                }
            }
            Action::EndFile => {
                if self.current.take().is_none() {
                    return Self::violation("end of a file never begun".into());
                }
            }
            Action::HardLink {
                path,
                target,
                replace,
            } => {
                if self.symlinks_started {
                    return Self::violation(after_links("hard link"));
                }
                self.check_parent(path)?;
                self.check_free(path, replace)?;
                let Some(node @ MemNode::File { .. }) = self.tree.get(target).cloned() else {
                    return Self::violation(format!(
                        "hard link '{path}' to '{target}', which is not a file yet"
                    ));
                };
                self.tree.insert(path.to_owned(), node);
            }
            Action::Symlink {
                path,
                target,
                kind,
                replace,
                ..
            } => {
                if self.metadata_started {
                    return Self::violation("symlink after directory metadata".into());
                }
                self.symlinks_started = true;
                self.check_parent(path)?;
                self.check_free(path, replace)?;
                self.tree.insert(
                    path.to_owned(),
                    MemNode::Symlink {
                        target: target.to_owned(),
                        kind,
                    },
                );
            }
            Action::SetMode { path, mode: new } => {
                self.metadata_started = true;
                match self.tree.get_mut(path) {
                    Some(MemNode::Dir { mode, .. }) => *mode = new,
                    other => {
                        return Self::violation(format!(
                            "set-mode on '{path}', which is {other:?}"
                        ));
                    }
                }
            }
            Action::SetMtime { path, mtime: new } => {
                self.metadata_started = true;
                match self.tree.get_mut(path) {
                    Some(MemNode::Dir { mtime, .. }) => *mtime = Some(new),
                    other => {
                        return Self::violation(format!(
                            "set-mtime on '{path}', which is {other:?}"
                        ));
                    }
                }
            }
            Action::Skip { .. } => {}
        }
        Ok(Outcome::Done)
    }
}
