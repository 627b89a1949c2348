//! Opening the archive: a file (seekable) or standard input, counting the bytes read.

use anyhow::Context;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uncork_native::PositionedFile;

/// A reader that counts the (compressed) bytes read so far: its position.
#[derive(Debug)]
pub(crate) struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    pub(crate) fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        Counting { inner, count }
    }

    /// The reader and the count, apart (to wrap another reader with the same count).
    pub(crate) fn into_parts(self) -> (R, Arc<AtomicU64>) {
        (self.inner, self.count)
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let at = self.inner.seek(pos)?;
        self.count.store(at, Ordering::Relaxed);
        Ok(at)
    }
}

/// The archive to read.
#[derive(Debug)]
pub(crate) enum Input {
    /// A file: its size is known, and zip can seek.
    File {
        reader: Counting<PositionedFile>,
        size: u64,
        path: PathBuf,
    },
    /// Standard input (`-`).
    Stdin(Counting<io::Stdin>),
}

impl Input {
    pub(crate) fn open(path: &Path, count: Arc<AtomicU64>) -> anyhow::Result<Input> {
        if path.as_os_str() == "-" {
            return Ok(Input::Stdin(Counting::new(io::stdin(), count)));
        }
        if path.is_dir() {
            anyhow::bail!("'{}' is a directory, not an archive", path.display());
        }
        let file = File::open(path)
            .with_context(|| format!("cannot open the archive '{}'", path.display()))?;
        let meta = file
            .metadata()
            .with_context(|| format!("cannot read the archive '{}'", path.display()))?;
        Ok(Input::File {
            reader: Counting::new(PositionedFile::new(Arc::new(file)), count),
            size: meta.len(),
            path: path.to_owned(),
        })
    }

    /// The input's size, when known (for the progress bar).
    pub(crate) fn size(&self) -> Option<u64> {
        match self {
            Input::File { size, .. } => Some(*size),
            Input::Stdin(_) => None,
        }
    }
}
