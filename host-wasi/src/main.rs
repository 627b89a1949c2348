//! `uncork-wasi ARCHIVE [-C DIR] [OPTIONS]`: extract inside a preopened directory.
//! See `uncork-wasi --help` and the crate docs.

use std::io::{self, BufReader, Write};
use std::process::ExitCode;
use uncork_core::{Options, extract, extract_stream};
use uncork_wasi::cli::{self, Command};
use uncork_wasi::host::WasiHost;
use uncork_wasi::output;
use wasi::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match cli::parse(&args) {
        Ok(Command::Extract(args)) => args,
        Ok(Command::Help) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("uncork-wasi {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\nhint: uncork-wasi --help shows the usage");
            return ExitCode::from(2);
        }
    };
    let usage_error = |e: String| {
        if args.json {
            println!(
                "{{\"ok\":false,\"error\":{{\"kind\":\"usage\",\"rule\":null,\"message\":{},\"hint\":null,\"location\":null}}}}",
                output::string(&e)
            );
        } else {
            eprintln!("error: {e}");
        }
        ExitCode::from(2)
    };
    let preopens = wasi::filesystem::preopens::get_directories();
    let names: Vec<&str> = preopens.iter().map(|(_, name)| name.as_str()).collect();
    let (index, rest) = match cli::choose_preopen(&names, &args.dir) {
        Ok(found) => found,
        Err(e) => return usage_error(e),
    };
    let dest = match open_below(&preopens[index].0, &rest) {
        Ok(dest) => dest,
        Err(e) => return usage_error(format!("cannot open the destination '{}': {e}", args.dir)),
    };
    let root = dest.as_ref().unwrap_or(&preopens[index].0);

    let options = Options {
        policy: args.policy.clone(),
        format: args.format,
        strip_components: args.strip_components,
        select: None,
    };
    let mut host = WasiHost::new(root, args.symlinks, args.max_copy_bytes);
    let result = if args.archive == "-" {
        extract_stream(io::stdin().lock(), &options, &mut host)
    } else {
        match std::fs::File::open(&args.archive) {
            Ok(file) => extract(
                BufReader::with_capacity(256 * 1024, file),
                &options,
                &mut host,
            ),
            Err(e) => {
                return usage_error(format!(
                    "cannot open '{}': {e} (is it inside a directory given to the runtime with --dir?)",
                    args.archive
                ));
            }
        }
    };
    let mut stdout = io::stdout().lock();
    match result {
        Ok(report) => {
            if args.json {
                let _ = writeln!(stdout, "{}", output::report_json(&report));
            } else if !args.quiet {
                let _ = write!(stdout, "{}", output::report_text(&report, &args.dir));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            // Nothing of a failed run stays behind.
            let left = host.undo();
            if args.json {
                let _ = writeln!(stdout, "{}", output::error_json(&e));
            } else {
                eprint!("{}", output::error_text(&e));
            }
            for path in left {
                eprintln!("warning: could not remove {path} after the failure");
            }
            // WASI 0.2's `exit` carries only success or failure (exit-with-code is not
            // stable), so every failure is 1 here; `--json` tells refusals from I/O.
            ExitCode::from(1)
        }
    }
}

/// Opens (creating when missing) the directories `rest` below `base`, one component at a
/// time and never following a symlink. `None` is `base` itself.
fn open_below(base: &Descriptor, rest: &[String]) -> Result<Option<Descriptor>, ErrorCode> {
    let mut current: Option<Descriptor> = None;
    for name in rest {
        let parent = current.as_ref().unwrap_or(base);
        match parent.create_directory_at(name) {
            Ok(()) | Err(ErrorCode::Exist) => {}
            Err(e) => return Err(e),
        }
        if parent.stat_at(PathFlags::empty(), name)?.type_ != DescriptorType::Directory {
            return Err(ErrorCode::NotDirectory);
        }
        let next = parent.open_at(
            PathFlags::empty(),
            name,
            OpenFlags::DIRECTORY,
            DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY,
        )?;
        current = Some(next);
    }
    Ok(current)
}
