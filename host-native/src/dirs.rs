//! A small, bounded cache of open directory handles below the destination root.
//!
//! Directories are opened component by component, never following a symlink (a symlink met
//! on the way is an error, unless it was already in the destination and the caller trusts such
//! links). At most [`CAPACITY`] handles stay open, most recently used kept.

use crate::error::HostError;
use crate::path::split;
use cap_fs_ext::DirExt;
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::collections::HashSet;
use std::path::PathBuf;
use std::rc::Rc;

/// Most directory handles kept open at once (besides the root).
pub(crate) const CAPACITY: usize = 32;

#[derive(Debug)]
pub(crate) struct Dirs {
    root: Rc<Dir>,
    /// The root's absolute path, for the few operations that need one (following a trusted
    /// link, a Windows junction's target).
    root_path: PathBuf,
    /// Most recently used last.
    cache: Vec<(String, Rc<Dir>)>,
    trust_existing_symlinks: bool,
    /// Symlinks this run made: never followed, whatever the trust.
    made_links: HashSet<String>,
}

impl Dirs {
    pub(crate) fn new(root: Dir, root_path: PathBuf, trust_existing_symlinks: bool) -> Self {
        Dirs {
            root: Rc::new(root),
            root_path,
            cache: Vec::new(),
            trust_existing_symlinks,
            made_links: HashSet::new(),
        }
    }

    pub(crate) fn root_path(&self) -> &std::path::Path {
        &self.root_path
    }

    /// Notes a symlink this run made (it is never followed).
    pub(crate) fn made_link(&mut self, path: &str) {
        self.made_links.insert(path.to_owned());
    }

    /// The handle of the directory at `path` (`""` is the root).
    pub(crate) fn open(&mut self, path: &str) -> Result<Rc<Dir>, HostError> {
        if path.is_empty() {
            return Ok(Rc::clone(&self.root));
        }
        if let Some(i) = self.cache.iter().position(|(p, _)| p == path) {
            let entry = self.cache.remove(i);
            let dir = Rc::clone(&entry.1);
            self.cache.push(entry);
            return Ok(dir);
        }
        // The nearest cached ancestor, then one component at a time.
        let mut start = path;
        let mut base = Rc::clone(&self.root);
        let mut base_len = 0;
        while let Some((parent, _)) = split_parent(start) {
            if let Some((_, dir)) = self.cache.iter().find(|(p, _)| p == parent) {
                base = Rc::clone(dir);
                base_len = parent.len() + 1;
                break;
            }
            start = parent;
        }
        let mut dir = base;
        let mut end = base_len;
        for component in path[base_len..].split('/') {
            end += component.len();
            let prefix = &path[..end];
            dir = Rc::new(self.open_component(&dir, prefix, component)?);
            end += 1;
        }
        self.insert(path, Rc::clone(&dir));
        Ok(dir)
    }

    fn open_component(&self, parent: &Dir, prefix: &str, name: &str) -> Result<Dir, HostError> {
        match parent.open_dir_nofollow(name) {
            Ok(dir) => Ok(dir),
            Err(err) => {
                let meta = match parent.symlink_metadata(name) {
                    Ok(meta) => meta,
                    Err(_) => return Err(HostError::io("open the directory", prefix, err)),
                };
                if meta.is_symlink() {
                    if self.trust_existing_symlinks && !self.made_links.contains(prefix) {
                        let full = self.root_path.join(crate::path::native(prefix));
                        return Dir::open_ambient_dir(&full, ambient_authority())
                            .map_err(|e| HostError::io("follow the existing symlink", prefix, e));
                    }
                    return Err(HostError::ExistingSymlink {
                        path: prefix.to_owned(),
                    });
                }
                if !meta.is_dir() {
                    return Err(HostError::NotADirectory {
                        path: prefix.to_owned(),
                    });
                }
                Err(HostError::io("open the directory", prefix, err))
            }
        }
    }

    fn insert(&mut self, path: &str, dir: Rc<Dir>) {
        if self.cache.len() >= CAPACITY {
            self.cache.remove(0);
        }
        self.cache.push((path.to_owned(), dir));
    }

    /// Forgets the handles of `path` and everything below it (it is being removed or moved).
    pub(crate) fn forget(&mut self, path: &str) {
        self.cache.retain(|(p, _)| !crate::path::is_within(p, path));
    }

    /// Closes every cached handle (before a rename or removal of the whole tree: Windows
    /// refuses to move a directory that has open handles below it).
    pub(crate) fn close_all(&mut self) {
        self.cache.clear();
    }

    /// Closes everything and makes `root` the root (the staging directory is about to move).
    pub(crate) fn replace_root(&mut self, root: Dir, root_path: PathBuf) {
        self.cache.clear();
        self.root = Rc::new(root);
        self.root_path = root_path;
    }

    /// The parent directory's handle and the last component of `path`.
    pub(crate) fn parent_of<'p>(&mut self, path: &'p str) -> Result<(Rc<Dir>, &'p str), HostError> {
        let (parent, name) = split(path);
        Ok((self.open(parent)?, name))
    }
}

fn split_parent(path: &str) -> Option<(&str, &str)> {
    path.rsplit_once('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_stays_bounded_and_finds_ancestors() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
        let mut deep = String::new();
        for i in 0..(CAPACITY + 10) {
            if !deep.is_empty() {
                deep.push('/');
            }
            deep.push_str(&format!("d{i}"));
            root.create_dir(crate::path::native(&deep)).unwrap();
        }
        let mut dirs = Dirs::new(root, tmp.path().to_owned(), false);
        dirs.open(&deep).unwrap();
        for i in 0..(CAPACITY * 2) {
            let _ = dirs.open(&format!("d0/x{i}"));
        }
        assert!(dirs.cache.len() <= CAPACITY);
        dirs.open("d0").unwrap();
        dirs.forget("d0");
        assert!(dirs.cache.iter().all(|(p, _)| !p.starts_with("d0")));
    }

    #[cfg(unix)]
    #[test]
    fn existing_symlinks_are_not_followed_unless_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), tmp.path().join("sub")).unwrap();
        let root = Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
        let mut dirs = Dirs::new(root, tmp.path().to_owned(), false);
        assert!(matches!(
            dirs.open("sub"),
            Err(HostError::ExistingSymlink { .. })
        ));
        let root = Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
        let mut trusting = Dirs::new(root, tmp.path().to_owned(), true);
        assert!(trusting.open("sub").is_ok());
        trusting.made_link("sub");
        trusting.close_all();
        assert!(matches!(
            trusting.open("sub"),
            Err(HostError::ExistingSymlink { .. })
        ));
    }
}
