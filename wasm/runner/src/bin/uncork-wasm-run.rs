//! `uncork-wasm-run`: runs uncork's wasm artifacts under the embedded wasmtime 48.
//!
//! ```text
//! uncork-wasm-run wasi [COMPONENT] [--dir HOST[::GUEST]]... -- ARGS...
//!     runs the uncork-wasi command as `wasmtime run --dir ...` would (default component:
//!     target/wasm/uncork-wasi.wasm); exits with its status
//! uncork-wasm-run plan [COMPONENT] ARCHIVE [--stream] [--null]
//!     runs the planner component on ARCHIVE and prints its action dump, then the report
//!     (default component: target/wasm/uncork-planner.wasm); --null: a sink that does
//!     nothing, and only the report (the planner's own cost, for bench/run.sh)
//! uncork-wasm-run imports [COMPONENT]
//!     prints the planner component's imports
//! ```
//!
//! Compilations are cached next to each component as `*.cwasm`.

use std::path::PathBuf;
use std::process::ExitCode;
use uncork_wasm_runner::planner::{
    DumpSink, NullSink, Planner, Source, error_line, preset_options, wit,
};
use uncork_wasm_runner::wasi::{Preopen, WasiCommand};
use uncork_wasm_runner::{artifact, engine};
use wasmtime::error::Context as _;
use wasmtime::{Result, bail};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn component_arg(args: &mut Vec<String>, default: &str) -> Result<PathBuf> {
    if args.first().is_some_and(|a| a.ends_with(".wasm")) {
        Ok(PathBuf::from(args.remove(0)))
    } else {
        artifact(default)
    }
}

fn run() -> Result<ExitCode> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        bail!("usage: uncork-wasm-run wasi|plan|imports ... (see the source's docs)");
    }
    let command = args.remove(0);
    let engine = engine()?;
    match command.as_str() {
        "wasi" => {
            let component = component_arg(&mut args, "uncork-wasi.wasm")?;
            let mut preopens = Vec::new();
            let mut rest = Vec::new();
            let mut it = args.into_iter();
            while let Some(arg) = it.next() {
                match arg.as_str() {
                    "--dir" => {
                        let spec = it.next().context("--dir needs HOST[::GUEST]")?;
                        let (host, guest) = spec.split_once("::").unwrap_or((&spec, &spec));
                        preopens.push(Preopen {
                            host: PathBuf::from(host),
                            guest: guest.to_owned(),
                        });
                    }
                    "--" => {
                        rest.extend(it.by_ref());
                    }
                    _ => rest.push(arg),
                }
            }
            let command = WasiCommand::load(&engine, &component)?;
            let argv: Vec<&str> = rest.iter().map(String::as_str).collect();
            let run = command.run(&argv, &preopens, true)?;
            Ok(ExitCode::from(u8::try_from(run.code).unwrap_or(1)))
        }
        "plan" => {
            let component = component_arg(&mut args, "uncork-planner.wasm")?;
            let flag = |name: &str| args.iter().any(|a| a == name);
            let (stream, null) = (flag("--stream"), flag("--null"));
            let archive = args
                .iter()
                .find(|a| !a.starts_with("--"))
                .context("plan needs an ARCHIVE")?;
            let planner = Planner::load(&engine, &component)?;
            let source = if stream {
                Source::stream(std::fs::read(archive)?)
            } else {
                Source::file(archive.as_ref())?
            };
            let options = preset_options(wit::Preset::Data);
            let (result, dump) = if null {
                (planner.plan(source, &options, NullSink)?.0, String::new())
            } else {
                let (result, sink) = planner.plan(source, &options, DumpSink::default())?;
                (result, sink.0.text)
            };
            print!("{dump}");
            match result {
                Ok(report) => {
                    println!("{report:?}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {}", error_line(&e));
                    Ok(ExitCode::from(1))
                }
            }
        }
        "imports" => {
            let component = component_arg(&mut args, "uncork-planner.wasm")?;
            for import in Planner::load(&engine, &component)?.imports() {
                println!("{import}");
            }
            Ok(ExitCode::SUCCESS)
        }
        other => bail!("unknown command '{other}' (expected wasi, plan or imports)"),
    }
}
