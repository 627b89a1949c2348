//! The copy fallback for symlinks (issue 18, item 5): copies are bounded in entries as well as
//! bytes, a link inside a copied directory never reaches out of the destination, and a copy
//! never comes out empty on a filesystem whose listings give no file types.

mod common;

use common::*;
use std::io::Cursor;
use std::path::Path;
#[cfg(unix)]
use std::sync::Arc;
use uncork_core::{Options, RunError};
use uncork_native::{ExtractError, HostError, HostOptions, SymlinkMode, extract_to};

/// `levels` levels of `fan` links each to the level below, over `l0/` holding an empty file
/// and an empty directory: no file data at all, but `fan^levels` copies with `--symlinks copy`.
fn fan_out(levels: usize, fan: usize) -> Vec<u8> {
    let mut names: Vec<(String, u8, String)> = vec![
        ("l0/".into(), DIR, String::new()),
        ("l0/empty".into(), FILE, String::new()),
        ("l0/e/".into(), DIR, String::new()),
    ];
    for level in 1..=levels {
        names.push((format!("l{level}/"), DIR, String::new()));
        for i in 0..fan {
            names.push((
                format!("l{level}/s{i}"),
                SYMLINK,
                format!("../l{}", level - 1),
            ));
        }
    }
    let entries: Vec<(&str, u8, &str, &[u8], u32)> = names
        .iter()
        .map(|(n, t, l)| {
            let mode = if *t == DIR { 0o755 } else { 0o644 };
            (n.as_str(), *t, l.as_str(), &b""[..], mode)
        })
        .collect();
    tar(&entries)
}

fn count_entries(root: &Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(root).unwrap() {
        let entry = entry.unwrap();
        n += 1;
        if entry.file_type().unwrap().is_dir() {
            n += count_entries(&entry.path());
        }
    }
    n
}

#[test]
fn copies_of_links_to_directories_count_their_entries_against_the_budget() {
    // 4 levels of 8: 4,680 copies of l0 (over 14,000 entries) from a 37-entry archive whose
    // files hold no byte. The budget counts entries, not only data.
    let s = Scratch::new();
    let dest = s.join("out");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("keep"), "keep").unwrap();
    let before = snapshot(&dest);
    let err = extract_to(
        Cursor::new(fan_out(4, 8)),
        &dest,
        &Options::default(),
        HostOptions {
            symlinks: SymlinkMode::Copy,
            max_copy_entries: 10_000,
            ..HostOptions::default()
        },
    )
    .unwrap_err();
    let ExtractError::Run(run) = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(
            run.as_ref(),
            RunError::Host {
                source: HostError::CopyLimit { .. },
                ..
            }
        ),
        "{err}"
    );
    // Refused, and nothing of the run is left.
    assert_eq!(snapshot(&dest), before);
}

#[test]
fn a_fan_out_within_the_budget_is_copied_whole() {
    let s = Scratch::new();
    let dest = s.join("out");
    let done = extract_to(
        Cursor::new(fan_out(2, 3)),
        &dest,
        &Options::default(),
        HostOptions {
            symlinks: SymlinkMode::Copy,
            ..HostOptions::default()
        },
    )
    .unwrap();
    assert_eq!(done.report.degradations.len(), 6);
    // l0: 3 entries; l1: 1 + 3 x (1 + 2); l2: 1 + 3 x (1 + 3 x 3).
    assert_eq!(count_entries(&dest), 3 + 10 + 31);
    assert!(dest.join("l2/s2/s1/e").is_dir());
    assert!(dest.join("l2/s0/s2/empty").is_file());
}

#[cfg(unix)]
mod creators {
    use cap_std::fs::Dir;
    use std::io;
    use uncork_core::LinkKind;
    use uncork_native::SymlinkCreator;

    /// Makes file links, refuses directory links (a filesystem or platform that cannot make
    /// directory symlinks: the fallback then copies directories that hold real links).
    #[derive(Debug)]
    pub struct FileLinksOnly;

    impl SymlinkCreator for FileLinksOnly {
        fn create(&self, parent: &Dir, name: &str, target: &str, kind: LinkKind) -> io::Result<()> {
            if kind == LinkKind::Dir {
                return Err(io::Error::from_raw_os_error(1));
            }
            parent.symlink(target, name)
        }
    }
}

#[cfg(unix)]
#[test]
fn a_link_in_a_copied_directory_never_reaches_out_of_the_destination() {
    // a/b/d/up -> ../../f is a/f where the archive puts it; carried verbatim to c/up (a copy
    // of a/b/d in place of the link c), ../../f is beside the destination.
    let s = Scratch::new();
    let dest = s.join("out");
    std::fs::write(s.join("f"), "outside").unwrap();
    let archive = tar(&[
        ("a/", DIR, "", b"", 0o755),
        ("a/b/", DIR, "", b"", 0o755),
        ("a/b/d/", DIR, "", b"", 0o755),
        ("a/f", FILE, "", b"top", 0o644),
        ("a/b/d/inner.txt", FILE, "", b"inner", 0o644),
        ("a/b/d/in", SYMLINK, "inner.txt", b"", 0o777),
        ("a/b/d/up", SYMLINK, "../../f", b"", 0o777),
        ("c", SYMLINK, "a/b/d", b"", 0o777),
    ]);
    let done = extract_to(
        Cursor::new(archive),
        &dest,
        &Options::default(),
        HostOptions {
            symlinks: SymlinkMode::Auto,
            symlink_creator: Some(Arc::new(creators::FileLinksOnly)),
            ..HostOptions::default()
        },
    )
    .unwrap();
    assert_eq!(read(&dest.join("a/b/d/up")), "top");
    assert!(dest.join("c").is_dir());
    assert_eq!(read(&dest.join("c/inner.txt")), "inner");
    // A link that stays inside the copy is kept as a link.
    assert_eq!(
        std::fs::read_link(dest.join("c/in")).unwrap(),
        Path::new("inner.txt")
    );
    // The one that would leave it is not made, and the report says so.
    assert!(
        std::fs::symlink_metadata(dest.join("c/up")).is_err(),
        "c/up -> {:?} reaches {:?}",
        std::fs::read_link(dest.join("c/up")),
        std::fs::read_to_string(dest.join("c/up"))
    );
    let copy = done
        .report
        .degradations
        .iter()
        .find(|d| d.path == "c")
        .expect("c is reported");
    assert!(
        copy.degradation
            .reason
            .contains("1 link or special file inside it was not copied"),
        "{}",
        copy.degradation.reason
    );
}

/// A FUSE mount of `tests/untyped_fs.py`: a pass-through filesystem whose listings say
/// DT_UNKNOWN for every entry. Unmounted (and its process ended) when dropped.
#[cfg(target_os = "linux")]
struct UntypedMount {
    mount: std::path::PathBuf,
    child: std::process::Child,
}

#[cfg(target_os = "linux")]
impl UntypedMount {
    /// `None`, saying why, where FUSE or fusepy is not available (not root, no /dev/fuse, no
    /// python3-fusepy: `apt-get install fuse3 libfuse2 python3-fusepy`).
    fn new(root: &Path, mount: &Path) -> Option<Self> {
        let python = Path::new("/usr/bin/python3");
        let usable = Path::new("/dev/fuse").exists()
            && python.exists()
            && std::process::Command::new(python)
                .args(["-c", "import fusepy"])
                .output()
                .is_ok_and(|o| o.status.success());
        if !usable {
            eprintln!("skipped: needs /dev/fuse and /usr/bin/python3 with fusepy");
            return None;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/untyped_fs.py");
        let child = std::process::Command::new(python)
            .arg(script)
            .arg(root)
            .arg(mount)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let mut mounted = UntypedMount {
            mount: mount.to_owned(),
            child,
        };
        // Wait (at most about 10 s) for the mount to appear.
        for _ in 0..200 {
            let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
            if mounts
                .lines()
                .any(|l| l.split(' ').nth(1) == mount.to_str() && l.contains("fuse"))
            {
                return Some(mounted);
            }
            if mounted.child.try_wait().ok().flatten().is_some() {
                eprintln!("skipped: the FUSE filesystem could not be mounted here");
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        eprintln!("skipped: the FUSE filesystem did not appear");
        None
    }
}

#[cfg(target_os = "linux")]
impl Drop for UntypedMount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.mount)
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_copy_on_a_filesystem_whose_listings_give_no_type_is_complete() {
    // Issue 18: on FUSE every fallback copy of a directory came out empty, reported as a copy.
    let s = Scratch::new();
    let root = s.join("backing");
    let mount = s.join("mnt");
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(&mount).unwrap();
    let Some(_mounted) = UntypedMount::new(&root, &mount) else {
        return;
    };
    let archive = tar(&[
        ("d/", DIR, "", b"", 0o755),
        ("d/sub/", DIR, "", b"", 0o755),
        ("d/f.txt", FILE, "", b"data", 0o644),
        ("d/sub/g.txt", FILE, "", b"g", 0o644),
        ("l0", SYMLINK, "d", b"", 0o777),
    ]);
    let dest = mount.join("out");
    extract_to(
        Cursor::new(archive),
        &dest,
        &Options::default(),
        HostOptions {
            symlinks: SymlinkMode::Copy,
            ..HostOptions::default()
        },
    )
    .unwrap();
    assert_eq!(read(&dest.join("l0/f.txt")), "data");
    assert_eq!(read(&dest.join("l0/sub/g.txt")), "g");
}
