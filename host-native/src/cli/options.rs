//! From command-line arguments to the core's policy and options.

use super::args::ReadArgs;
use uncork_core::{Policy, Preset};

/// The policy the arguments ask for: a preset, then each explicit override.
pub(crate) fn policy(args: &ReadArgs, preset: Preset) -> Policy {
    let mut policy = Policy::preset(preset);
    if let Some(legacy) = args.legacy_names {
        policy.legacy_names = legacy.into();
    }
    if let Some(duplicates) = args.duplicates {
        policy.duplicates = duplicates.into();
    }
    let l = &args.limits;
    let limits = &mut policy.limits;
    if let Some(v) = l.max_total_bytes {
        limits.max_total_bytes = v;
    }
    if let Some(v) = l.max_entry_bytes {
        limits.max_entry_bytes = v;
    }
    if let Some(v) = l.max_entries {
        limits.max_entries = v;
    }
    if let Some(v) = l.max_ratio {
        limits.max_ratio = v;
    }
    if let Some(v) = l.max_path_bytes {
        limits.max_path_bytes = v;
    }
    if let Some(v) = l.max_depth {
        limits.max_depth = v;
    }
    if let Some(v) = l.max_metadata_bytes {
        limits.max_metadata_bytes = v;
    }
    if let Some(v) = l.max_link_hops {
        limits.max_link_hops = v;
    }
    if let Some(v) = l.max_decoder_memory {
        limits.max_decoder_memory = v;
    }
    policy
}
