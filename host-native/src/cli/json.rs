//! The `--json` report: one JSON object on standard output.

use super::failure::Failure;
use serde::Serialize;
use uncork_core::{Fallback, Listed, ListedKind, Report};

#[derive(Debug, Serialize)]
pub(crate) struct ReportJson {
    format: Option<&'static str>,
    entries: u64,
    files: u64,
    dirs: u64,
    symlinks: u64,
    hard_links: u64,
    bytes: u64,
    skipped: Vec<SkippedJson>,
    not_selected: u64,
    degradations: Vec<DegradationJson>,
    modes_not_applied: u64,
    mtimes_not_applied: u64,
}

#[derive(Debug, Serialize)]
struct SkippedJson {
    path: String,
    rule: &'static str,
}

#[derive(Debug, Serialize)]
struct DegradationJson {
    path: String,
    effect: String,
    fallback: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    reason: String,
    message: String,
}

impl ReportJson {
    /// The report, and how many entries `--include`/`--exclude` left out.
    pub(crate) fn new(report: &Report, not_selected: u64) -> Self {
        ReportJson {
            format: report.format.map(uncork_core::Format::name),
            entries: report.entries,
            files: report.files,
            dirs: report.dirs,
            symlinks: report.symlinks,
            hard_links: report.hard_links,
            bytes: report.bytes,
            skipped: report
                .skipped
                .iter()
                .map(|s| SkippedJson {
                    path: s.path.clone(),
                    rule: s.rule.name(),
                })
                .collect(),
            not_selected,
            degradations: report
                .degradations
                .iter()
                .map(|d| {
                    let (fallback, from) = match &d.degradation.fallback {
                        Fallback::Copy { from } => ("copy", Some(from.clone())),
                        Fallback::Junction => ("junction", None),
                        Fallback::HardLink => ("hard-link", None),
                        Fallback::Symlink => ("symlink", None),
                        Fallback::Approximated(how) => ("approximated", Some(how.clone())),
                        Fallback::Skipped => ("skipped", None),
                    };
                    DegradationJson {
                        path: d.path.clone(),
                        effect: d.degradation.effect.to_string(),
                        fallback,
                        from,
                        reason: d.degradation.reason.clone(),
                        message: d.to_string(),
                    }
                })
                .collect(),
            modes_not_applied: report.modes_not_applied,
            mtimes_not_applied: report.mtimes_not_applied,
        }
    }
}

/// A successful extraction.
#[derive(Debug, Serialize)]
pub(crate) struct ExtractJson {
    pub(crate) ok: bool,
    pub(crate) command: &'static str,
    pub(crate) archive: String,
    pub(crate) destination: String,
    pub(crate) policy: &'static str,
    pub(crate) symlink_mode: &'static str,
    pub(crate) platform: &'static str,
    pub(crate) staged: bool,
    #[serde(flatten)]
    pub(crate) report: ReportJson,
    pub(crate) overwritten: Vec<String>,
    pub(crate) warnings: Vec<String>,
    /// What interrupted runs had left, cleaned up or restored by this one.
    pub(crate) recovered: Vec<String>,
}

/// A listing.
#[derive(Debug, Serialize)]
pub(crate) struct ListJson {
    pub(crate) ok: bool,
    pub(crate) command: &'static str,
    pub(crate) archive: String,
    pub(crate) listing: Vec<ListedJson>,
    #[serde(flatten)]
    pub(crate) report: ReportJson,
}

#[derive(Debug, Serialize)]
pub(crate) struct ListedJson {
    index: u64,
    offset: u64,
    raw_name: String,
    path: Option<String>,
    kind: &'static str,
    size: u64,
    mode: Option<u32>,
    mtime: Option<i64>,
    link_target: Option<String>,
}

impl From<&Listed> for ListedJson {
    fn from(entry: &Listed) -> Self {
        ListedJson {
            index: entry.index,
            offset: entry.offset,
            raw_name: entry.raw_name.clone(),
            path: entry.path.clone(),
            kind: match entry.kind {
                ListedKind::File => "file",
                ListedKind::Dir => "dir",
                ListedKind::Symlink => "symlink",
                ListedKind::HardLink => "hard-link",
                ListedKind::CharDevice => "char-device",
                ListedKind::BlockDevice => "block-device",
                ListedKind::Fifo => "fifo",
            },
            size: entry.size,
            mode: entry.mode,
            mtime: entry.mtime,
            link_target: entry.link_target.clone(),
        }
    }
}

/// A plan (dry run).
#[derive(Debug, Serialize)]
pub(crate) struct PlanJson {
    pub(crate) ok: bool,
    pub(crate) command: &'static str,
    pub(crate) archive: String,
    pub(crate) policy: &'static str,
    pub(crate) actions: Vec<String>,
    #[serde(flatten)]
    pub(crate) report: ReportJson,
}

/// A check.
#[derive(Debug, Serialize)]
pub(crate) struct CheckJson {
    pub(crate) ok: bool,
    pub(crate) command: &'static str,
    pub(crate) archive: String,
    pub(crate) policy: &'static str,
    pub(crate) notes: Vec<String>,
    #[serde(flatten)]
    pub(crate) report: ReportJson,
}

/// Any failure.
#[derive(Debug, Serialize)]
pub(crate) struct FailureJson<'a> {
    ok: bool,
    command: &'a str,
    exit_code: u8,
    error: ErrorJson<'a>,
}

#[derive(Debug, Serialize)]
struct ErrorJson<'a> {
    kind: &'static str,
    message: &'a str,
    rule: Option<&'static str>,
    entry: Option<u64>,
    offset: Option<u64>,
    path: Option<&'a str>,
    raw_path: Option<&'a str>,
    hint: Option<&'a str>,
    causes: &'a [String],
    notes: &'a [String],
}

impl<'a> FailureJson<'a> {
    pub(crate) fn new(command: &'a str, failure: &'a Failure) -> Self {
        let location = failure.location.as_ref();
        FailureJson {
            ok: false,
            command,
            exit_code: failure.exit,
            error: ErrorJson {
                kind: failure.kind,
                message: &failure.message,
                rule: failure.rule.map(uncork_core::Rule::name),
                entry: location.and_then(|l| l.entry),
                offset: location.and_then(|l| l.offset),
                path: location.and_then(|l| l.path.as_deref()),
                raw_path: location.and_then(|l| l.raw_path.as_deref()),
                hint: failure.hint.as_deref(),
                causes: &failure.causes,
                notes: &failure.notes,
            },
        }
    }
}

/// Serializes to one line of JSON.
pub(crate) fn to_line<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|e| format!("{{\"ok\":false,\"error\":{{\"message\":\"{e}\"}}}}"))
}
