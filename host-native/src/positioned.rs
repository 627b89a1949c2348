//! A file read by position, with a cursor of its own: many readers can share one handle.
//!
//! The zip workers and the core's reader all read the archive through one handle. Reading by
//! position (`pread` on Unix, `ReadFile` at an offset on Windows) leaves each reader's place
//! its own. The handle's own cursor is never relied on: on Windows a positioned read moves it
//! too. (Windows also runs the reads of a synchronous handle one at a time: the workers still
//! inflate side by side, only their reads queue.) (A second handle opened from the path would avoid that, but under Wine opening the
//! archive twice made a few `uncork.exe` runs in a thousand die of a signal.)

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A shared file and a position in it. A clone reads the same file from the same place, and
/// adds to the same count of bytes read, if any.
#[derive(Debug, Clone)]
pub struct PositionedFile {
    file: Arc<File>,
    pos: u64,
    read: Option<Arc<AtomicU64>>,
}

impl PositionedFile {
    /// Reads `file` from its start.
    pub fn new(file: Arc<File>) -> Self {
        PositionedFile {
            file,
            pos: 0,
            read: None,
        }
    }

    /// Reads `file` from its start, adding every byte read (by this reader and its clones) to
    /// `read`. A seek counts nothing: a zip's reader skips the data the workers read.
    pub fn counted(file: Arc<File>, read: Arc<AtomicU64>) -> Self {
        PositionedFile {
            file,
            pos: 0,
            read: Some(read),
        }
    }

    /// The shared handle.
    pub fn file(&self) -> &Arc<File> {
        &self.file
    }
}

impl Read for PositionedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = read_at(&self.file, buf, self.pos)?;
        self.pos += n as u64;
        if let Some(read) = &self.read {
            read.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

impl Seek for PositionedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::Current(by) => self.pos.checked_add_signed(by),
            SeekFrom::End(by) => self.file.metadata()?.len().checked_add_signed(by),
        };
        self.pos = pos.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        Ok(self.pos)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn readers_sharing_a_handle_keep_their_own_place() {
        let mut tmp = tempfile::tempfile().unwrap();
        tmp.write_all(b"0123456789").unwrap();
        let file = Arc::new(tmp);
        let (mut a, mut b) = (
            PositionedFile::new(Arc::clone(&file)),
            PositionedFile::new(file),
        );
        let mut two = [0u8; 2];
        a.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"01");
        b.seek(SeekFrom::End(-3)).unwrap();
        b.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"78");
        a.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"23");
        assert_eq!(b.seek(SeekFrom::Current(-4)).unwrap(), 5);
        assert!(b.seek(SeekFrom::Current(-6)).is_err());
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"56789");
    }

    #[test]
    fn a_counted_reader_and_its_clones_count_what_they_read_not_what_they_skip() {
        let mut tmp = tempfile::tempfile().unwrap();
        tmp.write_all(b"0123456789").unwrap();
        let read = Arc::new(AtomicU64::new(0));
        let mut a = PositionedFile::counted(Arc::new(tmp), Arc::clone(&read));
        let mut b = a.clone();
        let mut three = [0u8; 3];
        a.read_exact(&mut three).unwrap();
        b.seek(SeekFrom::Start(8)).unwrap();
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).unwrap();
        assert_eq!((&three, rest.as_slice()), (b"012", b"89".as_slice()));
        assert_eq!(read.load(Ordering::Relaxed), 5);
    }
}
