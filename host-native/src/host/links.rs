//! Symlinks: a real link (verified), or a reported fallback: a junction, a copy of the
//! already-extracted target, or nothing.

use super::NativeHost;
use crate::error::HostError;
use crate::options::SymlinkMode;
use crate::path::{is_within, native, split};
use crate::platform;
use crate::tree::{self, CopyError, TreeCopy};
use cap_fs_ext::DirExt;
use cap_std::fs::Dir;
use std::ffi::OsStr;
use std::io::{self};
use std::sync::Arc;
use uncork_core::{Degradation, Effect, Fallback, LinkKind, Outcome};

impl NativeHost<'_> {
    pub(super) fn symlink(
        &mut self,
        path: &str,
        target: &str,
        resolved: Option<&str>,
        kind: LinkKind,
        replace: bool,
    ) -> Result<Outcome, HostError> {
        match self.options.symlinks {
            SymlinkMode::Skip => {
                platform::check_name(path)?;
                Ok(symlink_degraded(Fallback::Skipped, "--symlinks skip"))
            }
            SymlinkMode::Error => Err(HostError::SymlinkRefused {
                path: path.to_owned(),
                target: target.to_owned(),
            }),
            SymlinkMode::Copy => self.link_fallback(
                path,
                resolved,
                kind,
                replace,
                "--symlinks copy".to_owned(),
                false,
            ),
            SymlinkMode::Native | SymlinkMode::Auto => {
                match self.native_symlink(path, target, kind, replace)? {
                    None => Ok(Outcome::Done),
                    Some((reason, _)) if self.options.symlinks == SymlinkMode::Auto => {
                        self.link_fallback(path, resolved, kind, false, reason, true)
                    }
                    Some((reason, source)) => Err(HostError::SymlinkFailed {
                        path: path.to_owned(),
                        target: target.to_owned(),
                        reason,
                        source,
                    }),
                }
            }
        }
    }

    /// Makes a real link; `Some(reason)` when the platform could not (nothing is left behind).
    #[allow(clippy::type_complexity)]
    pub(super) fn native_symlink(
        &mut self,
        path: &str,
        target: &str,
        kind: LinkKind,
        replace: bool,
    ) -> Result<Option<(String, Option<io::Error>)>, HostError> {
        let creator = Arc::clone(&self.creator);
        let mut failure = None;
        let made = self.create_at(path, replace, "make the symlink", |dir, name| match creator
            .create(dir, name, target, kind)
        {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
            Err(e) => {
                failure = Some(e);
                Ok(false)
            }
        });
        let (created, dir) = made?;
        let (_, name) = split(path);
        if !created {
            self.journal.forget_created(path);
            let err = failure.unwrap_or_else(|| io::Error::other("unknown failure"));
            return Ok(Some((platform::failure_reason(&err), Some(err))));
        }
        // Verify: some platforms (Wine) report success and make nothing.
        match dir.symlink_metadata(name) {
            Ok(meta) if meta.is_symlink() => {
                self.dirs.made_link(path);
                Ok(None)
            }
            Ok(_) => {
                let _ = remove_single(&dir, name);
                self.journal.forget_created(path);
                Ok(Some((
                    "the platform made something other than a symlink".to_owned(),
                    None,
                )))
            }
            Err(_) => {
                self.journal.forget_created(path);
                Ok(Some((
                    "the symlink did not appear although the platform reported success".to_owned(),
                    None,
                )))
            }
        }
    }

    /// What stands in for a link: a junction (Windows, directories, `auto` only), a copy of the
    /// already-extracted target, or nothing for a dangling or outside target. Always reported.
    pub(super) fn link_fallback(
        &mut self,
        path: &str,
        resolved: Option<&str>,
        kind: LinkKind,
        replace: bool,
        reason: String,
        junction_allowed: bool,
    ) -> Result<Outcome, HostError> {
        platform::check_name(path)?;
        let from = match (kind, resolved) {
            (LinkKind::Missing, _) => {
                return Ok(symlink_degraded(
                    Fallback::Skipped,
                    &format!("{reason}; the target is not in the archive"),
                ));
            }
            (LinkKind::Outside, _) | (_, None) => {
                return Ok(symlink_degraded(
                    Fallback::Skipped,
                    &format!("{reason}; the target is outside the destination"),
                ));
            }
            (_, Some(from)) => from,
        };
        if kind == LinkKind::Dir {
            if is_within(path, from) {
                return Ok(symlink_degraded(
                    Fallback::Skipped,
                    &format!(
                        "{reason}; the link is inside the directory it points to, which cannot be copied into itself"
                    ),
                ));
            }
            if junction_allowed && cfg!(windows) {
                let target = self.dirs.root_path().join(native(from));
                let made = self.create_at(path, replace, "make the junction", |dir, name| {
                    platform::make_junction(dir, name, &target).map(|()| dir.symlink_metadata(name))
                });
                match made {
                    Ok((Ok(meta), _)) if meta.is_symlink() => {
                        self.dirs.made_link(path);
                        return Ok(symlink_degraded(Fallback::Junction, &reason));
                    }
                    Ok((_, dir)) => {
                        // Reported success, but no reparse point: the empty directory goes.
                        let _ = remove_single(&dir, split(path).1);
                        self.journal.forget_created(path);
                    }
                    Err(HostError::Io { .. }) => {}
                    Err(e) => return Err(e),
                }
                let dropped = self.copy_tree_instead(path, from, replace)?;
                return Ok(symlink_degraded(
                    Fallback::Copy {
                        from: from.to_owned(),
                    },
                    &format!("{reason}; no junction either{}", not_copied(dropped)),
                ));
            }
            let dropped = self.copy_tree_instead(path, from, replace)?;
            return Ok(symlink_degraded(
                Fallback::Copy {
                    from: from.to_owned(),
                },
                &format!("{reason}{}", not_copied(dropped)),
            ));
        } else {
            self.copy_file_instead(path, from, replace)?;
        }
        Ok(symlink_degraded(
            Fallback::Copy {
                from: from.to_owned(),
            },
            &reason,
        ))
    }

    pub(super) fn copy_file_instead(
        &mut self,
        path: &str,
        from: &str,
        replace: bool,
    ) -> Result<(), HostError> {
        let (src_dir, src_name) = self.dirs.parent_of(from)?;
        let mut budget = self.budget;
        let copied = self.create_at(path, replace, "copy", |dir, name| {
            tree::copy_file(
                &src_dir,
                OsStr::new(src_name),
                dir,
                OsStr::new(name),
                &mut budget,
            )
            .map_err(|e| match e {
                CopyError::Io(e) => e,
                CopyError::Budget => io::Error::new(io::ErrorKind::QuotaExceeded, "copy budget"),
            })
        });
        self.budget = budget;
        self.copy_result(copied.map(|_| ()), path, from)
    }

    /// Copies the directory `from` to `path`; returns how many entries inside it were not
    /// made again (links that could reach out of the copy, special files).
    pub(super) fn copy_tree_instead(
        &mut self,
        path: &str,
        from: &str,
        replace: bool,
    ) -> Result<u64, HostError> {
        let src = self.dirs.open(from)?;
        let creator = Arc::clone(&self.creator);
        let mut budget = self.budget;
        let mut copy = TreeCopy::default();
        let copied = self.create_at(path, replace, "copy", |dir, name| {
            let result = tree::copy_tree(
                &src,
                dir,
                OsStr::new(name),
                &mut budget,
                creator.as_ref(),
                &mut copy,
            );
            result.map_err(|e| match e {
                CopyError::Io(e) => e,
                CopyError::Budget => io::Error::new(io::ErrorKind::QuotaExceeded, "copy budget"),
            })
        });
        self.budget = budget;
        self.copy_result(copied.map(|_| ()), path, from)?;
        Ok(copy.links_dropped)
    }

    pub(super) fn copy_result(
        &self,
        result: Result<(), HostError>,
        path: &str,
        from: &str,
    ) -> Result<(), HostError> {
        match result {
            Err(HostError::Io { source, .. }) if source.kind() == io::ErrorKind::QuotaExceeded => {
                Err(HostError::CopyLimit {
                    path: path.to_owned(),
                    from: from.to_owned(),
                    limit: self.options.max_copy_bytes,
                    max_entries: self.options.max_copy_entries,
                })
            }
            other => other,
        }
    }
}

/// What a report adds when a copied tree left entries out.
fn not_copied(dropped: u64) -> String {
    match dropped {
        0 => String::new(),
        1 => "; 1 link or special file inside it was not copied (a link is kept only where it cannot reach out of the copy)".to_owned(),
        n => format!("; {n} links or special files inside it were not copied (a link is kept only where it cannot reach out of the copy)"),
    }
}

/// Removes one file, link or empty directory (never a tree: it may be a link's target).
pub(super) fn remove_single(dir: &Dir, name: &str) -> io::Result<()> {
    dir.remove_file_or_symlink(name)
        .or_else(|_| dir.remove_dir(name))
}

pub(super) fn symlink_degraded(fallback: Fallback, reason: &str) -> Outcome {
    Outcome::Degraded(Degradation {
        effect: Effect::Symlink,
        fallback,
        reason: reason.to_owned(),
    })
}
