//! Turning the core's normalized `/`-separated paths into the platform's.

use std::path::PathBuf;

/// Splits a normalized path into its parent (`""` for the root) and last component.
pub(crate) fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// The relative platform path of a normalized path.
pub(crate) fn native(path: &str) -> PathBuf {
    path.split('/').collect()
}

/// Joins a normalized directory path (`""` is the root) and a name.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Whether `path` is `ancestor` or lies below it (`""` is the root, the ancestor of all).
pub(crate) fn is_within(path: &str, ancestor: &str) -> bool {
    ancestor.is_empty()
        || path == ancestor
        || (path.starts_with(ancestor) && path.as_bytes().get(ancestor.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_nests() {
        assert_eq!(split("a/b/c"), ("a/b", "c"));
        assert_eq!(split("c"), ("", "c"));
        assert!(is_within("a/b", "a"));
        assert!(is_within("a", "a"));
        assert!(is_within("a", ""));
        assert!(!is_within("ab", "a"));
        assert_eq!(native("a/b"), PathBuf::from("a").join("b"));
    }
}
