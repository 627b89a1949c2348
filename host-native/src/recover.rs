//! What killed runs leave in an existing destination, found by name in each directory a run
//! writes into (while it holds the destination's lock): partial files (`.uncork-part-…`) are
//! removed, and a file moved aside by `--overwrite` (`.NAME.uncork-old-XXXXXXXX`) is put back
//! (over what that run wrote at its name: the interrupted run is undone as a failed one is).

use crate::journal::BACKUP_MARK;
use cap_std::fs::Dir;

/// What a partial file's name starts with (`.uncork-part-TOKEN-N`).
pub(crate) const PART_MARK: &str = ".uncork-part-";

/// Cleans what killed runs left in `dir` (at `dir_path` in the destination), except this
/// run's own (`token`); returns a line for each thing done or kept.
pub(crate) fn recover_dir(dir: &Dir, dir_path: &str, token: &str, notes: &mut Vec<String>) {
    let Ok(entries) = dir.entries() else { return };
    let names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with('.') && n.contains(".uncork-"))
        .collect();
    for found in names {
        let shown = crate::path::join(dir_path, &found);
        let Ok(meta) = dir.symlink_metadata(&found) else {
            continue;
        };
        if meta.is_dir() {
            continue;
        }
        if let Some(rest) = found.strip_prefix(PART_MARK) {
            if rest.starts_with(token) {
                continue;
            }
            notes.push(match dir.remove_file(&found) {
                Ok(()) => format!("removed '{shown}', a partial file an interrupted run left"),
                Err(e) => format!(
                    "could not remove '{shown}', a partial file an interrupted run left: {e}"
                ),
            });
        } else if let Some((original, backup_token)) = backup_parts(&found) {
            if backup_token == token {
                continue;
            }
            let original_shown = crate::path::join(dir_path, original);
            // The interrupted run is undone as a failed one would be: the user's file comes
            // back, over the archive's copy that run put at its name (if it got that far).
            notes.push(match dir.rename(&found, dir, original) {
                Ok(()) => format!(
                    "restored '{original_shown}', which an interrupted run had moved aside to '{shown}'"
                ),
                Err(e) => format!("could not restore '{original_shown}' from '{shown}': {e}"),
            });
        }
    }
}

/// `.NAME.uncork-old-TOKEN` → (`NAME`, `TOKEN`), for an 8-hex-digit token.
fn backup_parts(name: &str) -> Option<(&str, &str)> {
    let inner = name.strip_prefix('.')?;
    let at = inner.rfind(BACKUP_MARK)?;
    let (original, rest) = (&inner[..at], &inner[at + BACKUP_MARK.len()..]);
    let valid =
        !original.is_empty() && rest.len() == 8 && rest.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then_some((original, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_names() {
        assert_eq!(
            backup_parts(".a.txt.uncork-old-0badc0de"),
            Some(("a.txt", "0badc0de"))
        );
        assert_eq!(backup_parts(".a.uncork-old-xyz"), None);
        assert_eq!(backup_parts("..uncork-old-0badc0de"), None);
    }

    #[test]
    fn partial_files_go_and_backups_come_back() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path();
        std::fs::write(p.join(".uncork-part-11111111-0"), b"half").unwrap();
        std::fs::write(p.join(".uncork-part-22222222-0"), b"mine").unwrap();
        std::fs::write(p.join(".gone.txt.uncork-old-11111111"), b"orig").unwrap();
        std::fs::write(p.join(".here.txt.uncork-old-11111111"), b"orig").unwrap();
        std::fs::write(p.join("here.txt"), b"the archive's").unwrap();
        let dir = Dir::open_ambient_dir(p, cap_std::ambient_authority()).unwrap();
        let mut notes = Vec::new();
        recover_dir(&dir, "", "22222222", &mut notes);
        assert!(!p.join(".uncork-part-11111111-0").exists());
        assert!(p.join(".uncork-part-22222222-0").exists(), "this run's own");
        assert_eq!(std::fs::read(p.join("gone.txt")).unwrap(), b"orig");
        assert_eq!(std::fs::read(p.join("here.txt")).unwrap(), b"orig");
        assert_eq!(notes.len(), 3, "{notes:?}");
    }
}
