//! The one entry point every host uses: read, plan, and hand actions to the host.

use crate::action::{Action, Host, Outcome};
use crate::entry::{EntrySource, RawKind, SourceError, SpecialKind};
use crate::error::{FormatError, Location, PolicyError, RunError, escape_bytes};
#[cfg(feature = "bzip2")]
use crate::format::bzip2::Bzip2Reader;
use crate::format::gzip::GzipReader;
use crate::format::tar::{CountedRead, Plain, TarSource, looks_like_tar};
#[cfg(feature = "xz")]
use crate::format::xz::{LzmaReader, XzReader};
use crate::format::zip::ZipSource;
#[cfg(feature = "zstd")]
use crate::format::zstd::ZstdReader;
use crate::format::{Format, SNIFF_LEN, detect};
use crate::offload::DataJob;
use crate::path::{decode_name, normalize_entry_path, strip_components};
use crate::plan::{Op, Planner};
use crate::policy::{Limits, Policy};
use crate::report::Report;
use crate::rule::Rule;
use std::io::{self, Cursor, Read, Seek, SeekFrom};

/// Size of the buffer file data passes through: one allocation per extraction.
pub(crate) const CHUNK: usize = 256 * 1024;

/// What to extract and how.
#[derive(Clone, Default)]
pub struct Options<'a> {
    /// The policy (default: the `data` preset).
    pub policy: Policy,
    /// Force a format instead of detecting it from the bytes.
    pub format: Option<Format>,
    /// Drop this many leading components from every name (and hard-link target), as tar's
    /// `--strip-components`; entries with no components left are skipped.
    pub strip_components: usize,
    /// Keep only entries whose (stripped) path this accepts.
    pub select: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
}

impl std::fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("policy", &self.policy)
            .field("format", &self.format)
            .field("strip_components", &self.strip_components)
            .field("select", &self.select.is_some())
            .finish()
    }
}

/// Extracts a seekable input (a file): tar, compressed tar (gzip, bzip2, xz, lzma, zstd) or zip.
pub fn extract<R: Read + Seek, H: Host>(
    input: R,
    options: &Options<'_>,
    host: &mut H,
) -> Result<Report, RunError<H::Error>> {
    open(input, options, |source, format| {
        run(source, format, options, host)
    })
}

/// Extracts a stream (a pipe, stdin). A zip is read into memory first (bounded by
/// `limits.max_stream_buffer_bytes`), because its directory is at the end.
pub fn extract_stream<R: Read, H: Host>(
    input: R,
    options: &Options<'_>,
    host: &mut H,
) -> Result<Report, RunError<H::Error>> {
    open_stream(input, options, |source, format| {
        run(source, format, options, host)
    })
}

/// Opens a seekable input as the archive its first bytes (or `options.format`) say it is and
/// hands its entries to `consume`: extraction and listing read an archive the same way.
fn open<R: Read + Seek, E: std::error::Error + 'static>(
    mut input: R,
    options: &Options<'_>,
    consume: impl FnOnce(&mut dyn EntrySource, Format) -> Result<Report, RunError<E>>,
) -> Result<Report, RunError<E>> {
    let (format, head) = sniff(&mut input, options.format)?;
    if format == Format::Zip {
        input.seek(SeekFrom::Start(0)).map_err(RunError::Input)?;
        let mut source =
            ZipSource::open(input, &options.policy.limits, options.policy.differentials)
                .map_err(source_error)?;
        return consume(&mut source, format);
    }
    open_tar_family(Prefixed::new(head, input), format, options, consume)
}

/// [`open`] for a stream: a zip is read into memory first.
fn open_stream<R: Read, E: std::error::Error + 'static>(
    mut input: R,
    options: &Options<'_>,
    consume: impl FnOnce(&mut dyn EntrySource, Format) -> Result<Report, RunError<E>>,
) -> Result<Report, RunError<E>> {
    let (format, head) = sniff(&mut input, options.format)?;
    if format == Format::Zip {
        let bytes = buffer_whole(head, input, &options.policy.limits)?;
        let mut source = ZipSource::open(
            Cursor::new(bytes),
            &options.policy.limits,
            options.policy.differentials,
        )
        .map_err(source_error)?;
        return consume(&mut source, format);
    }
    open_tar_family(Prefixed::new(head, input), format, options, consume)
}

fn open_tar_family<R: Read, E: std::error::Error + 'static>(
    input: Prefixed<R>,
    format: Format,
    options: &Options<'_>,
    consume: impl FnOnce(&mut dyn EntrySource, Format) -> Result<Report, RunError<E>>,
) -> Result<Report, RunError<E>> {
    let limits = &options.policy.limits;
    if !format.is_built() {
        return Err(RunError::Format(format.not_built_error()));
    }
    match format {
        Format::TarGz => open_decoded(GzipReader::new(input), format, options, consume),
        #[cfg(feature = "bzip2")]
        Format::TarBz2 => open_decoded(Bzip2Reader::new(input), format, options, consume),
        #[cfg(feature = "xz")]
        Format::TarXz => open_decoded(XzReader::new(input, limits), format, options, consume),
        #[cfg(feature = "xz")]
        Format::TarLzma => open_decoded(LzmaReader::new(input, limits), format, options, consume),
        #[cfg(feature = "zstd")]
        Format::TarZst => open_decoded(ZstdReader::new(input, limits), format, options, consume),
        _ => consume(
            &mut TarSource::new(Plain::new(input), limits)
                .with_differentials(options.policy.differentials),
            format,
        ),
    }
}

/// The tar stream a decompressor yields. Unless the format was forced, the stream must look
/// like tar.
fn open_decoded<D: CountedRead, E: std::error::Error + 'static>(
    mut decoded: D,
    format: Format,
    options: &Options<'_>,
    consume: impl FnOnce(&mut dyn EntrySource, Format) -> Result<Report, RunError<E>>,
) -> Result<Report, RunError<E>> {
    let head = read_head(&mut decoded).map_err(|e| source_error(SourceError::from_io(e, 0)))?;
    if options.format.is_none() && !looks_like_tar(&head) {
        let err = FormatError::new(
            Rule::NotAnArchive,
            format!(
                "the {} stream does not hold a tar archive",
                format.compression()
            ),
        )
        .at(0);
        return Err(RunError::Format(err));
    }
    let buffered = io::BufReader::with_capacity(CHUNK, decoded);
    let mut source = TarSource::new(Prefixed::new(head, buffered), &options.policy.limits)
        .with_differentials(options.policy.differentials);
    consume(&mut source, format)
}

/// One archive entry as `uncork list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Index in archive order.
    pub index: u64,
    /// Header offset.
    pub offset: u64,
    /// The stored name, escaped for display.
    pub raw_name: String,
    /// The name after the policy's path rules; `None` when they refuse it.
    pub path: Option<String>,
    /// What the entry is.
    pub kind: ListedKind,
    /// Declared data size (files).
    pub size: u64,
    /// Stored permission bits.
    pub mode: Option<u32>,
    /// Stored mtime.
    pub mtime: Option<i64>,
    /// Link target as stored (symlinks and hard links), escaped.
    pub link_target: Option<String>,
}

/// Entry types in a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListedKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// Hard link.
    HardLink,
    /// Character device.
    CharDevice,
    /// Block device.
    BlockDevice,
    /// FIFO.
    Fifo,
}

/// Lists a seekable input's entries in archive order without planning or writing anything.
pub fn list<R: Read + Seek>(
    input: R,
    options: &Options<'_>,
    visit: &mut dyn FnMut(&Listed),
) -> Result<Report, RunError<std::convert::Infallible>> {
    open(input, options, |source, format| {
        walk(source, format, options, visit)
    })
}

/// Lists a stream's entries (a zip is buffered in memory).
pub fn list_stream<R: Read>(
    input: R,
    options: &Options<'_>,
    visit: &mut dyn FnMut(&Listed),
) -> Result<Report, RunError<std::convert::Infallible>> {
    open_stream(input, options, |source, format| {
        walk(source, format, options, visit)
    })
}

fn walk(
    source: &mut dyn EntrySource,
    format: Format,
    options: &Options<'_>,
    visit: &mut dyn FnMut(&Listed),
) -> Result<Report, RunError<std::convert::Infallible>> {
    let policy = &options.policy;
    let mut report = Report {
        format: Some(format),
        ..Report::default()
    };
    while let Some(entry) = source.next_entry().map_err(source_error)? {
        report.entries += 1;
        let mut path = decode_name(&entry.name, entry.name_origin, policy.legacy_names)
            .ok()
            .and_then(|name| normalize_entry_path(&name, policy).ok().flatten());
        // The same selection as extraction: stripped names, entries that vanish or are not
        // selected are not listed.
        if let Some(full) = &path {
            let Some(stripped) = strip_components(full, options.strip_components) else {
                continue;
            };
            if options.select.is_some_and(|select| !select(stripped)) {
                continue;
            }
            path = Some(stripped.to_owned());
        }
        let (kind, size, link_target) = match &entry.kind {
            RawKind::File { size } => (ListedKind::File, *size, None),
            RawKind::Dir => (ListedKind::Dir, 0, None),
            RawKind::Symlink { target } => (ListedKind::Symlink, 0, Some(escape_bytes(target))),
            RawKind::HardLink { target } => (ListedKind::HardLink, 0, Some(escape_bytes(target))),
            RawKind::Special(SpecialKind::CharDevice) => (ListedKind::CharDevice, 0, None),
            RawKind::Special(SpecialKind::BlockDevice) => (ListedKind::BlockDevice, 0, None),
            RawKind::Special(SpecialKind::Fifo) => (ListedKind::Fifo, 0, None),
        };
        visit(&Listed {
            index: entry.index,
            offset: entry.offset,
            raw_name: escape_bytes(&entry.name),
            path,
            kind,
            size,
            mode: entry.mode,
            mtime: entry.mtime,
            link_target,
        });
    }
    Ok(report)
}

/// Reads the first bytes and decides the format.
fn sniff<R: Read, E: std::error::Error>(
    input: &mut R,
    forced: Option<Format>,
) -> Result<(Format, Vec<u8>), RunError<E>> {
    let head = read_head(input).map_err(RunError::Input)?;
    let format = match forced {
        Some(format) => format,
        None => detect(&head)?,
    };
    Ok((format, head))
}

fn read_head<R: Read>(input: &mut R) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_LEN);
    input.take(SNIFF_LEN as u64).read_to_end(&mut head)?;
    Ok(head)
}

fn buffer_whole<R: Read, E: std::error::Error>(
    head: Vec<u8>,
    input: R,
    limits: &Limits,
) -> Result<Vec<u8>, RunError<E>> {
    let cap = limits.max_stream_buffer_bytes;
    let mut bytes = head;
    input
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(RunError::Input)?;
    if bytes.len() as u64 > cap {
        let detail = format!(
            "a zip read from a stream is held in memory, and this one exceeds {cap} bytes; give its file path instead"
        );
        return Err(RunError::Refused(PolicyError::new(
            Rule::TotalSizeLimit,
            detail,
        )));
    }
    Ok(bytes)
}

pub(crate) fn source_error<E: std::error::Error>(error: SourceError) -> RunError<E> {
    match error {
        SourceError::Format(f) => RunError::Format(f),
        SourceError::Input(e) => RunError::Input(e),
    }
}

/// Reads `head` first, then the rest of `inner`.
struct Prefixed<R> {
    head: Vec<u8>,
    at: usize,
    inner: R,
}

impl<R> Prefixed<R> {
    fn new(head: Vec<u8>, inner: R) -> Self {
        Prefixed { head, at: 0, inner }
    }
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.head.len() {
            let n = (self.head.len() - self.at).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

impl<R: CountedRead> CountedRead for Prefixed<R> {
    fn input_consumed(&self) -> u64 {
        self.inner.input_consumed()
    }
    fn checks_at_end(&self) -> bool {
        self.inner.checks_at_end()
    }
}

/// Plans every entry and hands the actions to the host.
fn run<H: Host>(
    source: &mut dyn EntrySource,
    format: Format,
    options: &Options<'_>,
    host: &mut H,
) -> Result<Report, RunError<H::Error>> {
    let limits = &options.policy.limits;
    let mut planner = Planner::new(&options.policy, options.strip_components, options.select);
    let mut report = Report {
        format: Some(format),
        ..Report::default()
    };
    let mut buf = vec![0u8; CHUNK];
    let mut sink = Sink {
        host,
        report: &mut report,
    };
    while let Some(entry) = source.next_entry().map_err(source_error)? {
        sink.report.entries += 1;
        let at_entry = |path: Option<&str>| Location {
            entry: Some(entry.index),
            offset: Some(entry.offset),
            raw_path: Some(escape_bytes(&entry.name)),
            path: path.map(str::to_owned),
        };
        if sink.report.entries > limits.max_entries {
            let detail = format!("the archive has more than {} entries", limits.max_entries);
            return Err(refuse(Rule::EntryLimit, detail, at_entry(None)));
        }
        let step = planner.entry(&entry)?;
        // Where all of the entry's actions come from, with the path it plans: made once an
        // entry (a host that keeps it, as the native pipeline does, copies it once too).
        let here = at_entry(step.op.path());
        for dir in &step.parents {
            sink.apply(
                &Action::MakeDir {
                    path: dir,
                    replace: false,
                },
                &here,
            )?;
            sink.report.dirs += 1;
        }
        match &step.op {
            Op::MakeDir { path, replace } => {
                sink.apply(
                    &Action::MakeDir {
                        path,
                        replace: *replace,
                    },
                    &here,
                )?;
                sink.report.dirs += 1;
            }
            Op::File {
                path,
                size,
                mode,
                mtime,
                replace,
            } => {
                sink.apply(
                    &Action::BeginFile {
                        path,
                        size: *size,
                        mode: *mode,
                        mtime: *mtime,
                        replace: *replace,
                    },
                    &here,
                )?;
                let taken = source.detached_data().is_some_and(|data| {
                    sink.host.take_data(&DataJob {
                        data,
                        consumed: source.input_consumed(),
                        produced: source.output_produced(),
                        written: sink.report.bytes,
                        limits: limits.clone(),
                        here: here.clone(),
                    })
                });
                if taken {
                    // The host decodes and checks it (see `crate::offload`); if it fails,
                    // its error is the run's.
                    source.data_taken();
                    sink.report.bytes += *size;
                } else {
                    let total = sink.report.bytes;
                    let written = copy_data(source, &mut buf, total, limits, &here, |data| {
                        sink.apply(&Action::FileData { data }, &here)
                    })?;
                    sink.report.bytes += written;
                }
                sink.apply(&Action::EndFile, &here)?;
                sink.report.files += 1;
            }
            Op::HardLink {
                path,
                target,
                replace,
            } => {
                sink.apply(
                    &Action::HardLink {
                        path,
                        target,
                        replace: *replace,
                    },
                    &here,
                )?;
                sink.report.hard_links += 1;
            }
            Op::Skip { path, rule } => {
                sink.apply(&Action::Skip { path, rule: *rule }, &here)?;
                sink.report.skipped.push(crate::report::Skipped {
                    path: path.clone(),
                    rule: *rule,
                });
            }
            Op::Deferred | Op::Nothing => {}
        }
        check_ratio(source, limits, &here)?;
    }
    let finish = planner.finish()?;
    for link in &finish.links {
        let here = Location {
            path: Some(link.path.clone()),
            ..Location::default()
        };
        let action = Action::Symlink {
            path: &link.path,
            target: &link.target,
            resolved: link.resolved.as_deref(),
            kind: link.kind,
            replace: link.replace,
        };
        sink.apply(&action, &here)?;
        sink.report.symlinks += 1;
    }
    for dir in &finish.dirs {
        let here = Location {
            path: Some(dir.path.clone()),
            ..Location::default()
        };
        sink.apply(
            &Action::SetMode {
                path: &dir.path,
                mode: dir.mode,
            },
            &here,
        )?;
        if let Some(mtime) = dir.mtime {
            sink.apply(
                &Action::SetMtime {
                    path: &dir.path,
                    mtime,
                },
                &here,
            )?;
        }
    }
    Ok(report)
}

/// Streams the current file's data from `source` to `emit` in pieces of `buf`'s size,
/// checking the size limits (`total` is the file bytes written before this file) and the ratio
/// after each piece. Returns the file's size. The core's own loop, and a host's
/// [`DataJob`](crate::offload::DataJob) (which must check at the same points).
pub(crate) fn copy_data<E: std::error::Error>(
    source: &mut dyn EntrySource,
    buf: &mut [u8],
    total: u64,
    limits: &Limits,
    here: &Location,
    mut emit: impl FnMut(&[u8]) -> Result<(), RunError<E>>,
) -> Result<u64, RunError<E>> {
    let mut written = 0u64;
    loop {
        let n = source
            .read_data(buf)
            .map_err(|e| located(source_error(e), here))?;
        if n == 0 {
            return Ok(written);
        }
        written += n as u64;
        check_sizes(written, total + written, limits, here)?;
        check_ratio(source, limits, here)?;
        emit(&buf[..n])?;
    }
}

/// The host plus the report its outcomes go into.
struct Sink<'h, H> {
    host: &'h mut H,
    report: &'h mut Report,
}

impl<H: Host> Sink<'_, H> {
    fn apply(&mut self, action: &Action<'_>, here: &Location) -> Result<(), RunError<H::Error>> {
        match self.host.apply_at(action, here) {
            Ok(Outcome::Done) => Ok(()),
            Ok(Outcome::Degraded(degradation)) => {
                let path = action.path().or(here.path.as_deref()).unwrap_or("");
                self.report.record(path, degradation);
                Ok(())
            }
            Err(source) => {
                let mut location = here.clone();
                if let Some(path) = action.path() {
                    location.path = Some(path.to_owned());
                }
                Err(RunError::Host {
                    action: action.name(),
                    location,
                    source,
                })
            }
        }
    }
}

fn refuse<E: std::error::Error>(rule: Rule, detail: String, here: Location) -> RunError<E> {
    RunError::Refused(PolicyError {
        rule,
        detail,
        location: here,
    })
}

pub(crate) fn located<E: std::error::Error>(
    mut error: RunError<E>,
    here: &Location,
) -> RunError<E> {
    if let RunError::Format(f) = &mut error {
        let offset = f.location.offset;
        f.location = Location {
            offset: offset.or(here.offset),
            ..here.clone()
        };
    }
    error
}

fn check_sizes<E: std::error::Error>(
    entry: u64,
    total: u64,
    limits: &Limits,
    here: &Location,
) -> Result<(), RunError<E>> {
    if entry > limits.max_entry_bytes {
        return Err(refuse(
            Rule::EntrySizeLimit,
            format!("the entry's data exceeds {} bytes", limits.max_entry_bytes),
            here.clone(),
        ));
    }
    if total > limits.max_total_bytes {
        return Err(refuse(
            Rule::TotalSizeLimit,
            format!(
                "the archive's data exceeds {} bytes",
                limits.max_total_bytes
            ),
            here.clone(),
        ));
    }
    Ok(())
}

fn check_ratio<E: std::error::Error>(
    source: &dyn EntrySource,
    limits: &Limits,
    here: &Location,
) -> Result<(), RunError<E>> {
    let out = source.output_produced();
    if out <= limits.ratio_grace_bytes {
        return Ok(());
    }
    let input = source.input_consumed().max(1);
    if out / input > limits.max_ratio {
        let detail = format!(
            "{out} bytes came out of {input} compressed bytes (limit {}:1)",
            limits.max_ratio
        );
        return Err(refuse(Rule::RatioLimit, detail, here.clone()));
    }
    Ok(())
}
