//! Every corpus case under the core and every host profile: goldens and cross-host agreement.
//!
//! `UPDATE_GOLDEN=1` rewrites the goldens instead of comparing (the cross-host rule is checked
//! either way). `UNCORK_PROFILES=native-unix,wasi` runs only those profiles, for quick local
//! work; `UNCORK_CASES=substring` only matching cases. CI sets neither: a missing profile
//! program is a failure, never a skip.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use uncork_tests::case::{self, Case, Run};
use uncork_tests::compare;
use uncork_tests::profile::{Profile, Tools};

fn selected_profiles() -> Vec<Profile> {
    match std::env::var("UNCORK_PROFILES") {
        Ok(list) if !list.is_empty() => list
            .split(',')
            .map(|n| Profile::from_name(n.trim()).unwrap_or_else(|| panic!("unknown profile {n}")))
            .collect(),
        _ => Profile::ALL.to_vec(),
    }
}

/// Compares `actual` with the golden file (or writes it); returns a failure message.
fn check_golden(path: &Path, actual: &str, update: bool) -> Option<String> {
    if update {
        return std::fs::write(path, actual)
            .err()
            .map(|e| format!("{}: {e}", path.display()));
    }
    let Ok(expected) = std::fs::read_to_string(path) else {
        return Some(format!(
            "{} is missing: run UPDATE_GOLDEN=1 cargo test -p uncork-tests",
            path.display()
        ));
    };
    if expected == actual {
        return None;
    }
    let mut diff = String::new();
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for line in &e {
        if !a.contains(line) {
            diff.push_str(&format!("  - {line}\n"));
        }
    }
    for line in &a {
        if !e.contains(line) {
            diff.push_str(&format!("  + {line}\n"));
        }
    }
    Some(format!("{} differs:\n{diff}", path.display()))
}

fn run_case(case: &Case, tools: &Tools, profiles: &[Profile], update: bool) -> Vec<String> {
    let mut failures = Vec::new();
    let archive = match case::build(case, &uncork_tests::repo()) {
        Ok(a) => a,
        Err(e) => return vec![format!("building the archive: {e}")],
    };
    failures.extend(check_golden(
        &case.dir.join("actions.golden"),
        &case::actions(&case.recipe, &archive),
        update,
    ));
    let mut runs: BTreeMap<Profile, Run> = BTreeMap::new();
    for &profile in profiles {
        match case::run(tools, profile, &case.recipe, &archive) {
            Ok(run) => {
                let golden = case.dir.join(format!("{}.golden", profile.name()));
                failures.extend(check_golden(&golden, &case::golden(case, &run), update));
                runs.insert(profile, run);
            }
            Err(e) => failures.push(e),
        }
    }
    if let Some(reference) = runs.get(&Profile::NativeUnix) {
        for (profile, run) in &runs {
            let declared = case
                .recipe
                .host_differs
                .iter()
                .any(|(p, _)| p == profile.name());
            let problems = compare::unexplained(reference, run);
            if declared && problems.is_empty() {
                failures.push(format!(
                    "case.txt says {} differs from native-unix, but it agrees: remove host-differs",
                    profile.name()
                ));
            }
            if !declared {
                for problem in problems {
                    failures.push(format!("{} vs native-unix: {problem}", profile.name()));
                }
            }
        }
    }
    failures
}

#[test]
fn every_case_gives_one_tree_on_every_host() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let filter = std::env::var("UNCORK_CASES").unwrap_or_default();
    let profiles = selected_profiles();
    let tools = Tools::new(&uncork_tests::repo());
    for &p in &profiles {
        if let Err(e) = tools.program(p) {
            panic!("profile {}: {e}", p.name());
        }
    }
    let cases: Vec<Case> = case::load_all(&uncork_tests::corpus())
        .unwrap()
        .into_iter()
        .filter(|c| c.name.contains(&filter))
        .collect();
    assert!(!cases.is_empty(), "no cases match '{filter}'");

    // Cases run side by side (each profile is a process; wine and node mostly wait).
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<String, Vec<String>>> = Mutex::new(BTreeMap::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let failures = run_case(case, &tools, &profiles, update);
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(case.name.clone(), failures);
                }
            });
        }
    });

    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let failed: Vec<_> = results.iter().filter(|(_, f)| !f.is_empty()).collect();
    let names: Vec<&str> = profiles.iter().map(|p| p.name()).collect();
    println!(
        "{} cases x {} profiles ({}): {} failed",
        cases.len(),
        profiles.len(),
        names.join(", "),
        failed.len()
    );
    if !failed.is_empty() {
        let mut text = String::new();
        for (name, failures) in &failed {
            text.push_str(&format!("\n== {name}\n"));
            for f in failures.iter() {
                text.push_str(&format!("{f}\n"));
            }
        }
        panic!("{} of {} cases failed:{text}", failed.len(), cases.len());
    }
}

#[test]
fn the_corpus_is_large_enough_and_every_case_is_described() {
    let cases = case::load_all(&uncork_tests::corpus()).unwrap();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    for c in &cases {
        assert!(
            !c.recipe.description.is_empty(),
            "{}: no description",
            c.name
        );
    }
}
