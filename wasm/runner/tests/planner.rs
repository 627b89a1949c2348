//! The planner component under wasmtime gives the native core's action stream, report and
//! errors, byte for byte, and imports nothing but uncork:extract interfaces.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use uncork_core::memhost::MemHost;
use uncork_core::policy::Preset;
use uncork_core::{Options, Policy, RunError, dump::Dump, testkit};
use uncork_wasm_runner::planner::{CoreSink, DumpSink, Planner, Source, preset_options, wit};
use uncork_wasm_runner::{artifact, engine};

fn planner() -> &'static Planner {
    static PLANNER: OnceLock<Planner> = OnceLock::new();
    PLANNER.get_or_init(|| {
        let engine = engine().expect("engine");
        Planner::load(&engine, &artifact("uncork-planner.wasm").expect("artifact"))
            .expect("planner component")
    })
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_planner_imports_only_uncork_extract_interfaces() {
    let mut imports = planner().imports();
    imports.sort();
    assert_eq!(
        imports,
        [
            "uncork:extract/sink@0.1.0",
            "uncork:extract/source@0.1.0",
            "uncork:extract/types@0.1.0",
        ],
        "the planner must import nothing from WASI (or wasm-bindgen)"
    );
}

/// What one run gave: the dump and the report, or the error's kind and rule.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Ok { dump: String, report: String },
    Err { kind: String, rule: Option<String> },
}

fn wit_preset(p: Preset) -> wit::Preset {
    match p {
        Preset::Data => wit::Preset::Data,
        Preset::Tar => wit::Preset::Tar,
        Preset::Trusted => wit::Preset::Trusted,
        Preset::Portable => wit::Preset::Portable,
    }
}

/// The report's fields that do not depend on the host, as text.
fn native_report(r: &uncork_core::Report) -> String {
    let skipped: Vec<String> = r
        .skipped
        .iter()
        .map(|s| format!("{} {}", s.path, s.rule.name()))
        .collect();
    format!(
        "format={:?} entries={} files={} dirs={} symlinks={} hard_links={} bytes={} skipped={skipped:?}",
        r.format.map(|f| f.name()),
        r.entries,
        r.files,
        r.dirs,
        r.symlinks,
        r.hard_links,
        r.bytes
    )
}

fn wit_report(r: &wit::Report) -> String {
    let skipped: Vec<String> = r
        .skipped
        .iter()
        .map(|s| format!("{} {}", s.path, s.rule))
        .collect();
    let format = r.format.map(|f| match f {
        wit::Format::Tar => "tar",
        wit::Format::TarGz => "tar.gz",
        wit::Format::TarBz2 => "tar.bz2",
        wit::Format::TarXz => "tar.xz",
        wit::Format::TarLzma => "tar.lzma",
        wit::Format::TarZst => "tar.zst",
        wit::Format::Zip => "zip",
    });
    format!(
        "format={format:?} entries={} files={} dirs={} symlinks={} hard_links={} bytes={} skipped={skipped:?}",
        r.entries, r.files, r.dirs, r.symlinks, r.hard_links, r.bytes
    )
}

fn native(archive: &[u8], preset: Preset, strip: usize) -> Outcome {
    let options = Options {
        policy: Policy::preset(preset),
        strip_components: strip,
        ..Options::default()
    };
    let mut dump = Dump::default();
    match uncork_core::extract(Cursor::new(archive), &options, &mut dump) {
        Ok(report) => Outcome::Ok {
            dump: dump.text,
            report: native_report(&report),
        },
        Err(e) => Outcome::Err {
            kind: match &e {
                RunError::Format(_) => "format",
                RunError::Refused(_) => "refused",
                RunError::Input(_) => "input",
                RunError::Host { .. } => "host",
            }
            .into(),
            rule: e.rule().map(|r| r.name().to_owned()),
        },
    }
}

fn component(archive: &[u8], preset: Preset, strip: usize, stream: bool) -> Outcome {
    let mut options = preset_options(wit_preset(preset));
    options.strip_components = strip as u32;
    let source = if stream {
        Source::stream(archive.to_vec())
    } else {
        Source::bytes(archive.to_vec())
    };
    let (result, sink) = planner()
        .plan(source, &options, DumpSink::default())
        .expect("the planner must not trap");
    match result {
        Ok(report) => Outcome::Ok {
            dump: sink.0.text,
            report: wit_report(&report),
        },
        Err(e) => {
            let (kind, rule) = match e {
                wit::Error::Format(r) => ("format", Some(r.rule)),
                wit::Error::Refused(r) => ("refused", Some(r.rule)),
                wit::Error::Input(_) => ("input", None),
                wit::Error::Host(_) => ("host", None),
            };
            Outcome::Err {
                kind: kind.into(),
                rule,
            }
        }
    }
}

/// Native and component agree, read with random access and as a stream.
fn assert_same(name: &str, archive: &[u8], preset: Preset, strip: usize) -> Outcome {
    let expected = native(archive, preset, strip);
    for stream in [false, true] {
        let got = component(archive, preset, strip, stream);
        assert_eq!(
            got, expected,
            "{name} ({preset}, strip {strip}, stream {stream}): the component differs from the native core"
        );
    }
    expected
}

/// A tar with what the ordering rules are about: a link chain stored before its targets, a
/// link to a directory, a hard link, a duplicate, a device, data spanning many chunks.
fn rich_tar() -> Vec<u8> {
    let big: Vec<u8> = (0..1_000_003u32).map(|i| (i * 7 + i / 256) as u8).collect();
    testkit::tar(&[
        ("top/", b'5', "", b"", 0o755),
        ("top/a", b'2', "b", b"", 0o777),
        ("top/b", b'2', "sub/c.txt", b"", 0o777),
        ("top/dirlink", b'2', "sub", b"", 0o777),
        ("top/sub/c.txt", b'0', "", b"see\n", 0o600),
        ("top/sub/run.sh", b'0', "", b"#!/bin/sh\n", 0o4777),
        ("top/hard", b'1', "top/sub/c.txt", b"", 0o644),
        ("top/big.bin", b'0', "", &big, 0o644),
        ("top/sub/c.txt", b'0', "", b"second wins\n", 0o644),
        ("top/dev", b'3', "", b"", 0o644),
        ("top/empty", b'0', "", b"", 0o000),
    ])
}

#[test]
fn the_examples_give_the_native_action_stream() {
    for name in ["pgpdump-like.tar.gz", "pgpdump-like.zip"] {
        let archive = std::fs::read(repo().join("examples").join(name)).unwrap();
        for preset in Preset::ALL {
            let out = assert_same(name, &archive, preset, 0);
            let Outcome::Ok { dump, .. } = out else {
                panic!("{name} must extract under {preset}: {out:?}")
            };
            assert!(
                dump.contains(
                    "symlink pgpdump-1.5/README -> README.md [file pgpdump-1.5/README.md]"
                ),
                "{dump}"
            );
        }
        assert_same(name, &archive, Preset::Data, 1);
    }
}

#[test]
fn built_archives_give_the_native_action_stream_and_errors() {
    let founding = testkit::founding_case_tar();
    let rich = rich_tar();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("founding.tar", founding.clone()),
        ("founding.tar.gz", testkit::gzip(&founding)),
        ("rich.tar", rich.clone()),
        ("rich.tar.gz", testkit::gzip(&rich)),
        (
            "outside.tar",
            testkit::tar(&[("x/evil", b'2', "../../etc/passwd", b"", 0o777)]),
        ),
        (
            "dotdot.tar",
            testkit::tar(&[("../escape", b'0', "", b"x", 0o644)]),
        ),
        (
            "absolute-link.tar",
            testkit::tar(&[("abs", b'2', "/etc/passwd", b"", 0o777)]),
        ),
        ("truncated.tar.gz", {
            let gz = testkit::gzip(&rich);
            gz[..gz.len() / 2].to_vec()
        }),
        (
            "not-an-archive",
            b"hello, this is not an archive at all".to_vec(),
        ),
    ];
    let mut kinds = Vec::new();
    for (name, archive) in &cases {
        for preset in Preset::ALL {
            let out = assert_same(name, archive, preset, 0);
            if preset == Preset::Data {
                kinds.push(match out {
                    Outcome::Ok { .. } => format!("{name}: ok"),
                    Outcome::Err { kind, rule } => format!("{name}: {kind} {rule:?}"),
                });
            }
        }
        assert_same(name, archive, Preset::Data, 1);
    }
    // The hostile ones are refused by name, the same way as natively.
    let kinds = kinds.join("\n");
    assert!(
        kinds.contains("outside.tar: refused Some(\"link-outside-root\")"),
        "{kinds}"
    );
    assert!(
        kinds.contains("absolute-link.tar: refused Some(\"absolute-link\")"),
        "{kinds}"
    );
    assert!(
        kinds.contains("rich.tar: refused Some(\"special-file\")"),
        "{kinds}"
    );
    assert!(kinds.contains("founding.tar.gz: ok"), "{kinds}");
}

#[test]
fn the_in_memory_tree_is_the_native_one() {
    let archive = std::fs::read(repo().join("examples/pgpdump-like.tar.gz")).unwrap();
    for archive in [archive, rich_tar()] {
        let mut native = MemHost::default();
        let options = Options {
            policy: Policy::preset(Preset::Tar),
            ..Options::default()
        };
        let report = uncork_core::extract(Cursor::new(&archive), &options, &mut native).unwrap();
        let (result, sink) = planner()
            .plan(
                Source::bytes(archive.clone()),
                &preset_options(wit::Preset::Tar),
                CoreSink(MemHost::default()),
            )
            .unwrap();
        let wit_report = result.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(wit_report.bytes, report.bytes);
        assert_eq!(
            sink.0.tree, native.tree,
            "same tree, contents and modes included"
        );
    }
}

#[test]
fn a_sink_error_stops_the_plan_and_says_where() {
    #[derive(Debug)]
    struct Refuse;
    impl uncork_wasm_runner::planner::Sink for Refuse {
        fn apply(&mut self, action: wit::Action) -> Result<wit::Outcome, String> {
            match action {
                wit::Action::Symlink(_) => Err("no links here".into()),
                _ => Ok(wit::Outcome::Done),
            }
        }
    }
    let (result, _) = planner()
        .plan(
            Source::bytes(testkit::founding_case_tar()),
            &preset_options(wit::Preset::Data),
            Refuse,
        )
        .unwrap();
    match result {
        Err(wit::Error::Host(h)) => {
            assert_eq!(h.action, "symlink");
            assert_eq!(h.message, "no links here");
            assert_eq!(h.location.path.as_deref(), Some("pkg/README"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn degradations_from_the_sink_reach_the_report() {
    #[derive(Debug)]
    struct NoModes;
    impl uncork_wasm_runner::planner::Sink for NoModes {
        fn apply(&mut self, action: wit::Action) -> Result<wit::Outcome, String> {
            let degraded = |effect, fallback| {
                Ok(wit::Outcome::Degraded(wit::Degradation {
                    effect,
                    fallback,
                    reason: "test".into(),
                }))
            };
            match action {
                wit::Action::BeginFile(_) | wit::Action::SetMode(_) => {
                    degraded(wit::Effect::Mode, wit::Fallback::Skipped)
                }
                wit::Action::Symlink(s) => degraded(
                    wit::Effect::Symlink,
                    wit::Fallback::Copy(s.resolved.unwrap_or_default()),
                ),
                _ => Ok(wit::Outcome::Done),
            }
        }
    }
    let (result, _) = planner()
        .plan(
            Source::bytes(testkit::founding_case_tar()),
            &preset_options(wit::Preset::Data),
            NoModes,
        )
        .unwrap();
    let report = result.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(report.modes_not_applied, 2, "one file, one directory");
    assert_eq!(report.degradations.len(), 1);
    let d = &report.degradations[0];
    assert_eq!(d.path, "pkg/README");
    assert!(
        matches!(&d.degradation.fallback, wit::Fallback::Copy(from) if from == "pkg/README.md")
    );
}

/// Every tar and zip of the peer suites (shared/peer-suites, beside the repository): the
/// component and the native core agree on each, whatever the verdict.
#[test]
fn peer_suite_archives_agree() {
    let root = repo().join("../shared/peer-suites");
    if !root.is_dir() {
        eprintln!(
            "{} not found: peer-suite comparison skipped",
            root.display()
        );
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.to_string_lossy().to_lowercase();
                let wanted = [".tar", ".tar.gz", ".tgz", ".zip"]
                    .iter()
                    .any(|ext| name.ends_with(ext));
                if wanted && entry.metadata().is_ok_and(|m| m.len() < 4 << 20) {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    assert!(!files.is_empty());
    for path in &files {
        let archive = std::fs::read(path).unwrap();
        let name = path.display().to_string();
        let expected = native(&archive, Preset::Tar, 0);
        let got = component(&archive, Preset::Tar, 0, false);
        assert_eq!(got, expected, "{name}");
    }
    eprintln!("{} peer-suite archives agree", files.len());
}
