//! # uncork-wasm-runner
//!
//! Embeds wasmtime 48 to run uncork's wasm artifacts (built by `scripts/build-wasm.sh` into
//! `target/wasm/`):
//!
//! - [`planner`]: the planner component (`uncork:extract/planner`) with a Rust source and sink;
//!   the tests compare its action stream with the native core's.
//! - [`wasi`]: the `uncork-wasi` command with preopened directories, as `wasmtime run` does.
//!
//! This crate is its own workspace, outside the root's members: wasmtime is built once, in the
//! release profile, by the test command only.

pub mod planner;
pub mod wasi;

use std::path::{Path, PathBuf};
use wasmtime::Result;
use wasmtime::component::Component;
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine};

/// Where the wasm artifacts are: `$UNCORK_WASM_DIR`, else `<repo>/target/wasm`.
pub fn artifact_dir() -> PathBuf {
    std::env::var_os("UNCORK_WASM_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/wasm"),
        PathBuf::from,
    )
}

/// The path of one artifact, or an error saying how to build it.
pub fn artifact(name: &str) -> Result<PathBuf> {
    let path = artifact_dir().join(name);
    wasmtime::ensure!(
        path.is_file(),
        "{} is missing: run scripts/build-wasm.sh first",
        path.display()
    );
    Ok(path)
}

/// The engine every runner uses (component model on, default Cranelift settings).
pub fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // `UNCORK_PERFMAP=1`: wasmtime writes /tmp/perf-PID.map, so `perf report` names the
    // guest's functions (how the WASI command's profile in bench/README.md was taken).
    if std::env::var_os("UNCORK_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Engine::new(&config)
}

/// Compiles a component, reusing `<path>.cwasm` when it is newer than `path` and was made by
/// this build of wasmtime (wasmtime checks that), else writing it.
pub fn load_cached(engine: &Engine, path: &Path) -> Result<Component> {
    let cache = path.with_extension("cwasm");
    let fresh = match (std::fs::metadata(path), std::fs::metadata(&cache)) {
        (Ok(src), Ok(c)) => c.modified()? >= src.modified()?,
        _ => false,
    };
    if fresh {
        // SAFETY: the file was written by `Component::serialize` below, from this
        // directory's own artifact; wasmtime refuses a file made by another version or config.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &cache) };
        if let Ok(component) = loaded {
            return Ok(component);
        }
    }
    let component = Component::from_file(engine, path)
        .with_context(|| format!("compiling {}", path.display()))?;
    // Written aside, then renamed: a concurrent reader maps a whole file or none.
    let tmp = cache.with_extension(format!("cwasm.{}.tmp", std::process::id()));
    std::fs::write(&tmp, component.serialize()?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &cache).with_context(|| format!("writing {}", cache.display()))?;
    Ok(component)
}
