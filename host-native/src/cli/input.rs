//! Opening the archive: a file (seekable) or standard input, counting the bytes read.

use anyhow::Context;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uncork_native::{CancelToken, PositionedFile};

/// Standard input, counting the (compressed) bytes read so far: its position.
#[derive(Debug)]
pub(crate) struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    pub(crate) fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        Counting { inner, count }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Standard input that gives up when the run is cancelled, instead of blocking in `read` for
/// ever (a signal does not interrupt a read that was restarted): it waits for data with
/// `poll` in short slices and looks at the token between them.
#[derive(Debug)]
pub(crate) struct Interruptible {
    inner: io::Stdin,
    #[cfg_attr(not(unix), allow(dead_code))]
    token: CancelToken,
}

impl Read for Interruptible {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        loop {
            use rustix::event::{PollFd, PollFlags, Timespec};
            if let Some(why) = self.token.reason() {
                return Err(io::Error::other(why.to_string()));
            }
            let mut fds = [PollFd::new(&self.inner, PollFlags::IN)];
            let slice = Timespec {
                tv_sec: 0,
                tv_nsec: 100_000_000,
            };
            match rustix::event::poll(&mut fds, Some(&slice)) {
                Ok(0) => continue,
                Ok(_) => break,
                Err(rustix::io::Errno::INTR) => continue,
                // Not pollable (rare): read as usual.
                Err(_) => break,
            }
        }
        self.inner.read(buf)
    }
}

/// The archive to read.
#[derive(Debug)]
pub(crate) enum Input {
    /// A file: its size is known, and zip can seek. Its reader and the reader's clones (the
    /// zip workers') count the bytes they read.
    File {
        reader: PositionedFile,
        size: u64,
        path: PathBuf,
    },
    /// Standard input (`-`).
    Stdin(Counting<Interruptible>),
}

impl Input {
    pub(crate) fn open(
        path: &Path,
        count: Arc<AtomicU64>,
        token: CancelToken,
    ) -> anyhow::Result<Input> {
        if path.as_os_str() == "-" {
            let stdin = Interruptible {
                inner: io::stdin(),
                token,
            };
            return Ok(Input::Stdin(Counting::new(stdin, count)));
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
            reader: PositionedFile::counted(Arc::new(file), count),
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
