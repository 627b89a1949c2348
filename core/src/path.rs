//! Lexical path rules, identical on every target: no filesystem is consulted.

use crate::error::{PolicyError, escape_bytes};
use crate::policy::{AbsoluteNames, LegacyNames, Limits, Policy};
use crate::rule::Rule;
use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// Where a name's bytes came from, which decides how they are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameOrigin {
    /// Declared UTF-8: PAX records, zip entries with the language-encoding flag (bit 11).
    Utf8,
    /// A tar header field (ustar, GNU long name): UTF-8 when valid, else per [`LegacyNames`].
    TarHeader,
    /// A zip name without the UTF-8 flag: UTF-8 when valid (what current zip writers emit), else CP437 as APPNOTE says.
    ZipLegacy,
}

/// Decodes raw name bytes by the stated rule for their origin.
pub fn decode_name(
    raw: &[u8],
    origin: NameOrigin,
    legacy: LegacyNames,
) -> Result<Cow<'_, str>, PolicyError> {
    if let Ok(text) = std::str::from_utf8(raw) {
        return Ok(Cow::Borrowed(text));
    }
    match (origin, legacy) {
        (NameOrigin::ZipLegacy, _) => Ok(Cow::Owned(raw.iter().map(|&b| cp437(b)).collect())),
        (NameOrigin::TarHeader, LegacyNames::Latin1) => {
            Ok(Cow::Owned(raw.iter().map(|&b| char::from(b)).collect()))
        }
        _ => Err(PolicyError::new(
            Rule::NonUtf8Name,
            format!("name is not valid UTF-8: \"{}\"", escape_bytes(raw)),
        )),
    }
}

/// IBM code page 437, the zip specification's legacy name encoding.
fn cp437(byte: u8) -> char {
    const HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";
    if byte < 0x80 {
        char::from(byte)
    } else {
        HIGH.chars()
            .nth(usize::from(byte - 0x80))
            .unwrap_or('\u{fffd}')
    }
}

/// Validates and normalizes an entry name: `/`-separated, relative, no `.` or empty components.
///
/// Returns `None` for a name that denotes the root itself (`./`, `/` stripped).
pub fn normalize_entry_path(name: &str, policy: &Policy) -> Result<Option<String>, PolicyError> {
    check_characters(name)?;
    let relative = name.trim_start_matches('/');
    if relative.len() != name.len() && policy.absolute_names == AbsoluteNames::Reject {
        return Err(PolicyError::new(
            Rule::AbsolutePath,
            "the name is an absolute path",
        ));
    }
    let mut out = String::with_capacity(relative.len());
    let mut depth = 0usize;
    for component in relative.split('/') {
        match component {
            "" | "." => continue,
            ".." => {
                return Err(PolicyError::new(
                    Rule::DotDot,
                    "the name has a '..' component",
                ));
            }
            _ => {}
        }
        if depth == 0 && is_drive(component) {
            return Err(PolicyError::new(
                Rule::DrivePath,
                "the name starts with a drive letter",
            ));
        }
        check_component(component, &policy.limits, policy.portable_names)?;
        depth += 1;
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(component);
    }
    check_length(&out, depth, &policy.limits)?;
    Ok(if out.is_empty() { None } else { Some(out) })
}

/// Validates a symlink target as written. Absolute targets are returned as they are; whether
/// they are allowed is the link graph's decision.
pub fn check_link_target(target: &str) -> Result<(), PolicyError> {
    if target.is_empty() {
        return Err(PolicyError::new(
            Rule::EmptyName,
            "the symlink has an empty target",
        ));
    }
    check_characters(target)?;
    if target.split('/').next().is_some_and(is_drive) {
        return Err(PolicyError::new(
            Rule::DrivePath,
            "the link target starts with a drive letter",
        ));
    }
    Ok(())
}

fn check_characters(name: &str) -> Result<(), PolicyError> {
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(PolicyError::new(
            Rule::ControlCharacter,
            format!(
                "the name holds the control character U+{:04X}",
                u32::from(c)
            ),
        ));
    }
    if name.contains('\\') {
        return Err(PolicyError::new(
            Rule::Backslash,
            "the name holds a backslash",
        ));
    }
    Ok(())
}

fn is_drive(component: &str) -> bool {
    let b = component.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

fn check_component(component: &str, limits: &Limits, portable: bool) -> Result<(), PolicyError> {
    if component.len() > limits.max_name_bytes {
        return Err(PolicyError::new(
            Rule::NameTooLong,
            format!(
                "a component is {} bytes long (limit {})",
                component.len(),
                limits.max_name_bytes
            ),
        ));
    }
    if portable && let Some(rule) = windows_name_problem(component) {
        return Err(PolicyError::new(
            rule,
            format!("'{component}' cannot be created on Windows"),
        ));
    }
    Ok(())
}

fn check_length(path: &str, depth: usize, limits: &Limits) -> Result<(), PolicyError> {
    if path.len() > limits.max_path_bytes {
        return Err(PolicyError::new(
            Rule::PathTooLong,
            format!(
                "the path is {} bytes long (limit {})",
                path.len(),
                limits.max_path_bytes
            ),
        ));
    }
    if depth > limits.max_depth {
        return Err(PolicyError::new(
            Rule::PathTooDeep,
            format!(
                "the path is {depth} components deep (limit {})",
                limits.max_depth
            ),
        ));
    }
    Ok(())
}

/// Why Windows cannot create a file with this name, if it cannot. Hosts on Windows refuse such
/// names whatever the policy; the `portable` policy refuses them everywhere.
pub fn windows_name_problem(component: &str) -> Option<Rule> {
    if component
        .chars()
        .any(|c| matches!(c, ':' | '<' | '>' | '"' | '|' | '?' | '*'))
    {
        return Some(Rule::ForbiddenCharacter);
    }
    if component.ends_with('.') || component.ends_with(' ') {
        return Some(Rule::TrailingDotOrSpace);
    }
    let stem = component
        .split('.')
        .next()
        .unwrap_or(component)
        .trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    let reserved = matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || {
        let mut chars = upper.chars();
        let prefix: String = chars.by_ref().take(3).collect();
        let rest: Vec<char> = chars.collect();
        (prefix == "COM" || prefix == "LPT") && matches!(rest[..], ['0'..='9' | '¹' | '²' | '³'])
    };
    reserved.then_some(Rule::ReservedName)
}

/// The key under which two paths collide on a case-insensitive, normalizing filesystem.
pub fn collision_key(path: &str) -> String {
    path.nfc().flat_map(char::to_lowercase).collect()
}

/// Drops `n` leading components of a normalized path (tar's `--strip-components`); `None`
/// when nothing is left.
pub fn strip_components(path: &str, n: usize) -> Option<&str> {
    let mut rest = path;
    for _ in 0..n {
        rest = rest.split_once('/')?.1;
    }
    Some(rest)
}

/// The parent of a normalized path (`None` for a top-level name).
pub fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(p, _)| p)
}

/// Joins a normalized directory path (possibly empty: the root) and a name.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Whether a link inside a copied directory, `depth` directories below the top of the copy,
/// may keep its target `target` there: only a relative target whose `..` steps all come first
/// and climb no higher than the top of the copy. Every directory between the link and the top
/// is a real directory the copy made, and every other link kept obeys the same rule, so such a
/// target resolves inside the copy wherever the copy stands (a link to `../../x` that was
/// inside the destination where the archive put it could leave it from the copy's place).
/// Every host's copy fallback asks this one rule.
pub fn target_stays_inside_copy(target: &str, depth: usize) -> bool {
    if target.is_empty() || target.starts_with('/') || target.contains('\\') || target.contains(':')
    {
        return false;
    }
    let mut ups = 0usize;
    let mut descended = false;
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." if descended => return false,
            ".." => ups += 1,
            _ => descended = true,
        }
    }
    ups <= depth
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Preset;

    fn norm(name: &str) -> Result<Option<String>, Rule> {
        normalize_entry_path(name, &Policy::default()).map_err(|e| e.rule)
    }

    #[test]
    fn normal_names() {
        assert_eq!(norm("a/b/c.txt"), Ok(Some("a/b/c.txt".into())));
        assert_eq!(norm("./a//b/./c/"), Ok(Some("a/b/c".into())));
        assert_eq!(norm("./"), Ok(None));
        assert_eq!(
            norm("/etc/passwd"),
            Ok(Some("etc/passwd".into())),
            "data strips the slash"
        );
        assert_eq!(norm("//server/share/x"), Ok(Some("server/share/x".into())));
    }

    #[test]
    fn hostile_names() {
        assert_eq!(norm("../x"), Err(Rule::DotDot));
        assert_eq!(norm("a/../../x"), Err(Rule::DotDot));
        assert_eq!(norm("./../x"), Err(Rule::DotDot));
        assert_eq!(norm("a/.."), Err(Rule::DotDot));
        assert_eq!(norm("C:/Windows/x"), Err(Rule::DrivePath));
        assert_eq!(norm("c:x"), Err(Rule::DrivePath));
        assert_eq!(norm("a\\..\\b"), Err(Rule::Backslash));
        assert_eq!(norm("\\\\?\\C:\\x"), Err(Rule::Backslash));
        assert_eq!(norm("a\0b"), Err(Rule::ControlCharacter));
        assert_eq!(norm("a\nb"), Err(Rule::ControlCharacter));
        assert_eq!(norm(&"x".repeat(256)), Err(Rule::NameTooLong));
        assert_eq!(norm(&"d/".repeat(200)), Err(Rule::PathTooDeep));
    }

    #[test]
    fn portable_refuses_what_windows_cannot_make() {
        let p = Policy::preset(Preset::Portable);
        let rule = |n: &str| normalize_entry_path(n, &p).map_err(|e| e.rule);
        assert_eq!(rule("/abs"), Err(Rule::AbsolutePath));
        assert_eq!(rule("dir/CON.txt"), Err(Rule::ReservedName));
        assert_eq!(rule("com1"), Err(Rule::ReservedName));
        assert_eq!(rule("x/a:b"), Err(Rule::ForbiddenCharacter));
        assert_eq!(rule("a:b"), Err(Rule::DrivePath));
        assert_eq!(rule("what?"), Err(Rule::ForbiddenCharacter));
        assert_eq!(rule("name."), Err(Rule::TrailingDotOrSpace));
        assert_eq!(rule("name "), Err(Rule::TrailingDotOrSpace));
        assert_eq!(rule("console.txt"), Ok(Some("console.txt".into())));
        assert_eq!(rule("com10"), Ok(Some("com10".into())));
    }

    #[test]
    fn decoding_rules() {
        let strict = LegacyNames::Reject;
        assert_eq!(
            decode_name(b"caf\xc3\xa9", NameOrigin::TarHeader, strict).unwrap(),
            "café"
        );
        let err = decode_name(b"caf\xe9", NameOrigin::TarHeader, strict).unwrap_err();
        assert_eq!(err.rule, Rule::NonUtf8Name);
        assert!(err.detail.contains("caf\\xe9"));
        assert_eq!(
            decode_name(b"caf\xe9", NameOrigin::TarHeader, LegacyNames::Latin1).unwrap(),
            "café"
        );
        assert_eq!(
            decode_name(b"\x80\xe1", NameOrigin::ZipLegacy, strict).unwrap(),
            "Çß"
        );
        assert!(decode_name(b"\xff", NameOrigin::Utf8, LegacyNames::Latin1).is_err());
    }

    #[test]
    fn link_targets_and_collisions() {
        assert_eq!(check_link_target("").unwrap_err().rule, Rule::EmptyName);
        assert_eq!(
            check_link_target("..\\x").unwrap_err().rule,
            Rule::Backslash
        );
        assert!(check_link_target("../x").is_ok());
        assert_eq!(collision_key("Caf\u{0065}\u{0301}"), collision_key("café"));
        assert_eq!(collision_key("README"), collision_key("readme"));
    }

    #[test]
    fn links_kept_in_a_copy_stay_inside_it() {
        assert!(target_stays_inside_copy("a/b", 0));
        assert!(target_stays_inside_copy("../x", 1));
        assert!(target_stays_inside_copy("./../../x", 2));
        assert!(!target_stays_inside_copy("../../x", 1));
        assert!(
            !target_stays_inside_copy("a/../../x", 5),
            "`..` after a name"
        );
        assert!(!target_stays_inside_copy("/etc", 9));
        assert!(!target_stays_inside_copy("..\\x", 9));
        assert!(!target_stays_inside_copy("c:x", 9));
        assert!(!target_stays_inside_copy("", 0));
    }
}
