//! The five host profiles, each run as the command a user would run, and their outcomes read
//! back from `--json`.
//!
//! | profile            | command                                                        |
//! |--------------------|----------------------------------------------------------------|
//! | `native-unix`      | `uncork ARCHIVE -C OUT --json`                                 |
//! | `native-unix-copy` | the same with `--symlinks copy` (the fallback Windows needs)    |
//! | `windows`          | `wine uncork.exe ARCHIVE -C OUT --json` (x86_64-pc-windows-gnu) |
//! | `wasi`             | `uncork-wasm-run wasi --dir CASE::/case -- /case/ARCHIVE ...`   |
//! | `jco`              | `node wasm/js/uncork.mjs ARCHIVE -C OUT --json`                 |
//!
//! Where each program is: `UNCORK_BIN`, `UNCORK_WINDOWS_BIN`, `UNCORK_WASM_RUN`, `NODE` and
//! `UNCORK_JS_BINDINGS`, else the paths `scripts/test.sh` builds them to.

use crate::tree::Modes;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A host profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// The native host on this Unix machine, real symlinks.
    NativeUnix,
    /// The native host with every symlink made as a copy of its target.
    NativeUnixCopy,
    /// The native host built for Windows, under Wine.
    Windows,
    /// The WASI command under wasmtime.
    Wasi,
    /// The planner component under Node (jco) with the JavaScript sink.
    Jco,
}

impl Profile {
    /// Every profile, the reference first.
    pub const ALL: [Profile; 5] = [
        Profile::NativeUnix,
        Profile::NativeUnixCopy,
        Profile::Windows,
        Profile::Wasi,
        Profile::Jco,
    ];

    /// The profile's name (and its golden file's stem).
    pub fn name(self) -> &'static str {
        match self {
            Profile::NativeUnix => "native-unix",
            Profile::NativeUnixCopy => "native-unix-copy",
            Profile::Windows => "windows",
            Profile::Wasi => "wasi",
            Profile::Jco => "jco",
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// What the profile's filesystem tells about modes.
    pub fn modes(self) -> Modes {
        match self {
            Profile::NativeUnix | Profile::NativeUnixCopy | Profile::Jco => Modes::Full,
            Profile::Windows => Modes::OwnerWrite,
            Profile::Wasi => Modes::None,
        }
    }
}

/// Where the programs are.
#[derive(Debug, Clone)]
pub struct Tools {
    repo: PathBuf,
}

impl Tools {
    /// Tools of the repository at `repo`.
    pub fn new(repo: &Path) -> Tools {
        Tools {
            repo: repo.to_path_buf(),
        }
    }

    fn path(&self, var: &str, default: &str) -> PathBuf {
        std::env::var_os(var).map_or_else(|| self.repo.join(default), PathBuf::from)
    }

    /// The program a profile runs, checked to exist (else a message saying how to build it).
    pub fn program(&self, profile: Profile) -> Result<PathBuf, String> {
        let (var, default, build) = match profile {
            Profile::NativeUnix | Profile::NativeUnixCopy => (
                "UNCORK_BIN",
                "target/debug/uncork",
                "cargo build -p uncork-native",
            ),
            Profile::Windows => (
                "UNCORK_WINDOWS_BIN",
                "target/x86_64-pc-windows-gnu/debug/uncork.exe",
                "cargo build -p uncork-native --target x86_64-pc-windows-gnu",
            ),
            Profile::Wasi => (
                "UNCORK_WASM_RUN",
                "target/release/uncork-wasm-run",
                "scripts/build-wasm.sh, then cargo build --release in wasm/runner",
            ),
            Profile::Jco => (
                "UNCORK_JS_BINDINGS",
                "target/wasm/js/uncork-planner.js",
                "scripts/build-wasm.sh",
            ),
        };
        let path = self.path(var, default);
        if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{} is missing ({var}); build it with: {build}",
                path.display()
            ))
        }
    }

    /// The command that extracts `case_dir/archive` into `case_dir/out` under `profile`.
    pub fn command(
        &self,
        profile: Profile,
        case_dir: &Path,
        policy: &str,
        strip: usize,
    ) -> Result<Command, String> {
        let program = self.program(profile)?;
        let archive = case_dir.join("archive");
        let out = case_dir.join("out");
        let strip = strip.to_string();
        let common = [
            "--json",
            "--policy",
            policy,
            "--strip-components",
            strip.as_str(),
        ];
        let mut cmd;
        match profile {
            Profile::NativeUnix | Profile::NativeUnixCopy => {
                cmd = Command::new(program);
                cmd.arg(&archive).arg("-C").arg(&out).args(common);
                if profile == Profile::NativeUnixCopy {
                    cmd.args(["--symlinks", "copy"]);
                }
            }
            Profile::Windows => {
                cmd = Command::new(std::env::var_os("WINE").unwrap_or_else(|| "wine".into()));
                // Wine maps the Unix root to drive Z:.
                let z = |p: &Path| format!("Z:{}", p.display());
                cmd.arg(program)
                    .arg(z(&archive))
                    .arg("-C")
                    .arg(z(&out))
                    .args(common);
                cmd.env("WINEDEBUG", "-all");
                if std::env::var_os("WINEPREFIX").is_none() {
                    cmd.env("WINEPREFIX", self.repo.join("target/wine-prefix"));
                }
            }
            Profile::Wasi => {
                cmd = Command::new(program);
                cmd.arg("wasi")
                    .arg("--dir")
                    .arg(format!("{}::/case", case_dir.display()))
                    .args(["--", "/case/archive", "-C", "/case/out"])
                    .args(common);
            }
            Profile::Jco => {
                cmd = Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()));
                cmd.arg(self.repo.join("wasm/js/uncork.mjs"))
                    .arg(&archive)
                    .arg("-C")
                    .arg(&out)
                    .args(common)
                    .env("UNCORK_JS_BINDINGS", program);
            }
        }
        Ok(cmd)
    }
}

/// What a run said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Extracted.
    Ok {
        /// `PATH: EFFECT -> FALLBACK (REASON)` for every degradation, sorted.
        degradations: Vec<Degraded>,
        /// `PATH (RULE)` for every skipped entry.
        skipped: Vec<String>,
        /// Modes the host could not apply.
        modes_not_applied: u64,
    },
    /// Refused or failed.
    Err {
        /// The rule name, if the error has one.
        rule: Option<String>,
        /// The error's kind (`format`, `refused`, `host`, `input`, ...).
        kind: String,
        /// The entry index, where the profile reports it.
        entry: Option<u64>,
    },
}

/// One degradation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Degraded {
    /// The entry's path.
    pub path: String,
    /// What was asked (`symlink`, `mode`, ...).
    pub effect: String,
    /// What was done instead (`copy of X`, `junction`, `skipped`, ...).
    pub fallback: String,
    /// Why.
    pub reason: String,
}

/// Reads the outcome from a run's standard output (its last JSON line).
pub fn outcome(profile: Profile, stdout: &str) -> Result<Outcome, String> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or("no JSON line on standard output")?;
    let v: Value = serde_json::from_str(line).map_err(|e| format!("bad JSON ({e}): {line}"))?;
    let s = |v: &Value| v.as_str().map(str::to_owned);
    if v["ok"] == Value::Bool(true) {
        let report = &v;
        let mut degradations: Vec<Degraded> = report["degradations"]
            .as_array()
            .ok_or("no degradations array")?
            .iter()
            .map(|d| degraded(profile, d))
            .collect::<Result<_, _>>()?;
        degradations.sort();
        let mut skipped: Vec<String> = report["skipped"]
            .as_array()
            .ok_or("no skipped array")?
            .iter()
            .map(|d| {
                format!(
                    "{} ({})",
                    d["path"].as_str().unwrap_or("?"),
                    d["rule"].as_str().unwrap_or("?")
                )
            })
            .collect();
        skipped.sort();
        Ok(Outcome::Ok {
            degradations,
            skipped,
            modes_not_applied: report["modes_not_applied"]
                .as_u64()
                .or_else(|| report["modesNotApplied"].as_u64())
                .unwrap_or(0),
        })
    } else {
        let e = &v["error"];
        let entry = e["entry"]
            .as_u64()
            .or_else(|| e["location"]["entry"].as_u64());
        Ok(Outcome::Err {
            rule: s(&e["rule"]),
            kind: s(&e["kind"]).unwrap_or_default(),
            entry,
        })
    }
}

fn degraded(profile: Profile, d: &Value) -> Result<Degraded, String> {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    Ok(match profile {
        Profile::NativeUnix | Profile::NativeUnixCopy | Profile::Windows => Degraded {
            path: text(&d["path"]),
            effect: text(&d["effect"]),
            fallback: match d["from"].as_str() {
                Some(from) if d["fallback"] == "copy" => format!("copy of {from}"),
                _ => text(&d["fallback"]),
            },
            reason: text(&d["reason"]),
        },
        Profile::Wasi => Degraded {
            path: text(&d["path"]),
            effect: text(&d["effect"]),
            fallback: text(&d["fallback"]),
            reason: text(&d["reason"]),
        },
        Profile::Jco => {
            let g = &d["degradation"];
            let f = &g["fallback"];
            Degraded {
                path: text(&d["path"]),
                effect: text(&g["effect"]),
                fallback: match (f["tag"].as_str(), f["val"].as_str()) {
                    (Some("copy"), Some(from)) => format!("copy of {from}"),
                    (Some(tag), _) => tag.to_owned(),
                    _ => return Err(format!("unreadable degradation {d}")),
                },
                reason: text(&g["reason"]),
            }
        }
    })
}
