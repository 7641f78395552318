//! Fuzz harnesses: one `run(data)` per input boundary, each calling the production entry
//! point (no copies). The cargo-fuzz targets in `fuzz/` call them; `tests/corpus.rs`
//! replays the committed corpus through them on stable, so CI keeps every input that
//! once found a bug or new coverage.
//!
//! A harness must never panic on any input; it panics only when a property that must
//! hold for every input is broken (a signed request that does not verify, a sealed blob
//! that does not open, an unexpected internal error).
#![deny(missing_docs)]

pub mod audit_reader;
pub mod blob_parse;
pub mod policy_parse;
pub mod request_decode;
pub mod sigv4_parse;

/// One harness: runs one input.
pub type Harness = fn(&[u8]);

/// The harness of each target, by the target's name (as in `fuzz/fuzz_targets/`).
pub const TARGETS: &[(&str, Harness)] = &[
    ("request_decode", request_decode::run),
    ("sigv4_parse", sigv4_parse::run),
    ("blob_parse", blob_parse::run),
    ("policy_parse", policy_parse::run),
    ("audit_reader", audit_reader::run),
];

/// `data` split at the first `sep` byte: `(before, after)`; all of it before when absent.
pub fn split_at_byte(data: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == sep) {
        Some(i) => (
            data.get(..i).unwrap_or_default(),
            data.get(i.saturating_add(1)..).unwrap_or_default(),
        ),
        None => (data, &[]),
    }
}
