//! The planner component (world `uncork:extract/planner`) under wasmtime, with a Rust source
//! and sink.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use uncork_core::action::{Action, Degradation, Effect, Fallback, Host, LinkKind, Outcome};
use uncork_core::{Rule, dump};
use wasmtime::Result;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::error::Context as _;
use wasmtime::{Engine, Store};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "planner",
    });
}

pub use bindings::uncork::extract::types as wit;
use bindings::uncork::extract::{sink, source, types};

/// Where the archive's bytes come from.
#[derive(Debug)]
pub enum Source {
    /// In memory; `seekable: false` makes the planner read it as a stream (`read`).
    Bytes {
        /// The archive.
        data: Vec<u8>,
        /// Whether `size()` answers (random access) or not (a stream).
        seekable: bool,
        /// Next byte for `read`.
        pos: usize,
    },
    /// A file, read with `pread`.
    File(File),
}

impl Source {
    /// An in-memory archive, offered with random access.
    pub fn bytes(data: Vec<u8>) -> Self {
        Source::Bytes {
            data,
            seekable: true,
            pos: 0,
        }
    }

    /// An in-memory archive, offered as a stream.
    pub fn stream(data: Vec<u8>) -> Self {
        Source::Bytes {
            data,
            seekable: false,
            pos: 0,
        }
    }

    /// A file.
    pub fn file(path: &Path) -> Result<Self> {
        Ok(Source::File(
            File::open(path).with_context(|| format!("opening {}", path.display()))?,
        ))
    }
}

/// Receives the planner's actions.
pub trait Sink: Send + 'static {
    /// Carries out one action.
    fn apply(&mut self, action: wit::Action) -> Result<wit::Outcome, String>;
}

struct State<S> {
    source: Source,
    sink: S,
}

impl<S: Sink> types::Host for State<S> {}

impl<S: Sink> source::Host for State<S> {
    fn size(&mut self) -> Option<u64> {
        match &self.source {
            Source::Bytes { data, seekable, .. } => seekable.then_some(data.len() as u64),
            Source::File(f) => f.metadata().ok().map(|m| m.len()),
        }
    }

    fn read(&mut self, max_len: u32) -> Result<Vec<u8>, String> {
        match &mut self.source {
            Source::Bytes { data, pos, .. } => {
                let end = data.len().min(*pos + max_len as usize);
                let chunk = data[*pos..end].to_vec();
                *pos = end;
                Ok(chunk)
            }
            Source::File(_) => Err("this source is read with read-at".into()),
        }
    }

    fn read_at(&mut self, offset: u64, len: u32) -> Result<Vec<u8>, String> {
        match &self.source {
            Source::Bytes { data, .. } => {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                let end = data.len().min(start + len as usize);
                Ok(data[start..end].to_vec())
            }
            Source::File(f) => {
                let mut buf = vec![0u8; len as usize];
                let mut filled = 0;
                while filled < buf.len() {
                    match f.read_at(&mut buf[filled..], offset + filled as u64) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
                buf.truncate(filled);
                Ok(buf)
            }
        }
    }
}

impl<S: Sink> sink::Host for State<S> {
    fn apply(&mut self, action: wit::Action) -> Result<wit::Outcome, String> {
        self.sink.apply(action)
    }
}

/// The compiled planner component.
pub struct Planner {
    engine: Engine,
    component: Component,
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planner").finish_non_exhaustive()
    }
}

impl Planner {
    /// Compiles the component at `path` (or loads its cached compilation).
    pub fn load(engine: &Engine, path: &Path) -> Result<Self> {
        let component = crate::load_cached(engine, path)?;
        Ok(Planner {
            engine: engine.clone(),
            component,
        })
    }

    /// The component's import names, as the component model sees them.
    pub fn imports(&self) -> Vec<String> {
        self.component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// Runs `plan` once, in a fresh store (a trap leaves an instance unusable), and gives the
    /// sink back.
    pub fn plan<S: Sink>(
        &self,
        source: Source,
        options: &wit::Options,
        sink: S,
    ) -> Result<(Result<wit::Report, wit::Error>, S)> {
        let mut linker = Linker::<State<S>>::new(&self.engine);
        bindings::Planner::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        let mut store = Store::new(&self.engine, State { source, sink });
        let planner = bindings::Planner::instantiate(&mut store, &self.component, &linker)?;
        let result = planner.call_plan(&mut store, *options)?;
        Ok((result, store.into_data().sink))
    }
}

/// The options of a preset with no knob changed.
pub fn preset_options(preset: wit::Preset) -> wit::Options {
    wit::Options {
        policy: wit::Policy {
            preset,
            absolute_names: None,
            links: None,
            modes: None,
            special_files: None,
            duplicates: None,
            portable_names: None,
            legacy_names: None,
            keep_mtimes: None,
            limits: wit::Limits {
                max_total_bytes: None,
                max_entry_bytes: None,
                max_entries: None,
                max_ratio: None,
                ratio_grace_bytes: None,
                max_path_bytes: None,
                max_name_bytes: None,
                max_depth: None,
                max_metadata_bytes: None,
                max_link_hops: None,
            },
        },
        format: None,
        strip_components: 0,
    }
}

/// Hands the core's form of a WIT action to `f` (borrowing its strings and data).
pub fn with_core_action<R>(
    action: &wit::Action,
    f: impl FnOnce(&Action<'_>) -> R,
) -> Result<R, String> {
    let kind = |k: wit::LinkKind| match k {
        wit::LinkKind::File => LinkKind::File,
        wit::LinkKind::Dir => LinkKind::Dir,
        wit::LinkKind::Missing => LinkKind::Missing,
        wit::LinkKind::Outside => LinkKind::Outside,
    };
    Ok(f(&match action {
        wit::Action::MakeDir(a) => Action::MakeDir {
            path: &a.path,
            replace: a.replace,
        },
        wit::Action::BeginFile(a) => Action::BeginFile {
            path: &a.path,
            size: a.size,
            mode: a.mode,
            mtime: a.mtime,
            replace: a.replace,
        },
        wit::Action::FileData(data) => Action::FileData { data },
        wit::Action::EndFile => Action::EndFile,
        wit::Action::HardLink(a) => Action::HardLink {
            path: &a.path,
            target: &a.target,
            replace: a.replace,
        },
        wit::Action::Symlink(a) => Action::Symlink {
            path: &a.path,
            target: &a.target,
            resolved: a.resolved.as_deref(),
            kind: kind(a.kind),
            replace: a.replace,
        },
        wit::Action::SetMode(a) => Action::SetMode {
            path: &a.path,
            mode: a.mode,
        },
        wit::Action::SetMtime(a) => Action::SetMtime {
            path: &a.path,
            mtime: a.mtime,
        },
        wit::Action::Skip(a) => Action::Skip {
            path: &a.path,
            rule: a
                .rule
                .parse::<Rule>()
                .map_err(|()| format!("unknown rule name '{}'", a.rule))?,
        },
    }))
}

/// The core's outcome as the WIT one.
pub fn wit_outcome(outcome: Outcome) -> wit::Outcome {
    match outcome {
        Outcome::Done => wit::Outcome::Done,
        Outcome::Degraded(d) => wit::Outcome::Degraded(wit_degradation(&d)),
    }
}

fn wit_degradation(d: &Degradation) -> wit::Degradation {
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

/// A sink that runs the core's [`Host`] on every action (the in-memory reference host, the
/// dump, a host of a test's own).
#[derive(Debug, Default)]
pub struct CoreSink<H>(pub H);

impl<H: Host + Send + 'static> Sink for CoreSink<H> {
    fn apply(&mut self, action: wit::Action) -> Result<wit::Outcome, String> {
        let outcome = with_core_action(&action, |a| self.0.apply(a))?;
        outcome.map(wit_outcome).map_err(|e| e.to_string())
    }
}

/// The dump of an action stream, as [`uncork_core::dump::Dump`] writes it.
pub type DumpSink = CoreSink<dump::Dump>;

/// A sink that carries nothing out: what is left is the planner's own cost under wasmtime
/// (decompression, parsing, planning, and handing each action across the component boundary).
#[derive(Debug, Default)]
pub struct NullSink;

impl Sink for NullSink {
    fn apply(&mut self, _: wit::Action) -> Result<wit::Outcome, String> {
        Ok(wit::Outcome::Done)
    }
}

/// A one-line rendering of the planner's error, with its rule name when it has one.
pub fn error_line(e: &wit::Error) -> String {
    match e {
        wit::Error::Format(r) => format!("format {}: {}", r.rule, r.detail),
        wit::Error::Refused(r) => format!("refused {}: {}", r.rule, r.detail),
        wit::Error::Input(m) => format!("input: {m}"),
        wit::Error::Host(h) => format!("host {}: {}", h.action, h.message),
    }
}
