//! Path validation: whatever comes in, what comes out is relative, `/`-separated, free of
//! `.`/`..`/empty components, backslashes and control characters, and normalizing is idempotent.
#![no_main]
use uncork_core::path::normalize_entry_path;
use uncork_core::{Policy, Preset};

libfuzzer_sys::fuzz_target!(|name: &str| {
    for preset in Preset::ALL {
        let policy = Policy::preset(preset);
        let Ok(Some(path)) = normalize_entry_path(name, &policy) else { continue };
        assert!(!path.starts_with('/') && !path.ends_with('/'), "{path:?}");
        assert!(!path.contains('\\') && !path.chars().any(char::is_control), "{path:?}");
        for component in path.split('/') {
            assert!(!matches!(component, "" | "." | ".."), "{path:?}");
        }
        assert!(path.len() <= policy.limits.max_path_bytes);
        assert_eq!(normalize_entry_path(&path, &policy).ok().flatten().as_deref(), Some(path.as_str()));
    }
});
