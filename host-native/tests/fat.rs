//! Onto a FAT filesystem (an image mounted with `fusefat`): no Unix modes, no symlinks, names
//! that differ only by case are one. Modes become a reported degradation, symlinks copies, a
//! case collision a refusal, and a new destination whose directory rename loses the tree (as
//! fusefat's does) an error rather than an empty success. Needs root, /dev/fuse, `fusefat` and
//! `mkfs.vfat` (scripts/test.sh installs them); each test says so and passes without them.
#![cfg(target_os = "linux")]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A FAT image mounted for the test's lifetime.
struct Fat {
    _tmp: tempfile::TempDir,
    mnt: PathBuf,
}

impl Fat {
    fn mount() -> Option<Fat> {
        let missing = ["/usr/bin/fusefat", "/usr/sbin/mkfs.vfat", "/dev/fuse"]
            .into_iter()
            .find(|p| !Path::new(p).exists());
        if let Some(missing) = missing {
            eprintln!(
                "skipped: {missing} is missing (scripts/test.sh installs fusefat and dosfstools)"
            );
            return None;
        }
        let tmp = tempfile::tempdir().unwrap();
        let img = tmp.path().join("fat.img");
        let mnt = tmp.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        std::fs::write(&img, vec![0u8; 16 << 20]).unwrap();
        let made = Command::new("/usr/sbin/mkfs.vfat")
            .arg(&img)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(made.success());
        let mounted = Command::new("/usr/bin/fusefat")
            .args(["-o", "rw+"])
            .arg(&img)
            .arg(&mnt)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !mounted.is_ok_and(|s| s.success()) {
            eprintln!("skipped: fusefat could not mount (FUSE not allowed here?)");
            return None;
        }
        // Mounted once the mount point's device differs from its parent's (at most 5 s).
        use std::os::unix::fs::MetadataExt;
        let parent_dev = std::fs::metadata(tmp.path()).unwrap().dev();
        for _ in 0..500 {
            if std::fs::metadata(&mnt).is_ok_and(|m| m.dev() != parent_dev) {
                return Some(Fat { _tmp: tmp, mnt });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("fusefat did not mount");
    }
}

impl Drop for Fat {
    fn drop(&mut self) {
        let _ = Command::new("fusermount").arg("-u").arg(&self.mnt).status();
    }
}

fn run(args: &[&str], dest: &Path) -> (bool, String) {
    let out = uncork(Path::new("/"))
        .args(args)
        .arg("-C")
        .arg(dest)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_founding_case_extracts_onto_fat_with_reported_degradations() {
    let Some(fat) = Fat::mount() else { return };
    let dest = fat.mnt.join("existing");
    std::fs::create_dir(&dest).unwrap();
    let archive = example("pgpdump-like.tar.gz");
    let (ok, stderr) = run(&[archive.to_str().unwrap()], &dest);
    assert!(ok, "{stderr}");
    let d = dest.join("pgpdump-1.5");
    assert_eq!(
        std::fs::read(d.join("README")).unwrap(),
        std::fs::read(d.join("README.md")).unwrap()
    );
    assert!(d.join("bin/pgpdump").is_file() && d.join("setup.py").is_file());
    assert!(stderr.contains("README: symlink → copy of"), "{stderr}");
    assert!(stderr.contains("modes not applied"), "{stderr}");
    assert!(!names(&dest).iter().any(|n| n.contains(".uncork-")));
}

#[test]
fn a_new_destination_on_fat_fails_clearly_when_the_rename_loses_the_tree() {
    let Some(fat) = Fat::mount() else { return };
    let archive = example("pgpdump-like.tar.gz");
    let (ok, stderr) = run(&[archive.to_str().unwrap()], &fat.mnt.join("new"));
    // fusefat loses a renamed directory's contents; a filesystem that keeps them succeeds.
    if ok {
        assert!(
            fat.mnt.join("new/pgpdump-1.5/README.md").is_file(),
            "{stderr}"
        );
    } else {
        assert!(stderr.contains("lost the extracted tree"), "{stderr}");
        assert!(names(&fat.mnt).is_empty(), "left: {:?}", names(&fat.mnt));
    }
}

#[test]
fn names_that_differ_by_case_are_refused_on_fat() {
    let Some(fat) = Fat::mount() else { return };
    let dest = fat.mnt.join("existing");
    std::fs::create_dir(&dest).unwrap();
    let scratch = Scratch::new();
    let archive = scratch.archive(
        "case.tar",
        &tar(&[
            ("Foo.txt", FILE, "", b"upper", 0o644),
            ("foo.txt", FILE, "", b"lower", 0o644),
        ]),
    );
    let (ok, stderr) = run(&[archive.to_str().unwrap()], &dest);
    assert!(!ok);
    assert!(
        stderr.contains("are the same name on this filesystem"),
        "{stderr}"
    );
    assert!(names(&dest).is_empty(), "left: {:?}", names(&dest));
}
