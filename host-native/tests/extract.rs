//! `uncork ARCHIVE -C DIR`: the founding case, symlink modes, nothing-is-lost guarantees.

mod common;

use common::*;
use predicates::prelude::*;
use predicates::str::contains;

#[cfg(unix)]
#[test]
fn founding_case_makes_a_real_readme_symlink() {
    let s = Scratch::new();
    uncork(s.path())
        .arg(example("pgpdump-like.tar.gz"))
        .args(["-C", "out"])
        .assert()
        .success()
        .stderr(contains("extracted 5 entries (3 files, 2 dirs, 1 symlink)"));
    let d = s.join("out/pgpdump-1.5");
    assert_eq!(
        std::fs::read_link(d.join("README")).unwrap(),
        std::path::Path::new("README.md")
    );
    assert_eq!(read(&d.join("README")), read(&d.join("README.md")));
    assert_eq!(mode(&d.join("README.md")), 0o644);
    assert_eq!(mode(&d.join("bin/pgpdump")), 0o755);
    assert_eq!(names(&s.join("out")), ["pgpdump-1.5"]);
}

#[cfg(unix)]
#[test]
fn founding_case_from_zip_and_in_code() {
    let s = Scratch::new();
    uncork(s.path())
        .arg(example("pgpdump-like.zip"))
        .args(["-C", "zip"])
        .assert()
        .success();
    assert!(
        std::fs::symlink_metadata(s.join("zip/pgpdump-1.5/README"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let archive = s.archive("f.tar", &founding_tar());
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "tar"])
        .assert()
        .success();
    assert_eq!(read(&s.join("tar/pgpdump-1.5/README")), "# pgpdump\n");
}

#[test]
fn founding_case_with_symlinks_copy_is_a_reported_copy() {
    let s = Scratch::new();
    uncork(s.path())
        .arg(example("pgpdump-like.tar.gz"))
        .args(["-C", "out", "--symlinks", "copy"])
        .assert()
        .success()
        .stderr(contains(
            "pgpdump-1.5/README: symlink → copy of pgpdump-1.5/README.md (--symlinks copy)",
        ));
    let readme = s.join("out/pgpdump-1.5/README");
    assert!(std::fs::symlink_metadata(&readme).unwrap().is_file());
    assert_eq!(read(&readme), read(&s.join("out/pgpdump-1.5/README.md")));
}

/// On Windows (and under Wine, where links are never made) README is a link or a reported copy.
#[cfg(windows)]
#[test]
fn founding_case_on_windows_is_a_link_or_a_reported_copy() {
    let s = Scratch::new();
    let assert = uncork(s.path())
        .arg(example("pgpdump-like.tar.gz"))
        .args(["-C", "out"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let readme = s.join("out/pgpdump-1.5/README");
    let meta = std::fs::symlink_metadata(&readme).unwrap();
    if !meta.file_type().is_symlink() {
        assert!(meta.is_file());
        assert!(
            stderr.contains("pgpdump-1.5/README: symlink → copy of pgpdump-1.5/README.md ("),
            "{stderr}"
        );
    }
    assert_eq!(read(&readme), read(&s.join("out/pgpdump-1.5/README.md")));
}

#[test]
fn symlinks_skip_leaves_the_link_out_and_says_so() {
    let s = Scratch::new();
    let archive = s.archive("f.tar", &founding_tar());
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out", "--symlinks", "skip"])
        .assert()
        .success()
        .stderr(contains(
            "pgpdump-1.5/README: symlink → not applied (--symlinks skip)",
        ));
    assert!(std::fs::symlink_metadata(s.join("out/pgpdump-1.5/README")).is_err());
    assert!(s.join("out/pgpdump-1.5/README.md").is_file());
}

#[test]
fn symlinks_error_refuses_the_archive_and_leaves_nothing() {
    let s = Scratch::new();
    let archive = s.archive("f.tar", &founding_tar());
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out", "--symlinks", "error"])
        .assert()
        .code(1)
        .stderr(contains(
            "'pgpdump-1.5/README' is a symlink (to 'README.md') and symlinks were refused",
        ))
        .stderr(contains("hint: use --symlinks auto, copy or skip"));
    assert!(!s.join("out").exists());
    assert_eq!(names(s.path()), ["f.tar"]);
}

#[cfg(unix)]
#[test]
fn symlinks_native_makes_links() {
    let s = Scratch::new();
    let archive = s.archive("f.tar", &founding_tar());
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out", "--symlinks", "native"])
        .assert()
        .success();
    assert!(
        std::fs::symlink_metadata(s.join("out/pgpdump-1.5/README"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

fn dir_link_tar() -> Vec<u8> {
    tar(&[
        ("a/", DIR, "", b"", 0o755),
        ("a/link", SYMLINK, "dir", b"", 0o777),
        ("a/dir/", DIR, "", b"", 0o750),
        ("a/dir/f", FILE, "", b"hello", 0o644),
        ("a/dir/sub/g", FILE, "", b"g", 0o600),
        ("a/dangling", SYMLINK, "nowhere", b"", 0o777),
        ("a/self", SYMLINK, ".", b"", 0o777),
    ])
}

#[test]
fn symlinks_copy_copies_directory_trees_and_skips_what_cannot_be_copied() {
    let s = Scratch::new();
    let archive = s.archive("d.tar", &dir_link_tar());
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out", "--symlinks", "copy"])
        .assert()
        .success()
        .stderr(contains("a/link: symlink → copy of a/dir (--symlinks copy)"))
        .stderr(contains("a/dangling: symlink → not applied (--symlinks copy; the target is not in the archive)"))
        .stderr(contains("a/self: symlink → not applied (--symlinks copy; the link is inside the directory it points to"));
    assert_eq!(read(&s.join("out/a/link/f")), "hello");
    assert_eq!(read(&s.join("out/a/link/sub/g")), "g");
    assert!(!s.join("out/a/dangling").exists());
    #[cfg(unix)]
    {
        assert_eq!(
            mode(&s.join("out/a/link")),
            0o755,
            "data policy: directories 0755"
        );
        assert_eq!(mode(&s.join("out/a/link/sub/g")), 0o600);
    }
}

#[cfg(unix)]
#[test]
fn dangling_and_self_links_are_real_links_natively() {
    let s = Scratch::new();
    let archive = s.archive("d.tar", &dir_link_tar());
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_link(s.join("out/a/dangling")).unwrap(),
        std::path::Path::new("nowhere")
    );
    assert_eq!(read(&s.join("out/a/link/f")), "hello");
}

#[test]
fn an_existing_file_is_never_overwritten_by_default() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.join("out/pgpdump-1.5")).unwrap();
    std::fs::write(s.join("out/pgpdump-1.5/README.md"), "mine").unwrap();
    let before = snapshot(&s.join("out"));
    uncork(s.path())
        .arg(example("pgpdump-like.tar.gz"))
        .args(["-C", "out"])
        .assert()
        .code(2)
        .stderr(contains("error: write-file failed (at 'pgpdump-1.5/README.md', entry 2"))
        .stderr(contains(
            "caused by: 'pgpdump-1.5/README.md' already exists in the destination; uncork never overwrites existing files",
        ))
        .stderr(contains("hint: pass --overwrite"))
        .stderr(contains("note: nothing was left behind"));
    assert_eq!(snapshot(&s.join("out")), before);
}

#[test]
fn overwrite_replaces_existing_files_and_leaves_no_backup() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.join("out/pgpdump-1.5")).unwrap();
    std::fs::write(s.join("out/pgpdump-1.5/README.md"), "mine").unwrap();
    uncork(s.path())
        .arg(example("pgpdump-like.tar.gz"))
        .args(["-C", "out", "--overwrite", "--symlinks", "copy"])
        .assert()
        .success()
        .stderr(contains(
            "pgpdump-1.5/README.md: replaced the existing file",
        ));
    assert!(read(&s.join("out/pgpdump-1.5/README.md")).starts_with("# pgpdump (example)"));
    assert_eq!(
        names(&s.join("out/pgpdump-1.5")),
        ["README", "README.md", "bin", "setup.py"]
    );
}

/// A later entry is refused: everything is undone, and the replaced file comes back.
#[test]
fn overwrite_restores_the_old_file_when_the_run_fails() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.join("out/a")).unwrap();
    std::fs::write(s.join("out/a/x"), "mine").unwrap();
    std::fs::write(s.join("out/keep"), "keep").unwrap();
    let before = snapshot(&s.join("out"));
    let archive = s.archive(
        "bad.tar",
        &tar(&[
            ("a/x", FILE, "", b"theirs", 0o644),
            ("a/new/y", FILE, "", b"new", 0o644),
            ("b/z", FILE, "", b"z", 0o644),
            ("../evil", FILE, "", b"evil", 0o644),
        ]),
    );
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out", "--overwrite"])
        .assert()
        .code(1)
        .stderr(contains("error: dot-dot"))
        .stderr(contains("entry 3"))
        .stderr(contains(
            "hint: the entry would be written outside the destination",
        ));
    assert_eq!(snapshot(&s.join("out")), before);
    assert!(!s.join("evil").exists());
}

#[test]
fn a_failed_run_into_a_fresh_destination_leaves_nothing() {
    let s = Scratch::new();
    let archive = s.archive(
        "bad.tar",
        &tar(&[
            ("a/x", FILE, "", b"x", 0o644),
            ("a/l", SYMLINK, "../../etc/passwd", b"", 0o777),
        ]),
    );
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "fresh"])
        .assert()
        .code(1)
        .stderr(contains("link-outside-root"));
    assert_eq!(
        names(s.path()),
        ["bad.tar"],
        "no destination, no staging directory left"
    );
}

#[test]
fn a_failed_run_into_an_existing_destination_changes_nothing() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.join("out/existing")).unwrap();
    std::fs::write(s.join("out/existing/file"), "old").unwrap();
    let before = snapshot(&s.join("out"));
    let archive = s.archive(
        "bad.tar",
        &tar(&[
            ("existing/new", FILE, "", b"n", 0o644),
            ("top/deep/file", FILE, "", b"d", 0o644),
            ("top/link", SYMLINK, "deep", b"", 0o777),
            ("x/", DIR, "", b"", 0o755),
            ("x/CON", FILE, "", b"", 0o644),
            ("x/dev", b'3', "", b"", 0o644),
        ]),
    );
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out"])
        .assert()
        .code(1)
        .stderr(contains("special-file").or(contains("reserved-name")));
    assert_eq!(snapshot(&s.join("out")), before);
}

#[test]
fn a_truncated_archive_changes_nothing() {
    let s = Scratch::new();
    let mut big = Vec::new();
    for i in 0..50u8 {
        big.extend(std::iter::repeat_n(i, 1000));
    }
    let full = tar(&[
        ("a/one", FILE, "", b"1", 0o644),
        ("a/big", FILE, "", &big, 0o644),
    ]);
    let compressed = gz(&full);
    let cut = s.archive("cut.tar.gz", &compressed[..compressed.len() / 2]);
    std::fs::create_dir(s.join("out")).unwrap();
    std::fs::write(s.join("out/keep"), "keep").unwrap();
    let before = snapshot(&s.join("out"));
    uncork(s.path())
        .arg(&cut)
        .args(["-C", "out"])
        .assert()
        .code(1)
        .stderr(contains("truncated").or(contains("corrupt")));
    assert_eq!(snapshot(&s.join("out")), before);
    let plain_cut = s.archive("cut.tar", &full[..1200]);
    uncork(s.path())
        .arg(&plain_cut)
        .args(["-C", "fresh"])
        .assert()
        .code(1)
        .stderr(contains("truncated"));
    assert!(!s.join("fresh").exists());
}

#[cfg(unix)]
#[test]
fn a_symlink_already_in_the_destination_is_never_written_through() {
    let s = Scratch::new();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir(s.join("dest")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), s.join("dest/sub")).unwrap();
    let before = snapshot(&s.join("dest"));
    let archive = s.archive("a.tar", &tar(&[("sub/x", FILE, "", b"x", 0o644)]));
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "dest"])
        .assert()
        .code(2)
        .stderr(contains(
            "'sub' is a symlink already in the destination; uncork does not write through it",
        ))
        .stderr(contains("--trust-existing-symlinks"));
    assert_eq!(names(elsewhere.path()), Vec::<String>::new());
    assert_eq!(snapshot(&s.join("dest")), before);
    // Even with --overwrite: a link on the way is never replaced or followed.
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "dest", "--overwrite"])
        .assert()
        .code(2);
    assert_eq!(names(elsewhere.path()), Vec::<String>::new());
    // Trusted on request (installing into a tree that links elsewhere).
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "dest", "--trust-existing-symlinks"])
        .assert()
        .success();
    assert_eq!(read(&elsewhere.path().join("x")), "x");
}

#[cfg(unix)]
#[test]
fn a_symlink_in_the_destination_at_a_file_path_is_replaced_not_followed() {
    let s = Scratch::new();
    let target = s.join("target.txt");
    std::fs::write(&target, "precious").unwrap();
    std::fs::create_dir(s.join("dest")).unwrap();
    std::os::unix::fs::symlink(&target, s.join("dest/file")).unwrap();
    let archive = s.archive("a.tar", &tar(&[("file", FILE, "", b"new", 0o644)]));
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "dest"])
        .assert()
        .code(2)
        .stderr(contains("already exists"));
    assert_eq!(read(&target), "precious");
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "dest", "--overwrite"])
        .assert()
        .success();
    assert_eq!(read(&target), "precious");
    assert!(
        std::fs::symlink_metadata(s.join("dest/file"))
            .unwrap()
            .is_file()
    );
    assert_eq!(read(&s.join("dest/file")), "new");
}

#[cfg(unix)]
#[test]
fn the_input_archive_is_never_replaced() {
    let s = Scratch::new();
    let bytes = tar(&[("a.tar", FILE, "", b"not the archive", 0o644)]);
    let archive = s.archive("a.tar", &bytes);
    uncork(s.path())
        .arg(&archive)
        .args(["-C", ".", "--overwrite"])
        .assert()
        .code(2)
        .stderr(contains("'a.tar' is the archive being extracted"));
    assert_eq!(std::fs::read(&archive).unwrap(), bytes);
}

#[test]
fn reads_standard_input() {
    let s = Scratch::new();
    uncork(s.path())
        .args(["-", "-C", "out", "--symlinks", "copy"])
        .write_stdin(std::fs::read(example("pgpdump-like.tar.gz")).unwrap())
        .assert()
        .success();
    assert!(s.join("out/pgpdump-1.5/README").is_file());
    uncork(s.path())
        .args(["-", "-C", "zip", "--symlinks", "copy"])
        .write_stdin(std::fs::read(example("pgpdump-like.zip")).unwrap())
        .assert()
        .success();
    assert!(s.join("zip/pgpdump-1.5/setup.py").is_file());
}

#[test]
fn default_directory_is_the_current_one_and_flags_may_come_first() {
    let s = Scratch::new();
    let archive = s.archive("f.tar", &founding_tar());
    uncork(s.path())
        .args(["--symlinks", "copy"])
        .arg(&archive)
        .assert()
        .success();
    assert!(s.join("pgpdump-1.5/README").is_file());
    let s = Scratch::new();
    let archive = s.archive("f.tar", &founding_tar());
    uncork(s.path())
        .args(["-C", "x"])
        .arg(&archive)
        .arg("--symlinks=copy")
        .assert()
        .success();
    uncork(s.path())
        .arg("extract")
        .arg(&archive)
        .args(["-C", "y", "--symlinks=copy"])
        .assert()
        .success();
    assert!(s.join("x/pgpdump-1.5/setup.py").is_file());
    assert!(s.join("y/pgpdump-1.5/setup.py").is_file());
}

#[test]
fn strip_components_include_and_exclude() {
    let s = Scratch::new();
    let archive = s.archive("f.tar", &founding_tar());
    uncork(s.path())
        .arg(&archive)
        .args([
            "-C",
            "strip",
            "--strip-components",
            "1",
            "--symlinks",
            "copy",
        ])
        .assert()
        .success();
    assert_eq!(
        names(&s.join("strip")),
        ["README", "README.md", "bin", "setup.py"]
    );
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "inc", "--include", "*.md"])
        .assert()
        .success();
    assert_eq!(names(&s.join("inc/pgpdump-1.5")), ["README.md"]);
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "inc2", "--include", "*.md", "--json"])
        .assert()
        .success()
        .stdout(contains("\"not_selected\":4"));
    uncork(s.path())
        .arg(&archive)
        .args([
            "-C",
            "exc",
            "--exclude",
            "pgpdump-1.5/bin",
            "--exclude",
            "*.py",
            "--symlinks",
            "skip",
        ])
        .assert()
        .success();
    assert_eq!(names(&s.join("exc/pgpdump-1.5")), ["README.md"]);
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "bad", "--include", "a[b"])
        .assert()
        .code(2)
        .stderr(contains("error: --include 'a[b'"));
    assert!(!s.join("bad").exists());
}

#[cfg(unix)]
#[test]
fn policies_decide_modes() {
    let s = Scratch::new();
    let archive = s.archive(
        "m.tar",
        &tar(&[
            ("d/", DIR, "", b"", 0o700),
            ("d/none", FILE, "", b"", 0o000),
            ("d/suid", FILE, "", b"", 0o4755),
        ]),
    );
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "data"])
        .assert()
        .success();
    assert_eq!(mode(&s.join("data/d/none")), 0o600);
    assert_eq!(mode(&s.join("data/d/suid")), 0o755);
    assert_eq!(mode(&s.join("data/d")), 0o755);
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "tar", "--policy", "tar"])
        .assert()
        .success();
    assert_eq!(mode(&s.join("tar/d/none")), 0o000);
    assert_eq!(mode(&s.join("tar/d")), 0o700);
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "trusted", "--policy", "trusted"])
        .assert()
        .success();
    assert_eq!(mode(&s.join("trusted/d/suid")), 0o4755);
    uncork(s.path())
        .arg(&archive)
        .args(["--policy", "nope"])
        .assert()
        .code(2)
        .stderr(contains("unknown policy"));
}

#[test]
fn the_portable_policy_refuses_windows_hostile_names() {
    let s = Scratch::new();
    let archive = s.archive(
        "w.tar",
        &tar(&[
            ("ok.txt", FILE, "", b"", 0o644),
            ("aux.txt", FILE, "", b"", 0o644),
        ]),
    );
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out", "--policy", "portable"])
        .assert()
        .code(1)
        .stderr(contains("reserved-name"))
        .stderr(contains("entry 1"));
    assert!(!s.join("out").exists());
}

#[cfg(unix)]
#[test]
fn links_leaving_the_root_need_the_tar_policy() {
    let s = Scratch::new();
    let archive = s.archive("l.tar", &tar(&[("up", SYMLINK, "../outside", b"", 0o777)]));
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "data"])
        .assert()
        .code(1)
        .stderr(contains("link-outside-root"));
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "tar", "--policy", "tar"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_link(s.join("tar/up")).unwrap(),
        std::path::Path::new("../outside")
    );
    // Copying a target outside the destination is never done.
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "copy", "--policy", "tar", "--symlinks", "copy"])
        .assert()
        .success()
        .stderr(contains(
            "up: symlink → not applied (--symlinks copy; the target is outside the destination)",
        ));
}

#[test]
fn format_can_be_forced() {
    let s = Scratch::new();
    let archive = s.archive("f.tar", &founding_tar());
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "a", "--format", "tar", "--symlinks", "copy"])
        .assert()
        .success();
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "b", "--format", "zip"])
        .assert()
        .code(1);
    assert!(!s.join("b").exists());
    uncork(s.path())
        .arg(&archive)
        .args(["--format", "rar"])
        .assert()
        .code(2)
        .stderr(contains("unknown format"));
    let junk = s.archive("junk.bin", b"hello, this is not an archive");
    uncork(s.path())
        .arg(&junk)
        .args(["-C", "c"])
        .assert()
        .code(1)
        .stderr(contains("not-an-archive"))
        .stderr(contains("hint: check that the file is a tar"));
}

#[test]
fn limits_are_enforced_and_named() {
    let s = Scratch::new();
    let archive = s.archive("f.tar", &founding_tar());
    let cases: &[(&[&str], &str)] = &[
        (&["--max-entries", "2"], "entry-limit"),
        (&["--max-total-bytes", "12"], "total-size-limit"),
        (&["--max-entry-bytes", "5"], "entry-size-limit"),
        (&["--max-path-bytes", "12"], "path-too-long"),
        (&["--max-depth", "1"], "path-too-deep"),
    ];
    for (flags, rule) in cases {
        uncork(s.path())
            .arg(&archive)
            .args(["-C", "out"])
            .args(*flags)
            .assert()
            .code(1)
            .stderr(contains(*rule))
            .stderr(contains("hint: raise --max-"));
        assert!(!s.join("out").exists(), "{rule}");
    }
    uncork(s.path())
        .arg(&archive)
        .args(["--max-total-bytes", "12X"])
        .assert()
        .code(2);
    uncork(s.path())
        .arg(&archive)
        .args([
            "-C",
            "ok",
            "--max-total-bytes",
            "1K",
            "--max-ratio",
            "5",
            "--max-decoder-memory",
            "1M",
            "--symlinks",
            "copy",
        ])
        .assert()
        .success();
}

#[test]
fn metadata_and_link_hop_limits() {
    let s = Scratch::new();
    let mut pax_archive = uncork_core::testkit::pax(&[("path", "p/".repeat(40).as_bytes())]);
    pax_archive.extend(tar(&[("short", FILE, "", b"x", 0o644)]));
    let archive = s.archive("pax.tar", &pax_archive);
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out", "--max-metadata-bytes", "16"])
        .assert()
        .code(1)
        .stderr(contains("metadata-limit"));
    let chain = s.archive(
        "chain.tar",
        &tar(&[
            ("f", FILE, "", b"f", 0o644),
            ("a", SYMLINK, "b", b"", 0o777),
            ("b", SYMLINK, "c", b"", 0o777),
            ("c", SYMLINK, "d", b"", 0o777),
            ("d", SYMLINK, "f", b"", 0o777),
        ]),
    );
    uncork(s.path())
        .arg(&chain)
        .args(["-C", "out", "--max-link-hops", "1"])
        .assert()
        .code(1)
        .stderr(contains("link-work-limit"));
    assert!(!s.join("out").exists());
}

#[test]
fn a_compression_bomb_is_refused_by_ratio() {
    let s = Scratch::new();
    let zeros = vec![0u8; 65 << 20];
    let archive = s.archive(
        "bomb.tar.gz",
        &gz(&tar(&[("zeros", FILE, "", &zeros, 0o644)])),
    );
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out", "--max-ratio", "50"])
        .assert()
        .code(1)
        .stderr(contains("ratio-limit"));
    assert!(!s.join("out").exists());
}

#[test]
fn legacy_names() {
    let s = Scratch::new();
    let mut bytes = uncork_core::testkit::header(b"caf\xe9.txt", FILE, b"", 1, 0o644).to_vec();
    bytes.push(b'x');
    bytes.resize(512 * 2, 0);
    bytes.resize(512 * 4, 0);
    let archive = s.archive("latin.tar", &bytes);
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out"])
        .assert()
        .code(1)
        .stderr(contains("non-utf8-name"))
        .stderr(contains("caf\\xe9.txt"))
        .stderr(contains("--legacy-names latin1"));
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out", "--legacy-names", "latin1"])
        .assert()
        .success();
    assert_eq!(read(&s.join("out/café.txt")), "x");
    uncork(s.path())
        .arg(&archive)
        .args(["--legacy-names", "cp1252"])
        .assert()
        .code(2);
}

#[test]
fn duplicates() {
    let s = Scratch::new();
    let archive = s.archive(
        "dup.tar",
        &tar(&[
            ("x", FILE, "", b"first", 0o644),
            ("x", FILE, "", b"second", 0o644),
        ]),
    );
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "last"])
        .assert()
        .success();
    assert_eq!(read(&s.join("last/x")), "second");
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "err", "--duplicates", "error"])
        .assert()
        .code(1)
        .stderr(contains("duplicate-entry"));
    assert!(!s.join("err").exists());
    uncork(s.path())
        .arg(&archive)
        .args([
            "-C",
            "lw",
            "--policy",
            "portable",
            "--duplicates",
            "last-wins",
        ])
        .assert()
        .success();
}

#[test]
fn hard_links() {
    let s = Scratch::new();
    let archive = s.archive(
        "h.tar",
        &tar(&[
            ("f", FILE, "", b"data", 0o644),
            ("h", HARDLINK, "f", b"", 0o644),
        ]),
    );
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out"])
        .assert()
        .success()
        .stderr(contains("1 hard link"));
    assert_eq!(read(&s.join("out/h")), "data");
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            std::fs::metadata(s.join("out/h")).unwrap().ino(),
            std::fs::metadata(s.join("out/f")).unwrap().ino()
        );
    }
}

#[test]
fn json_reports_success_and_failure() {
    let s = Scratch::new();
    let out = uncork(s.path())
        .arg(example("pgpdump-like.tar.gz"))
        .args(["-C", "out", "--json", "--symlinks", "copy"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["entries"], 5);
    assert_eq!(v["files"], 3);
    assert_eq!(v["dirs"], 2);
    assert_eq!(v["symlinks"], 1);
    assert_eq!(v["hard_links"], 0);
    assert_eq!(v["bytes"], 598);
    assert_eq!(v["format"], "tar.gz");
    assert_eq!(v["staged"], true);
    assert_eq!(v["skipped"], serde_json::json!([]));
    assert_eq!(v["degradations"][0]["path"], "pgpdump-1.5/README");
    assert_eq!(v["degradations"][0]["effect"], "symlink");
    assert_eq!(v["degradations"][0]["fallback"], "copy");
    assert_eq!(v["degradations"][0]["from"], "pgpdump-1.5/README.md");
    assert!(v["modes_not_applied"].is_u64());

    let bad = s.archive(
        "bad.tar",
        &tar(&[("ok", FILE, "", b"", 0o644), ("../x", FILE, "", b"", 0o644)]),
    );
    let out = uncork(s.path())
        .arg(&bad)
        .args(["-C", "o2", "--json"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["error"]["kind"], "refused");
    assert_eq!(v["error"]["rule"], "dot-dot");
    assert_eq!(v["error"]["entry"], 1);
    assert_eq!(v["error"]["offset"], 512);
    assert_eq!(v["error"]["raw_path"], "../x");
    assert!(
        v["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("outside the destination")
    );

    let out = uncork(s.path())
        .args(["missing.tar", "--json"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "io");
}

#[test]
fn quiet_and_verbose() {
    let s = Scratch::new();
    let archive = s.archive("f.tar", &founding_tar());
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "q", "-q", "--symlinks", "copy"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "v", "-v", "--symlinks", "copy"])
        .assert()
        .success()
        .stdout(contains("pgpdump-1.5\n"))
        .stdout(contains("pgpdump-1.5/README.md\n"))
        .stdout(contains("pgpdump-1.5/bin/pgpdump\n"))
        .stdout(contains("pgpdump-1.5/README\n"))
        .stderr(contains("\u{1b}[").not());
    uncork(s.path())
        .arg(&archive)
        .args(["-q", "-v"])
        .assert()
        .code(2);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let s = Scratch::new();
    uncork(s.path())
        .arg("missing.tar")
        .assert()
        .code(2)
        .stderr(contains("error: cannot open the archive 'missing.tar'"))
        .stderr(contains("caused by:"));
    uncork(s.path())
        .arg(".")
        .assert()
        .code(2)
        .stderr(contains("is a directory, not an archive"));
    let archive = s.archive("f.tar", &founding_tar());
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "no/such/parent"])
        .assert()
        .code(2)
        .stderr(contains("the parent of the destination"));
    std::fs::write(s.join("afile"), "x").unwrap();
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "afile"])
        .assert()
        .code(2)
        .stderr(contains("cannot use 'afile'"));
    uncork(s.path())
        .args(["--bogus-flag", "x"])
        .assert()
        .code(2);
    uncork(s.path()).assert().code(2);
    uncork(s.path())
        .arg(&archive)
        .args(["--symlinks", "sometimes"])
        .assert()
        .code(2);
}

#[test]
fn help_documents_exit_codes() {
    let s = Scratch::new();
    uncork(s.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("Exit codes:"))
        .stdout(contains("1  the archive was refused"))
        .stdout(contains("extract"))
        .stdout(contains("check"));
    uncork(s.path())
        .args(["extract", "--help"])
        .assert()
        .success()
        .stdout(contains("--symlinks"))
        .stdout(contains("--max-link-hops"));
    uncork(s.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(contains("uncork"));
}

/// Paths longer than Windows' historical 260-character limit (handle-relative creation, or
/// `\\?\` paths from the directory handle).
#[test]
fn long_paths() {
    if running_under_wine() {
        // Wine 8's GetFinalPathNameByHandleW fails beyond MAX_PATH (ERROR_MORE_DATA), which
        // cap-std needs for directory creation and removal on Windows.
        eprintln!("skipped under Wine");
        return;
    }
    let s = Scratch::new();
    let a = "a".repeat(120);
    let b = "b".repeat(120);
    let c = "c".repeat(120);
    let file = format!("{a}/{b}/{c}/file.txt");
    let link = format!("{a}/{b}/{c}/link");
    let archive = s.archive("long.tar", &{
        let mut bytes = uncork_core::testkit::pax(&[("path", file.as_bytes())]);
        bytes.extend(tar(&[("placeholder", FILE, "", b"deep", 0o644)]));
        let mut tail = uncork_core::testkit::pax(&[("path", link.as_bytes())]);
        tail.extend(tar(&[("placeholder", SYMLINK, "file.txt", b"", 0o777)]));
        // One archive: drop the first part's end-of-archive blocks.
        bytes.truncate(bytes.len() - 1024);
        bytes.extend(tail);
        bytes
    });
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out"])
        .assert()
        .success();
    let deep = s.join("out").join(&a).join(&b).join(&c);
    assert_eq!(read(&deep.join("file.txt")), "deep");
    assert_eq!(read(&deep.join("link")), "deep");
    assert!(s.join("out").display().to_string().len() + file.len() > 260);
}

#[test]
fn directories_are_never_replaced_and_files_only_with_overwrite() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.join("dest/x/inner")).unwrap();
    std::fs::write(s.join("dest/a"), "file where the archive has a directory").unwrap();
    let before = snapshot(&s.join("dest"));
    let file_over_dir = s.archive("x.tar", &tar(&[("x", FILE, "", b"x", 0o644)]));
    for extra in [&[][..], &["--overwrite"][..]] {
        uncork(s.path())
            .arg(&file_over_dir)
            .args(["-C", "dest"])
            .args(extra)
            .assert()
            .code(2)
            .stderr(contains(
                "'x' is an existing directory; uncork does not replace directories",
            ));
        assert_eq!(snapshot(&s.join("dest")), before);
    }
    let dir_over_file = s.archive("a.tar", &tar(&[("a/b", FILE, "", b"b", 0o644)]));
    uncork(s.path())
        .arg(&dir_over_file)
        .args(["-C", "dest"])
        .assert()
        .code(2)
        .stderr(contains("'a' already exists"));
    assert_eq!(snapshot(&s.join("dest")), before);
    uncork(s.path())
        .arg(&dir_over_file)
        .args(["-C", "dest", "--overwrite"])
        .assert()
        .success()
        .stderr(contains("a: replaced the existing file"));
    assert_eq!(read(&s.join("dest/a/b")), "b");
    assert_eq!(names(&s.join("dest")), ["a", "x"]);
}
