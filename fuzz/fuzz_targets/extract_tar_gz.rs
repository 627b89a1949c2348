//! The input is a tar stream; it is gzip-compressed here (as one or two members) so the
//! fuzzer explores tar structure rather than deflate bit errors.
#![no_main]
mod common;
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| usize::from(b) * data.len() / 256);
    let mut gz = uncork_core::testkit::gzip(&data[..split]);
    gz.extend(uncork_core::testkit::gzip(&data[split..]));
    common::run(&gz, Some(uncork_core::Format::TarGz));
    common::run(data, Some(uncork_core::Format::Tar));
});
