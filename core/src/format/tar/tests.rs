use super::*;
use crate::policy::Differentials;
use crate::testkit::{self, header, pax, set_checksum};

fn source(bytes: &[u8]) -> TarSource<Plain<&[u8]>> {
    TarSource::new(Plain::new(bytes), &Limits::default())
}

fn entries(bytes: &[u8]) -> Result<Vec<(RawEntry, Vec<u8>)>, SourceError> {
    let mut src = source(bytes);
    let mut out = Vec::new();
    while let Some(entry) = src.next_entry()? {
        let mut data = Vec::new();
        let mut buf = [0u8; 7]; // odd size: chunk boundaries must not matter
        loop {
            let n = src.read_data(&mut buf)?;
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buf[..n]);
        }
        out.push((entry, data));
    }
    Ok(out)
}

fn rule_of(result: Result<Vec<(RawEntry, Vec<u8>)>, SourceError>) -> Rule {
    match result {
        Err(SourceError::Format(e)) => e.rule,
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn ustar_entries_and_data() {
    let bytes = testkit::tar(&[
        ("d/", b'5', "", b"", 0o755),
        ("d/f.txt", b'0', "", b"hello world", 0o644),
        ("d/l", b'2', "f.txt", b"", 0o777),
        ("d/h", b'1', "d/f.txt", b"", 0o644),
        ("fifo", b'6', "", b"", 0o644),
    ]);
    let got = entries(&bytes).unwrap();
    assert_eq!(got.len(), 5);
    assert_eq!(got[0].0.kind, RawKind::Dir);
    assert_eq!(got[1].0.kind, RawKind::File { size: 11 });
    assert_eq!(got[1].1, b"hello world");
    assert_eq!(got[1].0.offset, 512);
    assert_eq!(got[1].0.mtime, Some(1_700_000_000));
    assert_eq!(
        got[2].0.kind,
        RawKind::Symlink {
            target: b"f.txt".to_vec()
        }
    );
    assert_eq!(
        got[3].0.kind,
        RawKind::HardLink {
            target: b"d/f.txt".to_vec()
        }
    );
    assert_eq!(got[4].0.kind, RawKind::Special(SpecialKind::Fifo));
    assert_eq!(
        got.iter().map(|e| e.0.index).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
}

#[test]
fn pax_and_gnu_names() {
    let long = "x".repeat(150);
    let mut bytes = pax(&[("path", long.as_bytes()), ("mtime", b"1234.5")]);
    bytes.extend(testkit::tar(&[("short", b'0', "", b"abc", 0o644)]));
    let got = entries(&bytes).unwrap();
    assert_eq!(got[0].0.name, long.as_bytes());
    assert_eq!(got[0].0.name_origin, NameOrigin::Utf8);
    assert_eq!(got[0].0.mtime, Some(1234));
    assert_eq!(got[0].0.index, 0, "extension headers are not entries");

    let mut gnu = header(b"././@LongLink", b'L', b"", 151, 0o644).to_vec();
    let mut name = long.clone().into_bytes();
    name.push(0);
    gnu.extend_from_slice(&name);
    gnu.resize(1024, 0);
    gnu.extend(testkit::tar(&[("short", b'0', "", b"abc", 0o644)]));
    let got = entries(&gnu).unwrap();
    assert_eq!(got[0].0.name, long.as_bytes());
}

#[test]
fn pax_size_wins_and_mismatch_is_refused() {
    // The header says 0 (as for >8 GiB files); PAX says 3: PAX wins.
    let mut bytes = pax(&[("size", b"3")]);
    bytes.extend_from_slice(&header(b"f", b'0', b"", 0, 0o644));
    let mut data = b"abc".to_vec();
    data.resize(512, 0);
    bytes.extend(data);
    bytes.extend([0u8; 1024]);
    let got = entries(&bytes).unwrap();
    assert_eq!(got[0].1, b"abc");

    // TARmageddon: header and PAX disagree.
    let mut bytes = pax(&[("size", b"512")]);
    bytes.extend(testkit::tar(&[("f", b'0', "", b"abc", 0o644)]));
    assert_eq!(rule_of(entries(&bytes)), Rule::PaxSizeMismatch);
}

#[test]
fn conflicting_pax_and_gnu_names() {
    let mut bytes = header(b"././@LongLink", b'L', b"", 4, 0o644).to_vec();
    bytes.extend_from_slice(b"gnu\0");
    bytes.resize(1024, 0);
    bytes.extend(pax(&[("path", b"pax")]));
    bytes.extend(testkit::tar(&[("f", b'0', "", b"", 0o644)]));
    assert_eq!(rule_of(entries(&bytes)), Rule::ConflictingNames);
}

#[test]
fn damage_is_typed() {
    let good = testkit::tar(&[("f", b'0', "", b"hello", 0o644)]);
    let mut bad = good.clone();
    bad[0] = b'g';
    assert_eq!(rule_of(entries(&bad)), Rule::BadChecksum);
    assert_eq!(rule_of(entries(&good[..515])), Rule::Truncated);
    assert_eq!(rule_of(entries(&good[..300])), Rule::Truncated);

    let mut garbage_pax = pax(&[("path", b"x")]);
    garbage_pax[512] = b'z';
    garbage_pax.extend(testkit::tar(&[("f", b'0', "", b"", 0o644)]));
    assert_eq!(rule_of(entries(&garbage_pax)), Rule::PaxMalformed);

    let mut unknown = header(b"f", b'Q', b"", 0, 0o644);
    set_checksum(&mut unknown);
    let mut bytes = unknown.to_vec();
    bytes.resize(2048, 0);
    assert_eq!(rule_of(entries(&bytes)), Rule::UnsupportedEntryType);
}

#[test]
fn metadata_records_are_bounded_before_buffering() {
    // A GNU long name claiming 1 TiB: refused from the header, nothing allocated.
    let mut h = header(b"././@LongLink", b'L', b"", 0, 0o644);
    h[124..136].copy_from_slice(b"17777777777\0");
    set_checksum(&mut h);
    assert_eq!(rule_of(entries(&h)), Rule::MetadataLimit);
}

#[test]
fn end_of_archive_variants() {
    let one = testkit::tar(&[("f", b'0', "", b"x", 0o644)]);
    // No end marker at all: accepted.
    assert_eq!(entries(&one[..1024]).unwrap().len(), 1);
    // A lone zero block between entries is skipped.
    let mut lone = one[..1024].to_vec();
    lone.extend([0u8; 512]);
    lone.extend(testkit::tar(&[("g", b'0', "", b"y", 0o644)]));
    assert_eq!(entries(&lone).unwrap().len(), 2);
    // Empty archive.
    assert!(entries(&[0u8; 1024]).unwrap().is_empty());
    // Sparse entries are refused, not garbled.
    let mut sparse = header(b"s", b'S', b"", 0, 0o644).to_vec();
    sparse.resize(2048, 0);
    assert_eq!(rule_of(entries(&sparse)), Rule::UnsupportedSparse);
}

#[test]
fn base256_and_v7() {
    let mut h = header(b"big", b'0', b"", 0, 0o644);
    // base-256 size of 5
    h[124] = 0x80;
    h[125..135].fill(0);
    h[135] = 5;
    set_checksum(&mut h);
    let mut bytes = h.to_vec();
    bytes.extend_from_slice(b"12345");
    bytes.resize(1024 + 1024, 0);
    assert_eq!(entries(&bytes).unwrap()[0].1, b"12345");

    let mut v7 = header(b"old/", b'0', b"", 0, 0o755);
    v7[257..265].fill(0);
    set_checksum(&mut v7);
    assert!(looks_like_tar(&v7));
    let mut bytes = v7.to_vec();
    bytes.resize(1536, 0);
    assert_eq!(
        entries(&bytes).unwrap()[0].0.kind,
        RawKind::Dir,
        "v7: a trailing slash means a directory"
    );
}

#[test]
fn what_follows_the_end_marker_is_bounded() {
    // A compressed stream is read to its end (its CRC is checked there), for at most 16 MiB.
    let mut bomb = testkit::tar(&[("f", b'0', "", b"x", 0o644)]);
    bomb.resize(bomb.len() + (17 << 20), 0);
    let gz = testkit::gzip(&bomb);
    let mut src = TarSource::new(
        io::BufReader::new(crate::format::gzip::GzipReader::new(&gz[..])),
        &Limits::default(),
    );
    assert!(src.next_entry().unwrap().is_some());
    match src.next_entry() {
        Err(SourceError::Format(e)) => assert_eq!(e.rule, Rule::TrailingGarbage),
        other => panic!("expected trailing-garbage, got {other:?}"),
    }
    // A plain tar checks nothing at its end: zeros are read for 1 MiB, then left unread.
    let mut zeros = testkit::tar(&[("f", b'0', "", b"x", 0o644)]);
    let end = zeros.len();
    zeros.resize(end + (17 << 20), 0);
    let mut src = source(&zeros);
    assert!(src.next_entry().unwrap().is_some());
    assert!(src.next_entry().unwrap().is_none());
    assert_eq!(
        src.output_produced(),
        end as u64 + crate::format::MAX_TRAILING_PADDING + 1,
        "read one byte past the padding limit, no more"
    );
    // Not zeros: refused once the limit is passed.
    let mut junk = testkit::tar(&[("f", b'0', "", b"x", 0o644)]);
    junk.resize(junk.len() + (2 << 20), b'j');
    assert_eq!(rule_of(entries(&junk)), Rule::TrailingGarbage);
    let mut padded = testkit::tar(&[("f", b'0', "", b"x", 0o644)]);
    padded.resize(padded.len() + 10240, 0);
    assert_eq!(
        entries(&padded).unwrap().len(),
        1,
        "ordinary record padding is fine"
    );
}

/// `entries`, with differentials allowed (the `trusted` policy).
fn entries_allowing(bytes: &[u8]) -> Result<Vec<(RawEntry, Vec<u8>)>, SourceError> {
    let mut src = source(bytes).with_differentials(Differentials::Allow);
    let mut out = Vec::new();
    while let Some(entry) = src.next_entry()? {
        let mut data = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            let n = src.read_data(&mut buf)?;
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buf[..n]);
        }
        out.push((entry, data));
    }
    Ok(out)
}

/// A symlink whose size covers a whole file entry (header and data): GNU tar skips it as the
/// link's data, Python reads the entry.
fn symlink_hiding_a_file(pax_size: bool) -> Vec<u8> {
    let smuggled = testkit::tar(&[("smuggled.txt", b'0', "", b"hidden\n", 0o644)]);
    let smuggled = &smuggled[..1024];
    let mut out = Vec::new();
    let header_size = if pax_size {
        out.extend(pax(&[("size", b"1024")]));
        0
    } else {
        1024
    };
    out.extend_from_slice(&header(b"link", b'2', b"target", header_size, 0o777));
    out.extend_from_slice(smuggled);
    out.extend(testkit::tar(&[("after.txt", b'0', "", b"after\n", 0o644)]));
    out
}

#[test]
fn a_symlink_with_a_size_is_refused() {
    for pax_size in [false, true] {
        let bytes = symlink_hiding_a_file(pax_size);
        let err = match entries(&bytes) {
            Err(SourceError::Format(e)) => e,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(err.rule, Rule::SymlinkWithSize, "{err}");
        assert_eq!(err.location.entry, Some(0));
        assert!(err.detail.contains("size of 1024 bytes"), "{err}");
        let names: Vec<_> = entries_allowing(&bytes)
            .unwrap()
            .into_iter()
            .map(|(e, _)| String::from_utf8_lossy(&e.name).into_owned())
            .collect();
        assert_eq!(
            names,
            ["link", "smuggled.txt", "after.txt"],
            "read as Python does"
        );
    }
    // A symlink of size 0 is fine, and so is a PAX size of 0.
    let mut zero = pax(&[("size", b"0")]);
    zero.extend(testkit::tar(&[("link", b'2', "target", b"", 0o777)]));
    assert_eq!(entries(&zero).unwrap().len(), 1);
}

#[test]
fn a_size_in_a_pax_global_header_is_refused() {
    let mut global = pax(&[("size", b"1024")]);
    global[156] = b'g';
    let mut h = [0u8; 512];
    h.copy_from_slice(&global[..512]);
    set_checksum(&mut h);
    global[..512].copy_from_slice(&h);
    let mut bytes = global.clone();
    bytes.extend(testkit::tar(&[("a.txt", b'0', "", b"a\n", 0o644)]));
    let err = match entries(&bytes) {
        Err(SourceError::Format(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(err.rule, Rule::PaxGlobalSize);
    assert_eq!(err.location.offset, Some(0));
    assert_eq!(entries_allowing(&bytes).unwrap()[0].1, b"a\n", "ignored");
    // Other global records (mtime) still apply.
    let mut mtime = pax(&[("mtime", b"12345")]);
    mtime[156] = b'g';
    h.copy_from_slice(&mtime[..512]);
    set_checksum(&mut h);
    mtime[..512].copy_from_slice(&h);
    mtime.extend(testkit::tar(&[("a.txt", b'0', "", b"a\n", 0o644)]));
    assert_eq!(entries(&mtime).unwrap()[0].0.mtime, Some(12345));
}

#[test]
fn checksums_summed_as_signed_bytes_or_space_padded_are_accepted() {
    // A name with bytes >= 0x80 sums differently as signed bytes (old writers did that).
    let mut h = header(b"caf\xe9", b'0', b"", 0, 0o644);
    h[148..156].fill(b' ');
    let signed: i32 = h.iter().map(|&b| i32::from(b as i8)).sum();
    let unsigned: u32 = h.iter().map(|&b| u32::from(b)).sum();
    assert_ne!(i64::from(signed), i64::from(unsigned));
    let archive = |h: &[u8; 512]| {
        let mut bytes = h.to_vec();
        bytes.resize(1536, 0);
        bytes
    };
    h[148..156].copy_from_slice(format!("{signed:06o}\0 ").as_bytes());
    assert!(entries(&archive(&h)).is_ok());
    // Leading spaces before the digits, as some writers pad the field.
    h[148..156].copy_from_slice(format!("  {unsigned:05o}\0").as_bytes());
    assert!(entries(&archive(&h)).is_ok());
    // One off, or not octal: refused.
    h[148..156].copy_from_slice(format!("{:06o}\0 ", unsigned + 1).as_bytes());
    assert_eq!(rule_of(entries(&archive(&h))), Rule::BadChecksum);
    h[148..156].copy_from_slice(b"0001238\0");
    assert_eq!(rule_of(entries(&archive(&h))), Rule::BadChecksum);
}
