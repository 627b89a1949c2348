//! Any bytes read as a zip archive.
#![no_main]
mod common;
libfuzzer_sys::fuzz_target!(|data: &[u8]| common::run(data, Some(uncork_core::Format::Zip)));
