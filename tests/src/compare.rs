//! The cross-host rule: a profile's run must give the reference's tree, except where the
//! profile declared a fallback that explains the difference.
//!
//! - Both refuse, with the same rule; or both extract.
//! - Path by path, the trees agree on kind, size, content and link target, and on modes as far
//!   as both profiles can tell them (WASI tells none; Windows only the owner-write bit).
//! - A path may differ only below (or at) a path the profile reported as degraded; a symlink
//!   made as a copy must then hold what the reference's link points to.
//! - Nothing is created beside the destination, and a refusal leaves the destination empty.

use crate::case::Run;
use crate::profile::{Degraded, Outcome};
use crate::tree::{Modes, Node, Tree};

/// Every way `other` departs from `reference` without a declared reason.
pub fn unexplained(reference: &Run, other: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    for s in &other.stray {
        problems.push(format!("created or changed beside the destination: {s}"));
    }
    match (&reference.outcome, &other.outcome) {
        (Outcome::Err { rule: a, .. }, Outcome::Err { rule: b, .. }) => {
            if a != b {
                problems.push(format!("refused by rule {b:?}, the reference by {a:?}"));
            }
            if other.tree != other.before {
                let changed = other
                    .tree
                    .iter()
                    .filter(|(p, n)| other.before.get(*p) != Some(n))
                    .count();
                problems.push(format!(
                    "a refused extraction changed the destination ({changed} paths differ from before)"
                ));
            }
        }
        (Outcome::Err { rule, .. }, Outcome::Ok { .. }) => {
            problems.push(format!("extracted what the reference refused ({rule:?})"));
        }
        (Outcome::Ok { .. }, Outcome::Err { rule, kind, .. }) => {
            problems.push(format!(
                "refused ({kind} {rule:?}) what the reference extracted"
            ));
        }
        (
            Outcome::Ok {
                skipped: ref_skipped,
                ..
            },
            Outcome::Ok {
                degradations,
                skipped,
                ..
            },
        ) => {
            if ref_skipped != skipped {
                problems.push(format!(
                    "skipped {skipped:?}, the reference {ref_skipped:?}"
                ));
            }
            compare_trees(reference, other, degradations, &mut problems);
        }
    }
    problems
}

fn compare_trees(
    reference: &Run,
    other: &Run,
    degradations: &[Degraded],
    problems: &mut Vec<String>,
) {
    let modes = common_modes(reference.profile.modes(), other.profile.modes());
    let declared = |path: &str| {
        degradations.iter().find(|d| {
            d.effect != "mode"
                && (d.path == path
                    || path
                        .strip_prefix(d.path.as_str())
                        .is_some_and(|rest| rest.starts_with('/')))
        })
    };
    let paths: std::collections::BTreeSet<&String> =
        reference.tree.keys().chain(other.tree.keys()).collect();
    for path in paths {
        let a = reference.tree.get(path.as_str());
        let b = other.tree.get(path.as_str());
        if same(a, b, modes) {
            continue;
        }
        match declared(path) {
            Some(d) if d.path == *path && d.effect == "symlink" => {
                if let Some(problem) = check_copy(reference, other, path, d) {
                    problems.push(problem);
                }
            }
            Some(_) => {}
            None => problems.push(format!(
                "{path}: {} here, {} in the reference, and no fallback declared",
                show(b),
                show(a)
            )),
        }
    }
}

/// A declared symlink fallback: a copy must hold the content the reference's link reaches;
/// a skipped link must be absent.
fn check_copy(reference: &Run, other: &Run, path: &str, d: &Degraded) -> Option<String> {
    let got = other.tree.get(path);
    if d.fallback == "skipped" {
        return got.map(|n| format!("{path}: declared skipped, but {} is there", show(Some(n))));
    }
    if !d.fallback.starts_with("copy") && d.fallback != "junction" && d.fallback != "hard-link" {
        return None;
    }
    let reached = resolve(&reference.tree, path)?;
    match (reached, got) {
        (Node::File { sha256: a, .. }, Some(Node::File { sha256: b, .. })) if a == b => None,
        (Node::Dir { .. }, Some(Node::Dir { .. } | Node::Link { .. })) => None,
        (want, got) => Some(format!(
            "{path}: declared {} but holds {}, where the link reaches {}",
            d.fallback,
            show(got),
            show(Some(want))
        )),
    }
}

/// What a symlink at `path` reaches inside the tree, following links (at most 40 hops).
fn resolve<'t>(tree: &'t Tree, path: &str) -> Option<&'t Node> {
    let mut current = path.to_owned();
    for _ in 0..40 {
        let node = tree.get(&current)?;
        let Node::Link { target } = node else {
            return Some(node);
        };
        let mut parts: Vec<&str> = current.split('/').collect();
        parts.pop();
        for c in target.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                c => parts.push(c),
            }
        }
        current = parts.join("/");
    }
    None
}

fn common_modes(a: Modes, b: Modes) -> Modes {
    match (a, b) {
        (Modes::None, _) | (_, Modes::None) => Modes::None,
        (Modes::OwnerWrite, _) | (_, Modes::OwnerWrite) => Modes::OwnerWrite,
        _ => Modes::Full,
    }
}

/// Whether two nodes agree as far as `modes` lets both tell.
fn same(a: Option<&Node>, b: Option<&Node>, modes: Modes) -> bool {
    let mode_eq = |x: &str, y: &str| match modes {
        Modes::None => true,
        Modes::OwnerWrite => owner_write(x) == owner_write(y),
        Modes::Full => x == y,
    };
    match (a, b) {
        (None, None) => true,
        (Some(Node::Dir { mode: m1, .. }), Some(Node::Dir { mode: m2, .. })) => mode_eq(m1, m2),
        (
            Some(Node::File {
                mode: m1,
                sha256: s1,
                mtime: t1,
                ..
            }),
            Some(Node::File {
                mode: m2,
                sha256: s2,
                mtime: t2,
                ..
            }),
        ) => s1 == s2 && t1 == t2 && mode_eq(m1, m2),
        (Some(Node::Link { target: t1 }), Some(Node::Link { target: t2 })) => t1 == t2,
        (Some(Node::Other), Some(Node::Other)) => true,
        _ => false,
    }
}

/// The owner-write bit of a shown mode (`0644`, `rw`, `r-`).
fn owner_write(shown: &str) -> bool {
    match shown {
        "rw" => true,
        "r-" => false,
        octal => u32::from_str_radix(octal, 8).is_ok_and(|m| m & 0o200 != 0),
    }
}

fn show(node: Option<&Node>) -> String {
    match node {
        None => "nothing".into(),
        Some(Node::Dir { mode, .. }) => format!("a directory ({mode})"),
        Some(Node::File { mode, size, .. }) => format!("a file ({mode}, {size} bytes)"),
        Some(Node::Link { target }) => format!("a link to {target}"),
        Some(Node::Other) => "a special file".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    fn file(sha: &str, mode: &str) -> Node {
        Node::File {
            mode: mode.into(),
            size: 1,
            sha256: sha.into(),
            mtime: 1,
        }
    }

    fn run(profile: Profile, outcome: Outcome, tree: &[(&str, Node)]) -> Run {
        Run {
            profile,
            exit: Some(0),
            outcome,
            tree: tree
                .iter()
                .map(|(p, n)| ((*p).to_owned(), n.clone()))
                .collect(),
            stray: Vec::new(),
            before: Tree::new(),
        }
    }

    fn ok(degradations: Vec<Degraded>) -> Outcome {
        Outcome::Ok {
            degradations,
            skipped: Vec::new(),
            modes_not_applied: 0,
        }
    }

    fn copy_of(path: &str, from: &str) -> Degraded {
        Degraded {
            path: path.into(),
            effect: "symlink".into(),
            fallback: format!("copy of {from}"),
            reason: "test".into(),
        }
    }

    fn link(target: &str) -> Node {
        Node::Link {
            target: target.into(),
        }
    }

    #[test]
    fn a_declared_copy_explains_a_missing_link_and_an_undeclared_one_does_not() {
        let reference = run(
            Profile::NativeUnix,
            ok(vec![]),
            &[("a", file("x", "0644")), ("l", link("a"))],
        );
        let tree = [("a", file("x", "0644")), ("l", file("x", "0644"))];
        let declared = run(Profile::NativeUnixCopy, ok(vec![copy_of("l", "a")]), &tree);
        assert_eq!(unexplained(&reference, &declared), Vec::<String>::new());
        let silent = run(Profile::NativeUnixCopy, ok(vec![]), &tree);
        assert_eq!(unexplained(&reference, &silent).len(), 1);
        // A declared copy must hold what the link reaches.
        let wrong = run(
            Profile::NativeUnixCopy,
            ok(vec![copy_of("l", "a")]),
            &[("a", file("x", "0644")), ("l", file("y", "0644"))],
        );
        assert_eq!(unexplained(&reference, &wrong).len(), 1);
    }

    #[test]
    fn modes_count_only_as_far_as_both_profiles_tell_them() {
        let reference = run(Profile::NativeUnix, ok(vec![]), &[("a", file("x", "0755"))]);
        let unix = run(Profile::Jco, ok(vec![]), &[("a", file("x", "0644"))]);
        assert_eq!(unexplained(&reference, &unix).len(), 1);
        let wasi = run(Profile::Wasi, ok(vec![]), &[("a", file("x", "-"))]);
        assert!(unexplained(&reference, &wasi).is_empty());
        let windows_ro = run(Profile::Windows, ok(vec![]), &[("a", file("x", "r-"))]);
        assert_eq!(unexplained(&reference, &windows_ro).len(), 1);
    }

    #[test]
    fn refusals_must_agree_and_leave_nothing() {
        let refused = |rule: &str| Outcome::Err {
            rule: Some(rule.into()),
            kind: "refused".into(),
            entry: Some(1),
        };
        let reference = run(Profile::NativeUnix, refused("dot-dot"), &[]);
        let same = run(Profile::Wasi, refused("dot-dot"), &[]);
        assert!(unexplained(&reference, &same).is_empty());
        let other_rule = run(Profile::Wasi, refused("absolute-path"), &[]);
        assert_eq!(unexplained(&reference, &other_rule).len(), 1);
        let leftovers = run(
            Profile::Jco,
            refused("dot-dot"),
            &[("a", file("x", "0644"))],
        );
        assert_eq!(unexplained(&reference, &leftovers).len(), 1);
        let extracted = run(Profile::Jco, ok(vec![]), &[]);
        assert_eq!(unexplained(&reference, &extracted).len(), 1);
    }
}
