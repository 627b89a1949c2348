//! `--include` / `--exclude`: globs over the (stripped) entry path. A glob matches a path or
//! any of its ancestors, so `--include docs` keeps everything below `docs/`.

use super::failure::Failure;
use globset::{Glob, GlobSet, GlobSetBuilder};

/// The compiled selection.
#[derive(Debug)]
pub(crate) struct Selector {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl Selector {
    pub(crate) fn new(include: &[String], exclude: &[String]) -> Result<Self, Box<Failure>> {
        Ok(Selector {
            include: build(include, "--include")?,
            exclude: build(exclude, "--exclude")?,
        })
    }

    /// Whether any selection was asked for.
    pub(crate) fn is_active(&self) -> bool {
        self.include.is_some() || self.exclude.is_some()
    }

    /// Whether the entry at `path` is kept.
    pub(crate) fn accepts(&self, path: &str) -> bool {
        let included = self
            .include
            .as_ref()
            .is_none_or(|set| matches_or_ancestor(set, path));
        let excluded = self
            .exclude
            .as_ref()
            .is_some_and(|set| matches_or_ancestor(set, path));
        included && !excluded
    }
}

fn matches_or_ancestor(set: &GlobSet, path: &str) -> bool {
    if set.is_match(path) {
        return true;
    }
    path.match_indices('/')
        .any(|(i, _)| set.is_match(&path[..i]))
}

fn build(globs: &[String], flag: &str) -> Result<Option<GlobSet>, Box<Failure>> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let glob = glob.trim_end_matches('/');
        builder.add(
            Glob::new(glob)
                .map_err(|e| Box::new(Failure::usage(format!("{flag} '{glob}': {e}"))))?,
        );
    }
    builder
        .build()
        .map(Some)
        .map_err(|e| Box::new(Failure::usage(format!("{flag}: {e}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_exclude_and_ancestors() {
        let s = Selector::new(&["docs".into(), "*.md".into()], &["docs/private".into()]).unwrap();
        assert!(s.accepts("docs"));
        assert!(s.accepts("docs/a/b.txt"));
        assert!(s.accepts("README.md"));
        assert!(s.accepts("sub/x.md"));
        assert!(!s.accepts("src/main.rs"));
        assert!(!s.accepts("docs/private/key"));
        let none = Selector::new(&[], &[]).unwrap();
        assert!(!none.is_active());
        assert!(none.accepts("anything"));
        assert!(Selector::new(&["a[".into()], &[]).is_err());
    }
}
