//! The planner driven end to end through `extract` into the in-memory host, and through the
//! dump, so order and policy rules are checked on real action streams.

use crate::dump::Dump;
use crate::memhost::{MemHost, MemNode};
use crate::policy::{Duplicates, Limits, Policy, Preset};
use crate::rule::Rule;
use crate::testkit::{self, TarSpec};
use crate::{LinkKind, Options, RunError, extract};
use std::io::Cursor;

fn plan_with(entries: &[TarSpec<'_>], options: &Options<'_>) -> Result<String, Rule> {
    let bytes = testkit::tar(entries);
    // Every plan must also satisfy the in-memory host's order checks.
    let mut mem = MemHost::default();
    let mem_result = extract(Cursor::new(&bytes), options, &mut mem);
    let mut dump = Dump::default();
    match extract(Cursor::new(&bytes), options, &mut dump) {
        Ok(_) => {
            mem_result.unwrap_or_else(|e| panic!("the in-memory host rejected the stream: {e}"));
            Ok(dump.text)
        }
        Err(e) => Err(e.rule().unwrap_or_else(|| panic!("untyped error {e}"))),
    }
}

fn plan(entries: &[TarSpec<'_>]) -> Result<String, Rule> {
    plan_with(entries, &Options::default())
}

fn preset(p: Preset) -> Options<'static> {
    Options {
        policy: Policy::preset(p),
        ..Options::default()
    }
}

#[test]
fn founding_case_link_after_its_target() {
    let text = plan(&[
        ("pkg/", b'5', "", b"", 0o755),
        ("pkg/README", b'2', "README.md", b"", 0o777),
        ("pkg/README.md", b'0', "", b"# pkg\n", 0o644),
    ])
    .unwrap();
    assert_eq!(
        text,
        "mkdir pkg\n\
         file pkg/README.md size=6 mode=0644 mtime=1700000000\n\
         symlink pkg/README -> README.md [file pkg/README.md]\n\
         chmod pkg 0755\n\
         mtime pkg 1700000000\n"
    );
}

#[test]
fn implicit_parents_are_made_first_and_get_default_modes() {
    let text = plan(&[("a/b/c.txt", b'0', "", b"x", 0o600)]).unwrap();
    assert_eq!(
        text,
        "mkdir a\nmkdir a/b\nfile a/b/c.txt size=1 mode=0600 mtime=1700000000\nchmod a/b 0755\nchmod a 0755\n"
    );
}

#[test]
fn every_symlink_after_every_file_and_chains_in_order() {
    let text = plan(&[
        ("l1", b'2', "l2", b"", 0o777),
        ("l2", b'2', "l3", b"", 0o777),
        ("l3", b'2', "f", b"", 0o777),
        ("f", b'0', "", b"data", 0o644),
        ("g", b'0', "", b"more", 0o644),
    ])
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "file f size=4 mode=0644 mtime=1700000000",
            "file g size=4 mode=0644 mtime=1700000000",
            "symlink l3 -> f [file f]",
            "symlink l2 -> l3 [file f]",
            "symlink l1 -> l2 [file f]",
        ]
    );
}

#[test]
fn links_inside_a_linked_directory_come_first() {
    let text = plan(&[
        ("top", b'2', "d", b"", 0o777),
        ("d/", b'5', "", b"", 0o755),
        ("d/inner", b'2', "../f", b"", 0o777),
        ("f", b'0', "", b"x", 0o644),
    ])
    .unwrap();
    let inner = text.find("symlink d/inner").unwrap();
    let top = text.find("symlink top").unwrap();
    assert!(inner < top, "{text}");
    assert!(text.contains("symlink top -> d [dir d]"));
    assert!(text.contains("symlink d/inner -> ../f [file f]"));
}

#[test]
fn link_kinds_and_dangling() {
    let text = plan(&[
        ("d/", b'5', "", b"", 0o755),
        ("to-dir", b'2', "d", b"", 0o777),
        ("to-root", b'2', ".", b"", 0o777),
        ("dangling", b'2', "nothing/here", b"", 0o777),
        ("through-file", b'2', "f/x", b"", 0o777),
        ("f", b'0', "", b"", 0o644),
    ])
    .unwrap();
    assert!(text.contains("symlink to-dir -> d [dir d]"), "{text}");
    assert!(text.contains("symlink to-root -> . [dir .]"), "{text}");
    assert!(
        text.contains("symlink dangling -> nothing/here [missing nothing/here]"),
        "{text}"
    );
    assert!(
        text.contains("symlink through-file -> f/x [missing f/x]"),
        "{text}"
    );
}

#[test]
fn escaping_links_are_refused_by_data_and_allowed_by_tar() {
    let escaping: &[TarSpec<'_>] = &[("a/l", b'2', "../../etc/passwd", b"", 0o777)];
    assert_eq!(plan(escaping), Err(Rule::LinkOutsideRoot));
    assert_eq!(
        plan(&[("l", b'2', "/etc/passwd", b"", 0o777)]),
        Err(Rule::AbsoluteLink)
    );
    // Escaping through a chain: each link alone stays inside.
    let chain: &[TarSpec<'_>] = &[
        ("d/", b'5', "", b"", 0o755),
        ("d/up", b'2', "..", b"", 0o777),
        ("out", b'2', "d/up/..", b"", 0o777),
    ];
    assert_eq!(plan(chain), Err(Rule::LinkOutsideRoot));
    let text = plan_with(escaping, &preset(Preset::Tar)).unwrap();
    assert!(
        text.contains("symlink a/l -> ../../etc/passwd [outside (outside)]"),
        "{text}"
    );
    let text = plan_with(
        &[("l", b'2', "/etc/passwd", b"", 0o777)],
        &preset(Preset::Trusted),
    )
    .unwrap();
    assert!(text.contains("[outside (outside)]"));
}

#[test]
fn cycles_and_hop_limits() {
    assert_eq!(
        plan(&[
            ("a", b'2', "b/x", b"", 0o777),
            ("b", b'2', "a/y", b"", 0o777)
        ]),
        Err(Rule::LinkCycle)
    );
    assert_eq!(
        plan(&[("self", b'2', "self/x", b"", 0o777)]),
        Err(Rule::LinkCycle)
    );
    let mut options = Options::default();
    options.policy.limits.max_link_hops = 1;
    let chain: &[TarSpec<'_>] = &[
        ("a", b'2', "b", b"", 0o777),
        ("b", b'2', "c", b"", 0o777),
        ("c", b'2', "d", b"", 0o777),
        ("d", b'0', "", b"", 0o644),
    ];
    assert_eq!(plan_with(chain, &options), Err(Rule::LinkWorkLimit));
    assert!(plan(chain).is_ok());
}

#[test]
fn nothing_is_written_through_an_archive_link() {
    assert_eq!(
        plan(&[
            ("d", b'2', "/tmp", b"", 0o777),
            ("d/evil", b'0', "", b"x", 0o644)
        ]),
        Err(Rule::AbsoluteLink)
    );
    let through: &[TarSpec<'_>] = &[
        ("sub/", b'5', "", b"", 0o755),
        ("d", b'2', "sub", b"", 0o777),
        ("d/x", b'0', "", b"x", 0o644),
    ];
    assert_eq!(plan(through), Err(Rule::PathThroughLink));
    assert_eq!(
        plan_with(through, &preset(Preset::Trusted)),
        Err(Rule::PathThroughLink)
    );
    assert_eq!(
        plan(&[("f", b'0', "", b"x", 0o644), ("f/x", b'0', "", b"y", 0o644)]),
        Err(Rule::ParentNotDirectory)
    );
}

#[test]
fn duplicates_and_type_changes() {
    // Later wins, with `replace` so the host removes what this archive made.
    let text = plan(&[
        ("f", b'0', "", b"one", 0o644),
        ("f", b'0', "", b"two!", 0o644),
    ])
    .unwrap();
    assert!(
        text.contains("file f size=4 mode=0644 mtime=1700000000 replace"),
        "{text}"
    );
    // A link then a same-named file: the link is never made.
    let text = plan(&[
        ("x", b'2', "y", b"", 0o777),
        ("x", b'0', "", b"file", 0o644),
    ])
    .unwrap();
    assert!(!text.contains("symlink"), "{text}");
    assert!(
        text.contains("file x size=4") && !text.contains("replace"),
        "{text}"
    );
    // A file then a same-named link: the link replaces it at the end.
    let text = plan(&[
        ("x", b'0', "", b"file", 0o644),
        ("y", b'0', "", b"", 0o644),
        ("x", b'2', "y", b"", 0o777),
    ])
    .unwrap();
    assert!(text.contains("symlink x -> y [file y] replace"), "{text}");
    // A directory is never replaced by anything else; a directory twice is fine.
    assert_eq!(
        plan(&[("d/", b'5', "", b"", 0o755), ("d", b'0', "", b"", 0o644)]),
        Err(Rule::ReplacesDirectory)
    );
    assert_eq!(
        plan(&[("d/", b'5', "", b"", 0o755), ("d", b'2', "x", b"", 0o777)]),
        Err(Rule::ReplacesDirectory)
    );
    assert!(plan(&[("d/", b'5', "", b"", 0o700), ("d/", b'5', "", b"", 0o755)]).is_ok());
    // A file then a directory of the same name: the directory replaces the file.
    let text = plan(&[("d", b'0', "", b"", 0o644), ("d/", b'5', "", b"", 0o755)]).unwrap();
    assert!(text.contains("mkdir d replace"), "{text}");
    // The `error` duplicate policy.
    let mut options = Options::default();
    options.policy.duplicates = Duplicates::Error;
    assert_eq!(
        plan_with(
            &[("f", b'0', "", b"", 0o644), ("f", b'0', "", b"", 0o644)],
            &options
        ),
        Err(Rule::DuplicateEntry)
    );
    assert!(
        plan_with(
            &[("d/", b'5', "", b"", 0o755), ("d/", b'5', "", b"", 0o755)],
            &options
        )
        .is_ok()
    );
}

#[test]
fn hard_links() {
    let text = plan(&[
        ("f", b'0', "", b"data", 0o644),
        ("h", b'1', "f", b"", 0o644),
    ])
    .unwrap();
    assert!(text.contains("hardlink h => f"), "{text}");
    assert_eq!(
        plan(&[
            ("h", b'1', "later", b"", 0o644),
            ("later", b'0', "", b"", 0o644)
        ]),
        Err(Rule::HardLinkMissing)
    );
    assert_eq!(
        plan(&[("h", b'1', "../etc/passwd", b"", 0o644)]),
        Err(Rule::HardLinkOutsideRoot)
    );
    assert_eq!(
        plan(&[("d/", b'5', "", b"", 0o755), ("h", b'1', "d", b"", 0o644)]),
        Err(Rule::HardLinkNotFile)
    );
    assert_eq!(
        plan(&[
            ("f", b'0', "", b"", 0o644),
            ("l", b'2', "f", b"", 0o777),
            ("h", b'1', "l", b"", 0o644)
        ]),
        Err(Rule::HardLinkNotFile)
    );
    // A hard link to itself keeps the file.
    let text = plan(&[
        ("f", b'0', "", b"data", 0o644),
        ("f", b'1', "f", b"", 0o644),
    ])
    .unwrap();
    assert!(!text.contains("hardlink"), "{text}");
}

#[test]
fn modes_per_preset_and_never_on_links() {
    let entries: &[TarSpec<'_>] = &[
        ("d/", b'5', "", b"", 0o555),
        ("d/s", b'0', "", b"", 0o4777),
        ("d/n", b'0', "", b"", 0o000),
        ("d/l", b'2', "s", b"", 0o777),
    ];
    let data = plan(entries).unwrap();
    assert!(data.contains("file d/s size=0 mode=0755"), "{data}");
    assert!(data.contains("file d/n size=0 mode=0600"), "{data}");
    assert!(data.contains("chmod d 0755"), "{data}");
    let tar = plan_with(entries, &preset(Preset::Tar)).unwrap();
    assert!(tar.contains("file d/n size=0 mode=0000"), "{tar}");
    assert!(tar.contains("chmod d 0555"), "{tar}");
    let trusted = plan_with(entries, &preset(Preset::Trusted)).unwrap();
    assert!(trusted.contains("file d/s size=0 mode=4777"), "{trusted}");
    for text in [data, tar, trusted] {
        assert!(!text.contains("chmod d/l") && !text.contains("mtime d/l"));
        // Directory metadata comes last: after the last symlink.
        assert!(text.find("chmod d ").unwrap() > text.find("symlink").unwrap());
    }
}

#[test]
fn special_files_per_preset() {
    let fifo: &[TarSpec<'_>] = &[("p", b'6', "", b"", 0o644), ("f", b'0', "", b"", 0o644)];
    assert_eq!(plan(fifo), Err(Rule::SpecialFile));
    let text = plan_with(fifo, &preset(Preset::Tar)).unwrap();
    assert!(text.contains("skip p (special-file)"), "{text}");
}

#[test]
fn path_rules_apply_to_entries() {
    assert_eq!(plan(&[("../x", b'0', "", b"", 0o644)]), Err(Rule::DotDot));
    let text = plan(&[("/abs/x", b'0', "", b"", 0o644)]).unwrap();
    assert!(text.contains("file abs/x"), "{text}");
    assert_eq!(
        plan_with(&[("/abs", b'0', "", b"", 0o644)], &preset(Preset::Portable)),
        Err(Rule::AbsolutePath)
    );
    assert_eq!(
        plan_with(
            &[
                ("README", b'0', "", b"", 0o644),
                ("readme", b'0', "", b"", 0o644)
            ],
            &preset(Preset::Portable)
        ),
        Err(Rule::CaseCollision)
    );
    assert_eq!(
        plan_with(
            &[("aux.c", b'0', "", b"", 0o644)],
            &preset(Preset::Portable)
        ),
        Err(Rule::ReservedName)
    );
    // The root itself is never touched.
    assert_eq!(plan(&[("./", b'5', "", b"", 0o777)]).unwrap(), "");
}

#[test]
fn strip_components_and_select() {
    let entries: &[TarSpec<'_>] = &[
        ("top/", b'5', "", b"", 0o755),
        ("top/a/x", b'0', "", b"1", 0o644),
        ("top/b", b'0', "", b"2", 0o644),
        ("top/h", b'1', "top/b", b"", 0o644),
    ];
    let options = Options {
        strip_components: 1,
        ..Options::default()
    };
    let text = plan_with(entries, &options).unwrap();
    assert!(text.starts_with("mkdir a\nfile a/x"), "{text}");
    assert!(text.contains("hardlink h => b"), "{text}");
    let only_a = |p: &str| p.starts_with("a");
    let options = Options {
        strip_components: 1,
        select: Some(&only_a),
        ..Options::default()
    };
    let text = plan_with(entries, &options).unwrap();
    assert!(!text.contains("file b"), "{text}");
    assert!(!text.contains("hardlink"), "{text}");
}

#[test]
fn limits_are_counted_on_real_bytes() {
    let mut options = Options::default();
    options.policy.limits = Limits {
        max_entry_bytes: 4,
        ..Limits::default()
    };
    assert_eq!(
        plan_with(&[("f", b'0', "", b"12345", 0o644)], &options),
        Err(Rule::EntrySizeLimit)
    );
    options.policy.limits = Limits {
        max_total_bytes: 6,
        ..Limits::default()
    };
    assert_eq!(
        plan_with(
            &[
                ("f", b'0', "", b"1234", 0o644),
                ("g", b'0', "", b"1234", 0o644)
            ],
            &options
        ),
        Err(Rule::TotalSizeLimit)
    );
    options.policy.limits = Limits {
        max_entries: 1,
        ..Limits::default()
    };
    assert_eq!(
        plan_with(
            &[("f", b'0', "", b"", 0o644), ("g", b'0', "", b"", 0o644)],
            &options
        ),
        Err(Rule::EntryLimit)
    );
    options.policy.limits = Limits {
        max_path_bytes: 5,
        ..Limits::default()
    };
    assert_eq!(
        plan_with(&[("abcdef", b'0', "", b"", 0o644)], &options),
        Err(Rule::PathTooLong)
    );
}

#[test]
fn gzip_ratio_bomb_is_stopped() {
    let mut options = Options::default();
    options.policy.limits = Limits {
        ratio_grace_bytes: 1 << 20,
        max_ratio: 100,
        ..Limits::default()
    };
    let zeros = vec![0u8; 8 << 20];
    let bytes = testkit::gzip(&testkit::tar(&[("zeros", b'0', "", &zeros, 0o644)]));
    let err = extract(Cursor::new(bytes), &options, &mut Dump::default()).unwrap_err();
    assert_eq!(err.rule(), Some(Rule::RatioLimit));
    assert_eq!(
        err.location().and_then(|l| l.path.as_deref()),
        Some("zeros")
    );
}

#[test]
fn errors_carry_entry_offset_and_paths() {
    let bytes = testkit::tar(&[
        ("ok", b'0', "", b"", 0o644),
        ("a/../../x", b'0', "", b"", 0o644),
    ]);
    let err = extract(
        Cursor::new(bytes),
        &Options::default(),
        &mut Dump::default(),
    )
    .unwrap_err();
    let RunError::Refused(e) = err else {
        panic!("expected a refusal")
    };
    assert_eq!(e.rule, Rule::DotDot);
    assert_eq!(e.location.entry, Some(1));
    assert_eq!(e.location.offset, Some(512));
    assert_eq!(e.location.raw_path.as_deref(), Some("a/../../x"));
}

#[test]
fn tar_gz_and_multi_member() {
    let tar = testkit::founding_case_tar();
    let (a, b) = tar.split_at(1024);
    let mut bytes = testkit::gzip(a);
    bytes.extend(testkit::gzip(b));
    let mut mem = MemHost::default();
    let report = extract(Cursor::new(bytes), &Options::default(), &mut mem).unwrap();
    assert_eq!(report.format, Some(crate::Format::TarGz));
    assert_eq!((report.files, report.symlinks, report.dirs), (1, 1, 1));
    assert_eq!(mem.file("pkg/README.md"), Some(&b"# pkg\n"[..]));
    assert_eq!(
        mem.tree.get("pkg/README"),
        Some(&MemNode::Symlink {
            target: "README.md".into(),
            kind: LinkKind::File
        })
    );
}

#[test]
fn not_archives_are_named() {
    let err = extract(
        Cursor::new(b"just some text, not an archive".to_vec()),
        &Options::default(),
        &mut Dump::default(),
    )
    .unwrap_err();
    assert_eq!(err.rule(), Some(Rule::NotAnArchive));
    let err = extract(
        Cursor::new(testkit::gzip(b"plain text in gzip")),
        &Options::default(),
        &mut Dump::default(),
    )
    .unwrap_err();
    assert_eq!(err.rule(), Some(Rule::NotAnArchive));
}

#[test]
fn directory_links_pointing_at_each_other_still_order() {
    // `top` points into `d`, and `d/back` points at the root, which holds `top`: each is
    // "inside" the other's target, so the soft ordering is dropped, not reported as a cycle.
    let text = plan(&[
        ("d/", b'5', "", b"", 0o755),
        ("top", b'2', "d", b"", 0o777),
        ("d/back", b'2', "..", b"", 0o777),
    ])
    .unwrap();
    assert!(text.contains("symlink top -> d [dir d]"), "{text}");
    assert!(text.contains("symlink d/back -> .. [dir .]"), "{text}");
}

#[test]
fn many_links_to_the_root_are_planned() {
    let names: Vec<String> = (0..3000).map(|i| format!("l{i}")).collect();
    let mut entries: Vec<TarSpec<'_>> = names
        .iter()
        .map(|n| (n.as_str(), b'2', ".", &b""[..], 0o777))
        .collect();
    entries.push(("f", b'0', "", b"x", 0o644));
    let text = plan(&entries).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("symlink")).count(),
        3000
    );
}

#[test]
fn list_applies_the_same_selection_as_extraction() {
    let bytes = testkit::tar(&[
        ("top/", b'5', "", b"", 0o755),
        ("top/a", b'0', "", b"1", 0o644),
        ("top/b", b'0', "", b"2", 0o644),
    ]);
    let only_b = |p: &str| p == "b";
    let options = Options {
        strip_components: 1,
        select: Some(&only_b),
        ..Options::default()
    };
    let mut listed = Vec::new();
    let report = crate::list(Cursor::new(bytes), &options, &mut |l| {
        listed.push(l.path.clone())
    })
    .unwrap();
    assert_eq!(listed, [Some("b".to_owned())]);
    assert_eq!(report.entries, 3, "every entry is read");
}

#[test]
fn a_refused_entry_names_the_path_it_planned() {
    // Refused after its (stripped) path was planned: the error names that path.
    let bytes = testkit::tar(&[
        ("top/d/", b'5', "", b"", 0o755),
        ("top/d", b'0', "", b"x", 0o644),
    ]);
    let options = Options {
        strip_components: 1,
        ..Options::default()
    };
    let err = extract(Cursor::new(bytes), &options, &mut Dump::default()).unwrap_err();
    let RunError::Refused(e) = err else {
        panic!("expected a refusal")
    };
    assert_eq!(e.rule, Rule::ReplacesDirectory);
    assert_eq!(e.location.entry, Some(1));
    assert_eq!(e.location.raw_path.as_deref(), Some("top/d"));
    assert_eq!(e.location.path.as_deref(), Some("d"));
}
