//! Archives built in code for tests and examples (not part of the stable API).

/// A tar entry to build: `(name, type flag, link target, data, mode)`.
pub type TarSpec<'a> = (&'a str, u8, &'a str, &'a [u8], u32);

/// Builds a ustar archive from raw header fields (names up to 100 bytes), so tests can make
/// archives no well-behaved writer would. Entries end with two zero blocks.
pub fn tar(entries: &[TarSpec<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(name, flag, link, data, mode) in entries {
        out.extend_from_slice(&header(
            name.as_bytes(),
            flag,
            link.as_bytes(),
            data.len() as u64,
            mode,
        ));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// One ustar header block with a correct checksum.
pub fn header(name: &[u8], flag: u8, link: &[u8], size: u64, mode: u32) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    write_octal(&mut h[100..108], u64::from(mode));
    write_octal(&mut h[108..116], 0);
    write_octal(&mut h[116..124], 0);
    write_octal(&mut h[124..136], size);
    write_octal(&mut h[136..148], 1_700_000_000);
    h[156] = flag;
    h[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    set_checksum(&mut h);
    h
}

/// Recomputes a header's checksum after a test changed it.
pub fn set_checksum(h: &mut [u8; 512]) {
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let text = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(text.as_bytes());
}

fn write_octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    field[..width].copy_from_slice(&text.as_bytes()[text.len() - width..]);
    field[width] = 0;
}

/// A PAX extended header (type `x`) with the given records, as header + padded data.
pub fn pax(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut data = Vec::new();
    for (key, value) in records {
        let body_len = key.len() + value.len() + 3; // ' ', '=', '\n'
        let mut len = body_len + 1;
        while len != body_len + len.to_string().len() {
            len = body_len + len.to_string().len();
        }
        data.extend_from_slice(format!("{len} {key}=").as_bytes());
        data.extend_from_slice(value);
        data.push(b'\n');
    }
    let mut out = header(b"PaxHeader", b'x', b"", data.len() as u64, 0o644).to_vec();
    out.extend_from_slice(&data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

/// gzip-compresses `data` (one member).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// The founding case: `pkg/README` → `README.md`, stored before `pkg/README.md`.
pub fn founding_case_tar() -> Vec<u8> {
    tar(&[
        ("pkg/", b'5', "", b"", 0o755),
        ("pkg/README", b'2', "README.md", b"", 0o777),
        ("pkg/README.md", b'0', "", b"# pkg\n", 0o644),
    ])
}

/// Extracts `archive` into a [`MemHost`](crate::memhost::MemHost) through a host that takes
/// every file's data the core offers ([`Host::take_data`](crate::Host::take_data)) and
/// decodes it at once, on the spot: the action stream the inner host sees is then the core's
/// own, so any difference from a plain [`extract`](crate::extract) is the
/// [`DataJob`](crate::DataJob)'s. A job's error is the run's, ahead of the core's (as a host
/// with worker threads must report it). Returns the result, the tree, and the files taken.
pub fn extract_taking(
    archive: &[u8],
    options: &crate::Options<'_>,
) -> (
    Result<crate::Report, crate::RunError<crate::memhost::Violation>>,
    crate::memhost::MemHost,
    usize,
) {
    let mut host = Taking {
        inner: crate::memhost::MemHost::default(),
        archive,
        buf: crate::DataJob::buffer(),
        taken: 0,
        failed: None,
    };
    let result = crate::extract(std::io::Cursor::new(archive), options, &mut host);
    let result = match host.failed.take() {
        Some(job_error) => Err(job_error),
        None => result,
    };
    (result, host.inner, host.taken)
}

/// A run's outcome as text, for comparing two runs: the report and the tree, or the error.
pub fn outcome_text(
    result: &Result<crate::Report, crate::RunError<crate::memhost::Violation>>,
    host: &crate::memhost::MemHost,
) -> String {
    match result {
        Ok(report) => format!("{report:?}\n{}", host.manifest()),
        Err(e) => format!("error: {e:?}"),
    }
}

struct Taking<'a> {
    inner: crate::memhost::MemHost,
    archive: &'a [u8],
    buf: Vec<u8>,
    taken: usize,
    /// The first job's error.
    failed: Option<crate::RunError<crate::memhost::Violation>>,
}

impl crate::Host for Taking<'_> {
    type Error = crate::memhost::Violation;

    fn apply(
        &mut self,
        action: &crate::Action<'_>,
    ) -> Result<crate::Outcome, crate::memhost::Violation> {
        self.inner.apply(action)
    }

    fn take_data(&mut self, job: &crate::DataJob) -> bool {
        self.taken += 1;
        if self.failed.is_none() {
            let inner = &mut self.inner;
            let result = job.run(std::io::Cursor::new(self.archive), &mut self.buf, |data| {
                inner.apply(&crate::Action::FileData { data }).map(|_| ())
            });
            self.failed = result.err();
        }
        true
    }
}
