//! Extracting into a directory that already holds things of the user's (issue 18 item 10):
//! what the run must leave as it found it, on success and on failure.
#![cfg(unix)]

mod common;

use common::*;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

fn set_mtime(path: &Path, secs: u64) {
    let file = std::fs::File::open(path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// `--overwrite` opened up a directory it did not create: `pre` (0700) became 0755, unreported.
#[test]
fn overwrite_keeps_a_preexisting_directorys_mode() {
    let s = Scratch::new();
    let dest = s.join("o");
    std::fs::create_dir_all(dest.join("pre")).unwrap();
    std::fs::set_permissions(dest.join("pre"), std::fs::Permissions::from_mode(0o700)).unwrap();
    let archive = s.archive(
        "a.tar",
        &tar(&[
            ("pre/", DIR, "", b"", 0o755),
            ("pre/pwned.txt", FILE, "", b"x", 0o644),
        ]),
    );
    let out = uncork(s.path())
        .arg(&archive)
        .args(["--overwrite", "-C"])
        .arg(&dest)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(mode(&dest.join("pre")), 0o700);
    assert!(
        stderr.contains("pre: mode → left as it was"),
        "the kept mode is reported: {stderr}"
    );
}

/// With `--trust-existing-symlinks`, a failed run restored the mtime of the link it wrote
/// through, not of the directory the link leads to, which kept the run's change.
#[test]
fn a_failed_run_restores_the_mtime_of_a_directory_reached_through_a_trusted_link() {
    let s = Scratch::new();
    let dest = s.join("dest");
    let outside = s.join("outside");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    symlink(&outside, dest.join("lnk")).unwrap();
    std::fs::write(dest.join("taken.txt"), b"the user's").unwrap();
    set_mtime(&outside, 1_000_000);
    let archive = s.archive(
        "a.tar",
        &tar(&[
            ("lnk/new.txt", FILE, "", b"new", 0o644),
            ("taken.txt", FILE, "", b"archive", 0o644),
        ]),
    );
    let out = uncork(s.path())
        .arg(&archive)
        .args(["--trust-existing-symlinks", "-C"])
        .arg(&dest)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("nothing was left behind"), "{stderr}");
    assert!(!outside.join("new.txt").exists());
    assert_eq!(
        mtime(&outside),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)
    );
}

/// In a sticky, world-writable directory the user does not own (as /tmp), a failed run could
/// not restore that directory's mtime and said the destination "may hold leftovers" although
/// nothing was left. Runs uncork as `nobody` (needs root and setpriv; says so otherwise).
#[test]
fn a_failure_in_a_sticky_directory_of_another_owner_says_nothing_was_left() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    if !root || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root and /usr/bin/setpriv to run as nobody");
        return;
    }
    let s = Scratch::new();
    std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sticky = s.join("sticky");
    std::fs::create_dir(&sticky).unwrap();
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::write(sticky.join("taken.txt"), b"root's").unwrap();
    let archive = s.archive(
        "a.tar",
        &tar(&[
            ("new.txt", FILE, "", b"new", 0o644),
            ("taken.txt", FILE, "", b"archive", 0o644),
        ]),
    );
    std::fs::set_permissions(&archive, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new("/usr/bin/setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(uncork_exe())
        .arg(&archive)
        .arg("-C")
        .arg(&sticky)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("Permission denied") && stderr.contains("open the archive") {
        eprintln!("skipped: nobody cannot read the scratch directory here");
        return;
    }
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing was left behind"), "{stderr}");
    assert!(!stderr.contains("leftovers"), "{stderr}");
    assert!(!sticky.join("new.txt").exists());
}
