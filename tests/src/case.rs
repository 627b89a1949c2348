//! One corpus case: its recipe, its archive, and its runs under the core and each profile.

use crate::archive;
use crate::profile::{self, Outcome, Profile, Tools};
use crate::recipe::Recipe;
use crate::tree::{self, Tree};
use std::fmt::Write as _;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use uncork_core::dump::Dump;
use uncork_core::{Options, Policy, Preset};

/// A case folder.
#[derive(Debug, Clone)]
pub struct Case {
    /// The folder's name.
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
    /// Its `case.txt`.
    pub recipe: Recipe,
}

/// Every case below `corpus`, sorted by name.
pub fn load_all(corpus: &Path) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    let entries = std::fs::read_dir(corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    for entry in entries {
        let dir = entry.map_err(|e| e.to_string())?.path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(dir.join("case.txt"))
            .map_err(|e| format!("{name}/case.txt: {e}"))?;
        let recipe = Recipe::parse(&text).map_err(|e| format!("{name}/case.txt {e}"))?;
        cases.push(Case { name, dir, recipe });
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

/// The preset a recipe names.
pub fn preset(name: &str) -> Preset {
    match name {
        "tar" => Preset::Tar,
        "trusted" => Preset::Trusted,
        "portable" => Preset::Portable,
        _ => Preset::Data,
    }
}

/// The core's action dump for the archive (what `uncork plan` prints), then its outcome.
pub fn actions(recipe: &Recipe, archive: &[u8]) -> String {
    let options = Options {
        policy: Policy::preset(preset(&recipe.policy)),
        strip_components: recipe.strip,
        ..Options::default()
    };
    let mut dump = Dump::default();
    let result = uncork_core::extract(Cursor::new(archive), &options, &mut dump);
    let mut out = dump.text;
    match result {
        Ok(report) => {
            let _ = writeln!(
                out,
                "ok: {} entries, {} files, {} dirs, {} symlinks, {} hard links, {} bytes",
                report.entries,
                report.files,
                report.dirs,
                report.symlinks,
                report.hard_links,
                report.bytes
            );
        }
        Err(e) => {
            let rule = e.rule().map_or("-", uncork_core::Rule::name);
            let entry = e
                .location()
                .and_then(|l| l.entry)
                .map_or(String::new(), |n| format!(" entry {n}"));
            let _ = writeln!(out, "error: {rule}{entry}");
        }
    }
    out
}

/// One profile's run of a case.
#[derive(Debug, Clone)]
pub struct Run {
    /// The profile.
    pub profile: Profile,
    /// The exit status (`None`: killed by a signal).
    pub exit: Option<i32>,
    /// What it reported.
    pub outcome: Outcome,
    /// The tree it left in the destination.
    pub tree: Tree,
    /// Anything it created or changed beside the destination (must be empty).
    pub stray: Vec<String>,
    /// The destination before the run (the recipe's `before` entries).
    pub before: Tree,
}

/// Runs `profile` on the archive, in a fresh directory.
pub fn run(
    tools: &Tools,
    profile: Profile,
    recipe: &Recipe,
    archive: &[u8],
) -> Result<Run, String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let archive_path = work.path().join("archive");
    std::fs::write(&archive_path, archive).map_err(|e| e.to_string())?;
    let out = work.path().join("out");
    std::fs::create_dir(&out).map_err(|e| e.to_string())?;
    for entry in &recipe.before {
        make(&out, entry).map_err(|e| format!("making the destination's 'before' entries: {e}"))?;
    }
    let before = tree::read(&out, profile.modes()).map_err(|e| e.to_string())?;
    let beside = beside(work.path())?;
    let mut cmd = tools.command(profile, work.path(), &recipe.policy, recipe.strip)?;
    let output = cmd
        .output()
        .map_err(|e| format!("{}: cannot run {cmd:?}: {e}", profile.name()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let outcome = profile::outcome(profile, &stdout).map_err(|e| {
        format!(
            "{}: {e}\nexit: {:?}\nstdout: {stdout}\nstderr: {stderr}",
            profile.name(),
            output.status.code()
        )
    })?;
    let tree = tree::read(&out, profile.modes()).map_err(|e| format!("reading the tree: {e}"))?;
    let after = self::beside(work.path())?;
    let mut stray: Vec<String> = after
        .iter()
        .filter(|(p, n)| beside.get(*p) != Some(n))
        .map(|(p, _)| p.clone())
        .chain(
            beside
                .keys()
                .filter(|p| !after.contains_key(*p))
                .map(|p| format!("{p} (removed)")),
        )
        .collect();
    if std::fs::read(&archive_path).ok().as_deref() != Some(archive) {
        stray.push("archive (changed)".into());
    }
    stray.sort();
    tree::make_removable(&out);
    Ok(Run {
        profile,
        exit: output.status.code(),
        outcome,
        tree,
        stray,
        before,
    })
}

/// Everything in the work directory but the destination and the archive.
fn beside(work: &Path) -> Result<Tree, String> {
    let all = tree::read(work, crate::tree::Modes::Full).map_err(|e| e.to_string())?;
    // A directory's mtime moves when something is made in it: its children tell that.
    Ok(all
        .into_iter()
        .filter(|(p, _)| p != "archive" && p != "out" && !p.starts_with("out/"))
        .map(|(p, n)| match n {
            tree::Node::Dir { mode, .. } => (p, tree::Node::Dir { mode, mtime: 0 }),
            n => (p, n),
        })
        .collect())
}

/// Makes one `before` entry below `out` (or beside it, for `../` names).
fn make(out: &Path, entry: &crate::recipe::Entry) -> std::io::Result<()> {
    use crate::recipe::Kind;
    let name = String::from_utf8_lossy(&entry.name).into_owned();
    let path = out.join(name.trim_end_matches('/'));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match &entry.kind {
        Kind::Dir => std::fs::create_dir_all(&path),
        Kind::Symlink(target) => symlink(&String::from_utf8_lossy(target), &path),
        _ => {
            std::fs::write(&path, &entry.data)?;
            // A fixed time, so every profile's destination starts the same.
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
            std::fs::File::options()
                .write(true)
                .open(&path)?
                .set_modified(when)
        }
    }
}

#[cfg(unix)]
fn symlink(target: &str, path: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, path)
}

#[cfg(not(unix))]
fn symlink(_: &str, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("symlinks in 'before' need Unix"))
}

/// A run's golden text: exit status, outcome, report lines, then the tree.
pub fn golden(case: &Case, run: &Run) -> String {
    let mut out = format!("# {} under {}\n", case.name, run.profile.name());
    let _ = writeln!(
        out,
        "exit {}",
        run.exit.map_or("signal".into(), |c| c.to_string())
    );
    match &run.outcome {
        Outcome::Ok {
            degradations,
            skipped,
            modes_not_applied,
        } => {
            out.push_str("ok\n");
            for d in degradations {
                let _ = writeln!(
                    out,
                    "degraded {}: {} -> {} ({})",
                    d.path, d.effect, d.fallback, d.reason
                );
            }
            for s in skipped {
                let _ = writeln!(out, "skipped {s}");
            }
            if *modes_not_applied > 0 {
                let _ = writeln!(out, "modes-not-applied {modes_not_applied}");
            }
        }
        Outcome::Err { rule, kind, entry } => {
            let _ = writeln!(
                out,
                "error {kind} {}{}",
                rule.as_deref().unwrap_or("-"),
                entry.map_or(String::new(), |n| format!(" entry {n}"))
            );
        }
    }
    for s in &run.stray {
        let _ = writeln!(out, "stray {s}");
    }
    if !run.before.is_empty() {
        out.push_str("before:\n");
        out.push_str(&tree::manifest(&run.before));
    }
    out.push_str("tree:\n");
    out.push_str(&tree::manifest(&run.tree));
    out
}

/// Builds a case's archive.
pub fn build(case: &Case, repo: &Path) -> Result<Vec<u8>, String> {
    archive::build(&case.recipe, repo)
}
