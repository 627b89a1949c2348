//! # uncork-native
//!
//! The native host of [uncork](uncork_core): carries out the core's actions on Unix and Windows,
//! and the `uncork` command-line tool.
//!
//! - Every write is relative to a directory handle opened component by component without
//!   following symlinks (cap-std); a symlink already in the destination is never traversed
//!   unless [`HostOptions::trust_existing_symlinks`] is set.
//! - Nothing is lost: existing files are never overwritten unless asked (and then restored if
//!   the run fails); a new destination is extracted into a staging sibling and renamed into
//!   place on success (`RENAME_NOREPLACE`, checked by identity); into an existing directory
//!   (locked against a second run) files are written under partial names and renamed when
//!   complete, and on failure what the run made is removed, found by identity (device and
//!   inode): what another process put there is kept and reported.
//! - A run can be stopped from outside ([`CancelToken`], with a deadline; the CLI maps SIGINT,
//!   SIGTERM and SIGHUP to it) and is then undone like a failed one.
//! - Symlinks: real links where the platform allows, else a reported fallback (Windows: a
//!   junction for a directory, else a copy of the already-extracted target).
//! - Speed: the core reads, decompresses and plans on a thread of its own while the host's
//!   thread creates the files ([`pipeline`]); for an archive given by path
//!   ([`extract_path_to`]) a zip's larger entries are also inflated side by side on worker
//!   threads. [`extract_to`] takes any seekable reader, with one thread decompressing.
//!
//! ```no_run
//! use uncork_native::{extract_path_to, HostOptions};
//! let archive = std::path::Path::new("pgpdump-1.5.tar.gz");
//! let done = extract_path_to(archive, "out".as_ref(), &uncork_core::Options::default(), HostOptions::default())?;
//! for degraded in &done.report.degradations {
//!     eprintln!("{degraded}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cancel;
mod dirs;
mod error;
mod host;
mod journal;
mod options;
mod path;
pub mod pipeline;
mod positioned;
mod recover;
mod removal;
mod staging;
mod tree;
mod undo;
mod workers;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as platform;

pub use cancel::{CancelToken, Cancelled};
pub use error::{ExtractError, HostError};
pub use host::{NativeHost, NativeReport, Observer};
pub use options::{HostOptions, SymlinkCreator, SymlinkMode};
pub use positioned::PositionedFile;

use std::io::{Read, Seek};
use std::path::Path;
use uncork_core::Options;

/// The platform the host was built for (`unix` or `windows`).
pub const PLATFORM: &str = platform::NAME;

/// Extracts a seekable archive (a file: zip needs random access) into `dest`.
pub fn extract_to<R: Read + Seek + Send>(
    input: R,
    dest: &Path,
    options: &Options<'_>,
    host_options: HostOptions,
) -> Result<NativeReport, ExtractError> {
    let mut host = NativeHost::open(dest, host_options)?;
    let result = pipeline::extract(input, options, &mut host);
    host.finish(result)
}

/// Extracts the archive file at `archive` into `dest`: as [`extract_to`], and a zip's entries
/// are decoded on worker threads (one per core) reading the file by position.
pub fn extract_path_to(
    archive: &Path,
    dest: &Path,
    options: &Options<'_>,
    host_options: HostOptions,
) -> Result<NativeReport, ExtractError> {
    let file = std::fs::File::open(archive)
        .map_err(|e| HostError::io("open", archive.display().to_string(), e))?;
    let mut host = NativeHost::open(dest, host_options)?;
    let result = pipeline::extract_file(
        PositionedFile::new(std::sync::Arc::new(file)),
        options,
        &mut host,
    );
    host.finish(result)
}

/// Extracts an archive read front to back (standard input) into `dest`.
pub fn extract_stream_to<R: Read + Send>(
    input: R,
    dest: &Path,
    options: &Options<'_>,
    host_options: HostOptions,
) -> Result<NativeReport, ExtractError> {
    let mut host = NativeHost::open(dest, host_options)?;
    let result = pipeline::extract_stream(input, options, &mut host);
    host.finish(result)
}

/// An error and its sources, joined with `: `.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
