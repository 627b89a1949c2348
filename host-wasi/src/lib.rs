//! # uncork-wasi
//!
//! uncork's WASI host, built for `wasm32-wasip2`: the `uncork-wasi` command extracts an
//! archive inside a preopened directory (`wasmtime run --dir ...`). The core decides
//! everything; this crate carries the actions out with wasi:filesystem 0.2 ([`host`]) and
//! reports what WASI cannot do (modes) or what the runtime refused (symlinks, copied instead).
//!
//! The command line and the report's text and JSON forms are plain code ([`cli`], [`output`])
//! that the native test suite checks; [`host`] runs only inside a WASI runtime.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod created;
pub mod host;
pub mod output;
