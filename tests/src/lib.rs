//! # uncork-tests
//!
//! The cross-host golden corpus: one archive gives one tree on every host, and every
//! difference is a fallback the host declared.
//!
//! - `corpus/<case>/case.txt` says how the archive is made ([`recipe`]) and how it is
//!   extracted (policy, strip); beside it are the goldens: `actions.golden` (the core's action
//!   stream, host-independent) and one `<profile>.golden` per [`profile::Profile`] (exit
//!   status, outcome, report, the tree read back from disk).
//! - `tests/golden.rs` runs every case under every profile, compares each with its golden and
//!   each profile with the reference (`native-unix`) by the rules in [`compare`].
//! - `UPDATE_GOLDEN=1 cargo test -p uncork-tests` rewrites the goldens; review them as diffs.

pub mod archive;
pub mod case;
pub mod compare;
pub mod generators;
pub mod profile;
pub mod recipe;
pub mod tarwriter;
pub mod tree;
pub mod zipwriter;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// The corpus folder.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}
