//! The `uncork-wasi` command under wasmtime extracts the same tree as the native core's
//! in-memory reference host, reports what WASI cannot do, and never writes through a link.

mod common;

use common::{
    Modes, Node, disk_tree, mtime, names_in, native_tree, old_dir, refused_after_writing, repo,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;
use uncork_core::policy::Preset;
use uncork_core::testkit;
use uncork_wasm_runner::wasi::{Preopen, Run, WasiCommand};
use uncork_wasm_runner::{artifact, engine};

fn command() -> &'static WasiCommand {
    static COMMAND: OnceLock<WasiCommand> = OnceLock::new();
    COMMAND.get_or_init(|| {
        let engine = engine().expect("engine");
        WasiCommand::load(&engine, &artifact("uncork-wasi.wasm").expect("artifact"))
            .expect("uncork-wasi component")
    })
}

/// Runs `uncork-wasi` with `input` as `/in` and `output` as `/out`.
fn run(input: &Path, output: &Path, args: &[&str]) -> Run {
    let preopens = [
        Preopen {
            host: input.to_path_buf(),
            guest: "/in".into(),
        },
        Preopen {
            host: output.to_path_buf(),
            guest: "/out".into(),
        },
    ];
    command()
        .run(args, &preopens, false)
        .expect("uncork-wasi ran")
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn the_founding_case_extracts_as_natively() {
    for name in ["pgpdump-like.tar.gz", "pgpdump-like.zip"] {
        let out = tempfile::tempdir().unwrap();
        let archive = format!("/in/{name}");
        let run = run(
            &repo().join("examples"),
            out.path(),
            &[&archive, "-C", "/out", "--json"],
        );
        assert_eq!(run.code, 0, "{name}: {run:?}");
        let archive_bytes = std::fs::read(repo().join("examples").join(name)).unwrap();
        let expected = native_tree(&archive_bytes, Preset::Data, Modes::Ignored);
        assert_eq!(disk_tree(out.path(), Modes::Ignored), expected, "{name}");
        assert_eq!(
            expected.get("pgpdump-1.5/README"),
            Some(&Node::Link("README.md".into())),
            "README is a real link under wasmtime"
        );
        // Every mode the core asked for is counted as not applied: 3 files and 2 directories.
        let json = run.stdout;
        assert!(json.contains(r#""ok":true"#), "{json}");
        assert!(json.contains(r#""modes_not_applied":5"#), "{json}");
        assert!(json.contains(r#""degradations":[]"#), "{json}");
        // mtimes are set.
        let mtime = std::fs::metadata(out.path().join("pgpdump-1.5/README.md"))
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(mtime, 1_388_534_400, "{name}");
        let dir_mtime = std::fs::metadata(out.path().join("pgpdump-1.5"))
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(dir_mtime, 1_388_534_400, "{name}: directory mtimes last");
    }
}

#[test]
fn a_refused_link_becomes_a_reported_copy() {
    let out = tempfile::tempdir().unwrap();
    let run = run(
        &repo().join("examples"),
        out.path(),
        &[
            "/in/pgpdump-like.tar.gz",
            "-C",
            "/out",
            "--symlinks",
            "copy",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let tree = disk_tree(out.path(), Modes::Ignored);
    let readme_md = tree.get("pgpdump-1.5/README.md").cloned();
    assert!(matches!(readme_md, Some(Node::File(..))));
    assert_eq!(
        tree.get("pgpdump-1.5/README").cloned(),
        readme_md,
        "README is a copy"
    );
    assert!(
        run.stdout
            .contains("pgpdump-1.5/README: symlink → copy of pgpdump-1.5/README.md"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("modes not applied: 5"),
        "{}",
        run.stdout
    );
}

#[test]
fn links_hard_links_and_replacements_match_the_native_tree() {
    let big: Vec<u8> = (0..700_001u32).map(|i| (i % 251) as u8).collect();
    let archive = testkit::gzip(&testkit::tar(&[
        ("top/", b'5', "", b"", 0o755),
        ("top/a", b'2', "b", b"", 0o777),
        ("top/b", b'2', "sub/c.txt", b"", 0o777),
        ("top/dirlink", b'2', "sub", b"", 0o777),
        ("top/sub/c.txt", b'0', "", b"first\n", 0o600),
        ("top/hard", b'1', "top/sub/c.txt", b"", 0o644),
        ("top/big.bin", b'0', "", &big, 0o644),
        ("top/sub/c.txt", b'0', "", b"second wins\n", 0o644),
        ("top/dev", b'3', "", b"", 0o644),
    ]));
    let input = tempfile::tempdir().unwrap();
    std::fs::write(input.path().join("rich.tar.gz"), &archive).unwrap();
    for (symlinks, links_as_copies) in [("auto", false), ("copy", true)] {
        let out = tempfile::tempdir().unwrap();
        let run = run(
            input.path(),
            out.path(),
            &[
                "/in/rich.tar.gz",
                "-C",
                "/out/x/y",
                "--policy",
                "tar",
                "--symlinks",
                symlinks,
                "--json",
            ],
        );
        assert_eq!(run.code, 0, "{run:?}");
        let mut expected = native_tree(&archive, Preset::Tar, Modes::Ignored);
        if links_as_copies {
            // A link resolves to its final target; a copy holds what that target holds.
            let resolve = |tree: &BTreeMap<String, Node>, path: &str| -> Node {
                let mut at = path.to_owned();
                loop {
                    match tree.get(&at) {
                        Some(Node::Link(t)) => {
                            let parent = at.rsplit_once('/').map_or("", |(p, _)| p);
                            at = format!("{parent}/{t}");
                        }
                        Some(node) => return node.clone(),
                        None => panic!("{at} missing"),
                    }
                }
            };
            let copies: Vec<(String, Node)> = expected
                .iter()
                .filter(|(_, n)| matches!(n, Node::Link(_)))
                .map(|(p, _)| (p.clone(), resolve(&expected, p)))
                .collect();
            for (path, node) in copies {
                if matches!(node, Node::Dir(_)) {
                    let children: Vec<(String, Node)> = expected
                        .range(format!("top/sub/")..)
                        .take_while(|(p, _)| p.starts_with("top/sub/"))
                        .map(|(p, n)| (p.replacen("top/sub", &path, 1), n.clone()))
                        .collect();
                    expected.extend(children);
                }
                expected.insert(path, node);
            }
        }
        let tree = disk_tree(&out.path().join("x/y"), Modes::Ignored);
        assert_eq!(tree, expected, "--symlinks {symlinks}");
        assert!(!tree.contains_key("top/dev"), "devices are never made");
        assert_eq!(
            count(&run.stdout, r#""effect":"symlink""#),
            if links_as_copies { 3 } else { 0 },
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains(r#""skipped":[{"path":"top/dev","rule":"special-file"}]"#),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn hostile_archives_are_refused_by_rule_name() {
    let input = tempfile::tempdir().unwrap();
    std::fs::write(
        input.path().join("evil.tar"),
        testkit::tar(&[("x/evil", b'2', "../../etc/passwd", b"", 0o777)]),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = run(
        input.path(),
        out.path(),
        &["/in/evil.tar", "-C", "/out", "--json"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains(r#""kind":"refused","rule":"link-outside-root""#),
        "{}",
        run.stdout
    );
    let run = self::run(input.path(), out.path(), &["/in/evil.tar", "-C", "/out"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: link-outside-root"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("\nhint: "), "{}", run.stderr);
}

/// A run refused after it wrote files leaves the destination as it was: an existing one with
/// only what it held, and none at all where the run made it (`-C` of missing directories).
#[test]
fn a_failed_run_leaves_the_destination_as_it_was() {
    let input = tempfile::tempdir().unwrap();
    std::fs::write(input.path().join("late.tar"), refused_after_writing()).unwrap();
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("keep.txt"), b"kept").unwrap();
    // The archive's top directory is there already: it stays, empty, with its mtime.
    let top = out.path().join("top");
    let was = old_dir(&top);
    for dest in ["/out", "/out/new", "/out/new/deeper"] {
        let run = run(input.path(), out.path(), &["/in/late.tar", "-C", dest]);
        assert_eq!(run.code, 1, "{dest}: {run:?}");
        assert!(
            run.stderr.starts_with("error: link-outside-root"),
            "{dest}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("warning"), "{dest}: {}", run.stderr);
        assert_eq!(names_in(out.path()), ["keep.txt", "top"], "{dest}");
        assert!(names_in(&top).is_empty(), "{dest}");
        assert_eq!(mtime(&top), was, "{dest}");
    }
    // An archive that cannot be opened makes no destination either.
    let run = run(
        input.path(),
        out.path(),
        &["/in/missing.tar", "-C", "/out/new"],
    );
    assert_ne!(run.code, 0, "{run:?}");
    assert_eq!(names_in(out.path()), ["keep.txt", "top"]);
}

#[test]
fn nothing_is_written_through_a_link_already_in_the_destination() {
    let examples = repo().join("examples");
    let out = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), out.path().join("pgpdump-1.5")).unwrap();
    let run = run(
        &examples,
        out.path(),
        &["/in/pgpdump-like.tar.gz", "-C", "/out"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("symlink"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[test]
fn existing_files_are_never_overwritten() {
    let examples = repo().join("examples");
    let out = tempfile::tempdir().unwrap();
    let first = run(
        &examples,
        out.path(),
        &["/in/pgpdump-like.zip", "-C", "/out", "-q"],
    );
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(first.stdout, "");
    std::fs::write(out.path().join("pgpdump-1.5/setup.py"), b"mine").unwrap();
    let second = run(
        &examples,
        out.path(),
        &["/in/pgpdump-like.zip", "-C", "/out"],
    );
    assert_eq!(second.code, 1, "{second:?}");
    assert!(
        second.stderr.contains("never overwrites"),
        "{}",
        second.stderr
    );
    assert_eq!(
        std::fs::read(out.path().join("pgpdump-1.5/setup.py")).unwrap(),
        b"mine"
    );
}

#[test]
fn usage_errors_fail_without_writing() {
    let examples = repo().join("examples");
    let out = tempfile::tempdir().unwrap();
    for args in [
        &["/in/pgpdump-like.zip", "-C", "/elsewhere"][..],
        &["/in/missing.tar"][..],
        &["--policy", "nope", "/in/pgpdump-like.zip"][..],
    ] {
        let run = run(&examples, out.path(), args);
        assert_ne!(run.code, 0, "{args:?}: {run:?}");
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}
