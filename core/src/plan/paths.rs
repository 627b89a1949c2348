//! What stands at each path the archive has named, kept as a tree of interned components.
//!
//! The planner records one [`Node`] per path for the whole archive: it is what lets it refuse
//! a write through an earlier symlink or over an earlier directory, and resolve links without
//! a filesystem. Keyed by the full path (`HashMap<String, Node>`), that record cost ~170 bytes
//! an entry at peak: a heap copy of every path, a 40-byte slot, and the table's power-of-two
//! slack, doubled while it grows (20 MiB more for 128k entries than for 8k). Here a path is a
//! chain of (parent, name) steps: each distinct component name is stored once however many
//! directories repeat it (`__init__.py`, `file00.py`), and a step costs 12 bytes in the table
//! plus 8 for its node.

use super::Node;
use crate::error::PolicyError;
use crate::rule::Rule;
use std::collections::HashMap;

/// Slot 0 is the root; it never holds a node.
const ROOT: u32 = 0;

#[derive(Debug)]
pub(super) struct PathMap {
    /// Component name → name id.
    names: HashMap<Box<str>, u32>,
    /// (parent slot, name id) → slot.
    steps: HashMap<(u32, u32), u32>,
    /// Slot → what stands there; `None` for a slot that is only a prefix of a longer path
    /// (and for the root).
    nodes: Vec<Option<Node>>,
    len: usize,
}

impl Default for PathMap {
    fn default() -> Self {
        PathMap {
            names: HashMap::new(),
            steps: HashMap::new(),
            nodes: vec![None],
            len: 0,
        }
    }
}

impl PathMap {
    /// What stands at `path` (normalized: components joined by single slashes).
    pub fn get(&self, path: &str) -> Option<Node> {
        let mut slot = ROOT;
        for component in path.split('/') {
            let name = *self.names.get(component)?;
            slot = *self.steps.get(&(slot, name))?;
        }
        self.nodes[slot as usize]
    }

    /// Records `node` at `path`, replacing what stood there.
    pub fn insert(&mut self, path: &str, node: Node) -> Result<(), PolicyError> {
        let mut slot = ROOT;
        for component in path.split('/') {
            let name = match self.names.get(component) {
                Some(&id) => id,
                None => {
                    let id = to_u32(self.names.len())?;
                    self.names.insert(component.into(), id);
                    id
                }
            };
            slot = match self.steps.get(&(slot, name)) {
                Some(&next) => next,
                None => {
                    let next = to_u32(self.nodes.len())?;
                    self.nodes.push(None);
                    self.steps.insert((slot, name), next);
                    next
                }
            };
        }
        if self.nodes[slot as usize].replace(node).is_none() {
            self.len += 1;
        }
        Ok(())
    }

    /// How many paths hold a node.
    pub fn len(&self) -> usize {
        self.len
    }
}

/// Slots and name ids are u32 to keep a step at 12 bytes. Only a policy without an entry limit
/// can get near 2^32 of them; such an archive is refused rather than tracked wrongly.
fn to_u32(n: usize) -> Result<u32, PolicyError> {
    u32::try_from(n).map_err(|_| {
        PolicyError::new(
            Rule::EntryLimit,
            "the archive names more than 2^32 paths, more than uncork can track",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_not_nodes() {
        let mut map = PathMap::default();
        map.insert("a/b/c", Node::File).unwrap();
        assert_eq!(map.get("a/b/c"), Some(Node::File));
        assert_eq!(map.get("a/b"), None);
        assert_eq!(map.get("a"), None);
        assert_eq!(map.get("a/b/c/d"), None);
        assert_eq!(map.get("b"), None);
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn names_are_shared_and_paths_distinct() {
        let mut map = PathMap::default();
        map.insert("a", Node::Dir(0)).unwrap();
        map.insert("a/x", Node::File).unwrap();
        map.insert("b", Node::Dir(1)).unwrap();
        map.insert(
            "b/x",
            Node::Link {
                link: 3,
                over_file: true,
            },
        )
        .unwrap();
        map.insert("x", Node::File).unwrap();
        assert_eq!(map.get("a/x"), Some(Node::File));
        assert_eq!(
            map.get("b/x"),
            Some(Node::Link {
                link: 3,
                over_file: true
            })
        );
        assert_eq!(map.get("x"), Some(Node::File));
        assert_eq!(map.get("a/b"), None);
        assert_eq!(map.names.len(), 3);
        map.insert("b/x", Node::File).unwrap();
        assert_eq!(map.get("b/x"), Some(Node::File));
        assert_eq!(map.len(), 5);
    }
}
