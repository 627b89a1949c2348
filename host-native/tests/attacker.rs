//! Another process in the destination while uncork runs: a user renaming entries the run made
//! (a local attacker who owns the destination or its parent), a user saving files into it,
//! a second run. Races are bounded in iterations and time, never timed.
#![cfg(unix)]

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use uncork_core::{Action, Host, Report};
use uncork_native::{ExtractError, HostError, HostOptions, NativeHost};

fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

fn make_dir(host: &mut NativeHost<'_>, path: &str) {
    host.apply(&Action::MakeDir {
        path,
        replace: false,
    })
    .unwrap();
}

fn write_file(host: &mut NativeHost<'_>, path: &str, data: &[u8]) {
    host.apply(&Action::BeginFile {
        path,
        size: data.len() as u64,
        mode: 0o644,
        mtime: None,
        replace: false,
    })
    .unwrap();
    host.apply(&Action::FileData { data }).unwrap();
    host.apply(&Action::EndFile).unwrap();
}

/// Whether a regular file below `dir` (links not followed) holds exactly `data`.
fn holds_anywhere(dir: &Path, data: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        (meta.is_file() && std::fs::read(&path).unwrap() == data)
            || (meta.is_dir() && holds_anywhere(&path, data))
    })
}

/// Swaps every `dNNN` in `dest` for a symlink to `victim`, over and over, until told to stop.
fn swapper(dest: PathBuf, victim: PathBuf, dirs: usize, stop: Arc<AtomicBool>) {
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) {
        for i in 0..dirs {
            let name = dest.join(format!("d{i:03}"));
            let aside = dest.join(format!("aside-{round}-{i}"));
            if std::fs::rename(&name, &aside).is_ok() {
                let _ = symlink(&victim, &name);
            }
        }
        round += 1;
    }
}

/// The defect of issue 18 item 1: a rollback gave a directory it made back its owner's bits with
/// `chmodat` by name, which followed a symlink swapped in after the run looked: the link's
/// target anywhere on the system became 0700. Each round makes directories with a final mode
/// that lacks owner write (so removal must restore it), then undoes the run while a thread
/// swaps them for links to an outside directory and file.
#[test]
fn rollback_never_changes_a_mode_through_a_swapped_in_symlink() {
    let started = Instant::now();
    let mut rounds = 0;
    while rounds < 400 && started.elapsed() < Duration::from_secs(20) {
        rounds += 1;
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("dest");
        let victim_dir = tmp.path().join("outside");
        std::fs::create_dir(&dest).unwrap();
        std::fs::create_dir(&victim_dir).unwrap();
        std::fs::set_permissions(&victim_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let victim_file = tmp.path().join("outside-file");
        std::fs::write(&victim_file, b"x").unwrap();
        std::fs::set_permissions(&victim_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let victim = if rounds % 2 == 0 {
            victim_dir.clone()
        } else {
            victim_file.clone()
        };

        let mut host = NativeHost::open(&dest, HostOptions::default()).unwrap();
        let dirs = 12;
        for i in 0..dirs {
            let path = format!("d{i:03}");
            make_dir(&mut host, &path);
            host.apply(&Action::SetMode {
                path: &path,
                mode: 0o555,
            })
            .unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let attacker = {
            let (dest, victim, stop) = (dest.clone(), victim.clone(), Arc::clone(&stop));
            std::thread::spawn(move || swapper(dest, victim, dirs, stop))
        };
        let _ = host.abort();
        stop.store(true, Ordering::Relaxed);
        attacker.join().unwrap();

        assert_eq!(
            mode_of(&victim_dir),
            0o755,
            "round {rounds}: outside directory"
        );
        assert_eq!(mode_of(&victim_file), 0o644, "round {rounds}: outside file");
        // Let the next round's cleanup remove the read-only directories the swap kept.
        for entry in std::fs::read_dir(&dest).unwrap() {
            let path = entry.unwrap().path();
            if !path.is_symlink() && path.is_dir() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
    }
    eprintln!("{rounds} rounds");
}

/// Issue 18 item 3: a rollback removed, by path, a file a user saved into a directory the run
/// made, and said nothing was left behind.
#[test]
fn rollback_keeps_what_another_process_saved_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("before.txt"), b"mine").unwrap();
    let mut host = NativeHost::open(&dest, HostOptions::default()).unwrap();
    make_dir(&mut host, "dir05");
    write_file(&mut host, "dir05/a.txt", b"archive");
    write_file(&mut host, "top.txt", b"archive");
    std::fs::write(dest.join("dir05/my-notes.txt"), b"notes").unwrap();
    std::fs::write(dest.join("saved-meanwhile.txt"), b"other").unwrap();

    let err = host.abort().unwrap_err();
    assert!(
        matches!(&err, HostError::Foreign { count: 1, paths } if paths == &["dir05/my-notes.txt"]),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("dir05/my-notes.txt")).unwrap(),
        "notes"
    );
    assert!(!dest.join("dir05/a.txt").exists());
    assert!(!dest.join("top.txt").exists());
    assert_eq!(std::fs::read(dest.join("before.txt")).unwrap(), b"mine");
    assert_eq!(
        std::fs::read(dest.join("saved-meanwhile.txt")).unwrap(),
        b"other"
    );
}

/// Issue 18 item 3: run B wrote into directories of a running A; A failed and removed B's files.
#[test]
fn a_failed_run_leaves_files_of_a_run_into_its_subdirectory() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    let mut a = NativeHost::open(&dest, HostOptions::default()).unwrap();
    make_dir(&mut a, "shared");
    {
        let mut b = NativeHost::open(&dest.join("shared"), HostOptions::default()).unwrap();
        for i in 0..5 {
            write_file(&mut b, &format!("b{i}.txt"), b"from b");
        }
        b.finish(Ok(Report::default())).unwrap();
    }
    assert!(matches!(
        a.abort(),
        Err(HostError::Foreign { count: 5, .. })
    ));
    for i in 0..5 {
        assert!(dest.join(format!("shared/b{i}.txt")).exists());
    }
}

/// Two runs into one existing destination: the second is refused while the first runs.
#[test]
fn a_second_run_into_a_busy_destination_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let first = NativeHost::open(tmp.path(), HostOptions::default()).unwrap();
    let second = NativeHost::open(tmp.path(), HostOptions::default());
    assert!(matches!(second, Err(HostError::Busy { .. })), "{second:?}");
    first.abort().unwrap();
    NativeHost::open(tmp.path(), HostOptions::default())
        .unwrap()
        .abort()
        .unwrap();
}

fn staging_of(host: &NativeHost<'_>) -> PathBuf {
    host.root_path().to_owned()
}

/// Issue 18 item 8: the commit renamed by path, so a symlink swapped in for the staging
/// directory became the destination while the tree stayed hidden, and the run said it was done.
#[test]
fn the_commit_refuses_a_swapped_staging_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("new");
    let elsewhere = tmp.path().join("attacker");
    std::fs::create_dir(&elsewhere).unwrap();
    let mut host = NativeHost::open(&dest, HostOptions::default()).unwrap();
    write_file(&mut host, "f.txt", b"archive");
    let staging = staging_of(&host);
    let hidden = tmp.path().join("hidden");
    std::fs::rename(&staging, &hidden).unwrap();
    symlink(&elsewhere, &staging).unwrap();

    let err = host.finish(Ok(Report::default())).unwrap_err();
    assert!(
        matches!(
            &err,
            ExtractError::Host(HostError::StagingReplaced { .. }) | ExtractError::Undo { .. }
        ),
        "{err:?}"
    );
    assert!(std::fs::symlink_metadata(&dest).is_err(), "nothing at DEST");
    assert!(std::fs::symlink_metadata(&staging).unwrap().is_symlink());
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

/// Issue 18 item 8: two runs into one new destination; the loser's tree stayed hidden in its
/// staging directory. Now the loser fails, says so, and removes its staging directory.
#[test]
fn the_loser_of_two_runs_into_one_new_destination_fails_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("new");
    let mut a = NativeHost::open(&dest, HostOptions::default()).unwrap();
    let mut b = NativeHost::open(&dest, HostOptions::default()).unwrap();
    write_file(&mut a, "a.txt", b"a");
    write_file(&mut b, "b.txt", b"b");
    a.finish(Ok(Report::default())).unwrap();
    let err = b.finish(Ok(Report::default())).unwrap_err();
    assert!(
        matches!(&err, ExtractError::Host(HostError::Commit { .. })),
        "{err:?}"
    );
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["new"], "no staging directory left");
    assert!(dest.join("a.txt").exists() && !dest.join("b.txt").exists());
}

/// A run killed with SIGKILL leaves its staging directory; the next run into the same new
/// destination removes it (it is not locked any more) and says so, and leaves a live run's.
#[test]
fn a_killed_runs_staging_directory_is_removed_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("new");
    let abandoned = tmp.path().join(".new.uncork-0badc0de");
    std::fs::create_dir_all(abandoned.join("sub")).unwrap();
    std::fs::write(abandoned.join("sub/partial"), b"half").unwrap();
    let live = NativeHost::open(&tmp.path().join("other"), HostOptions::default()).unwrap();
    let live_staging = staging_of(&live);

    let mut host = NativeHost::open(&dest, HostOptions::default()).unwrap();
    write_file(&mut host, "f.txt", b"x");
    let done = host.finish(Ok(Report::default())).unwrap();
    assert!(!abandoned.exists());
    assert_eq!(done.recovered.len(), 1, "{:?}", done.recovered);
    assert!(done.recovered[0].contains(".new.uncork-0badc0de"));
    assert!(live_staging.exists());
    live.abort().unwrap();
}

/// The same attacker during a whole extraction with `--overwrite` into an existing directory
/// holding files the archive replaces: whether the run succeeds or fails (it fails when it meets
/// a swapped-in link), nothing outside the destination is written, chmodded or removed, and the
/// user's replaced files are never lost (each is either replaced or restored). This guards the
/// extraction and `--overwrite` paths, which were already handle-based: it passes on the code
/// before issue 18 too (the rollback race above is the one that failed there).
#[test]
fn an_extraction_with_overwrite_never_touches_what_a_swapped_in_link_points_at() {
    let started = Instant::now();
    let mut rounds = 0;
    let dirs = 12;
    let mut archive = tar::Builder::new(Vec::new());
    for i in 0..dirs {
        for j in 0..20 {
            let data = format!("archive {i} {j}");
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            archive
                .append_data(&mut header, format!("d{i:03}/f{j:02}"), data.as_bytes())
                .unwrap();
        }
    }
    let archive = archive.into_inner().unwrap();
    let mut refused = 0;
    while rounds < 200 && started.elapsed() < Duration::from_secs(20) {
        rounds += 1;
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("dest");
        let victim = tmp.path().join("outside");
        std::fs::create_dir(&victim).unwrap();
        std::fs::write(victim.join("f00"), b"outside").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(dest.join("d000")).unwrap();
        std::fs::write(dest.join("d000/f00"), b"the user's").unwrap();

        let stop = Arc::new(AtomicBool::new(false));
        let attacker = {
            let (dest, victim, stop) = (dest.clone(), victim.clone(), Arc::clone(&stop));
            std::thread::spawn(move || swapper(dest, victim, dirs, stop))
        };
        let result = uncork_native::extract_to(
            std::io::Cursor::new(&archive),
            &dest,
            &uncork_core::Options::default(),
            HostOptions {
                overwrite: true,
                ..HostOptions::default()
            },
        );
        stop.store(true, Ordering::Relaxed);
        attacker.join().unwrap();

        assert_eq!(mode_of(&victim), 0o755, "round {rounds}: {result:?}");
        let outside: Vec<_> = std::fs::read_dir(&victim)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(outside, ["f00"], "round {rounds}: {result:?}");
        assert_eq!(std::fs::read(victim.join("f00")).unwrap(), b"outside");
        // The user's file: replaced by the archive's on success, else still somewhere in dest
        // (restored under its name, or, when the attacker moved its directory away before the
        // undo could reach it, under that directory's new name, perhaps as its backup).
        if result.is_err() {
            refused += 1;
            let found = holds_anywhere(&dest, b"the user's");
            assert!(
                found,
                "round {rounds}: the user's file was lost: {result:?}"
            );
        }
    }
    eprintln!("{rounds} rounds, {refused} stopped by the attacker");
}
