//! The `uncork-wasi` command (a `wasi:cli/command` component) under wasmtime, as
//! `wasmtime run --dir HOST::GUEST uncork-wasi.wasm ARGS...` would run it.

use std::path::{Path, PathBuf};
use wasmtime::Result;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::error::Context as _;
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

struct State {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// The compiled command.
pub struct WasiCommand {
    engine: Engine,
    component: Component,
    linker: Linker<State>,
}

impl std::fmt::Debug for WasiCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiCommand").finish_non_exhaustive()
    }
}

/// What a run printed and how it ended.
#[derive(Debug, Clone)]
pub struct Run {
    /// The exit status (WASI 0.2 reports success or failure: 0 or 1).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// A directory the guest sees.
#[derive(Debug, Clone)]
pub struct Preopen {
    /// The host directory.
    pub host: PathBuf,
    /// Its name in the guest (`.`, `/out`).
    pub guest: String,
}

impl WasiCommand {
    /// Compiles the component at `path` (or loads its cached compilation).
    pub fn load(engine: &Engine, path: &Path) -> Result<Self> {
        let component = crate::load_cached(engine, path)?;
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        Ok(WasiCommand {
            engine: engine.clone(),
            component,
            linker,
        })
    }

    /// Runs the command once with `args` (without the program name), seeing `preopens`
    /// read-write; `inherit_stdio` passes the process's standard streams through instead of
    /// capturing them.
    pub fn run(&self, args: &[&str], preopens: &[Preopen], inherit_stdio: bool) -> Result<Run> {
        let stdout = MemoryOutputPipe::new(16 << 20);
        let stderr = MemoryOutputPipe::new(16 << 20);
        let mut builder = WasiCtx::builder();
        let mut argv = vec!["uncork-wasi"];
        argv.extend_from_slice(args);
        builder.args(&argv);
        // Filesystem calls run on this thread instead of a blocking pool, as `wasmtime run`
        // does: a synchronous embedding has nothing else to run meanwhile, and the hand-off
        // per call cost ~100 µs per extracted file.
        builder.allow_blocking_current_thread(true);
        if inherit_stdio {
            builder.inherit_stdio();
        } else {
            builder.stdout(stdout.clone()).stderr(stderr.clone());
        }
        for p in preopens {
            builder
                .preopened_dir(&p.host, &p.guest, FsPerms::ReadWrite)
                .with_context(|| format!("preopening {}", p.host.display()))?;
        }
        let mut store = Store::new(
            &self.engine,
            State {
                ctx: builder.build(),
                table: ResourceTable::new(),
            },
        );
        let command = Command::instantiate(&mut store, &self.component, &self.linker)?;
        let code = match command.wasi_cli_run().call_run(&mut store) {
            Ok(Ok(())) => 0,
            Ok(Err(())) => 1,
            Err(trap) => match trap.downcast_ref::<wasmtime_wasi::I32Exit>() {
                Some(exit) => exit.0,
                None => return Err(trap.context("the command trapped")),
            },
        };
        Ok(Run {
            code,
            stdout: String::from_utf8_lossy(&stdout.contents()).into_owned(),
            stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
        })
    }
}
