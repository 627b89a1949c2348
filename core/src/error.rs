//! Typed errors, one per layer: reading the format, applying the policy, and the run as a whole.

use crate::rule::Rule;
use std::fmt;

/// Where in the archive something happened. Every field is optional because some errors
/// (a damaged end record, say) belong to no entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// Zero-based index of the entry in archive order (extension headers not counted).
    pub entry: Option<u64>,
    /// Byte offset of the entry's header in the archive stream (decompressed for tar.gz).
    pub offset: Option<u64>,
    /// The name as stored, escaped for display (`\xNN` for bytes that are not UTF-8).
    pub raw_path: Option<String>,
    /// The name after validation, when it got that far.
    pub path: Option<String>,
}

impl Location {
    /// A location at an offset, belonging to no entry.
    pub fn at(offset: u64) -> Self {
        Location {
            offset: Some(offset),
            ..Location::default()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(path) = self.path.as_ref().or(self.raw_path.as_ref()) {
            parts.push(format!("'{path}'"));
        }
        if let Some(entry) = self.entry {
            parts.push(format!("entry {entry}"));
        }
        if let Some(offset) = self.offset {
            parts.push(format!("offset {offset}"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// The archive's bytes could not be read as the format they claim to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {detail}{}", located(.location))]
pub struct FormatError {
    /// The stable rule name.
    pub rule: Rule,
    /// What was found.
    pub detail: String,
    /// Where.
    pub location: Location,
}

/// The archive was readable, but the policy refuses it (or one of its entries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {detail}{}", located(.location))]
pub struct PolicyError {
    /// The stable rule name.
    pub rule: Rule,
    /// What was refused, and why.
    pub detail: String,
    /// Where.
    pub location: Location,
}

fn located(location: &Location) -> String {
    let text = location.to_string();
    if text.is_empty() {
        text
    } else {
        format!(" (at {text})")
    }
}

impl FormatError {
    /// A format error with no location yet.
    pub fn new(rule: Rule, detail: impl Into<String>) -> Self {
        FormatError {
            rule,
            detail: detail.into(),
            location: Location::default(),
        }
    }
    /// The same error, at `offset`.
    pub fn at(mut self, offset: u64) -> Self {
        self.location.offset.get_or_insert(offset);
        self
    }
}

impl PolicyError {
    /// A policy refusal with no location yet.
    pub fn new(rule: Rule, detail: impl Into<String>) -> Self {
        PolicyError {
            rule,
            detail: detail.into(),
            location: Location::default(),
        }
    }
}

/// Anything that stops an extraction.
#[derive(Debug, thiserror::Error)]
pub enum RunError<E: std::error::Error + 'static> {
    /// The archive is damaged or not what it claims to be.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The policy refused the archive.
    #[error(transparent)]
    Refused(#[from] PolicyError),
    /// Reading the input failed (not a format problem: the disk, the pipe).
    #[error("reading the archive failed: {0}")]
    Input(#[source] std::io::Error),
    /// The host could not carry out an action.
    #[error("{action} failed{}", located(.location))]
    Host {
        /// Which action (`make-dir`, `write-file`, `symlink`, ...).
        action: &'static str,
        /// Where.
        location: Location,
        /// The host's own error.
        #[source]
        source: E,
    },
}

impl<E: std::error::Error + 'static> RunError<E> {
    /// The stable rule name, for format and policy errors.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            RunError::Format(e) => Some(e.rule),
            RunError::Refused(e) => Some(e.rule),
            RunError::Input(_) | RunError::Host { .. } => None,
        }
    }

    /// Where the error happened, when known.
    pub fn location(&self) -> Option<&Location> {
        match self {
            RunError::Format(e) => Some(&e.location),
            RunError::Refused(e) => Some(&e.location),
            RunError::Host { location, .. } => Some(location),
            RunError::Input(_) => None,
        }
    }
}

/// Escapes raw name bytes for display: UTF-8 runs as text, other bytes as `\xNN`.
pub fn escape_bytes(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_shows_invalid_bytes_and_controls() {
        assert_eq!(escape_bytes(b"caf\xe9/x\n"), "caf\\xe9/x\\n");
        assert_eq!(escape_bytes("é".as_bytes()), "é");
    }

    #[test]
    fn errors_name_rule_and_place() {
        let mut e = PolicyError::new(Rule::DotDot, "'..' in name");
        e.location = Location {
            entry: Some(3),
            offset: Some(1536),
            raw_path: Some("a/../../x".into()),
            path: None,
        };
        assert_eq!(
            e.to_string(),
            "dot-dot: '..' in name (at 'a/../../x', entry 3, offset 1536)"
        );
    }
}
