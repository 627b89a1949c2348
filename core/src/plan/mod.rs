//! The planner: every decision that can be made from the archive and the policy.
//!
//! It is fed [`RawEntry`]s in archive order and answers each with a [`Step`]; at the end,
//! [`Planner::finish`] orders the deferred symlinks and the directory metadata. It does no I/O,
//! so tests drive it directly.

mod links;
mod paths;

use crate::entry::{RawEntry, RawKind};
use crate::error::{Location, PolicyError, escape_bytes};
use crate::path::{self, check_link_target, collision_key, decode_name, normalize_entry_path};
use crate::policy::{Duplicates, LinkScope, Policy, SpecialFiles};
use crate::rule::Rule;
use paths::PathMap;
use std::collections::{HashMap, HashSet};

pub use links::LinkPlan;

/// What one entry becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Parent directories the archive implies but did not list, outermost first: make them first.
    pub parents: Vec<String>,
    /// The entry's own effect.
    pub op: Op,
}

/// The effect of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Make a directory.
    MakeDir {
        /// Normalized path.
        path: String,
        /// Remove the earlier entry of this archive at `path` first.
        replace: bool,
    },
    /// Write a regular file; its data follows.
    File {
        /// Normalized path.
        path: String,
        /// Declared size.
        size: u64,
        /// Mode after the policy.
        mode: u32,
        /// Mtime, if kept.
        mtime: Option<i64>,
        /// Remove the earlier entry of this archive at `path` first.
        replace: bool,
    },
    /// Make a hard link now.
    HardLink {
        /// Normalized path.
        path: String,
        /// The earlier file.
        target: String,
        /// Remove the earlier entry of this archive at `path` first.
        replace: bool,
    },
    /// A symlink, deferred until [`Planner::finish`].
    Deferred,
    /// Skipped by the policy; reported.
    Skip {
        /// Name (normalized when possible).
        path: String,
        /// Why.
        rule: Rule,
    },
    /// Nothing to do (the root itself, a directory listed again, a deselected entry, a
    /// component-stripped name that vanished).
    Nothing,
}

impl Op {
    /// The path the entry plans, if it plans one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Op::MakeDir { path, .. }
            | Op::File { path, .. }
            | Op::HardLink { path, .. }
            | Op::Skip { path, .. } => Some(path),
            Op::Deferred | Op::Nothing => None,
        }
    }
}

/// The final part of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finish {
    /// Symlinks in the order they must be made.
    pub links: Vec<LinkPlan>,
    /// Directory metadata, deepest first.
    pub dirs: Vec<DirMeta>,
}

/// A directory's final mode and mtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirMeta {
    /// Normalized path.
    pub path: String,
    /// Mode after the policy.
    pub mode: u32,
    /// Mtime, if the archive gave one and the policy keeps it.
    pub mtime: Option<i64>,
}

/// What stands at a path, as far as this archive is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// A directory; index into `Planner::dirs`.
    Dir(u32),
    /// A regular file or a hard link (on disk already).
    File,
    /// A pending symlink (index into `links`); `over_file` when a file of this archive is on
    /// disk underneath, which the link will replace.
    Link { link: u32, over_file: bool },
}

/// The planner for one archive under one policy.
pub struct Planner<'a> {
    policy: &'a Policy,
    strip_components: usize,
    select: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
    nodes: PathMap,
    dirs: Vec<DirMeta>,
    links: Vec<links::Pending>,
    /// Collision keys (portable policy only): key → first path.
    collisions: HashMap<String, String>,
    /// Files left out by `select`, so hard links to them are skipped rather than refused.
    deselected: HashSet<String>,
}

impl std::fmt::Debug for Planner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planner")
            .field("nodes", &self.nodes.len())
            .field("links", &self.links.len())
            .finish()
    }
}

impl<'a> Planner<'a> {
    /// A planner applying `policy`, dropping `strip_components` leading components of every
    /// name, keeping only the entries `select` accepts (on the stripped name).
    pub fn new(
        policy: &'a Policy,
        strip_components: usize,
        select: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
    ) -> Self {
        Planner {
            policy,
            strip_components,
            select,
            nodes: PathMap::default(),
            dirs: Vec::new(),
            links: Vec::new(),
            collisions: HashMap::new(),
            deselected: HashSet::new(),
        }
    }

    /// Plans one entry. Errors carry the entry's location.
    pub fn entry(&mut self, entry: &RawEntry) -> Result<Step, PolicyError> {
        let mut located_path = None;
        self.plan(entry, &mut located_path).map_err(|mut e| {
            e.location = Location {
                entry: Some(entry.index),
                offset: Some(entry.offset),
                raw_path: Some(escape_bytes(&entry.name)),
                path: located_path,
            };
            e
        })
    }

    fn plan(
        &mut self,
        entry: &RawEntry,
        located: &mut Option<String>,
    ) -> Result<Step, PolicyError> {
        let name = decode_name(&entry.name, entry.name_origin, self.policy.legacy_names)?;
        let Some(full) = normalize_entry_path(&name, self.policy)? else {
            // The root itself: never touched. A file without a name is skipped and reported.
            return Ok(match entry.kind {
                RawKind::Dir => nothing(),
                _ => Step {
                    parents: Vec::new(),
                    op: Op::Skip {
                        path: name.into_owned(),
                        rule: Rule::EmptyName,
                    },
                },
            });
        };
        let Some(mut path) = self.strip(full) else {
            return Ok(nothing());
        };
        // The path goes into the step; only an error keeps it, for its location (no copy of
        // it for every entry just in case).
        let step = self.plan_path(entry, &mut path);
        if step.is_err() {
            *located = Some(path);
        }
        step
    }

    /// Plans the entry whose (stripped) path is `path`. A step takes the path out of `path`;
    /// an error leaves it there.
    fn plan_path(&mut self, entry: &RawEntry, path: &mut String) -> Result<Step, PolicyError> {
        if let RawKind::Special(kind) = entry.kind {
            return match self.policy.special_files {
                SpecialFiles::Refuse => Err(PolicyError::new(
                    Rule::SpecialFile,
                    format!(
                        "the entry is a {}; uncork never creates device files or FIFOs",
                        kind.name()
                    ),
                )),
                SpecialFiles::Skip => Ok(Step {
                    parents: Vec::new(),
                    op: Op::Skip {
                        path: std::mem::take(path),
                        rule: Rule::SpecialFile,
                    },
                }),
            };
        }
        if let Some(select) = self.select
            && !select(path)
        {
            if matches!(entry.kind, RawKind::File { .. }) {
                self.deselected.insert(std::mem::take(path));
            }
            return Ok(nothing());
        }
        if self.policy.portable_names {
            self.check_collision(path)?;
        }
        let parents = self.parents(path)?;
        let existing = self.nodes.get(path);
        let is_dir = matches!(entry.kind, RawKind::Dir);
        let replace = match existing {
            None => false,
            Some(Node::Dir(index)) if is_dir => {
                // A directory listed again is never a duplicate: its metadata is updated.
                self.dirs[index as usize] = self.dir_meta(path, entry);
                return Ok(Step {
                    parents,
                    op: Op::Nothing,
                });
            }
            Some(Node::Dir(_)) => {
                return Err(PolicyError::new(
                    Rule::ReplacesDirectory,
                    "a later entry would replace this directory",
                ));
            }
            Some(_) if self.policy.duplicates == Duplicates::Error => {
                return Err(PolicyError::new(
                    Rule::DuplicateEntry,
                    "the archive holds this path twice",
                ));
            }
            Some(Node::File) => true,
            Some(Node::Link { link, over_file }) => {
                self.links[link as usize].superseded = true;
                over_file
            }
        };
        let op = match &entry.kind {
            RawKind::Dir => {
                let index = self.dirs.len();
                self.dirs.push(self.dir_meta(path, entry));
                self.nodes.insert(path, Node::Dir(index_u32(index)?))?;
                Op::MakeDir {
                    path: std::mem::take(path),
                    replace,
                }
            }
            RawKind::File { size } => {
                self.nodes.insert(path, Node::File)?;
                Op::File {
                    path: std::mem::take(path),
                    size: *size,
                    mode: self.policy.file_mode(entry.mode.unwrap_or(0o644)),
                    mtime: self.mtime(entry),
                    replace,
                }
            }
            RawKind::HardLink { target } => match self.hard_link_target(entry, target, path)? {
                HardTarget::File(target) => {
                    self.nodes.insert(path, Node::File)?;
                    Op::HardLink {
                        path: std::mem::take(path),
                        target,
                        replace,
                    }
                }
                HardTarget::Itself => Op::Nothing,
                HardTarget::Deselected => Op::Skip {
                    path: std::mem::take(path),
                    rule: Rule::HardLinkMissing,
                },
            },
            RawKind::Symlink { target } => {
                let target =
                    decode_name(target, entry.name_origin, self.policy.legacy_names)?.into_owned();
                check_link_target(&target)?;
                if target.starts_with('/') && self.policy.links == LinkScope::Inside {
                    return Err(PolicyError::new(
                        Rule::AbsoluteLink,
                        format!("the symlink points to the absolute path '{target}'"),
                    ));
                }
                let link = self.links.len();
                self.links.push(links::Pending {
                    path: path.clone(),
                    target,
                    location: Location {
                        entry: Some(entry.index),
                        offset: Some(entry.offset),
                        raw_path: Some(escape_bytes(&entry.name)),
                        path: Some(path.clone()),
                    },
                    superseded: false,
                });
                self.nodes.insert(
                    path,
                    Node::Link {
                        link: index_u32(link)?,
                        over_file: replace,
                    },
                )?;
                Op::Deferred
            }
            RawKind::Special(_) => Op::Nothing, // returned early above
        };
        Ok(Step { parents, op })
    }

    /// Orders the deferred symlinks and the directory metadata. Call once, after the last entry:
    /// the directory metadata moves out (no copy at the moment memory peaks).
    pub fn finish(&mut self) -> Result<Finish, PolicyError> {
        let links = links::order(self.policy, &self.nodes_view(), &self.links)?;
        let mut dirs = std::mem::take(&mut self.dirs);
        // Each path is there once (a directory named again updates its record), so the
        // unstable sort (which needs no buffer) gives one order.
        dirs.sort_unstable_by(|a, b| {
            depth(&b.path)
                .cmp(&depth(&a.path))
                .then_with(|| a.path.cmp(&b.path))
        });
        Ok(Finish { links, dirs })
    }

    fn nodes_view(&self) -> links::Tree<'_> {
        links::Tree { nodes: &self.nodes }
    }

    /// `path` without its first `strip_components` components (itself, uncopied, when there
    /// are none to strip); `None` when nothing is left.
    fn strip(&self, path: String) -> Option<String> {
        if self.strip_components == 0 {
            return Some(path);
        }
        path::strip_components(&path, self.strip_components).map(str::to_owned)
    }

    fn mtime(&self, entry: &RawEntry) -> Option<i64> {
        if self.policy.keep_mtimes {
            entry.mtime
        } else {
            None
        }
    }

    fn dir_meta(&self, path: &str, entry: &RawEntry) -> DirMeta {
        DirMeta {
            path: path.to_owned(),
            mode: self.policy.dir_mode(entry.mode.unwrap_or(0o755)),
            mtime: self.mtime(entry),
        }
    }

    fn check_collision(&mut self, path: &str) -> Result<(), PolicyError> {
        let key = collision_key(path);
        match self.collisions.get(&key) {
            Some(first) if first != path => Err(PolicyError::new(
                Rule::CaseCollision,
                format!("'{path}' and '{first}' differ only in case or Unicode normalization"),
            )),
            Some(_) => Ok(()),
            None => {
                self.collisions.insert(key, path.to_owned());
                Ok(())
            }
        }
    }

    /// Checks every ancestor of `path` and returns the ones to make, outermost first.
    fn parents(&mut self, path: &str) -> Result<Vec<String>, PolicyError> {
        let Some(parent) = path::parent(path) else {
            return Ok(Vec::new());
        };
        // Fast path: a directory node implies all its ancestors are directories, because a
        // directory is never replaced by anything else.
        if let Some(Node::Dir(_)) = self.nodes.get(parent) {
            return Ok(Vec::new());
        }
        let mut missing = Vec::new();
        let mut end = 0;
        while end < path.len() {
            end = match path[end..].find('/') {
                Some(slash) => end + slash,
                None => break,
            };
            let ancestor = &path[..end];
            match self.nodes.get(ancestor) {
                Some(Node::Dir(_)) => {}
                Some(Node::File) => {
                    return Err(PolicyError::new(
                        Rule::ParentNotDirectory,
                        format!("'{ancestor}' is a file of this archive, not a directory"),
                    ));
                }
                Some(Node::Link { .. }) => {
                    return Err(PolicyError::new(
                        Rule::PathThroughLink,
                        format!(
                            "'{ancestor}' is a symlink of this archive; nothing is written through it"
                        ),
                    ));
                }
                None => missing.push(ancestor.to_owned()),
            }
            end += 1;
        }
        for dir in &missing {
            let index = self.dirs.len();
            self.dirs.push(DirMeta {
                path: dir.clone(),
                mode: self.policy.dir_mode(0o755),
                mtime: None,
            });
            self.nodes.insert(dir, Node::Dir(index_u32(index)?))?;
        }
        Ok(missing)
    }

    fn hard_link_target(
        &self,
        entry: &RawEntry,
        raw: &[u8],
        path: &str,
    ) -> Result<HardTarget, PolicyError> {
        let name = decode_name(raw, entry.name_origin, self.policy.legacy_names)?;
        let normalized = normalize_entry_path(&name, self.policy).map_err(|e| match e.rule {
            Rule::DotDot | Rule::AbsolutePath | Rule::DrivePath => PolicyError::new(
                Rule::HardLinkOutsideRoot,
                format!("the hard link names '{name}', outside the root"),
            ),
            _ => e,
        })?;
        let missing = || {
            PolicyError::new(
                Rule::HardLinkMissing,
                format!("the hard link names '{name}', which is not an earlier entry"),
            )
        };
        let target = normalized.and_then(|t| self.strip(t)).ok_or_else(missing)?;
        if target == path && self.nodes.get(path) == Some(Node::File) {
            return Ok(HardTarget::Itself);
        }
        match self.nodes.get(&target) {
            Some(Node::File) => Ok(HardTarget::File(target)),
            Some(Node::Dir(_)) => Err(PolicyError::new(
                Rule::HardLinkNotFile,
                format!("the hard link names the directory '{target}'"),
            )),
            Some(Node::Link { .. }) => Err(PolicyError::new(
                Rule::HardLinkNotFile,
                format!("the hard link names the symlink '{target}'"),
            )),
            None if self.deselected.contains(&target) => Ok(HardTarget::Deselected),
            None => Err(missing()),
        }
    }
}

enum HardTarget {
    File(String),
    Itself,
    Deselected,
}

fn nothing() -> Step {
    Step {
        parents: Vec::new(),
        op: Op::Nothing,
    }
}

/// Directory and link indices are u32 in a [`Node`] (see [`paths`]).
fn index_u32(index: usize) -> Result<u32, PolicyError> {
    u32::try_from(index).map_err(|_| {
        PolicyError::new(
            Rule::EntryLimit,
            "the archive holds more than 2^32 directories or links, more than uncork can track",
        )
    })
}

fn depth(path: &str) -> usize {
    path.bytes().filter(|&b| b == b'/').count()
}

#[cfg(test)]
mod tests;
