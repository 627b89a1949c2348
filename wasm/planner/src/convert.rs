//! Conversions between the WIT types (`wit/uncork.wit`) and `uncork-core`'s.

use crate::bindings::uncork::extract::types as wit;
use uncork_core::action::{Action, Degradation, Effect, Fallback, LinkKind, Outcome};
use uncork_core::error::{Location, RunError};
use uncork_core::policy::{
    AbsoluteNames, Duplicates, LegacyNames, LinkScope, ModeRule, Policy, Preset, SpecialFiles,
};
use uncork_core::{Format, Options, Report};

/// The core's options from the WIT record: the preset, then every knob that is set.
pub fn options(o: &wit::Options) -> Options<'static> {
    let p = &o.policy;
    let mut policy = Policy::preset(match p.preset {
        wit::Preset::Data => Preset::Data,
        wit::Preset::Tar => Preset::Tar,
        wit::Preset::Trusted => Preset::Trusted,
        wit::Preset::Portable => Preset::Portable,
    });
    if let Some(v) = p.absolute_names {
        policy.absolute_names = match v {
            wit::AbsoluteNames::Strip => AbsoluteNames::Strip,
            wit::AbsoluteNames::Reject => AbsoluteNames::Reject,
        };
    }
    if let Some(v) = p.links {
        policy.links = match v {
            wit::LinkScope::Inside => LinkScope::Inside,
            wit::LinkScope::Anywhere => LinkScope::Anywhere,
        };
    }
    if let Some(v) = p.modes {
        policy.modes = match v {
            wit::ModeRule::Data => ModeRule::Data,
            wit::ModeRule::Tar => ModeRule::Tar,
            wit::ModeRule::Keep => ModeRule::Keep,
        };
    }
    if let Some(v) = p.special_files {
        policy.special_files = match v {
            wit::SpecialFiles::Refuse => SpecialFiles::Refuse,
            wit::SpecialFiles::Skip => SpecialFiles::Skip,
        };
    }
    if let Some(v) = p.duplicates {
        policy.duplicates = match v {
            wit::Duplicates::LastWins => Duplicates::LastWins,
            wit::Duplicates::Error => Duplicates::Error,
        };
    }
    if let Some(v) = p.portable_names {
        policy.portable_names = v;
    }
    if let Some(v) = p.legacy_names {
        policy.legacy_names = match v {
            wit::LegacyNames::Reject => LegacyNames::Reject,
            wit::LegacyNames::Latin1 => LegacyNames::Latin1,
        };
    }
    if let Some(v) = p.keep_mtimes {
        policy.keep_mtimes = v;
    }
    let l = &p.limits;
    let limits = &mut policy.limits;
    let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    if let Some(v) = l.max_total_bytes {
        limits.max_total_bytes = v;
    }
    if let Some(v) = l.max_entry_bytes {
        limits.max_entry_bytes = v;
    }
    if let Some(v) = l.max_entries {
        limits.max_entries = v;
    }
    if let Some(v) = l.max_ratio {
        limits.max_ratio = v;
    }
    if let Some(v) = l.ratio_grace_bytes {
        limits.ratio_grace_bytes = v;
    }
    if let Some(v) = l.max_path_bytes {
        limits.max_path_bytes = size(v);
    }
    if let Some(v) = l.max_name_bytes {
        limits.max_name_bytes = size(v);
    }
    if let Some(v) = l.max_depth {
        limits.max_depth = size(v);
    }
    if let Some(v) = l.max_metadata_bytes {
        limits.max_metadata_bytes = v;
    }
    if let Some(v) = l.max_link_hops {
        limits.max_link_hops = v;
    }
    Options {
        policy,
        format: o.format.map(|f| match f {
            wit::Format::Tar => Format::Tar,
            wit::Format::TarGz => Format::TarGz,
            wit::Format::TarBz2 => Format::TarBz2,
            wit::Format::TarXz => Format::TarXz,
            wit::Format::TarLzma => Format::TarLzma,
            wit::Format::TarZst => Format::TarZst,
            wit::Format::Zip => Format::Zip,
        }),
        strip_components: o.strip_components as usize,
        select: None,
    }
}

fn format(f: Format) -> wit::Format {
    match f {
        Format::Tar => wit::Format::Tar,
        Format::TarGz => wit::Format::TarGz,
        Format::TarBz2 => wit::Format::TarBz2,
        Format::TarXz => wit::Format::TarXz,
        Format::TarLzma => wit::Format::TarLzma,
        Format::TarZst => wit::Format::TarZst,
        Format::Zip => wit::Format::Zip,
    }
}

fn link_kind(k: LinkKind) -> wit::LinkKind {
    match k {
        LinkKind::File => wit::LinkKind::File,
        LinkKind::Dir => wit::LinkKind::Dir,
        LinkKind::Missing => wit::LinkKind::Missing,
        LinkKind::Outside => wit::LinkKind::Outside,
    }
}

/// Hands the WIT form of `action` (borrowing its strings and data) to `f`.
pub fn with_action<R>(action: &Action<'_>, f: impl FnOnce(wit::Action<'_>) -> R) -> R {
    match *action {
        Action::MakeDir { path, replace } => {
            f(wit::Action::MakeDir(wit::MakeDir { path, replace }))
        }
        Action::BeginFile {
            path,
            size,
            mode,
            mtime,
            replace,
        } => f(wit::Action::BeginFile(wit::BeginFile {
            path,
            size,
            mode,
            mtime,
            replace,
        })),
        Action::FileData { data } => f(wit::Action::FileData(data)),
        Action::EndFile => f(wit::Action::EndFile),
        Action::HardLink {
            path,
            target,
            replace,
        } => f(wit::Action::HardLink(wit::HardLink {
            path,
            target,
            replace,
        })),
        Action::Symlink {
            path,
            target,
            resolved,
            kind,
            replace,
        } => f(wit::Action::Symlink(wit::Symlink {
            path,
            target,
            resolved,
            kind: link_kind(kind),
            replace,
        })),
        Action::SetMode { path, mode } => f(wit::Action::SetMode(wit::SetMode { path, mode })),
        Action::SetMtime { path, mtime } => f(wit::Action::SetMtime(wit::SetMtime { path, mtime })),
        Action::Skip { path, rule } => f(wit::Action::Skip(wit::Skip {
            path,
            rule: rule.name(),
        })),
    }
}

/// The core's outcome from the sink's answer.
pub fn outcome(o: wit::Outcome) -> Outcome {
    match o {
        wit::Outcome::Done => Outcome::Done,
        wit::Outcome::Degraded(d) => Outcome::Degraded(degradation_in(d)),
    }
}

fn degradation_in(d: wit::Degradation) -> Degradation {
    Degradation {
        effect: match d.effect {
            wit::Effect::Symlink => Effect::Symlink,
            wit::Effect::HardLink => Effect::HardLink,
            wit::Effect::Mode => Effect::Mode,
            wit::Effect::Mtime => Effect::Mtime,
        },
        fallback: match d.fallback {
            wit::Fallback::Copy(from) => Fallback::Copy { from },
            wit::Fallback::Junction => Fallback::Junction,
            wit::Fallback::HardLink => Fallback::HardLink,
            wit::Fallback::Symlink => Fallback::Symlink,
            wit::Fallback::Approximated(how) => Fallback::Approximated(how),
            wit::Fallback::Skipped => Fallback::Skipped,
        },
        reason: d.reason,
    }
}

fn degradation_out(d: &Degradation) -> wit::Degradation {
    wit::Degradation {
        effect: match d.effect {
            Effect::Symlink => wit::Effect::Symlink,
            Effect::HardLink => wit::Effect::HardLink,
            Effect::Mode => wit::Effect::Mode,
            Effect::Mtime => wit::Effect::Mtime,
        },
        fallback: match &d.fallback {
            Fallback::Copy { from } => wit::Fallback::Copy(from.clone()),
            Fallback::Junction => wit::Fallback::Junction,
            Fallback::HardLink => wit::Fallback::HardLink,
            Fallback::Symlink => wit::Fallback::Symlink,
            Fallback::Approximated(how) => wit::Fallback::Approximated(how.clone()),
            Fallback::Skipped => wit::Fallback::Skipped,
        },
        reason: d.reason.clone(),
    }
}

/// The WIT report.
pub fn report(r: &Report) -> wit::Report {
    wit::Report {
        format: r.format.map(format),
        entries: r.entries,
        files: r.files,
        dirs: r.dirs,
        symlinks: r.symlinks,
        hard_links: r.hard_links,
        bytes: r.bytes,
        skipped: r
            .skipped
            .iter()
            .map(|s| wit::Skipped {
                path: s.path.clone(),
                rule: s.rule.name().to_owned(),
            })
            .collect(),
        degradations: r
            .degradations
            .iter()
            .map(|d| wit::Degraded {
                path: d.path.clone(),
                degradation: degradation_out(&d.degradation),
            })
            .collect(),
        modes_not_applied: r.modes_not_applied,
        mtimes_not_applied: r.mtimes_not_applied,
    }
}

fn location(l: &Location) -> wit::Location {
    wit::Location {
        entry: l.entry,
        offset: l.offset,
        raw_path: l.raw_path.clone(),
        path: l.path.clone(),
    }
}

/// The WIT error, rule names as their stable strings.
pub fn error<E: std::error::Error>(e: &RunError<E>) -> wit::Error {
    let rule_error = |rule: uncork_core::Rule, detail: &str, at: &Location| wit::RuleError {
        rule: rule.name().to_owned(),
        detail: detail.to_owned(),
        hint: rule.hint().to_owned(),
        location: location(at),
    };
    match e {
        RunError::Format(f) => wit::Error::Format(rule_error(f.rule, &f.detail, &f.location)),
        RunError::Refused(p) => wit::Error::Refused(rule_error(p.rule, &p.detail, &p.location)),
        RunError::Input(io) => wit::Error::Input(io.to_string()),
        RunError::Host {
            action,
            location: at,
            source,
        } => wit::Error::Host(wit::HostError {
            action: (*action).to_owned(),
            location: location(at),
            message: source.to_string(),
        }),
    }
}
