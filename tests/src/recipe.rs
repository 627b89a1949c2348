//! `case.txt`: how a corpus case's archive is made, and how it is extracted.
//!
//! One directive per line; `#` lines are the case's description. Tokens are separated by
//! spaces; a token in double quotes may hold spaces and the escapes `\n \t \\ \" \xHH` (so a
//! name can hold any byte, valid UTF-8 or not).
//!
//! ```text
//! # The founding case: README -> README.md, stored before README.md.
//! format ustar            ustar | gnu | pax | v7 | zip | zip-deflate | generator NAME | file PATH
//! compress gz             none | gz | gz-multi | bz2 | xz | zst      (tar formats only)
//! policy data             data | tar | trusted | portable             (default: data)
//! strip 1                 --strip-components                          (default: 0)
//! python same             same | differs REASON... | skip REASON...   (tar cases: tarfile's data filter)
//! dir pkg/
//! symlink pkg/README README.md
//! file pkg/README.md mode=0644 mtime=1700000000 "# pkg\n"
//! file big.bin size=300000
//! hardlink pkg/copy pkg/README.md
//! fifo pkg/pipe
//! chardev pkg/tty
//! entry V pkg/volume       an entry with a raw type flag
//! before file pkg/README.md "old"      already in the destination before extracting
//! before symlink pkg ../victim         (`../` names are made beside the destination)
//! host-differs windows REASON          this profile may depart from the reference
//! ```

use std::fmt;

/// How the archive's bytes are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// tar, with the header style that names and links are written in.
    Tar(TarStyle),
    /// zip, stored or deflated.
    Zip {
        /// Deflate (method 8) instead of stored (method 0).
        deflate: bool,
    },
    /// A named generator in [`crate::generators`], for bytes no writer would make.
    Generator(String),
    /// A file, relative to the repository root (the peer suites live in `../shared/`).
    File(String),
}

/// tar header styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TarStyle {
    /// Pre-POSIX: names and link targets up to 100 bytes, no magic, directories by `/`.
    V7,
    /// POSIX ustar: long names split into prefix and name (up to 255 bytes).
    Ustar,
    /// GNU: long names and link targets in `././@LongLink` records (`L`, `K`).
    Gnu,
    /// POSIX pax: long or non-ASCII names, link targets and mtimes in `x` records.
    Pax,
}

/// tar compressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// One gzip member.
    Gzip,
    /// Three gzip members, split at arbitrary bytes (as `cat a.gz b.gz` gives).
    GzipMulti,
    /// bzip2.
    Bzip2,
    /// xz.
    Xz,
    /// zstd.
    Zstd,
}

/// What Python's `tarfile` with `filter="data"` is expected to do with the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PythonExpectation {
    /// The same tree, or the same refusal.
    Same,
    /// A different outcome, for the stated reason.
    Differs(String),
    /// Not compared, for the stated reason.
    Skip(String),
}

/// One entry to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The raw name bytes.
    pub name: Vec<u8>,
    /// What it is.
    pub kind: Kind,
    /// `mode=`: permission bits (default 0644 for files, 0755 for directories, 0777 for links).
    pub mode: Option<u32>,
    /// `mtime=`: seconds since the epoch (default [`DEFAULT_MTIME`]).
    pub mtime: Option<i64>,
    /// The data (files only).
    pub data: Vec<u8>,
}

/// The mtime entries get when the recipe names none.
pub const DEFAULT_MTIME: i64 = 1_700_000_000;

/// Entry kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symlink and its raw target.
    Symlink(Vec<u8>),
    /// A hard link and the raw name of its target.
    HardLink(Vec<u8>),
    /// A FIFO.
    Fifo,
    /// A character device.
    CharDevice,
    /// A raw tar type flag.
    Raw(u8),
}

/// A parsed `case.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// The `#` lines, joined.
    pub description: String,
    /// How the bytes are made.
    pub format: Format,
    /// tar compression.
    pub compress: Compression,
    /// The policy preset's name.
    pub policy: String,
    /// `--strip-components`.
    pub strip: usize,
    /// Python `tarfile` expectation.
    pub python: PythonExpectation,
    /// The entries, in archive order.
    pub entries: Vec<Entry>,
    /// What is in the destination before the extraction (`before file|dir|symlink ...`);
    /// names starting with `../` are made beside the destination, to catch writes that
    /// escape it.
    pub before: Vec<Entry>,
    /// Profiles allowed to depart from the reference, and why (`host-differs PROFILE REASON`).
    pub host_differs: Vec<(String, String)>,
}

/// A recipe that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipeError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RecipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for RecipeError {}

impl Recipe {
    /// Parses a `case.txt`.
    pub fn parse(text: &str) -> Result<Recipe, RecipeError> {
        let mut recipe = Recipe {
            description: String::new(),
            format: Format::Tar(TarStyle::Ustar),
            compress: Compression::None,
            policy: "data".into(),
            strip: 0,
            python: PythonExpectation::Same,
            entries: Vec::new(),
            before: Vec::new(),
            host_differs: Vec::new(),
        };
        for (i, line) in text.lines().enumerate() {
            let err = |message: String| RecipeError {
                line: i + 1,
                message,
            };
            let line = line.trim();
            if let Some(comment) = line.strip_prefix('#') {
                if !recipe.description.is_empty() {
                    recipe.description.push(' ');
                }
                recipe.description.push_str(comment.trim());
                continue;
            }
            if line.is_empty() {
                continue;
            }
            let tokens = tokenize(line).map_err(err)?;
            let word = |t: &[u8]| String::from_utf8_lossy(t).into_owned();
            let directive = word(&tokens[0]);
            let args = &tokens[1..];
            let rest = || args.iter().map(|t| word(t)).collect::<Vec<_>>().join(" ");
            match directive.as_str() {
                "format" => {
                    recipe.format = match (args.first().map(|t| word(t)).as_deref(), args.get(1)) {
                        (Some("v7"), None) => Format::Tar(TarStyle::V7),
                        (Some("ustar"), None) => Format::Tar(TarStyle::Ustar),
                        (Some("gnu"), None) => Format::Tar(TarStyle::Gnu),
                        (Some("pax"), None) => Format::Tar(TarStyle::Pax),
                        (Some("zip"), None) => Format::Zip { deflate: false },
                        (Some("zip-deflate"), None) => Format::Zip { deflate: true },
                        (Some("generator"), Some(name)) => Format::Generator(word(name)),
                        (Some("file"), Some(path)) => Format::File(word(path)),
                        _ => return Err(err(format!("unknown format '{}'", rest()))),
                    }
                }
                "compress" => {
                    recipe.compress = match rest().as_str() {
                        "none" => Compression::None,
                        "gz" => Compression::Gzip,
                        "gz-multi" => Compression::GzipMulti,
                        "bz2" => Compression::Bzip2,
                        "xz" => Compression::Xz,
                        "zst" => Compression::Zstd,
                        other => return Err(err(format!("unknown compression '{other}'"))),
                    }
                }
                "policy" => {
                    let p = rest();
                    if !["data", "tar", "trusted", "portable"].contains(&p.as_str()) {
                        return Err(err(format!("unknown policy '{p}'")));
                    }
                    recipe.policy = p;
                }
                "strip" => {
                    recipe.strip = rest()
                        .parse()
                        .map_err(|_| err(format!("strip needs a number, not '{}'", rest())))?;
                }
                "python" => {
                    let all = rest();
                    let (what, why) = all.split_once(' ').unwrap_or((&all, ""));
                    recipe.python = match what {
                        "same" => PythonExpectation::Same,
                        "differs" if !why.is_empty() => PythonExpectation::Differs(why.into()),
                        "skip" if !why.is_empty() => PythonExpectation::Skip(why.into()),
                        _ => {
                            return Err(err(
                                "python needs 'same', 'differs REASON' or 'skip REASON'".into(),
                            ));
                        }
                    };
                }
                "before" => {
                    let (kind, rest) = args
                        .split_first()
                        .ok_or_else(|| err("before needs file, dir or symlink".into()))?;
                    let kind = word(kind);
                    if !["file", "dir", "symlink"].contains(&kind.as_str()) {
                        return Err(err(format!(
                            "before takes file, dir or symlink, not '{kind}'"
                        )));
                    }
                    recipe.before.push(parse_entry(&kind, rest).map_err(err)?);
                }
                "host-differs" => {
                    let all = rest();
                    match all.split_once(' ') {
                        Some((profile, why)) => {
                            recipe.host_differs.push((profile.into(), why.into()));
                        }
                        None => return Err(err("host-differs needs PROFILE REASON".into())),
                    }
                }
                "file" | "dir" | "symlink" | "hardlink" | "fifo" | "chardev" | "entry" => {
                    recipe
                        .entries
                        .push(parse_entry(&directive, args).map_err(err)?);
                }
                other => return Err(err(format!("unknown directive '{other}'"))),
            }
        }
        Ok(recipe)
    }
}

fn parse_entry(directive: &str, args: &[Vec<u8>]) -> Result<Entry, String> {
    let mut args = args.iter();
    let mut next = |what: &str| {
        args.next()
            .cloned()
            .ok_or_else(|| format!("{directive} needs {what}"))
    };
    let (kind, name) = match directive {
        "file" => (Kind::File, next("a name")?),
        "dir" => (Kind::Dir, next("a name")?),
        "symlink" => {
            let name = next("a name")?;
            (Kind::Symlink(next("a target")?), name)
        }
        "hardlink" => {
            let name = next("a name")?;
            (Kind::HardLink(next("a target")?), name)
        }
        "fifo" => (Kind::Fifo, next("a name")?),
        "chardev" => (Kind::CharDevice, next("a name")?),
        _ => {
            let flag = next("a type flag")?;
            let [flag] = flag[..] else {
                return Err("a type flag is one byte".into());
            };
            (Kind::Raw(flag), next("a name")?)
        }
    };
    let mut entry = Entry {
        name,
        kind,
        mode: None,
        mtime: None,
        data: Vec::new(),
    };
    let mut repeat = 1usize;
    for arg in args {
        let text = String::from_utf8_lossy(arg);
        if let Some(v) = text.strip_prefix("mode=") {
            entry.mode = Some(u32::from_str_radix(v, 8).map_err(|_| format!("bad mode '{v}'"))?);
        } else if let Some(v) = text.strip_prefix("mtime=") {
            entry.mtime = Some(v.parse().map_err(|_| format!("bad mtime '{v}'"))?);
        } else if let Some(v) = text.strip_prefix("size=") {
            let n: usize = v.parse().map_err(|_| format!("bad size '{v}'"))?;
            // Deterministic, compressible but not trivially so.
            entry.data = (0..n).map(|i| (i % 251) as u8 ^ (i / 4096) as u8).collect();
        } else if let Some(v) = text.strip_prefix("repeat=") {
            repeat = v.parse().map_err(|_| format!("bad repeat '{v}'"))?;
        } else {
            entry.data = arg.clone();
        }
    }
    entry.data = entry.data.repeat(repeat);
    Ok(entry)
}

/// Splits a line into tokens; quoted tokens may hold spaces and escapes.
fn tokenize(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut tokens = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' || bytes[i] == b'\t' {
            i += 1;
            continue;
        }
        let mut token = Vec::new();
        // A token may start bare and continue quoted (`data="a b"`).
        let mut quoted = false;
        while i < bytes.len() {
            let b = bytes[i];
            if !quoted && (b == b' ' || b == b'\t') {
                break;
            }
            if b == b'"' {
                quoted = !quoted;
                i += 1;
                continue;
            }
            if quoted && b == b'\\' {
                let escape = *bytes.get(i + 1).ok_or("a lone backslash at the end")?;
                i += 2;
                match escape {
                    b'n' => token.push(b'\n'),
                    b't' => token.push(b'\t'),
                    b'\\' => token.push(b'\\'),
                    b'"' => token.push(b'"'),
                    b'x' => {
                        let hex = line.get(i..i + 2).ok_or("\\x needs two hex digits")?;
                        token.push(
                            u8::from_str_radix(hex, 16)
                                .map_err(|_| format!("bad escape \\x{hex}"))?,
                        );
                        i += 2;
                    }
                    other => return Err(format!("unknown escape \\{}", other as char)),
                }
                continue;
            }
            token.push(b);
            i += 1;
        }
        if quoted {
            return Err("an unterminated quote".into());
        }
        tokens.push(token);
    }
    if tokens.is_empty() {
        return Err("an empty line".into());
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_founding_case() {
        let r = Recipe::parse(
            "# founding\nformat gnu\ncompress gz\ndir pkg/\nsymlink pkg/README README.md\n\
             file pkg/README.md mode=0600 \"# pkg\\n\\x41\"\npython differs because\n",
        )
        .unwrap();
        assert_eq!(r.description, "founding");
        assert_eq!(r.format, Format::Tar(TarStyle::Gnu));
        assert_eq!(r.compress, Compression::Gzip);
        assert_eq!(r.entries.len(), 3);
        assert_eq!(r.entries[1].kind, Kind::Symlink(b"README.md".to_vec()));
        assert_eq!(r.entries[2].data, b"# pkg\nA");
        assert_eq!(r.entries[2].mode, Some(0o600));
        assert_eq!(r.python, PythonExpectation::Differs("because".into()));
    }

    #[test]
    fn errors_name_the_line() {
        let e = Recipe::parse("format ustar\nfile\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("needs a name"), "{e}");
        assert!(Recipe::parse("bogus x").is_err());
        assert!(Recipe::parse("file \"open").is_err());
    }
}
