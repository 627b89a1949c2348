//! Any bytes, format detected: tar, tar.gz or zip.
#![no_main]
mod common;
libfuzzer_sys::fuzz_target!(|data: &[u8]| common::run(data, None));
