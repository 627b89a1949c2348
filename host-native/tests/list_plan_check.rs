//! `uncork list`, `uncork plan`, `uncork check`: read-only commands.

mod common;

use common::*;
use predicates::str::contains;

#[test]
fn list_short_and_long() {
    let s = Scratch::new();
    uncork(s.path())
        .args(["list"])
        .arg(example("pgpdump-like.tar.gz"))
        .assert()
        .success()
        .stdout("pgpdump-1.5/\npgpdump-1.5/README\npgpdump-1.5/README.md\npgpdump-1.5/setup.py\npgpdump-1.5/bin/pgpdump\n");
    uncork(s.path())
        .args(["list", "-v"])
        .arg(example("pgpdump-like.tar.gz"))
        .assert()
        .success()
        .stdout(contains(
            "drwxr-xr-x          0 2014-01-01 00:00 pgpdump-1.5/\n",
        ))
        .stdout(contains(
            "lrwxrwxrwx          0 2014-01-01 00:00 pgpdump-1.5/README -> README.md\n",
        ))
        .stdout(contains(
            "-rw-r--r--        318 2014-01-01 00:00 pgpdump-1.5/README.md\n",
        ))
        .stdout(contains(
            "-rwxr-xr-x         94 2014-01-01 00:00 pgpdump-1.5/bin/pgpdump\n",
        ));
    assert_eq!(names(s.path()), Vec::<String>::new(), "list writes nothing");
}

#[test]
fn list_shows_hard_links_and_refused_names() {
    let s = Scratch::new();
    let archive = s.archive(
        "h.tar",
        &tar(&[
            ("f", FILE, "", b"data", 0o4755),
            ("h", HARDLINK, "f", b"", 0o644),
            ("../up", FILE, "", b"", 0o644),
        ]),
    );
    uncork(s.path())
        .args(["list", "-v"])
        .arg(&archive)
        .assert()
        .success()
        .stdout(contains("-rwsr-xr-x          4 2023-11-14 22:13 f\n"))
        .stdout(contains("h link to f\n"))
        .stdout(contains("../up  (refused by the policy)"));
}

#[test]
fn list_zip_stdin_json_and_selection() {
    let s = Scratch::new();
    uncork(s.path())
        .args(["list", "-"])
        .write_stdin(std::fs::read(example("pgpdump-like.zip")).unwrap())
        .assert()
        .success()
        .stdout(contains("pgpdump-1.5/setup.py\n"));
    let out = uncork(s.path())
        .args(["list", "--json"])
        .arg(example("pgpdump-like.zip"))
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["format"], "zip");
    let listing = v["listing"].as_array().unwrap();
    assert_eq!(listing.len(), 5);
    assert_eq!(listing[1]["kind"], "symlink");
    assert_eq!(listing[1]["link_target"], "README.md");
    assert_eq!(listing[2]["path"], "pgpdump-1.5/README.md");
    assert_eq!(listing[2]["size"], 318);
    uncork(s.path())
        .args(["list", "--strip-components", "1"])
        .arg(example("pgpdump-like.tar.gz"))
        .assert()
        .success()
        .stdout(contains("README.md\n"));
}

#[test]
fn list_of_a_damaged_archive_fails_with_the_rule() {
    let s = Scratch::new();
    let mut bytes = founding_tar();
    bytes[148] ^= 0x01; // break the first header's checksum
    let archive = s.archive("bad.tar", &bytes);
    uncork(s.path())
        .args(["list"])
        .arg(&archive)
        .assert()
        .code(1)
        .stderr(contains("error: "))
        .stderr(contains("hint: "));
    let junk = s.archive("junk", b"");
    uncork(s.path())
        .args(["list"])
        .arg(&junk)
        .assert()
        .code(1)
        .stderr(contains("the input is empty"));
    uncork(s.path()).args(["list", "nope.tar"]).assert().code(2);
}

#[test]
fn plan_prints_the_action_stream_and_writes_nothing() {
    let s = Scratch::new();
    uncork(s.path())
        .args(["plan"])
        .arg(example("pgpdump-like.tar.gz"))
        .assert()
        .success()
        .stdout(
            "mkdir pgpdump-1.5\n\
             file pgpdump-1.5/README.md size=318 mode=0644 mtime=1388534400\n\
             file pgpdump-1.5/setup.py size=186 mode=0644 mtime=1388534400\n\
             mkdir pgpdump-1.5/bin\n\
             file pgpdump-1.5/bin/pgpdump size=94 mode=0755 mtime=1388534400\n\
             symlink pgpdump-1.5/README -> README.md [file pgpdump-1.5/README.md]\n\
             chmod pgpdump-1.5/bin 0755\n\
             chmod pgpdump-1.5 0755\n\
             mtime pgpdump-1.5 1388534400\n\
             plan: 5 entries (3 files, 2 dirs, 1 symlink), 598 B under the data policy; nothing was written\n",
        );
    assert_eq!(names(s.path()), Vec::<String>::new());
}

#[test]
fn plan_shows_skips_and_json_and_refusals() {
    let s = Scratch::new();
    let archive = s.archive(
        "d.tar",
        &tar(&[("a", FILE, "", b"", 0o644), ("dev", b'3', "", b"", 0o644)]),
    );
    uncork(s.path())
        .args(["plan", "--policy", "tar"])
        .arg(&archive)
        .assert()
        .success()
        .stdout(contains("skip dev (special-file)\n"))
        .stdout(contains("under the tar policy"));
    uncork(s.path())
        .args(["plan"])
        .arg(&archive)
        .assert()
        .code(1)
        .stderr(contains("special-file"));
    let out = uncork(s.path())
        .args(["plan", "--json", "--policy", "tar"])
        .arg(&archive)
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["actions"][0], "file a size=0 mode=0644 mtime=1700000000");
    assert_eq!(v["skipped"][0]["rule"], "special-file");
    assert_eq!(v["policy"], "tar");
}

#[test]
fn check_portable() {
    let s = Scratch::new();
    uncork(s.path())
        .args(["check", "--portable"])
        .arg(example("pgpdump-like.zip"))
        .assert()
        .success()
        .stdout(contains(
            "ok: extracts faithfully on Linux, macOS, Windows and WASI",
        ))
        .stdout(contains("note: 1 symlink(s)"));
    let collide = s.archive(
        "c.tar",
        &tar(&[
            ("README", FILE, "", b"", 0o644),
            ("readme", FILE, "", b"", 0o644),
        ]),
    );
    uncork(s.path())
        .args(["check", "--portable"])
        .arg(&collide)
        .assert()
        .code(1)
        .stderr(contains("case-collision"))
        .stderr(contains("entry 1"))
        .stderr(contains(
            "note: the archive does not extract faithfully on every platform",
        ));
    uncork(s.path())
        .args(["check"])
        .arg(&collide)
        .assert()
        .success()
        .stdout(contains("ok: extracts under the data policy"));
    let trailing = s.archive("t.tar", &tar(&[("dir./f", FILE, "", b"", 0o644)]));
    let out = uncork(s.path())
        .args(["check", "--portable", "--json"])
        .arg(&trailing)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["rule"], "trailing-dot-or-space");
    assert_eq!(v["error"]["entry"], 0);
    let out = uncork(s.path())
        .args(["check", "--portable", "--json"])
        .arg(example("pgpdump-like.tar.gz"))
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["policy"], "portable");
    uncork(s.path())
        .args(["check", "-q"])
        .arg(example("pgpdump-like.tar.gz"))
        .assert()
        .success()
        .stdout("");
    assert_eq!(names(s.path()), ["c.tar", "t.tar"]);
}
