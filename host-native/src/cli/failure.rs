//! Everything that ends a command unsuccessfully, with its exit code, rule, place and hint.

use std::convert::Infallible;
use uncork_core::{Location, Rule, RunError};
use uncork_native::{Cancelled, ExtractError, HostError};

/// Exit code: the archive was refused by the policy or is damaged.
pub(crate) const EXIT_REFUSED: u8 = 1;
/// Exit code: usage error, or I/O error.
pub(crate) const EXIT_USAGE_OR_IO: u8 = 2;

/// A failed command, ready to render as text or JSON.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) exit: u8,
    /// `format`, `refused`, `input`, `host`, `io`, `usage`.
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) causes: Vec<String>,
    pub(crate) rule: Option<Rule>,
    pub(crate) location: Option<Location>,
    pub(crate) hint: Option<String>,
    pub(crate) notes: Vec<String>,
}

impl Failure {
    fn new(exit: u8, kind: &'static str, message: String) -> Self {
        Failure {
            exit,
            kind,
            message,
            causes: Vec::new(),
            rule: None,
            location: None,
            hint: None,
            notes: Vec::new(),
        }
    }

    /// A usage error (bad glob, conflicting options).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure::new(EXIT_USAGE_OR_IO, "usage", message.into())
    }

    /// An I/O error outside the extraction (opening the archive).
    pub(crate) fn io(err: &anyhow::Error) -> Self {
        let mut failure = Failure::new(EXIT_USAGE_OR_IO, "io", err.to_string());
        failure.causes = err.chain().skip(1).map(ToString::to_string).collect();
        failure
    }

    /// A failed list, plan or check.
    pub(crate) fn from_run(err: &RunError<Infallible>) -> Self {
        let (exit, kind) = match err {
            RunError::Format(_) => (EXIT_REFUSED, "format"),
            RunError::Refused(_) => (EXIT_REFUSED, "refused"),
            RunError::Input(_) | RunError::Host { .. } => (EXIT_USAGE_OR_IO, "input"),
        };
        let mut failure = Failure::new(exit, kind, err.to_string());
        failure.causes = causes(err);
        failure.rule = err.rule();
        failure.location = err.location().cloned();
        failure.hint = err.rule().map(|r| r.hint().to_owned());
        failure
    }

    /// A failed extraction.
    pub(crate) fn from_extract(err: &ExtractError) -> Self {
        match err {
            ExtractError::Run(run) => {
                let run = run.as_ref();
                let mut failure = match run {
                    RunError::Host { source, .. } => {
                        let exit = if source.refuses_archive() {
                            EXIT_REFUSED
                        } else {
                            EXIT_USAGE_OR_IO
                        };
                        let mut failure = Failure::new(exit, "host", run.to_string());
                        if let HostError::Cancelled {
                            why: Cancelled::Signal(n),
                        } = source
                        {
                            // As a shell reports a process killed by the signal.
                            failure.exit = 128u8.saturating_add(*n as u8);
                            failure.kind = "interrupted";
                            failure.message = format!("{source}: stopped");
                        }
                        failure.rule = source.rule();
                        failure.hint = host_hint(source);
                        failure
                    }
                    RunError::Format(_) | RunError::Refused(_) => {
                        let kind = if matches!(run, RunError::Format(_)) {
                            "format"
                        } else {
                            "refused"
                        };
                        let mut failure = Failure::new(EXIT_REFUSED, kind, run.to_string());
                        failure.rule = run.rule();
                        failure.hint = run.rule().map(|r| r.hint().to_owned());
                        failure
                    }
                    RunError::Input(_) => Failure::new(EXIT_USAGE_OR_IO, "input", run.to_string()),
                };
                failure.causes = causes(run);
                failure.location = run.location().cloned();
                failure
                    .notes
                    .push("nothing was left behind: the destination is as it was".to_owned());
                failure
            }
            ExtractError::Host(host) => {
                let mut failure = Failure::new(EXIT_USAGE_OR_IO, "host", host.to_string());
                failure.causes = causes(host);
                failure.hint = host_hint(host);
                failure
            }
            ExtractError::Undo { error, undo } => {
                let mut failure = Failure::from_extract(error);
                failure.notes.clear();
                let mut text = format!("undoing the partial extraction failed: {undo}");
                for cause in causes(undo) {
                    text.push_str(": ");
                    text.push_str(&cause);
                }
                failure.notes.push(text);
                failure
                    .notes
                    .push("the destination may hold leftovers of this run".to_owned());
                failure
            }
        }
    }
}

/// The sources of an error, leaving out any whose text the message already shows.
fn causes(err: &dyn std::error::Error) -> Vec<String> {
    let message = err.to_string();
    let mut out: Vec<String> = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) && !out.contains(&text) {
            out.push(text);
        }
        source = cause.source();
    }
    out
}

fn host_hint(err: &HostError) -> Option<String> {
    Some(match err {
        HostError::AlreadyExists { .. } => {
            "pass --overwrite to replace existing files (they are restored if the extraction fails), or extract into a new directory with -C".to_owned()
        }
        HostError::ExistingSymlink { .. } => {
            "pass --trust-existing-symlinks if the destination's own links are safe to follow, or extract into a new directory with -C".to_owned()
        }
        HostError::IsADirectory { .. } | HostError::NotADirectory { .. } => {
            "extract into a new directory with -C".to_owned()
        }
        HostError::WouldModifyInput { .. } => "move the archive out of the destination first".to_owned(),
        HostError::SymlinkRefused { .. } => {
            "use --symlinks auto, copy or skip to extract archives with symlinks".to_owned()
        }
        HostError::SymlinkFailed { .. } => {
            "use --symlinks auto to fall back to a copy of the target, or --symlinks skip".to_owned()
        }
        HostError::WindowsName { rule, .. } => {
            format!("{}; `uncork check --portable` finds every such name before extracting", rule.hint())
        }
        HostError::CopyLimit { .. } => {
            "raise --max-total-bytes or --max-entries if the archive is trusted, or use --symlinks skip".to_owned()
        }
        HostError::NameCollision { .. } => {
            "extract on a case-sensitive filesystem; `uncork check --portable` lists every such collision".to_owned()
        }
        HostError::NoParent { .. } => "create the parent directory first".to_owned(),
        HostError::Commit { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            "another run made the destination meanwhile; look at it, then run again".to_owned()
        }
        HostError::Busy { .. } => "wait for the other run to finish, then run again".to_owned(),
        HostError::Foreign { .. } => {
            "another process wrote into the destination during the run; what it wrote was kept".to_owned()
        }
        _ => return None,
    })
}
