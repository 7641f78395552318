#![no_main]
//! See `tresor_fuzzing::policy_parse` for the input format.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzzing::policy_parse::run(data));
