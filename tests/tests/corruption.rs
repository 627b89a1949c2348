//! Truncation anywhere and damage anywhere: for archives of every format in the corpus, every
//! prefix and every single-byte change is either extracted or refused with a typed error —
//! never a panic, never a hang. (The cross-host corpus proves, for its hostile cases, that a
//! refusal leaves the destination as it was; here the core is driven without I/O.)

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use uncork_core::memhost::MemHost;
use uncork_core::{Options, Policy};
use uncork_tests::case;

/// The corpus cases whose archives are damaged here: one per format and compression.
const CASES: &[&str] = &[
    "fmt-founding-ustar",
    "fmt-founding-gnu-gz",
    "fmt-founding-pax-bz2",
    "fmt-founding-zip",
    "fmt-founding-zip-deflate",
    "fmt-tar-xz",
    "fmt-v7",
    "fmt-gz-multi-member",
    "link-zip-chain",
    "hardlink-basic",
];

/// Extracts into memory; `Err` carries the panic message.
fn extract(bytes: &[u8]) -> Result<Result<(), String>, String> {
    let options = Options {
        policy: Policy::default(),
        ..Options::default()
    };
    catch_unwind(AssertUnwindSafe(|| {
        let mut host = MemHost::default();
        uncork_core::extract(Cursor::new(bytes), &options, &mut host)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }))
    .map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    })
}

fn archives() -> Vec<(String, Vec<u8>)> {
    let all = case::load_all(&uncork_tests::corpus()).unwrap();
    CASES
        .iter()
        .map(|name| {
            let c = all
                .iter()
                .find(|c| c.name == *name)
                .unwrap_or_else(|| panic!("no case {name}"));
            let bytes = case::build(c, &uncork_tests::repo()).unwrap();
            assert!(
                extract(&bytes).unwrap().is_ok(),
                "{name} must extract whole"
            );
            ((*name).to_owned(), bytes)
        })
        .collect()
}

#[test]
fn every_truncation_is_refused_or_extracted_never_a_panic() {
    let mut panics = Vec::new();
    let mut refused = 0;
    for (name, bytes) in archives() {
        for len in 0..bytes.len() {
            match extract(&bytes[..len]) {
                Err(p) => panics.push(format!("{name} cut at {len}: {p}")),
                Ok(Err(_)) => refused += 1,
                Ok(Ok(())) => {}
            }
        }
    }
    assert!(panics.is_empty(), "{}", panics.join("\n"));
    assert!(refused > 0);
}

#[test]
fn every_single_byte_change_is_refused_or_extracted_never_a_panic() {
    let mut panics = Vec::new();
    for (name, bytes) in archives() {
        for at in 0..bytes.len() {
            for flip in [0x01u8, 0xff] {
                let mut damaged = bytes.clone();
                damaged[at] ^= flip;
                if let Err(p) = extract(&damaged) {
                    panics.push(format!("{name} byte {at} ^ {flip:#04x}: {p}"));
                }
            }
        }
    }
    assert!(panics.is_empty(), "{}", panics.join("\n"));
}

#[test]
fn truncated_compressed_archives_are_refused() {
    // Cutting a compressed stream anywhere before its end must never pass for a whole archive.
    for (name, bytes) in archives() {
        if name.ends_with("gz") || name.ends_with("bz2") || name.ends_with("xz") {
            for len in 0..bytes.len() - 8 {
                assert!(
                    extract(&bytes[..len]).unwrap().is_err(),
                    "{name} cut at {len} extracted"
                );
            }
        }
    }
}
