//! The commands: extract, list, plan, check.

use super::args::{CheckArgs, Command, ExtractArgs, ReadArgs};
use super::failure::Failure;
use super::input::Input;
use super::json::{
    self, CheckJson, ExtractJson, FailureJson, ListJson, ListedJson, PlanJson, ReportJson,
};
use super::options;
use super::progress::Progress;
use super::render;
use super::select::Selector;
use std::convert::Infallible;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use uncork_core::{Action, Fallback, Host, Listed, Options, Outcome, Preset, Report, RunError};
use uncork_native::{CancelToken, ExtractError, HostOptions, NativeHost};

/// Writes a line to standard output; a closed pipe is not an error worth a panic.
fn out(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Writes a line to standard error.
fn err(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Runs a command; renders its failure and returns the exit code.
pub(crate) fn dispatch(command: Command) -> ExitCode {
    let (name, json, result) = match &command {
        Command::Extract(args) => ("extract", args.read.json, extract(args)),
        Command::List(args) => ("list", args.json, list(args)),
        Command::Plan(args) => ("plan", args.json, plan(args)),
        Command::Check(args) => ("check", args.read.json, check(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if json {
                out(&json::to_line(&FailureJson::new(name, &failure)));
            } else {
                let _ = write!(std::io::stderr().lock(), "{}", render::failure(&failure));
            }
            ExitCode::from(failure.exit)
        }
    }
}

fn archive_name(args: &ReadArgs) -> String {
    args.archive.display().to_string()
}

/// Runs `body` with the core's options for `args` (the selection closure lives here) and a
/// count of the entries the selection left out.
fn with_options<T>(
    args: &ReadArgs,
    preset: Preset,
    body: impl FnOnce(&Options<'_>, &AtomicU64) -> Result<T, Box<Failure>>,
) -> Result<T, Box<Failure>> {
    let selector = Selector::new(&args.include, &args.exclude)?;
    // Atomic: the core may run on a thread of its own (see pipeline.rs).
    let not_selected = AtomicU64::new(0);
    let accept = |path: &str| {
        let keep = selector.accepts(path);
        if !keep {
            not_selected.fetch_add(1, Ordering::Relaxed);
        }
        keep
    };
    let options = Options {
        policy: options::policy(args, preset),
        format: args.format,
        strip_components: args.strip_components,
        select: selector
            .is_active()
            .then_some(&accept as &(dyn Fn(&str) -> bool + Sync)),
    };
    body(&options, &not_selected)
}

fn open(args: &ReadArgs, count: Arc<AtomicU64>, token: CancelToken) -> Result<Input, Box<Failure>> {
    Input::open(&args.archive, count, token).map_err(|e| Box::new(Failure::io(&e)))
}

/// A token that SIGINT, SIGTERM and SIGHUP set (Unix): the extraction then stops at its next
/// action and is undone like any failure, and the command exits 128 + the signal's number.
fn cancel_on_signals() -> CancelToken {
    let token = CancelToken::new();
    #[cfg(unix)]
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        // Registration fails only for forbidden signals; these three are not.
        let _ = signal_hook::flag::register_usize(signal, token.signal_flag(), signal as usize);
    }
    token
}

fn extract(args: &ExtractArgs) -> Result<(), Box<Failure>> {
    let read = &args.read;
    with_options(read, read.policy, |options, not_selected| {
        let count = Arc::new(AtomicU64::new(0));
        let token = cancel_on_signals();
        let input = open(read, Arc::clone(&count), token.clone())?;
        let dest = args.directory.clone().unwrap_or_else(|| PathBuf::from("."));
        let host_options = HostOptions {
            symlinks: args.symlinks,
            overwrite: args.overwrite,
            trust_existing_symlinks: args.trust_existing_symlinks,
            max_copy_bytes: options.policy.limits.max_total_bytes,
            max_copy_entries: options.policy.limits.max_entries,
            protect: match &input {
                Input::File { path, .. } => vec![path.clone()],
                Input::Stdin(_) => Vec::new(),
            },
            cancel: Some(token),
            ..HostOptions::default()
        };
        let verbose = read.verbose && !read.json;
        let mut host = NativeHost::open(&dest, host_options)
            .map_err(|e| Failure::from_extract(&ExtractError::Host(e)))?;
        let progress = Progress::new(
            !read.quiet && !read.json && !read.verbose,
            input.size(),
            count,
            host.bytes_written(),
        );
        let tally = progress.tally();
        host.set_observer(move |action: &Action<'_>, outcome: &Outcome| {
            let nothing_made =
                matches!(outcome, Outcome::Degraded(d) if d.fallback == Fallback::Skipped);
            if !nothing_made {
                tally.on_action(action);
            }
            if verbose
                && !nothing_made
                && let Action::MakeDir { path, .. }
                | Action::BeginFile { path, .. }
                | Action::HardLink { path, .. }
                | Action::Symlink { path, .. } = action
            {
                out(path);
            }
        });
        let result = match input {
            Input::File { reader, .. } => {
                uncork_native::pipeline::extract_file(reader, options, &mut host)
            }
            Input::Stdin(reader) => {
                uncork_native::pipeline::extract_stream(reader, options, &mut host)
            }
        };
        let finished = host.finish(result);
        progress.finish();
        let done = finished.map_err(|e| Failure::from_extract(&e))?;
        if read.json {
            out(&json::to_line(&ExtractJson {
                ok: true,
                command: "extract",
                archive: archive_name(read),
                destination: done.destination.display().to_string(),
                policy: options.policy.preset.name(),
                symlink_mode: done.symlinks.name(),
                platform: done.platform,
                staged: done.staged,
                report: ReportJson::new(&done.report, not_selected.load(Ordering::Relaxed)),
                overwritten: done.overwritten.clone(),
                warnings: done.warnings.clone(),
                recovered: done.recovered.clone(),
            }));
        } else if !read.quiet {
            err(&format!(
                "extracted {} into {}",
                render::counts(&done.report, not_selected.load(Ordering::Relaxed)),
                done.destination.display()
            ));
            for line in render::report_details(&done.report) {
                err(&line);
            }
            for path in &done.overwritten {
                err(&format!("{path}: replaced the existing file"));
            }
        }
        for warning in &done.warnings {
            err(&format!("warning: {warning}"));
        }
        if !read.quiet && !read.json {
            for note in &done.recovered {
                err(&format!("note: {note}"));
            }
        }
        Ok(())
    })
}

fn list(args: &ReadArgs) -> Result<(), Box<Failure>> {
    with_options(args, args.policy, |options, not_selected| {
        let input = open(args, Arc::new(AtomicU64::new(0)), CancelToken::new())?;
        let mut listing = Vec::new();
        let mut visit = |entry: &Listed| {
            if args.json {
                listing.push(ListedJson::from(entry));
            } else {
                out(&render::listed(entry, args.verbose));
            }
        };
        let report = match input {
            Input::File { reader, .. } => uncork_core::list(reader, options, &mut visit),
            Input::Stdin(reader) => uncork_core::list_stream(reader, options, &mut visit),
        }
        .map_err(|e| Failure::from_run(&e))?;
        if args.json {
            out(&json::to_line(&ListJson {
                ok: true,
                command: "list",
                archive: archive_name(args),
                listing,
                report: ReportJson::new(&report, not_selected.load(Ordering::Relaxed)),
            }));
        }
        Ok(())
    })
}

/// A host that hands each action's dump line to a closure and writes nothing.
struct Printer<F: FnMut(String)>(F);

impl<F: FnMut(String)> Host for Printer<F> {
    type Error = Infallible;
    fn apply(&mut self, action: &Action<'_>) -> Result<Outcome, Infallible> {
        if let Some(line) = uncork_core::dump::line(action) {
            (self.0)(line);
        }
        Ok(Outcome::Done)
    }
}

/// Plans `args`'s archive under `preset`, handing each dump line to `each`.
fn run_plan(
    args: &ReadArgs,
    preset: Preset,
    each: impl FnMut(String),
) -> Result<(Report, &'static str, u64), Box<Failure>> {
    with_options(args, preset, |options, not_selected| {
        let input = open(args, Arc::new(AtomicU64::new(0)), CancelToken::new())?;
        let mut printer = Printer(each);
        let result: Result<Report, RunError<Infallible>> = match input {
            Input::File { reader, .. } => uncork_core::extract(reader, options, &mut printer),
            Input::Stdin(reader) => uncork_core::extract_stream(reader, options, &mut printer),
        };
        result
            .map(|r| {
                (
                    r,
                    options.policy.preset.name(),
                    not_selected.load(Ordering::Relaxed),
                )
            })
            .map_err(|e| Box::new(Failure::from_run(&e)))
    })
}

fn plan(args: &ReadArgs) -> Result<(), Box<Failure>> {
    let mut actions = Vec::new();
    let (report, policy, not_selected) = run_plan(args, args.policy, |line| {
        if args.json {
            actions.push(line);
        } else {
            out(&line);
        }
    })?;
    if args.json {
        out(&json::to_line(&PlanJson {
            ok: true,
            command: "plan",
            archive: archive_name(args),
            policy,
            actions,
            report: ReportJson::new(&report, not_selected),
        }));
    } else if !args.quiet {
        out(&format!(
            "plan: {} under the {policy} policy; nothing was written",
            render::counts(&report, not_selected)
        ));
        for line in render::report_details(&report) {
            out(&line);
        }
    }
    Ok(())
}

fn check(args: &CheckArgs) -> Result<(), Box<Failure>> {
    let read = &args.read;
    let preset = if args.portable {
        Preset::Portable
    } else {
        read.policy
    };
    let (report, policy, not_selected) =
        run_plan(read, preset, |_| {}).map_err(|mut failure| {
            if args.portable && failure.exit == super::failure::EXIT_REFUSED {
                failure
                    .notes
                    .push("the archive does not extract faithfully on every platform".to_owned());
            }
            failure
        })?;
    let mut notes = Vec::new();
    if report.symlinks > 0 {
        notes.push(format!(
            "{} symlink(s): where links cannot be made (Windows without the privilege) uncork makes a junction or a copy of the target, and reports it",
            report.symlinks
        ));
    }
    if !report.skipped.is_empty() {
        notes.push(format!(
            "{} entries are skipped by the policy",
            report.skipped.len()
        ));
    }
    if read.json {
        out(&json::to_line(&CheckJson {
            ok: true,
            command: "check",
            archive: archive_name(read),
            policy,
            notes,
            report: ReportJson::new(&report, not_selected),
        }));
    } else if !read.quiet {
        let verdict = if args.portable {
            "extracts faithfully on Linux, macOS, Windows and WASI".to_owned()
        } else {
            format!("extracts under the {policy} policy")
        };
        out(&format!(
            "{}: ok: {verdict}: {}",
            archive_name(read),
            render::counts(&report, not_selected)
        ));
        for note in notes {
            out(&format!("note: {note}"));
        }
    }
    Ok(())
}
