//! Differential check against Python's `tarfile` with `filter="data"` (PEP 706) over the tar
//! cases of the corpus (`filter="tar"` for cases under `--policy tar`): the same tree (paths, kinds, contents, link targets, file modes and
//! mtimes), or both refuse. A case whose `case.txt` says `python differs REASON` must really
//! differ (so the stated reason cannot go stale); `python skip REASON` is not compared.

use std::process::Command;
use uncork_tests::case::{self, Run};
use uncork_tests::profile::{Outcome, Profile, Tools};
use uncork_tests::recipe::{Format, PythonExpectation};
use uncork_tests::tree::{self, Modes, Node, Tree};

const EXTRACT: &str = r#"
import sys, tarfile
try:
    with tarfile.open(sys.argv[1]) as t:
        t.extractall(sys.argv[2], filter=sys.argv[3])
    print("ok")
except Exception as e:
    print("error", type(e).__name__, str(e).replace("\n", " "))
"#;

/// Python's outcome: `Ok(tree)` or `Err(exception)`.
fn python(archive: &[u8], filter: &str) -> Result<Tree, String> {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("archive");
    std::fs::write(&path, archive).unwrap();
    let out = work.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let run = Command::new(std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into()))
        .args(["-c", EXTRACT])
        .arg(&path)
        .arg(&out)
        .arg(filter)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&run.stdout).trim().to_owned();
    let result = if stdout == "ok" {
        Ok(tree::read(&out, Modes::Full).unwrap())
    } else {
        Err(format!("{stdout} {}", String::from_utf8_lossy(&run.stderr)))
    };
    tree::make_removable(&out);
    result
}

/// The trees as both tell them: directories without modes or times (tarfile's data filter
/// leaves directory modes to the umask; uncork applies the archive's).
fn comparable(tree: &Tree) -> Tree {
    tree.iter()
        .map(|(path, node)| {
            let node = match node {
                Node::Dir { .. } => Node::Dir {
                    mode: String::new(),
                    mtime: 0,
                },
                other => other.clone(),
            };
            (path.clone(), node)
        })
        .collect()
}

/// Whether uncork's run and Python's outcome agree; the difference in words when not.
fn agreement(uncork: &Run, python: &Result<Tree, String>) -> Result<(), String> {
    match (&uncork.outcome, python) {
        (Outcome::Err { .. }, Err(_)) => Ok(()),
        (Outcome::Err { rule, .. }, Ok(_)) => {
            Err(format!("uncork refused ({rule:?}), tarfile extracted"))
        }
        (Outcome::Ok { .. }, Err(e)) => Err(format!("uncork extracted, tarfile failed: {e}")),
        (Outcome::Ok { .. }, Ok(tree)) => {
            let (a, b) = (comparable(&uncork.tree), comparable(tree));
            if a == b {
                return Ok(());
            }
            let mut diff = String::new();
            for (p, n) in &a {
                if b.get(p) != Some(n) {
                    diff.push_str(&format!("  uncork  {p}: {n:?}\n"));
                }
            }
            for (p, n) in &b {
                if a.get(p) != Some(n) {
                    diff.push_str(&format!("  tarfile {p}: {n:?}\n"));
                }
            }
            Err(format!("the trees differ:\n{diff}"))
        }
    }
}

#[test]
fn tar_cases_extract_as_tarfile_data_filter_does() {
    let tools = Tools::new(&uncork_tests::repo());
    tools
        .program(Profile::NativeUnix)
        .expect("the uncork binary");
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in case::load_all(&uncork_tests::corpus()).unwrap() {
        let recipe = &case.recipe;
        if matches!(recipe.format, Format::Zip { .. }) {
            continue;
        }
        if let PythonExpectation::Skip(_) = recipe.python {
            continue;
        }
        let archive = case::build(&case, &uncork_tests::repo()).unwrap();
        let uncork = case::run(&tools, Profile::NativeUnix, recipe, &archive).unwrap();
        // The tarfile filter nearest to the case's policy.
        let filter = match recipe.policy.as_str() {
            "tar" => "tar",
            "trusted" => "fully_trusted",
            _ => "data",
        };
        let py = python(&archive, filter);
        compared += 1;
        match (&recipe.python, agreement(&uncork, &py)) {
            (PythonExpectation::Same, Err(why)) => {
                failures.push(format!(
                    "{}: expected the same outcome, but {why}",
                    case.name
                ));
            }
            (PythonExpectation::Differs(reason), Ok(())) => failures.push(format!(
                "{}: case.txt says tarfile differs ({reason}), but the outcomes agree",
                case.name
            )),
            _ => {}
        }
    }
    println!("{compared} tar cases compared with tarfile's data filter");
    assert!(compared >= 40, "only {compared} cases compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
