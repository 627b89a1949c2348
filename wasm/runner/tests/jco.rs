//! The planner component under Node (jco transpile + wasm/js's node:fs sink) extracts the
//! native core's tree exactly: kinds, contents, link targets and modes (Node can set them).

mod common;

use common::{
    Modes, disk_tree, mtime, names_in, native_tree, old_dir, refused_after_writing, repo,
};
use std::path::Path;
use std::process::Command;
use uncork_core::policy::Preset;
use uncork_core::testkit;
use uncork_wasm_runner::artifact;

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `node wasm/js/uncork.mjs ARGS...` with the transpiled bindings of target/wasm/js/.
fn uncork_js(args: &[&str]) -> Out {
    let bindings = artifact("js/uncork-planner.js").expect("run scripts/build-wasm.sh");
    let out = Command::new(std::env::var("NODE").unwrap_or_else(|_| "node".into()))
        .arg(repo().join("wasm/js/uncork.mjs"))
        .args(args)
        .env("UNCORK_JS_BINDINGS", bindings)
        .output()
        .expect("node runs (Node 18 or later is needed)");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn extract_and_compare(archive_path: &Path, preset: Preset) -> String {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("dest");
    let run = uncork_js(&[
        archive_path.to_str().unwrap(),
        "-C",
        dest.to_str().unwrap(),
        "--policy",
        preset.name(),
        "--json",
    ]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let archive = std::fs::read(archive_path).unwrap();
    assert_eq!(
        disk_tree(&dest, Modes::Compared),
        native_tree(&archive, preset, Modes::Compared),
        "{} under {preset}",
        archive_path.display()
    );
    run.stdout
}

#[test]
fn the_founding_case_extracts_as_natively_under_node() {
    for name in ["pgpdump-like.tar.gz", "pgpdump-like.zip"] {
        let archive = repo().join("examples").join(name);
        for preset in [Preset::Data, Preset::Tar] {
            let json = extract_and_compare(&archive, preset);
            assert!(json.contains(r#""ok":true"#), "{json}");
            assert!(json.contains(r#""symlinks":1"#), "{json}");
            assert!(json.contains(r#""degradations":[]"#), "{json}");
        }
    }
}

#[test]
fn links_hard_links_modes_and_replacements_under_node() {
    let big: Vec<u8> = (0..900_001u32).map(|i| (i % 253) as u8).collect();
    let archive = testkit::gzip(&testkit::tar(&[
        ("top/", b'5', "", b"", 0o750),
        ("top/a", b'2', "b", b"", 0o777),
        ("top/b", b'2', "sub/c.txt", b"", 0o777),
        ("top/dirlink", b'2', "sub", b"", 0o777),
        ("top/sub/c.txt", b'0', "", b"first\n", 0o600),
        ("top/sub/run.sh", b'0', "", b"#!/bin/sh\n", 0o4777),
        ("top/hard", b'1', "top/sub/c.txt", b"", 0o644),
        ("top/big.bin", b'0', "", &big, 0o640),
        ("top/sub/c.txt", b'0', "", b"second wins\n", 0o644),
        ("top/dev", b'3', "", b"", 0o644),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rich.tar.gz");
    std::fs::write(&path, &archive).unwrap();
    for preset in [Preset::Tar, Preset::Trusted] {
        let json = extract_and_compare(&path, preset);
        assert!(
            json.contains(r#""skipped":[{"path":"top/dev","rule":"special-file"}]"#),
            "{json}"
        );
    }
}

#[test]
fn refusals_arrive_with_their_rule_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.tar");
    std::fs::write(
        &path,
        testkit::tar(&[("x/evil", b'2', "../../etc/passwd", b"", 0o777)]),
    )
    .unwrap();
    let dest = dir.path().join("dest");
    let run = uncork_js(&[
        path.to_str().unwrap(),
        "-C",
        dest.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(r#""kind":"refused","rule":"link-outside-root""#),
        "{}",
        run.stdout
    );
    // A second extraction into the same place never overwrites.
    let examples = repo().join("examples/pgpdump-like.zip");
    let args = [examples.to_str().unwrap(), "-C", dest.to_str().unwrap()];
    assert_eq!(uncork_js(&args).code, Some(0));
    let again = uncork_js(&args);
    assert_eq!(again.code, Some(2), "an I/O refusal, as the native CLI");
    assert!(
        again.stderr.contains("never overwrites"),
        "{}",
        again.stderr
    );
}

/// A run refused after it wrote files leaves the destination as it was: an existing one with
/// only what it held, and none at all where the run made it.
#[test]
fn a_failed_run_leaves_the_destination_as_it_was_under_node() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("late.tar");
    std::fs::write(&archive, refused_after_writing()).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), b"kept").unwrap();
    // The archive's top directory is there already: it stays, empty, with its mtime.
    let top = out.join("top");
    let was = old_dir(&top);
    for dest in [out.clone(), out.join("new"), out.join("new/deeper")] {
        let run = uncork_js(&[archive.to_str().unwrap(), "-C", dest.to_str().unwrap()]);
        assert_eq!(run.code, Some(1), "{dest:?}: {}", run.stderr);
        assert!(run.stderr.contains("link-outside-root"), "{}", run.stderr);
        assert!(!run.stderr.contains("warning"), "{}", run.stderr);
        assert_eq!(names_in(&out), ["keep.txt", "top"], "{dest:?}");
        assert!(names_in(&top).is_empty(), "{dest:?}");
        assert_eq!(mtime(&top), was, "{dest:?}");
    }
    // `out/made/..` is `out`, which was there: what the run wrote in it goes, `made` too.
    let through = out.join("made/..");
    let run = uncork_js(&[archive.to_str().unwrap(), "-C", through.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(names_in(&out), ["keep.txt", "top"]);
    // An archive that cannot be opened makes no destination.
    let missing = dir.path().join("missing.tar");
    let new = out.join("new");
    let run = uncork_js(&[missing.to_str().unwrap(), "-C", new.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(names_in(&out), ["keep.txt", "top"]);
}
