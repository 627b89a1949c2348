//! Human-readable output: the extraction summary, listings, errors.

use super::failure::Failure;
use std::fmt::Write as _;
use uncork_core::{Listed, ListedKind, Report};

/// `1.2 KiB`, `512 B`, `3.4 MiB`.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `5 entries (3 files, 1 dir, 1 symlink), 1.2 KiB`
pub(crate) fn counts(report: &Report, not_selected: u64) -> String {
    let mut parts = vec![
        count(report.files, "file", "files"),
        count(report.dirs, "dir", "dirs"),
    ];
    parts.push(count(report.symlinks, "symlink", "symlinks"));
    if report.hard_links > 0 {
        parts.push(count(report.hard_links, "hard link", "hard links"));
    }
    if !report.skipped.is_empty() {
        parts.push(format!("{} skipped", report.skipped.len()));
    }
    if not_selected > 0 {
        parts.push(format!("{not_selected} not selected"));
    }
    format!(
        "{} ({}), {}",
        count(report.entries, "entry", "entries"),
        parts.join(", "),
        human_size(report.bytes)
    )
}

/// The lines after the summary: each degradation, each skipped entry, what could not be
/// applied at all.
pub(crate) fn report_details(report: &Report) -> Vec<String> {
    let mut lines: Vec<String> = report
        .degradations
        .iter()
        .map(ToString::to_string)
        .collect();
    for skipped in &report.skipped {
        lines.push(format!("{}: skipped ({})", skipped.path, skipped.rule));
    }
    if report.modes_not_applied > 0 {
        lines.push(format!(
            "note: {} not applied (the platform has none)",
            count(report.modes_not_applied, "mode", "modes")
        ));
    }
    if report.mtimes_not_applied > 0 {
        lines.push(format!(
            "note: {} not applied",
            count(report.mtimes_not_applied, "mtime", "mtimes")
        ));
    }
    lines
}

/// `error: …` / `caused by: …` / `hint: …` / `note: …`
pub(crate) fn failure(failure: &Failure) -> String {
    let mut out = format!("error: {}\n", failure.message);
    for cause in &failure.causes {
        let _ = writeln!(out, "caused by: {cause}");
    }
    if let Some(hint) = &failure.hint {
        let _ = writeln!(out, "hint: {hint}");
    }
    for note in &failure.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// A listing line: the name (directories end in `/`), with `-v` a long line like `tar -tv`.
pub(crate) fn listed(entry: &Listed, long: bool) -> String {
    let mut name = entry.path.clone().unwrap_or_else(|| entry.raw_name.clone());
    if entry.kind == ListedKind::Dir {
        name.push('/');
    }
    if !long {
        return if entry.path.is_none() {
            format!("{name}  (refused by the policy)")
        } else {
            name
        };
    }
    let mut line = format!(
        "{} {:>10} {} {name}",
        mode_string(entry.kind, entry.mode),
        entry.size,
        entry
            .mtime
            .map_or_else(|| "????-??-?? ??:??".to_owned(), utc_minute)
    );
    match (entry.kind, &entry.link_target) {
        (ListedKind::Symlink, Some(target)) => {
            let _ = write!(line, " -> {target}");
        }
        (ListedKind::HardLink, Some(target)) => {
            let _ = write!(line, " link to {target}");
        }
        _ => {}
    }
    if entry.path.is_none() {
        line.push_str("  (refused by the policy)");
    }
    line
}

/// `drwxr-xr-x`, `-rwsr-xr-x`, `lrwxrwxrwx`.
pub(crate) fn mode_string(kind: ListedKind, mode: Option<u32>) -> String {
    let (type_char, default) = match kind {
        ListedKind::File => ('-', 0o644),
        ListedKind::Dir => ('d', 0o755),
        ListedKind::Symlink => ('l', 0o777),
        ListedKind::HardLink => ('h', 0o644),
        ListedKind::CharDevice => ('c', 0o644),
        ListedKind::BlockDevice => ('b', 0o644),
        ListedKind::Fifo => ('p', 0o644),
    };
    let mode = mode.unwrap_or(default);
    let mut out = String::with_capacity(10);
    out.push(type_char);
    let specials = [(0o4000, 's', 'S'), (0o2000, 's', 'S'), (0o1000, 't', 'T')];
    for (i, (special, set, unset)) in specials.into_iter().enumerate() {
        let shift = 6 - 3 * i;
        let bits = (mode >> shift) & 0o7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        let exec = bits & 1 != 0;
        out.push(match (mode & special != 0, exec) {
            (true, true) => set,
            (true, false) => unset,
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    out
}

/// Seconds since the epoch as UTC `YYYY-MM-DD HH:MM`.
pub(crate) fn utc_minute(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_modes_and_dates() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1229), "1.2 KiB");
        assert_eq!(human_size(5 << 20), "5.0 MiB");
        assert_eq!(mode_string(ListedKind::Dir, Some(0o755)), "drwxr-xr-x");
        assert_eq!(mode_string(ListedKind::File, Some(0o4755)), "-rwsr-xr-x");
        assert_eq!(mode_string(ListedKind::File, Some(0o1644)), "-rw-r--r-T");
        assert_eq!(mode_string(ListedKind::Symlink, None), "lrwxrwxrwx");
        assert_eq!(utc_minute(0), "1970-01-01 00:00");
        assert_eq!(utc_minute(1_700_000_000), "2023-11-14 22:13");
        assert_eq!(utc_minute(-60), "1969-12-31 23:59");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00");
    }

    #[test]
    fn summary_counts() {
        let report = Report {
            entries: 5,
            files: 3,
            dirs: 1,
            symlinks: 1,
            bytes: 1229,
            ..Report::default()
        };
        assert_eq!(
            counts(&report, 0),
            "5 entries (3 files, 1 dir, 1 symlink), 1.2 KiB"
        );
        assert_eq!(
            counts(&report, 2),
            "5 entries (3 files, 1 dir, 1 symlink, 2 not selected), 1.2 KiB"
        );
    }
}
