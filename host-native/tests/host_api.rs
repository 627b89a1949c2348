//! The library: `NativeHost` driven directly, with an injected symlink creator standing in
//! for platforms that cannot make links (Windows' error 1314, Wine's silent no-op).

mod common;

use cap_std::fs::Dir;
use common::*;
use std::io::{self, Cursor};
use std::sync::Arc;
use uncork_core::{Action, Degradation, Effect, Fallback, Host, LinkKind, Options, RunError};
use uncork_native::{
    ExtractError, HostError, HostOptions, NativeHost, SymlinkCreator, SymlinkMode, extract_to,
};

/// The platform's "no privilege" error: Windows' ERROR_PRIVILEGE_NOT_HELD, Unix's EPERM.
fn no_privilege() -> io::Error {
    if cfg!(windows) {
        io::Error::from_raw_os_error(1314)
    } else {
        io::Error::from_raw_os_error(1)
    }
}

#[derive(Debug)]
struct Refusing;

impl SymlinkCreator for Refusing {
    fn create(&self, _: &Dir, _: &str, _: &str, _: LinkKind) -> io::Result<()> {
        Err(no_privilege())
    }
}

/// Says yes and makes nothing, as `CreateSymbolicLinkW` does under Wine.
#[derive(Debug)]
struct Silent;

impl SymlinkCreator for Silent {
    fn create(&self, _: &Dir, _: &str, _: &str, _: LinkKind) -> io::Result<()> {
        Ok(())
    }
}

fn with_creator(creator: Arc<dyn SymlinkCreator>, symlinks: SymlinkMode) -> HostOptions {
    HostOptions {
        symlinks,
        symlink_creator: Some(creator),
        ..HostOptions::default()
    }
}

fn no_privilege_reason() -> &'static str {
    if cfg!(windows) {
        "no symlink privilege"
    } else {
        "the filesystem does not support symlinks"
    }
}

#[test]
fn without_link_privilege_auto_copies_the_target_and_reports_it() {
    let s = Scratch::new();
    let dest = s.join("out");
    let done = extract_to(
        Cursor::new(founding_tar()),
        &dest,
        &Options::default(),
        with_creator(Arc::new(Refusing), SymlinkMode::Auto),
    )
    .unwrap();
    assert_eq!(done.report.degradations.len(), 1);
    let degraded = &done.report.degradations[0];
    assert_eq!(degraded.path, "pgpdump-1.5/README");
    assert_eq!(
        degraded.degradation,
        Degradation {
            effect: Effect::Symlink,
            fallback: Fallback::Copy {
                from: "pgpdump-1.5/README.md".into()
            },
            reason: no_privilege_reason().into(),
        }
    );
    assert_eq!(
        degraded.to_string(),
        format!(
            "pgpdump-1.5/README: symlink → copy of pgpdump-1.5/README.md ({})",
            no_privilege_reason()
        )
    );
    assert!(done.staged);
    assert_eq!(read(&dest.join("pgpdump-1.5/README")), "# pgpdump\n");
}

#[test]
fn without_link_privilege_native_fails_and_leaves_nothing() {
    let s = Scratch::new();
    let dest = s.join("out");
    let err = extract_to(
        Cursor::new(founding_tar()),
        &dest,
        &Options::default(),
        with_creator(Arc::new(Refusing), SymlinkMode::Native),
    )
    .unwrap_err();
    let ExtractError::Run(run) = &err else {
        panic!("{err}")
    };
    let RunError::Host { action, source, .. } = run.as_ref() else {
        panic!("{err}")
    };
    assert_eq!(*action, "symlink");
    assert!(
        matches!(source, HostError::SymlinkFailed { path, .. } if path == "pgpdump-1.5/README"),
        "{source}"
    );
    assert!(!dest.exists());
    assert_eq!(names(s.path()), Vec::<String>::new());
}

#[test]
fn a_link_that_did_not_appear_is_verified_and_replaced_by_a_copy() {
    let s = Scratch::new();
    let dest = s.join("out");
    let done = extract_to(
        Cursor::new(founding_tar()),
        &dest,
        &Options::default(),
        with_creator(Arc::new(Silent), SymlinkMode::Auto),
    )
    .unwrap();
    let degradation = &done.report.degradations[0].degradation;
    assert_eq!(
        degradation.fallback,
        Fallback::Copy {
            from: "pgpdump-1.5/README.md".into()
        }
    );
    assert_eq!(
        degradation.reason,
        "the symlink did not appear although the platform reported success"
    );
    assert!(dest.join("pgpdump-1.5/README").is_file());
}

#[test]
fn a_directory_link_without_privilege_becomes_a_junction_or_a_tree_copy() {
    let s = Scratch::new();
    let dest = s.join("out");
    let archive = tar(&[
        ("d/", DIR, "", b"", 0o755),
        ("d/f", FILE, "", b"f", 0o644),
        ("d/sub/g", FILE, "", b"g", 0o644),
        ("d/inner", SYMLINK, "f", b"", 0o777),
        ("l", SYMLINK, "d", b"", 0o777),
        ("gone", SYMLINK, "missing", b"", 0o777),
    ]);
    let done = extract_to(
        Cursor::new(archive),
        &dest,
        &Options::default(),
        with_creator(Arc::new(Refusing), SymlinkMode::Auto),
    )
    .unwrap();
    let by_path = |p: &str| {
        done.report
            .degradations
            .iter()
            .find(|d| d.path == p)
            .map(|d| d.degradation.clone())
            .unwrap()
    };
    let l = by_path("l");
    match &l.fallback {
        Fallback::Junction if cfg!(windows) => {}
        Fallback::Copy { from } => assert_eq!(from, "d"),
        other => panic!("{other:?}"),
    }
    assert_eq!(read(&dest.join("l/f")), "f");
    assert_eq!(read(&dest.join("l/sub/g")), "g");
    assert_eq!(
        read(&dest.join("d/inner")),
        "f",
        "the inner link is a copy too"
    );
    let gone = by_path("gone");
    assert_eq!(gone.fallback, Fallback::Skipped);
    assert!(
        gone.reason.ends_with("the target is not in the archive"),
        "{}",
        gone.reason
    );
}

#[test]
fn copies_in_place_of_links_have_a_budget() {
    let s = Scratch::new();
    let dest = s.join("out");
    std::fs::create_dir(&dest).unwrap();
    std::fs::write(dest.join("keep"), "keep").unwrap();
    let before = snapshot(&dest);
    let err = extract_to(
        Cursor::new(founding_tar()),
        &dest,
        &Options::default(),
        HostOptions {
            symlinks: SymlinkMode::Copy,
            max_copy_bytes: 3,
            ..HostOptions::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("symlink failed"), "{err}");
    let ExtractError::Run(run) = &err else {
        panic!()
    };
    assert!(matches!(
        run.as_ref(),
        RunError::Host {
            source: HostError::CopyLimit { limit: 3, .. },
            ..
        }
    ));
    assert_eq!(snapshot(&dest), before);
}

#[test]
fn abort_and_drop_undo_everything() {
    let s = Scratch::new();
    let dest = s.join("fresh");
    let mut host = NativeHost::open(&dest, HostOptions::default()).unwrap();
    host.apply(&Action::MakeDir {
        path: "a",
        replace: false,
    })
    .unwrap();
    host.apply(&Action::BeginFile {
        path: "a/f",
        size: 1,
        mode: 0o644,
        mtime: None,
        replace: false,
    })
    .unwrap();
    host.apply(&Action::FileData { data: b"x" }).unwrap();
    host.abort().unwrap();
    assert_eq!(names(s.path()), Vec::<String>::new());

    std::fs::create_dir(&dest).unwrap();
    {
        let mut host = NativeHost::open(&dest, HostOptions::default()).unwrap();
        host.apply(&Action::MakeDir {
            path: "a",
            replace: false,
        })
        .unwrap();
        host.apply(&Action::BeginFile {
            path: "a/f",
            size: 1,
            mode: 0o644,
            mtime: None,
            replace: false,
        })
        .unwrap();
        // Dropped without finish: undone.
    }
    assert_eq!(names(&dest), Vec::<String>::new());
}

#[test]
fn actions_out_of_order_are_errors_not_panics() {
    let s = Scratch::new();
    let mut host = NativeHost::open(&s.join("x"), HostOptions::default()).unwrap();
    assert!(matches!(
        host.apply(&Action::FileData { data: b"x" }),
        Err(HostError::Protocol(_))
    ));
    assert!(matches!(
        host.apply(&Action::EndFile),
        Err(HostError::Protocol(_))
    ));
    assert!(matches!(
        host.apply(&Action::BeginFile {
            path: "no/parent",
            size: 0,
            mode: 0o644,
            mtime: None,
            replace: false
        }),
        Err(HostError::Io { .. })
    ));
    host.apply(&Action::BeginFile {
        path: "f",
        size: 0,
        mode: 0o644,
        mtime: None,
        replace: false,
    })
    .unwrap();
    assert!(matches!(
        host.apply(&Action::BeginFile {
            path: "g",
            size: 0,
            mode: 0o644,
            mtime: None,
            replace: false
        }),
        Err(HostError::Protocol(_))
    ));
    host.abort().unwrap();
    assert_eq!(names(s.path()), Vec::<String>::new());
}

#[test]
fn observer_sees_every_action_and_mtimes_are_applied() {
    let s = Scratch::new();
    let dest = s.join("out");
    let mut seen = Vec::new();
    let mut host = NativeHost::open(&dest, HostOptions::default()).unwrap();
    host.set_observer(|action: &Action<'_>, _: &uncork_core::Outcome| seen.push(action.name()));
    let result = uncork_core::extract(Cursor::new(founding_tar()), &Options::default(), &mut host);
    let done = host.finish(result).unwrap();
    assert_eq!(done.platform, uncork_native::PLATFORM);
    assert!(
        seen.contains(&"symlink") && seen.contains(&"write-file") && seen.contains(&"set-mode")
    );
    let mtime = std::fs::metadata(dest.join("pgpdump-1.5/README.md"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        mtime
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        1_700_000_000
    );
}

#[test]
fn an_existing_directory_is_merged_into_and_its_metadata_kept() {
    let s = Scratch::new();
    let dest = s.join("out");
    std::fs::create_dir_all(dest.join("pgpdump-1.5")).unwrap();
    std::fs::write(dest.join("pgpdump-1.5/mine"), "mine").unwrap();
    // A mode other than the archive's 0755: kept, and the report says so.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dest.join("pgpdump-1.5"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
    }
    let done = extract_to(
        Cursor::new(founding_tar()),
        &dest,
        &Options::default(),
        HostOptions {
            symlinks: SymlinkMode::Copy,
            ..HostOptions::default()
        },
    )
    .unwrap();
    assert!(!done.staged);
    assert!(
        done.report
            .degradations
            .iter()
            .any(|d| d.path == "pgpdump-1.5"
                && d.degradation.effect == Effect::Mode
                && d.degradation.fallback == Fallback::Approximated("left as it was".into())),
        "{:?}",
        done.report.degradations
    );
    assert_eq!(read(&dest.join("pgpdump-1.5/mine")), "mine");
    assert_eq!(read(&dest.join("pgpdump-1.5/README")), "# pgpdump\n");
    #[cfg(unix)]
    assert_eq!(mode(&dest.join("pgpdump-1.5")), 0o700);
}

#[cfg(unix)]
#[test]
fn modes_are_exact_whatever_the_umask() {
    use std::process::Command;
    let s = Scratch::new();
    let archive = s.archive(
        "m.tar",
        &tar(&[
            ("d/", DIR, "", b"", 0o775),
            ("d/x", FILE, "", b"", 0o775),
            ("d/r", FILE, "", b"", 0o644),
        ]),
    );
    let bin = uncork_exe();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 077 && exec '{}' '{}' -C '{}' --policy trusted",
            bin.display(),
            archive.display(),
            s.join("out").display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(mode(&s.join("out/d")), 0o775);
    assert_eq!(mode(&s.join("out/d/x")), 0o775);
    assert_eq!(mode(&s.join("out/d/r")), 0o644);
}

#[cfg(unix)]
#[test]
fn undo_removes_directories_that_lost_their_owner_bits() {
    // trusted keeps 0o000 on a directory; a failure after it was set must still clean up.
    let s = Scratch::new();
    let dest = s.join("out");
    std::fs::create_dir(&dest).unwrap();
    let mut host = NativeHost::open(&dest, HostOptions::default()).unwrap();
    host.apply(&Action::MakeDir {
        path: "locked",
        replace: false,
    })
    .unwrap();
    host.apply(&Action::BeginFile {
        path: "locked/f",
        size: 0,
        mode: 0o000,
        mtime: None,
        replace: false,
    })
    .unwrap();
    host.apply(&Action::EndFile).unwrap();
    host.apply(&Action::SetMode {
        path: "locked",
        mode: 0o000,
    })
    .unwrap();
    host.abort().unwrap();
    assert_eq!(names(&dest), Vec::<String>::new());
}

/// Names Windows cannot create are refused by the Windows host whatever the policy.
#[cfg(windows)]
#[test]
fn windows_refuses_names_it_cannot_create() {
    let names = [
        "CON",
        "aux.txt",
        "aux.c",
        "dir./f",
        "x/a:b",
        "x/q?",
        "trailing ",
        // An alternate data stream of file.txt, were it written.
        "file.txt::$DATA",
    ];
    for (name, policy) in names
        .into_iter()
        .flat_map(|n| [(n, "data"), (n, "trusted")])
    {
        let s = Scratch::new();
        let archive = s.archive(
            "w.tar",
            &tar(&[("ok", FILE, "", b"ok", 0o644), (name, FILE, "", b"", 0o644)]),
        );
        let out = uncork(s.path())
            .arg(&archive)
            .args(["-C", "out", "--policy", policy])
            .assert()
            .code(1)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cannot be created on Windows"),
            "{name} ({policy}): {stderr}"
        );
        assert!(!s.join("out").exists(), "{name} ({policy})");
    }
}

/// A mode without owner write becomes the read-only attribute, and undo can still remove it.
#[cfg(windows)]
#[test]
fn windows_read_only_attribute_and_undo() {
    let s = Scratch::new();
    let archive = s.archive(
        "r.tar",
        &tar(&[
            ("ro", FILE, "", b"ro", 0o444),
            ("rw", FILE, "", b"rw", 0o644),
        ]),
    );
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "out", "--policy", "tar"])
        .assert()
        .success();
    assert!(
        std::fs::metadata(s.join("out/ro"))
            .unwrap()
            .permissions()
            .readonly()
    );
    assert!(
        !std::fs::metadata(s.join("out/rw"))
            .unwrap()
            .permissions()
            .readonly()
    );

    std::fs::create_dir(s.join("existing")).unwrap();
    let bad = s.archive(
        "bad.tar",
        &tar(&[
            ("ro", FILE, "", b"ro", 0o444),
            ("../x", FILE, "", b"", 0o644),
        ]),
    );
    uncork(s.path())
        .arg(&bad)
        .args(["-C", "existing", "--policy", "tar"])
        .assert()
        .code(1);
    assert_eq!(names(&s.join("existing")), Vec::<String>::new());
}

/// Under Wine `CreateSymbolicLinkW` succeeds and makes nothing: the host must notice.
#[cfg(windows)]
#[test]
fn windows_platform_links_are_verified() {
    let s = Scratch::new();
    let dest = s.join("out");
    let archive = tar(&[
        ("d/f", FILE, "", b"f", 0o644),
        ("file-link", SYMLINK, "d/f", b"", 0o777),
        ("dir-link", SYMLINK, "d", b"", 0o777),
    ]);
    let done = extract_to(
        Cursor::new(archive),
        &dest,
        &Options::default(),
        HostOptions::default(),
    )
    .unwrap();
    for (link, content) in [
        ("file-link", dest.join("file-link")),
        ("dir-link", dest.join("dir-link/f")),
    ] {
        let meta = std::fs::symlink_metadata(dest.join(link)).unwrap();
        if !meta.file_type().is_symlink() {
            assert!(
                done.report.degradations.iter().any(|d| d.path == link),
                "{link} unreported: {:?}",
                done.report
            );
        }
        assert_eq!(read(&content), "f");
    }
}

#[test]
fn large_files_arrive_intact() {
    let s = Scratch::new();
    let mut data = Vec::with_capacity(3 << 20);
    let mut x: u32 = 1;
    while data.len() < (3 << 20) + 12345 {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        data.extend_from_slice(&x.to_le_bytes()[..3]);
    }
    let archive = gz(&tar(&[
        ("small", FILE, "", b"s", 0o644),
        ("big", FILE, "", &data, 0o644),
        ("tiny", FILE, "", b"t", 0o644),
    ]));
    let dest = s.join("out");
    let done = extract_to(
        Cursor::new(archive),
        &dest,
        &Options::default(),
        HostOptions::default(),
    )
    .unwrap();
    assert_eq!(done.report.bytes, data.len() as u64 + 2);
    assert_eq!(std::fs::read(dest.join("big")).unwrap(), data);
    assert_eq!(read(&dest.join("small")), "s");
    assert_eq!(read(&dest.join("tiny")), "t");
}

/// Windows (and Wine) file systems do not tell `README` from `readme`: two entries collide.
#[cfg(windows)]
#[test]
fn windows_case_collisions_are_refused_not_overwritten() {
    let s = Scratch::new();
    let archive = s.archive(
        "c.tar",
        &tar(&[
            ("README", FILE, "", b"upper", 0o644),
            ("readme", FILE, "", b"lower", 0o644),
        ]),
    );
    for extra in [&[][..], &["--overwrite"][..]] {
        uncork(s.path())
            .arg(&archive)
            .args(["-C", "out"])
            .args(extra)
            .assert()
            .code(1)
            .stderr(predicates::str::contains(
                "'readme' and 'README' are the same name on this filesystem",
            ))
            .stderr(predicates::str::contains("uncork check --portable"));
        assert!(!s.join("out").exists());
    }
    std::fs::create_dir(s.join("existing")).unwrap();
    uncork(s.path())
        .arg(&archive)
        .args(["-C", "existing"])
        .assert()
        .code(1);
    assert_eq!(names(&s.join("existing")), Vec::<String>::new());
}

/// `extract_path_to` decodes large zip entries on worker threads: the tree is the one a single
/// thread writes, and a damaged entry among them fails the run (the CRC, not anything later)
/// and leaves an existing destination as it was.
#[test]
fn zip_entries_decoded_by_workers_arrive_intact_or_not_at_all() {
    let s = Scratch::new();
    let noise = |len: usize, seed: u32| {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 24) as u8
            })
            .collect::<Vec<u8>>()
    };
    let files: Vec<(String, Vec<u8>)> = (0..12)
        .map(|i| {
            (
                format!("d/f{i:02}.bin"),
                noise(70_000 + i * 40_000, i as u32),
            )
        })
        .collect();
    let mut entries = vec![Z::Dir("d/")];
    entries.extend(files.iter().map(|(n, d)| Z::File(n, d, 0o644)));
    entries.push(Z::File("d/small.txt", b"small", 0o600));
    let good = s.archive("good.zip", &zip(&entries));

    let one = s.join("one");
    let alone = extract_to(
        std::fs::File::open(&good).unwrap(),
        &one,
        &Options::default(),
        HostOptions::default(),
    )
    .unwrap();
    // A reader, not a file: no worker can read it by position.
    assert_eq!(alone.handed_over, 0);
    let many = s.join("many");
    let done =
        uncork_native::extract_path_to(&good, &many, &Options::default(), HostOptions::default())
            .unwrap();
    // Everything but the root's own mtime (the two roots were made at different times).
    let tree = |root: &std::path::Path| {
        let mut tree = snapshot(root);
        tree.remove("/");
        tree
    };
    let (one, many_tree) = (tree(&one), tree(&many));
    assert!(
        one == many_tree,
        "{:?} != {:?}",
        one.keys(),
        many_tree.keys()
    );
    assert_eq!(done.report.files, 13);
    // The twelve files of 70 kB and more went to the workers, `small.txt` did not.
    assert_eq!(done.handed_over, 12);
    // Written counts what the workers wrote too (it drives the CLI's progress bar).
    let data_bytes = files.iter().map(|(_, d)| d.len() as u64).sum::<u64>() + 5;
    assert_eq!(
        (alone.bytes_written, done.bytes_written),
        (data_bytes, data_bytes)
    );
    for (name, data) in &files {
        assert_eq!(&std::fs::read(many.join(name)).unwrap(), data, "{name}");
    }

    // Flip a byte in the data of f05 (stored: the CRC no longer matches).
    let mut bytes = std::fs::read(&good).unwrap();
    let (name, data) = &files[5];
    let at = bytes
        .windows(64)
        .position(|w| w == &data[1000..1064])
        .unwrap();
    bytes[at] ^= 1;
    let bad = s.archive("bad.zip", &bytes);
    let existing = s.join("existing");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(existing.join("keep.txt"), "kept").unwrap();
    let before = snapshot(&existing);
    let err = uncork_native::extract_path_to(
        &bad,
        &existing,
        &Options::default(),
        HostOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.rule(), Some(uncork_core::Rule::CrcMismatch), "{err}");
    assert!(err.to_string().contains(name.as_str()), "{err}");
    assert_eq!(snapshot(&existing), before);
}
