//! Init and unseal times (not a timed test: run with
//! `cargo test -p tresor-seal --test timing -- --ignored --nocapture`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};
use tresor_seal::pkcs11::Pkcs11Sealer;
use tresor_seal::shamir::{ShamirParams, ShamirSealer, Step, Unsealer};
use tresor_seal::Sealer;

const RUNS: u32 = 20;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
#[ignore = "measurement, not a test"]
fn measure_init_and_unseal() {
    let (mut init, mut unseal) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let dir = common::data_dir();
        let t = Instant::now();
        let done = ShamirSealer::new(ShamirParams::new(5, 3).unwrap())
            .init(dir.path(), None)
            .unwrap();
        init.push(t.elapsed());
        let texts: Vec<String> = done.secrets[..3]
            .iter()
            .map(|s| s.encode().expose().to_owned())
            .collect();
        let t = Instant::now();
        let mut u = Unsealer::open(dir.path()).unwrap();
        let mut unsealed = false;
        for text in &texts {
            unsealed = matches!(u.submit(text).unwrap(), Step::Unsealed(_));
        }
        unseal.push(t.elapsed());
        assert!(unsealed);
    }
    println!(
        "shamir 5/3: init {:?}, unseal (3 shares) {:?} (median of {RUNS})",
        median(init),
        median(unseal)
    );
    let hsm = common::SoftHsm::new();
    let sealer = Pkcs11Sealer::new(hsm.config.clone());
    let (mut init, mut unseal) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let dir = common::data_dir();
        let t = Instant::now();
        sealer.init(dir.path(), None).unwrap();
        init.push(t.elapsed());
        let t = Instant::now();
        sealer.unseal(dir.path(), &()).unwrap();
        unseal.push(t.elapsed());
    }
    println!(
        "pkcs11 (SoftHSM2): init {:?}, unseal {:?} (median of {RUNS}, module load + login included)",
        median(init),
        median(unseal)
    );
}
