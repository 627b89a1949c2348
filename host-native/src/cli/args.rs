//! Command-line arguments (clap derive). `uncork ARCHIVE` is `uncork extract ARCHIVE`: see
//! [`with_default_subcommand`].

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;
use uncork_core::policy::{Duplicates, LegacyNames};
use uncork_core::{Format, Preset};
use uncork_native::SymlinkMode;

pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the archive was refused by the policy or is damaged (the destination is left as it was)
  2  usage error, or an I/O error reading the archive or writing the destination

`uncork ARCHIVE` is short for `uncork extract ARCHIVE` (use `uncork extract ./list` for an
archive named like a subcommand). ARCHIVE `-` reads standard input.";

/// Extract tar (plain, gz, bz2, xz, zst) and zip archives safely, the same way on every platform.
#[derive(Debug, Parser)]
#[command(name = "uncork", version, arg_required_else_help = true, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Extract an archive into a directory (the default command)
    #[command(after_help = EXIT_CODES)]
    Extract(ExtractArgs),
    /// List an archive's entries (-v: a long listing like `tar -tv`)
    #[command(after_help = EXIT_CODES)]
    List(ReadArgs),
    /// Print the actions an extraction would carry out, with each verdict; writes nothing
    #[command(after_help = EXIT_CODES)]
    Plan(ReadArgs),
    /// Check that an archive extracts (--portable: faithfully on Linux, macOS, Windows and WASI)
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
}

/// The subcommand names (anything else in first position is an archive).
const SUBCOMMANDS: [&str; 5] = ["extract", "list", "plan", "check", "help"];

/// Inserts `extract` when the first argument is neither a subcommand nor a top-level flag, so
/// `uncork ARCHIVE -C DIR` and `uncork -C DIR ARCHIVE` work as in tar.
pub(crate) fn with_default_subcommand(mut args: Vec<OsString>) -> Vec<OsString> {
    if let Some(first) = args.get(1) {
        let first = first.to_string_lossy();
        let top_level = matches!(first.as_ref(), "-h" | "--help" | "-V" | "--version");
        if !top_level && !SUBCOMMANDS.contains(&first.as_ref()) {
            args.insert(1, OsString::from("extract"));
        }
    }
    args
}

/// What every command reads: the archive, how to read it, and the policy.
#[derive(Debug, Args)]
pub(crate) struct ReadArgs {
    /// The archive (`-` reads standard input)
    #[arg(value_name = "ARCHIVE")]
    pub(crate) archive: PathBuf,

    /// Read the archive as this format instead of detecting it (tar, tar.gz, tar.bz2, tar.xz,
    /// tar.lzma, tar.zst, zip)
    #[arg(help_heading = "Archive and policy", long, value_name = "FORMAT", value_parser = parse_format)]
    pub(crate) format: Option<Format>,

    /// The policy preset: what the archive may do
    #[arg(help_heading = "Archive and policy", long, value_name = "PRESET", default_value = "data", value_parser = parse_preset)]
    pub(crate) policy: Preset,

    /// Drop N leading components from every name
    #[arg(
        help_heading = "Archive and policy",
        long,
        value_name = "N",
        default_value_t = 0
    )]
    pub(crate) strip_components: usize,

    /// Only entries matching this glob (or below a match); repeatable
    #[arg(help_heading = "Archive and policy", long, value_name = "GLOB")]
    pub(crate) include: Vec<String>,

    /// Leave out entries matching this glob (and everything below); repeatable
    #[arg(help_heading = "Archive and policy", long, value_name = "GLOB")]
    pub(crate) exclude: Vec<String>,

    /// tar names that are not UTF-8: refuse them, or decode them as ISO-8859-1
    #[arg(help_heading = "Archive and policy", long, value_name = "RULE")]
    pub(crate) legacy_names: Option<LegacyArg>,

    /// The same path twice: the later entry wins (as tar), or refuse the archive
    #[arg(help_heading = "Archive and policy", long, value_name = "RULE")]
    pub(crate) duplicates: Option<DuplicatesArg>,

    #[command(flatten)]
    pub(crate) limits: LimitArgs,

    /// Print a machine-readable JSON report on standard output
    #[arg(help_heading = "Output", long)]
    pub(crate) json: bool,

    /// Print nothing but errors
    #[arg(help_heading = "Output", short, long, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    /// Print each path as it is written (list: a long listing)
    #[arg(help_heading = "Output", short, long)]
    pub(crate) verbose: bool,
}

/// The core's limits; sizes take K, M, G, T suffixes (powers of 1024).
#[derive(Debug, Args)]
#[command(
    next_help_heading = "Limits (counted on real bytes; defaults are safe for untrusted input)"
)]
pub(crate) struct LimitArgs {
    /// Total bytes of file data [default: 16G]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) max_total_bytes: Option<u64>,
    /// Bytes of one entry [default: 8G]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) max_entry_bytes: Option<u64>,
    /// Number of entries [default: 1000000]
    #[arg(long, value_name = "N")]
    pub(crate) max_entries: Option<u64>,
    /// Decompressed bytes per compressed byte [default: 1000]
    #[arg(long, value_name = "N")]
    pub(crate) max_ratio: Option<u64>,
    /// Bytes in a path [default: 4096]
    #[arg(long, value_name = "N")]
    pub(crate) max_path_bytes: Option<usize>,
    /// Components in a path [default: 128]
    #[arg(long, value_name = "N")]
    pub(crate) max_depth: Option<usize>,
    /// Bytes in one PAX or GNU long-name record [default: 1M]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) max_metadata_bytes: Option<u64>,
    /// Symlinks expanded while resolving one link [default: 64]
    #[arg(long, value_name = "N")]
    pub(crate) max_link_hops: Option<u32>,
    /// Memory one decompressor may need (xz dictionary, zstd window) [default: 256M]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) max_decoder_memory: Option<u64>,
}

#[derive(Debug, Args)]
pub(crate) struct ExtractArgs {
    #[command(flatten)]
    pub(crate) read: ReadArgs,

    /// Extract into DIR (created if missing; its parent must exist) [default: .]
    #[arg(
        help_heading = "Destination",
        short = 'C',
        long = "directory",
        value_name = "DIR"
    )]
    pub(crate) directory: Option<PathBuf>,

    /// Symlinks: a real link where possible else a reported fallback (auto), a real link or an
    /// error (native), a copy of the target (copy), nothing (skip), or refuse the archive (error)
    #[arg(help_heading = "Destination", long, value_name = "MODE", default_value = "auto", value_parser = parse_symlinks)]
    pub(crate) symlinks: SymlinkMode,

    /// Replace existing files (moved aside, restored if the extraction fails)
    #[arg(help_heading = "Destination", long)]
    pub(crate) overwrite: bool,

    /// Follow symlinks that were already in the destination (never the archive's own)
    #[arg(help_heading = "Destination", long)]
    pub(crate) trust_existing_symlinks: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) read: ReadArgs,

    /// Check under the portable policy: names, collisions and links that extract the same on
    /// every platform
    #[arg(help_heading = "Archive and policy", long)]
    pub(crate) portable: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LegacyArg {
    /// Refuse such names
    Reject,
    /// Decode them as ISO-8859-1
    Latin1,
}

impl From<LegacyArg> for LegacyNames {
    fn from(arg: LegacyArg) -> Self {
        match arg {
            LegacyArg::Reject => LegacyNames::Reject,
            LegacyArg::Latin1 => LegacyNames::Latin1,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum DuplicatesArg {
    /// The later entry replaces the earlier one
    LastWins,
    /// Refuse the archive
    Error,
}

impl From<DuplicatesArg> for Duplicates {
    fn from(arg: DuplicatesArg) -> Self {
        match arg {
            DuplicatesArg::LastWins => Duplicates::LastWins,
            DuplicatesArg::Error => Duplicates::Error,
        }
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_preset(s: &str) -> Result<Preset, String> {
    s.parse()
}

fn parse_symlinks(s: &str) -> Result<SymlinkMode, String> {
    s.parse()
}

/// `123`, `64K`, `1.5M`, `16G`, `2GiB`: powers of 1024.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let text = s.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(format!("unknown size unit in '{s}' (use K, M, G or T)")),
    };
    let bad = || format!("'{s}' is not a size (e.g. 4096, 64K, 16G)");
    if let Some((int, frac)) = number.split_once('.') {
        let whole: u64 = int.parse().map_err(|_| bad())?;
        let frac_value: f64 = format!("0.{frac}").parse().map_err(|_| bad())?;
        let base = whole
            .checked_shl(shift)
            .filter(|v| v >> shift == whole)
            .ok_or_else(bad)?;
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let extra = (frac_value * (1u64 << shift) as f64) as u64;
        base.checked_add(extra).ok_or_else(bad)
    } else {
        let whole: u64 = number.parse().map_err(|_| bad())?;
        whole
            .checked_shl(shift)
            .filter(|v| v >> shift == whole)
            .ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("16G"), Ok(16 << 30));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1.5M"), Ok(3 << 19));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999999T").is_err());
    }

    #[test]
    fn default_subcommand() {
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            with_default_subcommand(os(&["uncork", "a.tar"])),
            os(&["uncork", "extract", "a.tar"])
        );
        assert_eq!(
            with_default_subcommand(os(&["uncork", "-C", "d", "a.tar"])),
            os(&["uncork", "extract", "-C", "d", "a.tar"])
        );
        assert_eq!(
            with_default_subcommand(os(&["uncork", "list", "a.tar"])),
            os(&["uncork", "list", "a.tar"])
        );
        assert_eq!(
            with_default_subcommand(os(&["uncork", "--help"])),
            os(&["uncork", "--help"])
        );
        assert_eq!(with_default_subcommand(os(&["uncork"])), os(&["uncork"]));
    }

    #[test]
    fn clap_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
