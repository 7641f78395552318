#![no_main]
//! See `tresor_fuzzing::audit_reader` for the input format.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzzing::audit_reader::run(data));
