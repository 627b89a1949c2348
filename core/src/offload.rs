//! A file's data decoded by the host, away from the core's thread.
//!
//! The core has no threads. A host that has them may still decode zip entries in parallel:
//! after [`Action::BeginFile`](crate::Action::BeginFile), the core offers the file's data as a
//! [`DataJob`] ([`Host::take_data`](crate::Host::take_data)). A host that takes it runs the job
//! on a thread of its own, with its own handle on the archive. The job reads, decompresses and
//! checks the data with the same code and from the same counters as the core would have
//! (length, CRC-32, the per-entry, total and ratio limits, at the same points), so it fails
//! exactly where the core would have failed, with the same error. The action stream is
//! unchanged except that no `FileData` follows the `BeginFile` of a taken file.
//!
//! What the host must do: report a job's error as the run's error, ahead of any error of a
//! later entry (the core, which did not wait for the job, may meanwhile have stopped at a later
//! entry), and finish every job before an action that may read the file (links, directory
//! modes and times) and before the run ends.

use crate::entry::SourceError;
use crate::error::{Location, RunError};
use crate::extract::{CHUNK, copy_data, located, source_error};
use crate::format::zip::ZipData;
use crate::policy::Limits;
use std::io::{Read, Seek};

/// One file's data, to be decoded by the host (see the module docs).
#[derive(Debug, Clone)]
pub struct DataJob {
    pub(crate) data: ZipData,
    /// The archive's counters before this entry: compressed bytes consumed, bytes produced,
    /// and file bytes written (the total limit's count).
    pub(crate) consumed: u64,
    pub(crate) produced: u64,
    pub(crate) written: u64,
    pub(crate) limits: Limits,
    /// The entry (index, offset, raw and normalized path), for errors.
    pub(crate) here: Location,
}

impl DataJob {
    /// The file's declared size, which its data must match.
    pub fn size(&self) -> u64 {
        self.data.size()
    }

    /// The entry: its errors carry this location.
    pub fn location(&self) -> &Location {
        &self.here
    }

    /// A buffer for [`DataJob::run`]: one per thread, reused for every job.
    pub fn buffer() -> Vec<u8> {
        vec![0u8; CHUNK]
    }

    /// Reads the file's data from `archive` (the whole archive, any position), handing each
    /// decoded piece to `write`, in order. `buf` comes from [`DataJob::buffer`]. An error
    /// from `write` ends the job as the host's error on a `write-file` action.
    pub fn run<R: Read + Seek, E: std::error::Error>(
        &self,
        archive: R,
        buf: &mut Vec<u8>,
        mut write: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), RunError<E>> {
        // The pieces must be the core's, so that limits are checked at the same points.
        buf.resize(CHUNK, 0);
        let fail = |e: SourceError| located(source_error(e), &self.here);
        let mut source = self
            .data
            .open(archive, self.consumed, self.produced)
            .map_err(fail)?;
        copy_data(
            &mut source,
            buf,
            self.written,
            &self.limits,
            &self.here,
            |piece| {
                write(piece).map_err(|source| RunError::Host {
                    action: "write-file",
                    location: self.here.clone(),
                    source,
                })
            },
        )?;
        Ok(())
    }
}
