//! SIGINT, SIGTERM and SIGHUP stop an extraction at its next action and undo it exactly as a
//! failure does (issue 18 item 2): no staging directory, no partial file under a final name,
//! replaced files restored, exit 128 + the signal's number. Bounded: each wait gives up after
//! a fixed number of short polls, and a run still alive then is killed and the test fails.
#![cfg(unix)]

mod common;

use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SIGNALS: [(&str, i32); 3] = [("INT", 2), ("TERM", 15), ("HUP", 1)];

/// A tar of `files` small files in a few directories.
fn many_files_tar(files: usize) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for i in 0..files {
        let data = format!("file {i}\n").repeat(20);
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(
                &mut header,
                format!("pkg/d{:02}/f{i:05}.txt", i % 50),
                data.as_bytes(),
            )
            .unwrap();
    }
    builder.into_inner().unwrap()
}

fn many_files_zip(files: usize) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().unix_permissions(0o644);
    for i in 0..files {
        writer
            .start_file(format!("pkg/d{:02}/f{i:05}.txt", i % 50), options)
            .unwrap();
        writer
            .write_all(format!("file {i}\n").repeat(20).as_bytes())
            .unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Polls `ready` every 10 ms, at most 1,000 times.
fn wait_until(mut ready: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Waits for the child to exit (at most 1,000 polls of 10 ms); kills it and fails otherwise.
fn exit_code(child: &mut Child) -> Option<i32> {
    for _ in 0..1000 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    panic!("uncork did not stop after the signal");
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Whether anything below `dir` (recursively) holds `needle` in its name.
fn any_named(dir: &Path, needle: &str) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            e.file_name().to_string_lossy().contains(needle)
                || (e.file_type().is_ok_and(|t| t.is_dir()) && any_named(&e.path(), needle))
        })
    })
}

/// Something of the run's is on disk below `parent` (the staging directory or the tree).
fn started(parent: &Path) -> bool {
    any_named(parent, "f00001")
}

struct Setup {
    scratch: Scratch,
    dest: PathBuf,
    before: std::collections::BTreeMap<String, String>,
    overwrite: bool,
}

/// `new`: a missing destination; `existing`: a directory with a file of the user's;
/// `overwrite`: the same with `--overwrite`, and a file the archive replaces.
fn setup(kind: &str) -> Setup {
    let scratch = Scratch::new();
    let dest = scratch.join("out");
    if kind != "new" {
        std::fs::create_dir_all(dest.join("pkg/d00")).unwrap();
        std::fs::write(dest.join("mine.txt"), b"the user's").unwrap();
    }
    if kind == "overwrite" {
        std::fs::write(dest.join("pkg/d00/f00000.txt"), b"the original").unwrap();
    }
    let before = if dest.exists() {
        snapshot(&dest)
    } else {
        Default::default()
    };
    Setup {
        scratch,
        dest,
        before,
        overwrite: kind == "overwrite",
    }
}

fn command(setup: &Setup, archive: &str) -> Command {
    let mut cmd = Command::new(uncork_exe());
    cmd.current_dir(setup.scratch.path())
        .arg(archive)
        .arg("-C")
        .arg(&setup.dest)
        .arg("-q")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if setup.overwrite {
        cmd.arg("--overwrite");
    }
    cmd
}

/// After the interrupted run: the destination is as it was and nothing of the run is left.
fn assert_undone(setup: &Setup, code: Option<i32>, number: i32, stderr: &str) {
    assert_eq!(code, Some(128 + number), "{stderr}");
    assert!(stderr.contains("interrupted by SIG"), "{stderr}");
    if setup.before.is_empty() {
        assert!(!setup.dest.exists(), "the new destination was not made");
    } else {
        assert_eq!(snapshot(&setup.dest), setup.before, "{stderr}");
    }
    assert!(
        !any_named(setup.scratch.path(), ".uncork-"),
        "a staging directory or backup was left: {:?}",
        snapshot(setup.scratch.path()).keys().collect::<Vec<_>>()
    );
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// Standard input that stays open after half the archive: the run has written files and
/// waits for more when the signal comes.
#[test]
fn a_signal_during_a_stalled_stdin_run_undoes_it() {
    let archive = gz(&many_files_tar(2_000));
    for (kind, (signal, number)) in ["new", "existing", "overwrite"].into_iter().zip(SIGNALS) {
        let setup = setup(kind);
        let mut child = command(&setup, "-").stdin(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&archive[..archive.len() / 2]).unwrap();
        stdin.flush().unwrap();
        assert!(
            wait_until(|| started(setup.scratch.path())),
            "{kind}: nothing was written"
        );
        send(&child, signal);
        let code = exit_code(&mut child);
        drop(stdin);
        let stderr = stderr_of(&mut child);
        assert_undone(&setup, code, number, &stderr);
    }
}

/// Each signal, each destination kind, a tar.gz and a zip read from a file. The run is
/// signalled as soon as its first file shows; an archive that finished first is tried again
/// four times larger (at most three times).
#[test]
fn a_signal_during_a_file_run_undoes_it() {
    for format in ["tar.gz", "zip"] {
        for kind in ["new", "existing", "overwrite"] {
            for (signal, number) in SIGNALS {
                let mut files = 20_000;
                let mut tries = 0;
                loop {
                    tries += 1;
                    let setup = setup(kind);
                    let bytes = if format == "zip" {
                        many_files_zip(files)
                    } else {
                        gz(&many_files_tar(files))
                    };
                    let name = format!("a.{format}");
                    setup.scratch.archive(&name, &bytes);
                    let mut child = command(&setup, &name).spawn().unwrap();
                    assert!(
                        wait_until(|| started(setup.scratch.path())),
                        "{format} {kind}: nothing was written"
                    );
                    send(&child, signal);
                    let code = exit_code(&mut child);
                    let stderr = stderr_of(&mut child);
                    if code == Some(0) {
                        assert!(tries < 3, "{format} {kind}: always done before the signal");
                        files *= 4;
                        continue;
                    }
                    assert_undone(&setup, code, number, &stderr);
                    break;
                }
            }
        }
    }
}

/// SIGKILL cannot be caught: a killed run into an existing directory leaves no partial file
/// under a final name (files are written under `.uncork-part-…` and renamed when complete),
/// and the next run into that directory removes the partial files and puts back what
/// `--overwrite` had moved aside, and says so.
#[test]
fn after_sigkill_no_partial_file_has_a_final_name_and_the_next_run_recovers() {
    let tar = many_files_tar(20_000);
    let archive = gz(&tar);
    let mut tries = 0;
    loop {
        tries += 1;
        let setup = setup("overwrite");
        setup.scratch.archive("a.tar.gz", &archive);
        let mut child = command(&setup, "a.tar.gz").spawn().unwrap();
        assert!(wait_until(|| started(setup.scratch.path())));
        send(&child, "KILL");
        let code = exit_code(&mut child);
        if code == Some(0) {
            assert!(tries < 3, "always done before the signal");
            continue;
        }
        // Every file under a final name is complete.
        let expected = |i: usize| format!("file {i}\n").repeat(20);
        let mut complete = 0;
        for (path, _) in snapshot(&setup.dest) {
            let Some(i) = path
                .rsplit('/')
                .next()
                .and_then(|n| n.strip_prefix('f'))
                .and_then(|n| n.strip_suffix(".txt"))
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            let data = std::fs::read_to_string(setup.dest.join(&path)).unwrap();
            if i == 0 && data == "the original" {
                continue;
            }
            assert_eq!(data, expected(i), "{path}");
            complete += 1;
        }
        // The next run (with --overwrite, as the killed one) cleans up and says what it did.
        let out = Command::new(uncork_exe())
            .current_dir(setup.scratch.path())
            .args(["a.tar.gz", "--overwrite", "-C"])
            .arg(&setup.dest)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            !any_named(setup.scratch.path(), ".uncork-"),
            "{complete} complete files; leftovers remain: {stderr}"
        );
        assert!(
            stderr.contains("an interrupted run"),
            "the recovery was not reported: {stderr}"
        );
        break;
    }
}
