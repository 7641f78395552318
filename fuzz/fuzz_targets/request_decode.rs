#![no_main]
//! See `tresor_fuzzing::request_decode` for the input format.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzzing::request_decode::run(data));
