//! What a run created, newest last, so that a failed run can remove it again
//! ([`crate::host::WasiHost::undo`]). Kept only when extracting into a directory that was
//! already there, and then only for what lands outside directories the run made (those are
//! removed whole): a list of every entry grew with the archive (on the bench's 16x input,
//! 121,600 files, the command's peak RSS was 23.5 MiB with it and 15.3-15.9 MiB without).
//!
//! The paths are kept end to end in one string, with 8 bytes of bookkeeping each, instead of a
//! `(String, bool)` each with a heap allocation of its own.

/// The paths a run created, in order; each one a file (or link) or a directory.
#[derive(Debug, Default)]
pub struct Created {
    paths: String,
    /// Where each path ends in `paths`, the top bit set for a directory.
    ends: Vec<u64>,
}

const DIR: u64 = 1 << 63;

impl Created {
    /// Records `path`, a directory if `is_dir`.
    pub fn push(&mut self, path: &str, is_dir: bool) {
        self.paths.push_str(path);
        let end = self.paths.len() as u64;
        self.ends.push(if is_dir { end | DIR } else { end });
    }

    /// Every path, newest first (children before their directories), with whether it is a
    /// directory.
    pub fn newest_first(&self) -> impl Iterator<Item = (&str, bool)> {
        (0..self.ends.len()).rev().map(|i| self.get(i))
    }

    fn get(&self, i: usize) -> (&str, bool) {
        let start = i
            .checked_sub(1)
            .map_or(0, |before| self.ends[before] & !DIR);
        let end = self.ends[i];
        (
            &self.paths[start as usize..(end & !DIR) as usize],
            end & DIR != 0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_come_back_newest_first_with_their_kind() {
        let mut created = Created::default();
        assert_eq!(created.newest_first().count(), 0);
        created.push("a", true);
        created.push("a/b.txt", false);
        created.push("a/ü", true);
        created.push("", false);
        assert_eq!(
            created.newest_first().collect::<Vec<_>>(),
            [("", false), ("a/ü", true), ("a/b.txt", false), ("a", true)]
        );
    }
}
