//! The report and errors as text (`error: … / caused by: … / hint: …`) and as JSON.

use std::fmt::Write as _;
use uncork_core::error::{Location, RunError};
use uncork_core::report::Report;

/// The text report.
pub fn report_text(report: &Report, dir: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "extracted {} entries into {dir}: {} files, {} directories, {} symlinks, {} hard links, {} bytes",
        report.entries, report.files, report.dirs, report.symlinks, report.hard_links, report.bytes
    );
    for s in &report.skipped {
        let _ = writeln!(out, "skipped {} ({})", s.path, s.rule);
    }
    for d in &report.degradations {
        let _ = writeln!(out, "{d}");
    }
    if report.modes_not_applied > 0 {
        let _ = writeln!(
            out,
            "modes not applied: {} (WASI has no file modes)",
            report.modes_not_applied
        );
    }
    if report.mtimes_not_applied > 0 {
        let _ = writeln!(out, "mtimes not applied: {}", report.mtimes_not_applied);
    }
    out
}

/// The JSON report.
pub fn report_json(report: &Report) -> String {
    let skipped: Vec<String> = report
        .skipped
        .iter()
        .map(|s| {
            format!(
                "{{\"path\":{},\"rule\":{}}}",
                string(&s.path),
                string(s.rule.name())
            )
        })
        .collect();
    let degradations: Vec<String> = report
        .degradations
        .iter()
        .map(|d| {
            format!(
                "{{\"path\":{},\"effect\":{},\"fallback\":{},\"reason\":{}}}",
                string(&d.path),
                string(&d.degradation.effect.to_string()),
                string(&d.degradation.fallback.to_string()),
                string(&d.degradation.reason)
            )
        })
        .collect();
    format!(
        "{{\"ok\":true,\"format\":{},\"entries\":{},\"files\":{},\"dirs\":{},\"symlinks\":{},\"hard_links\":{},\"bytes\":{},\"skipped\":[{}],\"degradations\":[{}],\"modes_not_applied\":{},\"mtimes_not_applied\":{}}}",
        report
            .format
            .map_or("null".to_owned(), |f| string(f.name())),
        report.entries,
        report.files,
        report.dirs,
        report.symlinks,
        report.hard_links,
        report.bytes,
        skipped.join(","),
        degradations.join(","),
        report.modes_not_applied,
        report.mtimes_not_applied
    )
}

/// The error as text: `error: …`, then `caused by: …` and `hint: …` lines.
pub fn error_text<E: std::error::Error + 'static>(error: &RunError<E>) -> String {
    let mut out = format!("error: {error}\n");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let _ = writeln!(out, "caused by: {cause}");
        source = cause.source();
    }
    if let Some(rule) = error.rule() {
        let _ = writeln!(out, "hint: {}", rule.hint());
    }
    out
}

/// The error as JSON: `{"ok":false,"error":{"kind","rule","message","hint","location"}}`.
pub fn error_json<E: std::error::Error + 'static>(error: &RunError<E>) -> String {
    let kind = match error {
        RunError::Format(_) => "format",
        RunError::Refused(_) => "refused",
        RunError::Input(_) => "input",
        RunError::Host { .. } => "host",
    };
    let mut message = error.to_string();
    if let RunError::Host { source, .. } = error {
        let _ = write!(message, ": {source}");
    }
    let rule = error.rule();
    format!(
        "{{\"ok\":false,\"error\":{{\"kind\":{},\"rule\":{},\"message\":{},\"hint\":{},\"location\":{}}}}}",
        string(kind),
        rule.map_or("null".to_owned(), |r| string(r.name())),
        string(&message),
        rule.map_or("null".to_owned(), |r| string(r.hint())),
        error.location().map_or("null".to_owned(), location)
    )
}

fn location(l: &Location) -> String {
    let opt_num = |v: Option<u64>| v.map_or("null".to_owned(), |n| n.to_string());
    let opt_str = |v: &Option<String>| v.as_deref().map_or("null".to_owned(), string);
    format!(
        "{{\"entry\":{},\"offset\":{},\"raw_path\":{},\"path\":{}}}",
        opt_num(l.entry),
        opt_num(l.offset),
        opt_str(&l.raw_path),
        opt_str(&l.path)
    )
}

/// A JSON string literal.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use uncork_core::action::{Degradation, Effect, Fallback};
    use uncork_core::error::PolicyError;
    use uncork_core::report::Degraded;
    use uncork_core::{Format, Rule};

    #[test]
    fn json_escapes_and_reports_degradations() {
        assert_eq!(string("a\"b\\\n\u{1}"), r#""a\"b\\\n\u0001""#);
        let report = Report {
            format: Some(Format::TarGz),
            entries: 2,
            degradations: vec![Degraded {
                path: "README".into(),
                degradation: Degradation {
                    effect: Effect::Symlink,
                    fallback: Fallback::Copy {
                        from: "README.md".into(),
                    },
                    reason: "refused".into(),
                },
            }],
            modes_not_applied: 3,
            ..Report::default()
        };
        let json = report_json(&report);
        assert!(
            json.starts_with(r#"{"ok":true,"format":"tar.gz","entries":2,"#),
            "{json}"
        );
        assert!(json.contains(r#"{"path":"README","effect":"symlink","fallback":"copy of README.md","reason":"refused"}"#));
        assert!(json.contains(r#""modes_not_applied":3"#));
        let text = report_text(&report, "out");
        assert!(
            text.contains("README: symlink → copy of README.md (refused)"),
            "{text}"
        );
        assert!(text.contains("modes not applied: 3"));
    }

    #[test]
    fn errors_carry_the_rule_name_and_hint() {
        let e: RunError<std::io::Error> =
            RunError::Refused(PolicyError::new(Rule::LinkOutsideRoot, "'x' -> '../y'"));
        let json = error_json(&e);
        assert!(
            json.contains(r#""kind":"refused","rule":"link-outside-root""#),
            "{json}"
        );
        let text = error_text(&e);
        assert!(text.starts_with("error: link-outside-root: "), "{text}");
        assert!(text.contains("hint: "));
    }
}
