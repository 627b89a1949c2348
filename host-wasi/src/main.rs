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
    // The archive first: a run that cannot read it makes no destination.
    let archive = if args.archive == "-" {
        None
    } else {
        match std::fs::File::open(&args.archive) {
            Ok(file) => Some(file),
            Err(e) => {
                return usage_error(format!(
                    "cannot open '{}': {e} (is it inside a directory given to the runtime with --dir?)",
                    args.archive
                ));
            }
        }
    };
    let base = &preopens[index].0;
    let dest = match Destination::open(base, &rest) {
        Ok(dest) => dest,
        Err(e) => return usage_error(format!("cannot open the destination '{}': {e}", args.dir)),
    };
    let root = dest.chain.last().unwrap_or(base);
    let fresh = dest.first_made.is_some();

    let options = Options {
        policy: args.policy.clone(),
        format: args.format,
        strip_components: args.strip_components,
        select: None,
    };
    let mut host = WasiHost::new(root, fresh, args.symlinks, args.max_copy_bytes);
    let result = match archive {
        None => extract_stream(io::stdin().lock(), &options, &mut host),
        Some(file) => extract(
            BufReader::with_capacity(256 * 1024, file),
            &options,
            &mut host,
        ),
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
            let mut left = host.undo();
            left.extend(dest.remove_made(base, &rest));
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

/// The destination's directories below the preopened one, as opened.
struct Destination {
    /// One descriptor for each component of the path below the preopen (none: the preopen
    /// itself is the destination).
    chain: Vec<Descriptor>,
    /// The first component this run made: it and all below it are new (and were empty).
    first_made: Option<usize>,
}

impl Destination {
    /// Opens (creating when missing) the directories `rest` below `base`, one component at a
    /// time and never following a symlink. On an error, what it made is removed again.
    fn open(base: &Descriptor, rest: &[String]) -> Result<Destination, ErrorCode> {
        let mut dest = Destination {
            chain: Vec::new(),
            first_made: None,
        };
        for (i, name) in rest.iter().enumerate() {
            let parent = dest.chain.last().unwrap_or(base);
            let made = match parent.create_directory_at(name) {
                Ok(()) => true,
                Err(ErrorCode::Exist) => false,
                Err(e) => {
                    dest.remove_made(base, &rest[..i]);
                    return Err(e);
                }
            };
            if made {
                dest.first_made.get_or_insert(i);
            }
            let opened = match parent.stat_at(PathFlags::empty(), name) {
                Ok(stat) if stat.type_ != DescriptorType::Directory => Err(ErrorCode::NotDirectory),
                Ok(_) => parent.open_at(
                    PathFlags::empty(),
                    name,
                    OpenFlags::DIRECTORY,
                    DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY,
                ),
                Err(e) => Err(e),
            };
            match opened {
                Ok(next) => dest.chain.push(next),
                Err(e) => {
                    // Component i too, if this run made it.
                    dest.remove_made(base, &rest[..i + usize::from(made)]);
                    return Err(e);
                }
            }
        }
        Ok(dest)
    }

    /// After a failed run (its tree undone): removes the directories this run made among
    /// `path` (the destination's path below the preopen, or the part of it opened so far),
    /// deepest first, as a native run leaves no destination it made. Returns what could not be
    /// removed.
    fn remove_made(&self, base: &Descriptor, path: &[String]) -> Vec<String> {
        let Some(first) = self.first_made else {
            return Vec::new();
        };
        let mut left = Vec::new();
        for i in (first..path.len()).rev() {
            let parent = if i == 0 { base } else { &self.chain[i - 1] };
            if let Err(e) = parent.remove_directory_at(&path[i]) {
                left.push(format!("{} ({})", path[..=i].join("/"), e.message()));
            }
        }
        left
    }
}
