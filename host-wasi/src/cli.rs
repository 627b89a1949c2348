//! The command line of `uncork-wasi`: the native `uncork`'s extraction flags, parsed by hand
//! (no dependency, small wasm), and the choice of the preopened directory for `-C DIR`.

use crate::host::SymlinkMode;
use uncork_core::policy::{Duplicates, LegacyNames, Policy, Preset};
use uncork_core::{Format, Limits};

/// The usage text.
pub const USAGE: &str = "\
usage: uncork-wasi ARCHIVE [-C DIR] [OPTIONS]

Extracts a tar, tar.gz or zip archive inside a preopened directory (WASI 0.2), e.g.
  wasmtime run --dir .::. uncork-wasi.wasm archive.tar.gz -C out

ARCHIVE is a path the runtime lets the program read, or - for standard input.
-C DIR is the destination (default .): a preopened directory or a path below one; it is
created when missing.

options:
  --policy data|tar|trusted|portable   policy preset (default data)
  --symlinks auto|native|copy|skip|error
                                       how symlinks are made (default auto: a link, else a
                                       reported copy of the already-extracted target)
  --strip-components N                 drop N leading components from every name
  --format tar|tar.gz|zip              force a format instead of detecting it
  --legacy-names reject|latin1         tar names that are not UTF-8
  --duplicates last-wins|error         the same path twice
  --no-mtimes                          do not apply mtimes
  --max-total-bytes N  --max-entry-bytes N  --max-entries N  --max-ratio N
  --max-path-bytes N   --max-name-bytes N   --max-depth N
  --max-metadata-bytes N  --max-link-hops N  --unlimited
                                       limits (counted on real bytes)
  --max-copy-bytes N                   most bytes written as copies in place of links
  --json                               print the report (or the error) as JSON on stdout
  -q, --quiet                          print nothing on success
  -h, --help                           this text
  -V, --version                        the version

WASI has no file modes: the report counts the modes not applied.
exit codes: 0 extracted; 1 anything failed (WASI 0.2 has no other exit codes; --json says what).";

/// What the command was asked to do.
#[derive(Debug)]
pub enum Command {
    /// Extract.
    Extract(Box<Args>),
    /// Print the usage.
    Help,
    /// Print the version.
    Version,
}

/// The arguments of an extraction.
#[derive(Debug)]
pub struct Args {
    /// The archive, `-` for standard input.
    pub archive: String,
    /// The destination.
    pub dir: String,
    /// The policy after every flag.
    pub policy: Policy,
    /// A forced format.
    pub format: Option<Format>,
    /// `--strip-components`.
    pub strip_components: usize,
    /// `--symlinks`.
    pub symlinks: SymlinkMode,
    /// `--max-copy-bytes`.
    pub max_copy_bytes: u64,
    /// `--json`.
    pub json: bool,
    /// `--quiet`.
    pub quiet: bool,
}

/// Parses the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut archive = None;
    let mut dir = None;
    let mut preset = Preset::Data;
    let mut knobs: Vec<(String, String)> = Vec::new();
    let mut format = None;
    let mut strip_components = 0;
    let mut symlinks = SymlinkMode::Auto;
    let mut max_copy_bytes = 16u64 << 30;
    let mut json = false;
    let mut quiet = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value")),
            }
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "-C" | "--directory" => dir = Some(value()?),
            "--policy" => preset = value()?.parse()?,
            "--symlinks" => symlinks = SymlinkMode::parse(&value()?)?,
            "--strip-components" => strip_components = number(flag, &value()?)?,
            "--format" => format = Some(value()?.parse()?),
            "--max-copy-bytes" => max_copy_bytes = number(flag, &value()?)?,
            "--json" => json = true,
            "-q" | "--quiet" => quiet = true,
            "--no-mtimes" | "--unlimited" => knobs.push((flag.to_owned(), String::new())),
            "--legacy-names"
            | "--duplicates"
            | "--max-total-bytes"
            | "--max-entry-bytes"
            | "--max-entries"
            | "--max-ratio"
            | "--max-path-bytes"
            | "--max-name-bytes"
            | "--max-depth"
            | "--max-metadata-bytes"
            | "--max-link-hops" => {
                knobs.push((flag.to_owned(), value()?));
            }
            "-" => set_archive(&mut archive, arg)?,
            _ if arg.starts_with('-') => return Err(format!("unknown option '{arg}'")),
            // `uncork extract ARCHIVE` is accepted as well as `uncork ARCHIVE`.
            "extract" if archive.is_none() && dir.is_none() && knobs.is_empty() => {}
            _ => set_archive(&mut archive, arg)?,
        }
    }
    let archive = archive.ok_or("no archive given")?;
    // Knobs apply on top of the preset, whatever their order on the command line.
    let mut policy = Policy::preset(preset);
    for (flag, value) in knobs {
        let l = &mut policy.limits;
        match flag.as_str() {
            "--no-mtimes" => policy.keep_mtimes = false,
            "--unlimited" => *l = Limits::unlimited(),
            "--legacy-names" => {
                policy.legacy_names = match value.as_str() {
                    "reject" => LegacyNames::Reject,
                    "latin1" => LegacyNames::Latin1,
                    _ => {
                        return Err(format!(
                            "--legacy-names: expected reject or latin1, not '{value}'"
                        ));
                    }
                }
            }
            "--duplicates" => {
                policy.duplicates = match value.as_str() {
                    "last-wins" => Duplicates::LastWins,
                    "error" => Duplicates::Error,
                    _ => {
                        return Err(format!(
                            "--duplicates: expected last-wins or error, not '{value}'"
                        ));
                    }
                }
            }
            "--max-total-bytes" => l.max_total_bytes = number(&flag, &value)?,
            "--max-entry-bytes" => l.max_entry_bytes = number(&flag, &value)?,
            "--max-entries" => l.max_entries = number(&flag, &value)?,
            "--max-ratio" => l.max_ratio = number(&flag, &value)?,
            "--max-path-bytes" => l.max_path_bytes = number(&flag, &value)?,
            "--max-name-bytes" => l.max_name_bytes = number(&flag, &value)?,
            "--max-depth" => l.max_depth = number(&flag, &value)?,
            "--max-metadata-bytes" => l.max_metadata_bytes = number(&flag, &value)?,
            "--max-link-hops" => l.max_link_hops = number(&flag, &value)?,
            _ => unreachable!("every knob is listed above"),
        }
    }
    Ok(Command::Extract(Box::new(Args {
        archive,
        dir: dir.unwrap_or_else(|| ".".to_owned()),
        policy,
        format,
        strip_components,
        symlinks,
        max_copy_bytes,
        json,
        quiet,
    })))
}

fn set_archive(archive: &mut Option<String>, arg: &str) -> Result<(), String> {
    if archive.is_some() {
        return Err(format!(
            "unexpected argument '{arg}' (one archive at a time)"
        ));
    }
    *archive = Some(arg.to_owned());
    Ok(())
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: '{value}' is not a number"))
}

/// Picks the preopened directory for `dir` among the preopens' guest paths: the one that is
/// `dir` or its longest ancestor (a relative `dir` is below `.`). Returns its index and the
/// rest of the path (components to open or create below it, `""` for the preopen itself).
pub fn choose_preopen(preopens: &[&str], dir: &str) -> Result<(usize, Vec<String>), String> {
    let dir_parts = components(dir);
    let absolute = dir.starts_with('/');
    let mut best: Option<(usize, usize)> = None; // (index, matched components)
    for (i, preopen) in preopens.iter().enumerate() {
        if preopen.starts_with('/') != absolute {
            continue;
        }
        let parts = components(preopen);
        if dir_parts.len() >= parts.len()
            && dir_parts[..parts.len()] == parts[..]
            && best.is_none_or(|(_, n)| parts.len() > n)
        {
            best = Some((i, parts.len()));
        }
    }
    let Some((index, n)) = best else {
        let list = preopens.join(", ");
        return Err(format!(
            "'{dir}' is not inside a preopened directory (preopens: {}); run the runtime with --dir",
            if list.is_empty() { "none" } else { &list }
        ));
    };
    let rest: Vec<String> = dir_parts[n..].iter().map(|s| (*s).to_owned()).collect();
    if rest.iter().any(|c| c == "..") {
        return Err(format!(
            "'{dir}': '..' below a preopened directory is not followed"
        ));
    }
    Ok((index, rest))
}

fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn extract(s: &str) -> Args {
        match parse(&args(s)).unwrap() {
            Command::Extract(a) => *a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_override_the_preset_in_any_order() {
        let a = extract("--max-entries 5 a.tgz --policy portable -C out --json --symlinks copy");
        assert_eq!(a.archive, "a.tgz");
        assert_eq!(a.dir, "out");
        assert_eq!(a.policy.preset, Preset::Portable);
        assert!(a.policy.portable_names);
        assert_eq!(a.policy.limits.max_entries, 5);
        assert_eq!(a.symlinks, SymlinkMode::Copy);
        assert!(a.json);
        let a = extract("extract x.zip --strip-components=1 --format zip --no-mtimes");
        assert_eq!(a.archive, "x.zip");
        assert_eq!(a.strip_components, 1);
        assert_eq!(a.format, Some(Format::Zip));
        assert!(!a.policy.keep_mtimes);
        assert_eq!(a.dir, ".");
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        assert!(parse(&args("")).is_err());
        assert!(parse(&args("a b")).is_err());
        assert!(parse(&args("a --policy nope")).is_err());
        assert!(parse(&args("a --max-ratio x")).is_err());
        assert!(parse(&args("a --frobnicate")).is_err());
        assert!(parse(&args("a -C")).is_err());
        assert!(matches!(parse(&args("--help")), Ok(Command::Help)));
    }

    #[test]
    fn the_longest_preopen_wins() {
        let pre = [".", "/data", "/data/out"];
        assert_eq!(
            choose_preopen(&pre, "out/x"),
            Ok((0, vec!["out".into(), "x".into()]))
        );
        assert_eq!(choose_preopen(&pre, "."), Ok((0, vec![])));
        assert_eq!(choose_preopen(&pre, "/data/out/"), Ok((2, vec![])));
        assert_eq!(
            choose_preopen(&pre, "/data/new"),
            Ok((1, vec!["new".into()]))
        );
        assert!(choose_preopen(&pre, "/etc").is_err());
        assert!(choose_preopen(&pre, "a/../../x").is_err());
        assert!(choose_preopen(&["/"], "/x").is_ok());
        assert!(choose_preopen(&[], ".").is_err());
    }
}
