//! The archive's own link graph: symlink targets resolved through the archive's links, checked
//! against the root, and ordered so that a link's dependencies are made before it.

use super::Node;
use super::paths::PathMap;
use crate::action::LinkKind;
use crate::error::{Location, PolicyError};
use crate::policy::{LinkScope, Policy};
use crate::rule::Rule;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// A symlink entry waiting for the end of the archive.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    pub path: String,
    pub target: String,
    pub location: Location,
    /// A later entry took this path: the link is never made.
    pub superseded: bool,
}

/// A symlink to make, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPlan {
    /// Normalized path of the link.
    pub path: String,
    /// Target as written.
    pub target: String,
    /// Target resolved below the root (`None`: outside, allowed by the policy).
    pub resolved: Option<String>,
    /// What the target is.
    pub kind: LinkKind,
    /// A file of this archive stands at `path`: remove it first.
    pub replace: bool,
}

pub(super) struct Tree<'a> {
    pub nodes: &'a PathMap,
}

struct Resolution {
    resolved: Option<String>,
    kind: LinkKind,
    /// Links expanded on the way (they must exist before this one).
    through: Vec<usize>,
}

/// Resolves every live link and orders them: the links a resolution went through come first;
/// links inside a directory another link points to come before it (so a host copying the
/// directory copies them too) unless that would form a cycle.
pub(super) fn order(
    policy: &Policy,
    tree: &Tree<'_>,
    pending: &[Pending],
) -> Result<Vec<LinkPlan>, PolicyError> {
    let live: Vec<usize> = (0..pending.len())
        .filter(|&i| !pending[i].superseded)
        .collect();
    let mut resolutions: HashMap<usize, Resolution> = HashMap::with_capacity(live.len());
    for &i in &live {
        let resolution = resolve(policy, tree, pending, i).map_err(|mut e| {
            e.location = pending[i].location.clone();
            e
        })?;
        resolutions.insert(i, resolution);
    }

    // Edges: "hard" = links a resolution went through (must exist first); "soft" = links
    // inside a directory another link points to (so a host copying the directory copies them).
    // Soft edges are capped: beyond the cap (a hostile archive of many links to the root) the
    // copy-order nicety is dropped rather than spending quadratic time.
    const MAX_SOFT_EDGES: usize = 1 << 16;
    let by_path: BTreeMap<&str, usize> = live
        .iter()
        .map(|&i| (pending[i].path.as_str(), i))
        .collect();
    let mut dependents: HashMap<usize, Vec<(usize, bool)>> = HashMap::new(); // j -> [(i, soft)]
    let mut waiting: HashMap<usize, (usize, usize)> = HashMap::new(); // i -> (hard, soft) unmet
    let mut soft_edges = 0usize;
    for &i in &live {
        let r = &resolutions[&i];
        let hard: BTreeSet<usize> = r.through.iter().copied().filter(|&j| j != i).collect();
        let mut soft = BTreeSet::new();
        if let (LinkKind::Dir, Some(dir)) = (r.kind, r.resolved.as_deref()) {
            let prefix = if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            };
            for (_, &j) in by_path
                .range(prefix.as_str()..)
                .take_while(|(p, _)| p.starts_with(&prefix))
            {
                if soft_edges >= MAX_SOFT_EDGES {
                    break;
                }
                if j != i && !hard.contains(&j) {
                    soft.insert(j);
                    soft_edges += 1;
                }
            }
        }
        waiting.insert(i, (hard.len(), soft.len()));
        for j in hard {
            dependents.entry(j).or_default().push((i, false));
        }
        for j in soft {
            dependents.entry(j).or_default().push((i, true));
        }
    }

    // Kahn's algorithm, ready links taken in archive order. When only soft edges block every
    // remaining link (a directory link inside the directory it points to), they are dropped.
    let mut ready: BTreeSet<usize> = waiting
        .iter()
        .filter(|(_, w)| **w == (0, 0))
        .map(|(&i, _)| i)
        .collect();
    let mut out = Vec::with_capacity(live.len());
    let mut placed = BTreeSet::new();
    while out.len() < live.len() {
        let Some(i) = ready.pop_first() else {
            let unblocked: Vec<usize> = waiting
                .iter()
                .filter(|&(i, w)| w.0 == 0 && !placed.contains(i))
                .map(|(&i, _)| i)
                .collect();
            if unblocked.is_empty() {
                let stuck = live
                    .iter()
                    .copied()
                    .find(|i| !placed.contains(i))
                    .unwrap_or(0);
                let detail = "the archive's symlinks depend on each other in a loop";
                return Err(PolicyError {
                    location: pending[stuck].location.clone(),
                    ..PolicyError::new(Rule::LinkCycle, detail)
                });
            }
            for i in unblocked {
                if let Some(w) = waiting.get_mut(&i) {
                    w.1 = 0;
                }
                ready.insert(i);
            }
            continue;
        };
        placed.insert(i);
        for &(k, soft) in dependents.get(&i).map_or(&[][..], Vec::as_slice) {
            if placed.contains(&k) {
                continue;
            }
            if let Some(w) = waiting.get_mut(&k) {
                if soft {
                    w.1 = w.1.saturating_sub(1);
                } else {
                    w.0 = w.0.saturating_sub(1);
                }
                if *w == (0, 0) {
                    ready.insert(k);
                }
            }
        }
        let r = resolutions.remove(&i).unwrap_or(Resolution {
            resolved: None,
            kind: LinkKind::Outside,
            through: Vec::new(),
        });
        let p = &pending[i];
        out.push(LinkPlan {
            path: p.path.clone(),
            target: p.target.clone(),
            resolved: r.resolved,
            kind: r.kind,
            replace: replace_of(tree, &p.path),
        });
    }
    Ok(out)
}

fn replace_of(tree: &Tree<'_>, path: &str) -> bool {
    matches!(
        tree.nodes.get(path),
        Some(Node::Link {
            over_file: true,
            ..
        })
    )
}

/// Resolves link `index` lexically through the archive's tree, expanding the archive's own
/// links as a kernel would, without any filesystem.
fn resolve(
    policy: &Policy,
    tree: &Tree<'_>,
    pending: &[Pending],
    index: usize,
) -> Result<Resolution, PolicyError> {
    let link = &pending[index];
    let outside = |what: String| -> Result<Resolution, PolicyError> {
        match policy.links {
            LinkScope::Anywhere => Ok(Resolution {
                resolved: None,
                kind: LinkKind::Outside,
                through: Vec::new(),
            }),
            LinkScope::Inside => Err(PolicyError::new(Rule::LinkOutsideRoot, what)),
        }
    };
    if link.target.starts_with('/') {
        return match policy.links {
            LinkScope::Anywhere => outside(String::new()),
            LinkScope::Inside => Err(PolicyError::new(
                Rule::AbsoluteLink,
                format!("the symlink points to the absolute path '{}'", link.target),
            )),
        };
    }
    let mut resolved: Vec<String> = match link.path.rsplit_once('/') {
        Some((parent, _)) => parent.split('/').map(str::to_owned).collect(),
        None => Vec::new(),
    };
    let mut todo: VecDeque<String> = link.target.split('/').map(str::to_owned).collect();
    let mut through = Vec::new();
    let mut hops = 0u32;
    // Set when a component that must be a directory is not one: the link dangles on disk,
    // but it is still checked lexically against the root.
    let mut dangling = false;
    while let Some(component) = todo.pop_front() {
        match component.as_str() {
            "" | "." => continue,
            ".." => {
                if resolved.pop().is_none() {
                    return outside(format!(
                        "the symlink target '{}' leaves the root",
                        link.target
                    ));
                }
                continue;
            }
            _ => {}
        }
        resolved.push(component);
        let current = resolved.join("/");
        match tree.nodes.get(&current) {
            Some(Node::Link { link: other, .. }) if !pending[other as usize].superseded => {
                let other = other as usize;
                hops += 1;
                if hops > policy.limits.max_link_hops {
                    let repeats = through.contains(&other) || other == index;
                    let rule = if repeats {
                        Rule::LinkCycle
                    } else {
                        Rule::LinkWorkLimit
                    };
                    return Err(PolicyError::new(
                        rule,
                        format!(
                            "resolving '{}' expands more than {} symlinks",
                            link.target, policy.limits.max_link_hops
                        ),
                    ));
                }
                through.push(other);
                resolved.pop();
                let next = &pending[other].target;
                if next.starts_with('/') {
                    return match policy.links {
                        LinkScope::Anywhere => outside(String::new()),
                        LinkScope::Inside => Err(PolicyError::new(
                            Rule::AbsoluteLink,
                            format!(
                                "the symlink resolves through '{}', which points to the absolute path '{next}'",
                                pending[other].path
                            ),
                        )),
                    };
                }
                for part in next.split('/').rev() {
                    todo.push_front(part.to_owned());
                }
            }
            Some(Node::Dir(_)) => {}
            _ if !todo.iter().all(|c| c.is_empty() || c == ".") => dangling = true,
            _ => {}
        }
    }
    let resolved = resolved.join("/");
    let kind = if dangling {
        LinkKind::Missing
    } else if resolved.is_empty() {
        LinkKind::Dir
    } else {
        match tree.nodes.get(&resolved) {
            Some(Node::Dir(_)) => LinkKind::Dir,
            Some(Node::File) => LinkKind::File,
            _ => LinkKind::Missing,
        }
    };
    Ok(Resolution {
        resolved: Some(resolved),
        kind,
        through,
    })
}
