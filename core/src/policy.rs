//! Policy: what an archive may do to the destination. Plain data, with named presets.
//!
//! | knob | `data` (default) | `tar` | `trusted` | `portable` |
//! |---|---|---|---|---|
//! | absolute names | strip `/` | strip `/` | strip `/` | refuse |
//! | links leaving the root, absolute links | refuse | allow | allow | refuse |
//! | modes | PEP 706 `data` | strip setuid/setgid/sticky, g/o write | keep all 12 bits | PEP 706 `data` |
//! | devices, FIFOs | refuse | skip (reported) | skip (reported) | refuse |
//! | duplicate paths | later wins | later wins | later wins | refuse |
//! | Windows-hostile names, case/normalization collisions | allowed | allowed | allowed | refuse |
//! | legacy (non-UTF-8) tar names | refuse | refuse | refuse | refuse |
//! | mtimes | kept | kept | kept | kept |
//! | parser differentials | refuse | refuse | read | refuse |
//!
//! Parser differentials are archives other tools read differently, each refused with its own
//! rule unless the policy is `trusted` (see [`Differentials`]): in a zip, two entries with one
//! name (`zip-duplicate-name`), bytes no listed entry covers (`zip-unlisted-data`), bytes after
//! the end record (`zip-trailing-data`), a data descriptor that disagrees with the central
//! directory (`zip-descriptor-mismatch`), bytes before the first entry (`zip-prepended-data`:
//! self-extractors too), end records that name different central directories
//! (`zip-end-records-disagree`); in a tar, a symlink with a size (`symlink-with-size`) and a
//! `size` in a PAX global header (`pax-global-size`).
//!
//! Every preset uses [`Limits::default`]. Among the limits, `max_decoder_memory` (default
//! 256 MiB) bounds what a decompressor may allocate: an xz or `.lzma` dictionary or a zstd
//! window asking for more is refused (`decoder-memory-limit`) before anything is allocated
//! (bzip2 needs at most ~3.6 MiB, deflate 32 KiB, deflate64 64 KiB: not counted).

use std::fmt;
use std::str::FromStr;

/// The complete extraction policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The preset this policy started from (for reports).
    pub preset: Preset,
    /// Leading `/` in names.
    pub absolute_names: AbsoluteNames,
    /// Where symlink targets may point.
    pub links: LinkScope,
    /// How archive modes become file modes.
    pub modes: ModeRule,
    /// Devices and FIFOs.
    pub special_files: SpecialFiles,
    /// The same path twice.
    pub duplicates: Duplicates,
    /// Refuse names that cannot extract faithfully on every platform.
    pub portable_names: bool,
    /// tar names that are not UTF-8.
    pub legacy_names: LegacyNames,
    /// Whether entry mtimes are applied.
    pub keep_mtimes: bool,
    /// Archives other tools read differently.
    pub differentials: Differentials,
    /// Resource limits, counted on real bytes.
    pub limits: Limits,
}

/// A named starting point for a [`Policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Preset {
    /// Untrusted input: Python's PEP 706 `data` filter semantics, plus uncork's limits.
    #[default]
    Data,
    /// Like `tar` on a user account: keeps more mode bits, allows links anywhere.
    Tar,
    /// Everything the archive says that can be done without leaving the destination.
    Trusted,
    /// `data`, plus: refuse what cannot extract identically on Linux, macOS, Windows and WASI.
    Portable,
}

impl Preset {
    /// All presets.
    pub const ALL: [Preset; 4] = [Preset::Data, Preset::Tar, Preset::Trusted, Preset::Portable];

    /// The preset's name, as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Data => "data",
            Preset::Tar => "tar",
            Preset::Trusted => "trusted",
            Preset::Portable => "portable",
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!("unknown policy '{s}' (expected data, tar, trusted or portable)")
            })
    }
}

/// Leading `/` in entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbsoluteNames {
    /// Strip the leading slashes, as GNU tar and Python's filters do.
    Strip,
    /// Refuse the entry (`absolute-path`).
    Reject,
}

/// Where a symlink's target may point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkScope {
    /// Resolved through the archive's own links, it must stay below the root; absolute targets are refused.
    Inside,
    /// Anywhere. The link is still never followed while extracting.
    Anywhere,
}

/// How an entry's mode becomes the created file's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeRule {
    /// PEP 706 `data`: files keep `mode & 0o755`, lose group/other exec when the owner has none,
    /// and always get owner read+write; directories get `0o755`.
    Data,
    /// `mode & 0o755` for files and directories (no setuid/setgid/sticky, no group/other write).
    Tar,
    /// The archive's 12 permission bits as they are.
    Keep,
}

/// Device and FIFO entries. They are never created: uncork makes no device nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialFiles {
    /// Refuse the archive (`special-file`).
    Refuse,
    /// Skip the entry and report it.
    Skip,
}

/// The same path twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// The later entry replaces the earlier one, as in tar (never a non-empty directory).
    LastWins,
    /// Refuse the archive (`duplicate-entry`). A directory listed twice is never a duplicate.
    Error,
}

/// Archives that different tools read differently (parser differentials: content some tools
/// see and others do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Differentials {
    /// Refuse the archive, each differential with its own rule (every preset but `trusted`).
    Refuse,
    /// Read it as uncork's parsers do (`trusted`): a zip through the end record its zip parser
    /// picks, extracting each listed entry; a tar symlink's size read past as no data (the bytes
    /// that follow are the next header, as in Python), a PAX global `size` ignored.
    Allow,
}

/// tar names whose bytes are not UTF-8 (zip legacy names always decode as CP437).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyNames {
    /// Refuse the entry, showing the bytes (`non-utf8-name`).
    Reject,
    /// Decode the name as ISO-8859-1 (every byte maps to one character; nothing is lost).
    Latin1,
}

/// Resource limits. Sizes count real (decompressed) bytes as they are produced, never what a
/// header claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Total bytes of file data written. Default 16 GiB.
    pub max_total_bytes: u64,
    /// Bytes of one entry's data. Default 8 GiB.
    pub max_entry_bytes: u64,
    /// Number of entries. Default 1,000,000.
    pub max_entries: u64,
    /// Decompressed bytes per compressed byte, checked once `ratio_grace_bytes` have come out.
    /// Default 1,000 (deflate itself cannot exceed about 1,032).
    pub max_ratio: u64,
    /// Output below which the ratio is not checked (small archives of zeros are fine). Default 64 MiB.
    pub ratio_grace_bytes: u64,
    /// Bytes in a path. Default 4,096.
    pub max_path_bytes: usize,
    /// Bytes in one path component. Default 255.
    pub max_name_bytes: usize,
    /// Components in a path. Default 128.
    pub max_depth: usize,
    /// Bytes in one PAX or GNU long-name record (also a zip symlink's target). Default 1 MiB.
    pub max_metadata_bytes: u64,
    /// Symlinks expanded while resolving one link. Default 64.
    pub max_link_hops: u32,
    /// Memory one decompressor may need, as its stream's header declares it: an xz or lzma
    /// dictionary, a zstd window. Checked before anything is allocated. Default 256 MiB
    /// (`xz -9` uses 64 MiB, `zstd --long` 128 MiB, `zstd --ultra -22` 128 MiB).
    pub max_decoder_memory: u64,
    /// Bytes of a zip read from a stream (stdin), which is held in memory because a zip's
    /// directory is at its end. Default 1 GiB; give a file path to extract larger zips.
    pub max_stream_buffer_bytes: u64,
}

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: 16 * GIB,
            max_entry_bytes: 8 * GIB,
            max_entries: 1_000_000,
            max_ratio: 1_000,
            ratio_grace_bytes: 64 * MIB,
            max_path_bytes: 4096,
            max_name_bytes: 255,
            max_depth: 128,
            max_metadata_bytes: MIB,
            max_link_hops: 64,
            max_decoder_memory: 256 * MIB,
            max_stream_buffer_bytes: GIB,
        }
    }
}

impl Limits {
    /// No limits at all (for trusted, very large archives).
    pub fn unlimited() -> Self {
        Limits {
            max_total_bytes: u64::MAX,
            max_entry_bytes: u64::MAX,
            max_entries: u64::MAX,
            max_ratio: u64::MAX,
            ratio_grace_bytes: u64::MAX,
            max_path_bytes: usize::MAX,
            max_name_bytes: usize::MAX,
            max_depth: usize::MAX,
            max_metadata_bytes: u64::MAX,
            max_link_hops: u32::MAX,
            max_decoder_memory: u64::MAX,
            max_stream_buffer_bytes: u64::MAX,
        }
    }
}

impl Policy {
    /// The policy a preset stands for.
    pub fn preset(preset: Preset) -> Self {
        let data = Policy {
            preset,
            absolute_names: AbsoluteNames::Strip,
            links: LinkScope::Inside,
            modes: ModeRule::Data,
            special_files: SpecialFiles::Refuse,
            duplicates: Duplicates::LastWins,
            portable_names: false,
            legacy_names: LegacyNames::Reject,
            keep_mtimes: true,
            differentials: Differentials::Refuse,
            limits: Limits::default(),
        };
        match preset {
            Preset::Data => data,
            Preset::Tar => Policy {
                links: LinkScope::Anywhere,
                modes: ModeRule::Tar,
                special_files: SpecialFiles::Skip,
                ..data
            },
            Preset::Trusted => Policy {
                links: LinkScope::Anywhere,
                modes: ModeRule::Keep,
                special_files: SpecialFiles::Skip,
                differentials: Differentials::Allow,
                ..data
            },
            Preset::Portable => Policy {
                absolute_names: AbsoluteNames::Reject,
                duplicates: Duplicates::Error,
                portable_names: true,
                ..data
            },
        }
    }

    /// The mode a regular file gets from its archive mode.
    pub fn file_mode(&self, archive_mode: u32) -> u32 {
        match self.modes {
            ModeRule::Data => {
                let mut mode = archive_mode & 0o755;
                if mode & 0o100 == 0 {
                    mode &= !0o111;
                }
                mode | 0o600
            }
            ModeRule::Tar => archive_mode & 0o755,
            ModeRule::Keep => archive_mode & 0o7777,
        }
    }

    /// The mode a directory gets from its archive mode.
    pub fn dir_mode(&self, archive_mode: u32) -> u32 {
        match self.modes {
            ModeRule::Data => 0o755,
            ModeRule::Tar => archive_mode & 0o755,
            ModeRule::Keep => archive_mode & 0o7777,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::preset(Preset::Data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_modes_follow_pep_706() {
        let p = Policy::default();
        assert_eq!(p.file_mode(0o4755), 0o755, "setuid stripped, exec kept");
        assert_eq!(p.file_mode(0o666), 0o644, "group/other write stripped");
        assert_eq!(p.file_mode(0o000), 0o600, "owner always rw");
        assert_eq!(
            p.file_mode(0o011),
            0o600,
            "no group/other exec without owner exec"
        );
        assert_eq!(p.file_mode(0o500), 0o700);
        assert_eq!(p.dir_mode(0o000), 0o755);
    }

    #[test]
    fn tar_and_trusted_keep_more() {
        let tar = Policy::preset(Preset::Tar);
        assert_eq!(tar.file_mode(0o4777), 0o755);
        assert_eq!(tar.file_mode(0o000), 0o000);
        assert_eq!(tar.dir_mode(0o555), 0o555);
        let trusted = Policy::preset(Preset::Trusted);
        assert_eq!(trusted.file_mode(0o4755), 0o4755);
    }

    #[test]
    fn presets_parse_by_name() {
        for p in Preset::ALL {
            assert_eq!(p.name().parse::<Preset>(), Ok(p));
            assert_eq!(Policy::preset(p).preset, p);
        }
        assert!("nope".parse::<Preset>().is_err());
    }
}
