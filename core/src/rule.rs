//! Stable rule names: the vocabulary every refusal and every format error is reported in.
//!
//! A rule's name (`Rule::name`) never changes once published: scripts match on it, golden tests
//! snapshot it, and the JSON report carries it.

use std::fmt;

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $hint:literal; )*) => {
        /// Why an archive, or one of its entries, was refused or could not be read.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $variant, )*
        }

        impl Rule {
            /// Every rule, in declaration order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable, kebab-case name of the rule.
            pub fn name(self) -> &'static str {
                match self { $(Rule::$variant => $name,)* }
            }

            /// What a user can do about it.
            pub fn hint(self) -> &'static str {
                match self { $(Rule::$variant => $hint,)* }
            }
        }
    };
}

rules! {
    // ---- the input as a whole ----
    /// The bytes are not an archive uncork recognises.
    NotAnArchive = "not-an-archive", "check that the file is a tar, tar.gz or zip archive; use --format to force one";
    /// A compression uncork recognises but does not read.
    UnsupportedCompression = "unsupported-compression", "decompress it with another tool first, then give uncork the tar stream";
    /// An archive format uncork recognises but does not read (7z, rar, ...).
    UnsupportedFormat = "unsupported-format", "extract it with a tool for that format";
    /// The archive ends in the middle of a header or of an entry's data.
    Truncated = "truncated", "the archive is incomplete: download or copy it again";
    /// The compressed stream is damaged (bad deflate data, CRC or length mismatch).
    CorruptCompression = "corrupt-compression", "the compressed data is damaged: download or copy it again";
    /// Data that is not zero padding follows the end of a compressed stream.
    TrailingGarbage = "trailing-garbage", "the file has extra bytes after the archive; it may be damaged or have been tampered with";

    // ---- tar ----
    /// A tar header's checksum does not match its bytes.
    BadChecksum = "bad-checksum", "the tar header is damaged, or this is not a tar archive";
    /// A numeric tar header field cannot be parsed.
    BadHeaderField = "bad-header-field", "the tar header is damaged";
    /// A PAX extended header record is malformed.
    PaxMalformed = "pax-malformed", "the archive's PAX headers are damaged";
    /// The PAX `size` record and the header size disagree (parser-differential smuggling).
    PaxSizeMismatch = "pax-size-mismatch", "tools would disagree on where this entry ends; the archive may be crafted to smuggle entries";
    /// A PAX path and a GNU long name (or link) name the same entry differently.
    ConflictingNames = "conflicting-names", "tools would disagree on this entry's name; the archive may be crafted";
    /// A GNU or PAX metadata record is larger than the limit.
    MetadataLimit = "metadata-limit", "raise --max-metadata-bytes if the archive is trusted";
    /// A sparse entry (GNU or PAX sparse formats): not extracted by this version.
    UnsupportedSparse = "unsupported-sparse", "extract this archive with GNU tar; sparse entries are not supported yet";
    /// An entry type uncork does not know or does not extract (multi-volume, unknown flags).
    UnsupportedEntryType = "unsupported-entry-type", "the archive uses a tar feature uncork does not extract";
    /// A symlink header with a non-zero size (ustar or PAX): GNU tar skips that many bytes as
    /// the link's data, Python and uncork read them as the next header.
    SymlinkWithSize = "symlink-with-size", "tools would disagree on where the next entry starts; the archive may be crafted to smuggle entries (--policy trusted reads the bytes as the next header)";
    /// A `size` record in a PAX global header (`g`): GNU tar applies it to later entries, other
    /// readers ignore it.
    PaxGlobalSize = "pax-global-size", "tools would disagree on where the next entries end; the archive may be crafted to smuggle entries (--policy trusted ignores the record)";

    // ---- zip ----
    /// The zip central directory or end record is damaged.
    ZipCorrupt = "zip-corrupt", "the zip archive is damaged";
    /// A local header disagrees with the central directory.
    ZipHeaderMismatch = "zip-header-mismatch", "the zip's local and central headers disagree; the archive may be crafted to look different to different tools";
    /// Two zip entries share bytes ("overlapping files" zip bombs).
    ZipOverlap = "zip-overlap", "entries share compressed data, the signature of a zip bomb";
    /// An entry's CRC-32 does not match its data.
    CrcMismatch = "crc-mismatch", "the entry's data is damaged";
    /// An encrypted zip entry.
    ZipEncrypted = "zip-encrypted", "uncork does not decrypt zip entries; use a tool that asks for the password";
    /// A zip compression method uncork does not read.
    UnsupportedMethod = "unsupported-method", "extract this archive with a tool that supports the method";
    /// Two central-directory entries with the same name.
    ZipDuplicateName = "zip-duplicate-name", "tools disagree on which of two same-named entries wins; the archive may be crafted (--policy trusted extracts both, the later winning)";
    /// Bytes between the first entry and the end record that no entry the central directory
    /// lists covers: a hidden local entry, seen only by readers that scan local headers.
    ZipUnlistedData = "zip-unlisted-data", "the zip holds content its central directory does not list, which streaming readers would extract; the archive may be crafted (--policy trusted ignores it)";
    /// Bytes after the end-of-central-directory record and its comment.
    ZipTrailingData = "zip-trailing-data", "the file has extra bytes after the zip, possibly another archive; it may be damaged or crafted (--policy trusted ignores them)";
    /// A data descriptor whose CRC-32 or sizes disagree with the central directory, or that is
    /// missing although the entry's flags announce one.
    ZipDescriptorMismatch = "zip-descriptor-mismatch", "the zip's data descriptor and central directory disagree; the archive may be crafted to look different to different tools (--policy trusted ignores descriptors)";
    /// Bytes before the first entry (a self-extractor's stub, or a whole other zip).
    ZipPrependedData = "zip-prepended-data", "the zip starts after other data (a self-extracting stub, or another archive that other tools would read instead); --policy trusted extracts the zip that ends the file";
    /// The classic end record and the ZIP64 end record (or a second end record) describe
    /// different central directories.
    ZipEndRecordsDisagree = "zip-end-records-disagree", "tools would list different entries depending on which end record they read; the archive may be crafted (--policy trusted reads the one uncork's zip parser picks)";

    // ---- names ----
    /// A name is not valid UTF-8 and the policy does not decode legacy names.
    NonUtf8Name = "non-utf8-name", "pass --legacy-names latin1 to decode such names as ISO-8859-1";
    /// A name holds NUL or another control character.
    ControlCharacter = "control-character", "the name cannot be created faithfully; the archive may be crafted";
    /// A `..` component.
    DotDot = "dot-dot", "the entry would be written outside the destination";
    /// An absolute path (rejected by the `portable` policy; other policies strip the `/`).
    AbsolutePath = "absolute-path", "use --policy data to extract it below the destination";
    /// A drive letter or drive-relative path (`C:`, `C:foo`).
    DrivePath = "drive-path", "the name is a Windows drive path; the archive may be crafted";
    /// A backslash in a name or link target.
    Backslash = "backslash", "backslashes are path separators on Windows; the name cannot extract the same everywhere";
    /// An entry whose name is empty (or only `.` and `/`).
    EmptyName = "empty-name", "the entry has no name";
    /// A path longer than the limit.
    PathTooLong = "path-too-long", "raise --max-path-bytes if the archive is trusted";
    /// A path component longer than the limit.
    NameTooLong = "name-too-long", "most filesystems limit a name to 255 bytes";
    /// A path deeper than the limit.
    PathTooDeep = "path-too-deep", "raise --max-depth if the archive is trusted";
    /// A Windows reserved device name (`CON`, `NUL`, `COM1`, ...).
    ReservedName = "reserved-name", "the name cannot be created on Windows";
    /// A character Windows forbids in names (`:<>"|?*`).
    ForbiddenCharacter = "forbidden-character", "the name cannot be created on Windows";
    /// A name ending in a dot or a space.
    TrailingDotOrSpace = "trailing-dot-or-space", "Windows silently drops trailing dots and spaces";
    /// Two names that differ only in case or Unicode normalization.
    CaseCollision = "case-collision", "on case-insensitive or normalizing filesystems (Windows, macOS) one entry would replace the other";

    // ---- the tree ----
    /// An entry whose parent is a symlink made by this archive.
    PathThroughLink = "path-through-link", "the entry would be written through a symlink; the archive may be crafted";
    /// An entry whose parent is a file made by this archive.
    ParentNotDirectory = "parent-not-directory", "the archive puts an entry below a file";
    /// The same path twice, and the policy forbids duplicates.
    DuplicateEntry = "duplicate-entry", "use --duplicates last-wins to let the later entry replace the earlier one";
    /// A later entry would replace a directory with something else.
    ReplacesDirectory = "replaces-directory", "the archive replaces a directory with a file or link";
    /// A device or FIFO entry, refused by the policy.
    SpecialFile = "special-file", "device files and FIFOs are not extracted; use --policy tar to skip them";

    // ---- links ----
    /// A symlink whose target leaves the extraction root.
    LinkOutsideRoot = "link-outside-root", "the link points outside the destination; use --policy tar if you trust the archive";
    /// A symlink with an absolute target.
    AbsoluteLink = "absolute-link", "the link points to an absolute path; use --policy tar if you trust the archive";
    /// Symlinks that resolve through each other forever.
    LinkCycle = "link-cycle", "the archive's symlinks form a loop";
    /// Resolving a symlink took more steps than the limit.
    LinkWorkLimit = "link-work-limit", "raise --max-link-hops if the archive is trusted";
    /// A hard link to an entry that does not exist (earlier) in the archive.
    HardLinkMissing = "hardlink-missing", "hard links must name an earlier file of the same archive";
    /// A hard link to something that is not a regular file.
    HardLinkNotFile = "hardlink-not-file", "hard links may only name regular files";
    /// A hard link whose target leaves the root.
    HardLinkOutsideRoot = "hardlink-outside-root", "the hard link names a file outside the destination";

    // ---- limits ----
    /// More entries than the limit.
    EntryLimit = "entry-limit", "raise --max-entries if the archive is trusted";
    /// An entry larger than the limit (counted on real bytes).
    EntrySizeLimit = "entry-size-limit", "raise --max-entry-bytes if the archive is trusted";
    /// More output than the limit (counted on real bytes).
    TotalSizeLimit = "total-size-limit", "raise --max-total-bytes if the archive is trusted";
    /// Output grows too fast relative to input: a compression bomb.
    RatioLimit = "ratio-limit", "raise --max-ratio if the archive is trusted";
    /// A decompressor would need more memory than the limit: an xz or lzma dictionary, or a
    /// zstd window, larger than `max_decoder_memory`.
    DecoderMemoryLimit = "decoder-memory-limit", "the archive was compressed with a very large dictionary or window; raise --max-decoder-memory if the archive is trusted";
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Rule {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Rule::ALL.iter().copied().find(|r| r.name() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_kebab_case_and_round_trip() {
        let mut seen = HashSet::new();
        for &rule in Rule::ALL {
            let name = rule.name();
            assert!(seen.insert(name), "duplicate rule name {name}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit())
            );
            assert_eq!(name.parse::<Rule>(), Ok(rule));
            assert!(!rule.hint().is_empty());
        }
    }
}
