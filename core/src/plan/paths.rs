//! What stands at each path the archive has named, kept as a tree of interned components.
//!
//! The planner records one [`Node`] per path for the whole archive: it is what lets it refuse
//! a write through an earlier symlink or over an earlier directory, and resolve links without
//! a filesystem. Keyed by the full path (`HashMap<String, Node>`), that record cost ~170 bytes
//! an entry at peak: a heap copy of every path, a 40-byte slot, and the table's power-of-two
//! slack, doubled while it grows (20 MiB more for 128k entries than for 8k). Here a path is a
//! chain of (parent, name) steps: each distinct component name is stored once however many
//! directories repeat it (`__init__.py`, `file00.py`), and a step costs a 12-byte slot plus a
//! 4-byte index entry in a hash table of slot numbers. Names are kept end to end in one string
//! (an 8-byte span and a 4-byte index entry each), not one heap allocation each: on a tar of
//! 101,000 distinct names that took the peak RSS of the core alone from about 12.4 to 9.5 MiB.

use super::Node;
use crate::error::PolicyError;
use crate::rule::Rule;
use hashbrown::HashTable;
use std::hash::{BuildHasher, RandomState};

/// Slot 0 is the root; it never holds a node.
const ROOT: u32 = 0;

/// Tables the step index is split into (by bits of the hash the tables do not use for a
/// bucket or its tag while they hold under 2^32 buckets).
const SHARDS: usize = 16;

fn shard(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

/// One step of a path: the component `name` below the slot `parent`, and what stands there.
#[derive(Debug, Clone, Copy)]
struct Slot {
    parent: u32,
    name: u32,
    /// Nothing for a slot that is only a prefix of a longer path (and for the root).
    node: Packed,
}

/// A [`Node`] in 4 bytes, so a slot takes 12 (an `Option<Node>` takes 8): 0 for none, else
/// the kind in the top two bits and the index below them (30 bits for a directory; 29 for a
/// link, beside its `over_file` bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed(u32);

const KIND: u32 = 3 << 30;
const DIR: u32 = 1 << 30;
const FILE: u32 = 2 << 30;
const LINK: u32 = 3 << 30;
const OVER_FILE: u32 = 1 << 29;

impl Packed {
    const NONE: Packed = Packed(0);

    fn new(node: Node) -> Result<Packed, PolicyError> {
        match node {
            Node::Dir(index) if index & KIND == 0 => Ok(Packed(DIR | index)),
            Node::File => Ok(Packed(FILE)),
            Node::Link { link, over_file } if link < OVER_FILE => {
                Ok(Packed(LINK | link | if over_file { OVER_FILE } else { 0 }))
            }
            Node::Dir(_) | Node::Link { .. } => Err(PolicyError::new(
                Rule::EntryLimit,
                "the archive holds more than 2^30 directories or 2^29 links, more than uncork can track",
            )),
        }
    }

    fn get(self) -> Option<Node> {
        match self.0 & KIND {
            0 => None,
            DIR => Some(Node::Dir(self.0 & !KIND)),
            FILE => Some(Node::File),
            _ => Some(Node::Link {
                link: self.0 & (OVER_FILE - 1),
                over_file: self.0 & OVER_FILE != 0,
            }),
        }
    }
}

#[derive(Debug)]
pub(super) struct PathMap {
    /// Every distinct component name, end to end.
    name_bytes: String,
    /// Name id → its span in `name_bytes` (start, end).
    name_spans: Vec<(u32, u32)>,
    /// The name ids by name (hashed as `&str`), in shards as `index` is.
    names: [HashTable<u32>; SHARDS],
    /// Every step, by slot number.
    slots: Vec<Slot>,
    /// The slots by (parent, name). The tables hold slot numbers only, the keys stay in
    /// `slots`: 5 bytes a bucket instead of 13 for a `HashMap<(u32, u32), u32>`. In
    /// [`SHARDS`] tables by hash, not one: a table grows by moving into one of twice the size,
    /// and one table would then hold the old and new copies of the whole index at once (its
    /// growth was the peak of the core's heap, 0.65 MB more than the index itself at 16x).
    index: [HashTable<u32>; SHARDS],
    /// Keyed per run where std has randomness (not on wasm32-unknown-unknown, where std's keys
    /// are fixed, as for every other map of the core), so an archive cannot be built to
    /// collide in the tables.
    hasher: RandomState,
    len: usize,
}

impl Default for PathMap {
    fn default() -> Self {
        PathMap {
            name_bytes: String::new(),
            name_spans: Vec::new(),
            names: std::array::from_fn(|_| HashTable::new()),
            slots: vec![Slot {
                parent: ROOT,
                name: u32::MAX,
                node: Packed::NONE,
            }],
            index: std::array::from_fn(|_| HashTable::new()),
            hasher: RandomState::new(),
            len: 0,
        }
    }
}

impl PathMap {
    /// What stands at `path` (normalized: components joined by single slashes).
    pub fn get(&self, path: &str) -> Option<Node> {
        let mut slot = ROOT;
        for component in path.split('/') {
            let name = self.name_id(component, self.hasher.hash_one(component))?;
            slot = self.step(slot, name, self.hasher.hash_one((slot, name)))?;
        }
        self.slots[slot as usize].node.get()
    }

    /// Records `node` at `path`, replacing what stood there.
    pub fn insert(&mut self, path: &str, node: Node) -> Result<(), PolicyError> {
        let node = Packed::new(node)?;
        let mut slot = ROOT;
        // Each hash is computed once, for the lookup and, on a miss, the insertion.
        for component in path.split('/') {
            let hash = self.hasher.hash_one(component);
            let name = match self.name_id(component, hash) {
                Some(id) => id,
                None => self.add_name(component, hash)?,
            };
            let hash = self.hasher.hash_one((slot, name));
            slot = match self.step(slot, name, hash) {
                Some(next) => next,
                None => self.add_step(slot, name, hash)?,
            };
        }
        let held = &mut self.slots[slot as usize].node;
        if std::mem::replace(held, node) == Packed::NONE {
            self.len += 1;
        }
        Ok(())
    }

    /// How many paths hold a node.
    pub fn len(&self) -> usize {
        self.len
    }

    fn name(&self, id: u32) -> &str {
        let (start, end) = self.name_spans[id as usize];
        &self.name_bytes[start as usize..end as usize]
    }

    /// The id of a component name already seen (`hash`: the name's).
    fn name_id(&self, component: &str, hash: u64) -> Option<u32> {
        self.names[shard(hash)]
            .find(hash, |&id| self.name(id) == component)
            .copied()
    }

    fn add_name(&mut self, component: &str, hash: u64) -> Result<u32, PolicyError> {
        let id = to_u32(self.name_spans.len(), "distinct names")?;
        let start = to_u32(self.name_bytes.len(), "bytes of distinct names")?;
        let end = to_u32(
            self.name_bytes.len() + component.len(),
            "bytes of distinct names",
        )?;
        self.name_bytes.push_str(component);
        self.name_spans.push((start, end));
        let (bytes, spans, hasher) = (&self.name_bytes, &self.name_spans, &self.hasher);
        self.names[shard(hash)].insert_unique(hash, id, |&id| {
            let (start, end) = spans[id as usize];
            hasher.hash_one(&bytes[start as usize..end as usize])
        });
        Ok(id)
    }

    /// The slot of `name` below `parent`, if any path has gone through it (`hash`: the
    /// pair's).
    fn step(&self, parent: u32, name: u32, hash: u64) -> Option<u32> {
        let slots = &self.slots;
        self.index[shard(hash)]
            .find(hash, |&s| {
                let slot = &slots[s as usize];
                slot.parent == parent && slot.name == name
            })
            .copied()
    }

    fn add_step(&mut self, parent: u32, name: u32, hash: u64) -> Result<u32, PolicyError> {
        let next = to_u32(self.slots.len(), "paths")?;
        self.slots.push(Slot {
            parent,
            name,
            node: Packed::NONE,
        });
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index[shard(hash)].insert_unique(hash, next, |&s| {
            let slot = &slots[s as usize];
            hasher.hash_one((slot.parent, slot.name))
        });
        Ok(next)
    }
}

/// Slots, name ids and name offsets are u32 to keep a step at 12 bytes and a name's span at 8.
/// Only a policy without an entry limit can get near 2^32 of them; such an archive is refused
/// rather than tracked wrongly.
fn to_u32(n: usize, what: &str) -> Result<u32, PolicyError> {
    u32::try_from(n).map_err(|_| {
        PolicyError::new(
            Rule::EntryLimit,
            format!("the archive names more than 2^32 {what}, more than uncork can track"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_pack_into_four_bytes_and_back() {
        assert_eq!(std::mem::size_of::<Slot>(), 12);
        let last_dir = (1 << 30) - 1;
        let last_link = (1 << 29) - 1;
        for node in [
            Node::File,
            Node::Dir(0),
            Node::Dir(last_dir),
            Node::Link {
                link: 0,
                over_file: false,
            },
            Node::Link {
                link: last_link,
                over_file: true,
            },
            Node::Link {
                link: 5,
                over_file: true,
            },
        ] {
            assert_eq!(Packed::new(node).unwrap().get(), Some(node));
        }
        assert_eq!(Packed::NONE.get(), None);
        for too_far in [
            Node::Dir(last_dir + 1),
            Node::Link {
                link: last_link + 1,
                over_file: false,
            },
        ] {
            assert_eq!(Packed::new(too_far).unwrap_err().rule, Rule::EntryLimit);
        }
        // Refused before anything is recorded.
        let mut map = PathMap::default();
        assert!(map.insert("a/b", Node::Dir(last_dir + 1)).is_err());
        assert_eq!((map.len(), map.slots.len()), (0, 1));
    }

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
        assert_eq!(map.name_spans.len(), 3);
        assert_eq!(map.name_bytes, "axb");
        map.insert("b/x", Node::File).unwrap();
        assert_eq!(map.get("b/x"), Some(Node::File));
        assert_eq!(map.len(), 5);
    }

    #[test]
    fn every_path_is_found_after_the_index_grows() {
        let mut map = PathMap::default();
        let path = |d: u32, f: u32| format!("top/d{d}/f{f}");
        for d in 0..100 {
            map.insert(&format!("top/d{d}"), Node::Dir(d)).unwrap();
            for f in 0..100 {
                map.insert(&path(d, f), Node::File).unwrap();
            }
        }
        assert_eq!(map.len(), 100 * 101);
        for d in 0..100 {
            assert_eq!(map.get(&format!("top/d{d}")), Some(Node::Dir(d)));
            for f in 0..100 {
                assert_eq!(map.get(&path(d, f)), Some(Node::File), "{}", path(d, f));
            }
            assert_eq!(map.get(&format!("top/d{d}/f100")), None);
        }
        assert_eq!(map.get("top"), None);
        // top, 100 d*, 100 f* names; the root, top, 100 dirs and 10,000 files as slots.
        assert_eq!(map.name_spans.len(), 201);
        assert_eq!(map.slots.len(), 1 + 1 + 100 + 100 * 100);
    }
}
