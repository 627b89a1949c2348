//! A stable, line-per-action text form of the action stream: what `uncork plan` prints and
//! what golden tests snapshot. Data chunks are not shown (their boundaries are an
//! implementation detail); a file's line carries its size.

use crate::action::{Action, Host, Outcome};
use std::convert::Infallible;

/// The line for one action (`None` for data chunks and file ends).
pub fn line(action: &Action<'_>) -> Option<String> {
    let replace = |r: bool| if r { " replace" } else { "" };
    Some(match *action {
        Action::MakeDir { path, replace: r } => format!("mkdir {path}{}", replace(r)),
        Action::BeginFile {
            path,
            size,
            mode,
            mtime,
            replace: r,
        } => {
            let mtime = mtime.map_or(String::new(), |m| format!(" mtime={m}"));
            format!(
                "file {path} size={size} mode={mode:04o}{mtime}{}",
                replace(r)
            )
        }
        Action::FileData { .. } | Action::EndFile => return None,
        Action::HardLink {
            path,
            target,
            replace: r,
        } => format!("hardlink {path} => {target}{}", replace(r)),
        Action::Symlink {
            path,
            target,
            resolved,
            kind,
            replace: r,
        } => {
            let resolved = resolved.map_or("(outside)".to_owned(), |p| {
                if p.is_empty() {
                    ".".to_owned()
                } else {
                    p.to_owned()
                }
            });
            format!(
                "symlink {path} -> {target} [{} {resolved}]{}",
                kind.name(),
                replace(r)
            )
        }
        Action::SetMode { path, mode } => format!("chmod {path} {mode:04o}"),
        Action::SetMtime { path, mtime } => format!("mtime {path} {mtime}"),
        Action::Skip { path, rule } => format!("skip {path} ({rule})"),
    })
}

/// A host that writes nothing and records the dump.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dump {
    /// One line per action, each ending in `\n`.
    pub text: String,
}

impl Host for Dump {
    type Error = Infallible;

    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, Infallible> {
        if let Some(line) = line(action) {
            self.text.push_str(&line);
            self.text.push('\n');
        }
        Ok(Outcome::Done)
    }
}
