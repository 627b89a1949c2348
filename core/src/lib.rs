//! # uncork-core
//!
//! Archive bytes in, an ordered, policy-checked, platform-neutral action stream out.
//!
//! The core is pure: no filesystem, clock, environment, threads, processes or network. Hosts
//! (native, WASI, a JavaScript sink) carry out the [`Action`]s it emits through the [`Host`]
//! trait, and answer with an [`Outcome`] that may declare a fallback. The action stream depends
//! only on the archive and the [`Policy`], never on the host: that is what lets one golden
//! test prove one tree on every host.
//!
//! ```
//! use uncork_core::{extract, memhost::MemHost, Options};
//! # let archive = uncork_core::testkit::founding_case_tar();
//! let mut host = MemHost::default();
//! let report = extract(std::io::Cursor::new(archive), &Options::default(), &mut host).unwrap();
//! assert_eq!(report.symlinks, 1);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod action;
mod crc32;
pub mod dump;
pub mod entry;
pub mod error;
mod extract;
pub mod format;
pub mod memhost;
pub mod offload;
pub mod path;
pub mod plan;
pub mod policy;
pub mod report;
pub mod rule;
#[doc(hidden)]
pub mod testkit;

pub use action::{Action, Degradation, Effect, Fallback, Host, LinkKind, Outcome};
pub use error::{FormatError, Location, PolicyError, RunError};
pub use extract::{Listed, ListedKind, Options, extract, extract_stream, list, list_stream};
pub use format::Format;
pub use offload::DataJob;
pub use policy::{Differentials, Limits, Policy, Preset};
pub use report::Report;
pub use rule::Rule;
