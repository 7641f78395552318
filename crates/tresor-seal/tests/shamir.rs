//! The Shamir unseal state machine, rekey and root replacement.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_lc_rs::digest;
use base64::Engine as _;
use tresor_seal::shamir::{Progress, ShamirParams, ShamirSealer, Share, Step, Unsealer};
use tresor_seal::{
    DirectorySeal, Initialized, RootMaterial, SealError, SealFile, Sealer, SealerKind,
};

fn init(dir: &std::path::Path, n: u8, t: u8) -> Initialized<Vec<Share>> {
    ShamirSealer::new(ShamirParams::new(n, t).unwrap())
        .init(dir, None)
        .unwrap()
}

fn text(s: &Share) -> String {
    s.encode().expose().to_owned()
}

fn progress(step: Step) -> Progress {
    match step {
        Step::Progress(p) => p,
        Step::Unsealed(_) => panic!("unsealed too early"),
    }
}

fn unsealed(step: Step) -> RootMaterial {
    match step {
        Step::Unsealed(u) => u.into_parts().0,
        Step::Progress(p) => panic!("still sealed: {p:?}"),
    }
}

/// A share with the right set id, index and checksum but a wrong value: what an operator
/// with a corrupted (or forged) share would submit.
fn forged(s: &Share) -> String {
    let t = text(s);
    let parts: Vec<&str> = t.split(':').collect();
    let mut value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[4])
        .unwrap();
    value[0] ^= 1;
    let body = format!(
        "{}:{}:{}:{}:{}",
        parts[0],
        parts[1],
        parts[2],
        parts[3],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
    );
    let sum: String = digest::digest(&digest::SHA256, body.as_bytes()).as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{body}:{sum}")
}

#[test]
fn any_threshold_of_the_shares_unseals() {
    let dir = common::data_dir();
    let init = init(dir.path(), 5, 3);
    let mut combos = 0;
    for a in 0..5 {
        for b in a + 1..5 {
            for c in b + 1..5 {
                let mut u = Unsealer::open(dir.path()).unwrap();
                u.submit(&text(&init.secrets[c])).unwrap();
                u.submit(&text(&init.secrets[a])).unwrap();
                let root = unsealed(u.submit(&text(&init.secrets[b])).unwrap());
                assert_eq!(root, init.root);
                combos += 1;
            }
        }
    }
    assert_eq!(combos, 10);
}

#[test]
fn progress_counts_up_to_the_threshold_and_reset_clears_it() {
    let dir = common::data_dir();
    let init = init(dir.path(), 5, 3);
    let mut u = Unsealer::open(dir.path()).unwrap();
    assert_eq!(
        u.progress(),
        Progress {
            progress: 0,
            threshold: 3
        }
    );
    let p = progress(u.submit(&text(&init.secrets[0])).unwrap());
    assert_eq!(
        p,
        Progress {
            progress: 1,
            threshold: 3
        }
    );
    let p = progress(u.submit(&text(&init.secrets[1])).unwrap());
    assert_eq!(
        p,
        Progress {
            progress: 2,
            threshold: 3
        }
    );
    u.reset();
    assert_eq!(u.progress().progress, 0);
    // After a reset, the threshold's worth is needed again.
    progress(u.submit(&text(&init.secrets[2])).unwrap());
    progress(u.submit(&text(&init.secrets[3])).unwrap());
    assert_eq!(
        unsealed(u.submit(&text(&init.secrets[4])).unwrap()),
        init.root
    );
    // A completed unseal starts over.
    assert_eq!(u.progress().progress, 0);
}

#[test]
fn duplicate_foreign_and_malformed_shares_are_refused_without_losing_progress() {
    let dir = common::data_dir();
    let other = common::data_dir();
    let init = init(dir.path(), 5, 3);
    let foreign = self::init(other.path(), 5, 3);
    let mut u = Unsealer::open(dir.path()).unwrap();
    u.submit(&text(&init.secrets[0])).unwrap();
    assert!(matches!(
        u.submit(&text(&init.secrets[0])),
        Err(SealError::DuplicateShare(1))
    ));
    assert!(matches!(
        u.submit(&text(&foreign.secrets[1])),
        Err(SealError::ForeignShare)
    ));
    for garbage in [
        "",
        "tresor-share:v1",
        "aGVsbG8=",
        &text(&init.secrets[1])[..60],
    ] {
        assert!(matches!(
            u.submit(garbage),
            Err(SealError::MalformedShare(_))
        ));
    }
    assert_eq!(u.progress().progress, 1);
    u.submit(&text(&init.secrets[1])).unwrap();
    assert_eq!(
        unsealed(u.submit(&text(&init.secrets[2])).unwrap()),
        init.root
    );
}

#[test]
fn a_wrong_combination_is_caught_by_the_check_value_and_resets() {
    let dir = common::data_dir();
    let init = init(dir.path(), 5, 3);
    let mut u = Unsealer::open(dir.path()).unwrap();
    u.submit(&text(&init.secrets[0])).unwrap();
    u.submit(&text(&init.secrets[1])).unwrap();
    let err = u.submit(&forged(&init.secrets[2])).unwrap_err();
    assert!(matches!(err, SealError::WrongShares), "{err}");
    assert!(!err.to_string().contains(&text(&init.secrets[0])));
    assert_eq!(u.progress().progress, 0);
    for s in &init.secrets[..3] {
        if let Step::Unsealed(done) = u.submit(&text(s)).unwrap() {
            assert_eq!(done.root(), &init.root);
            return;
        }
    }
    panic!("the right shares did not unseal after a wrong combination");
}

#[test]
fn a_lowered_threshold_in_the_seal_file_does_not_unseal_with_fewer_shares() {
    let dir = common::data_dir();
    let init = init(dir.path(), 5, 3);
    let path = SealFile::path_in(dir.path());
    let text_file = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text_file.replace("\"threshold\": 3", "\"threshold\": 2"),
    )
    .unwrap();
    let mut u = Unsealer::open(dir.path()).unwrap();
    u.submit(&text(&init.secrets[0])).unwrap();
    assert!(matches!(
        u.submit(&text(&init.secrets[1])),
        Err(SealError::WrongShares)
    ));
}

#[test]
fn rekey_issues_new_shares_for_the_same_root_and_retires_the_old() {
    let dir = common::data_dir();
    let old = init(dir.path(), 5, 3);
    let old_set = old.secrets[0].set_id().to_owned();
    let mut u = Unsealer::open(dir.path()).unwrap();
    u.submit(&text(&old.secrets[0])).unwrap();
    u.submit(&text(&old.secrets[3])).unwrap();
    let Step::Unsealed(quorum) = u.submit(&text(&old.secrets[4])).unwrap() else {
        panic!("no quorum");
    };
    let new = quorum
        .rekey(dir.path(), ShamirParams::new(3, 2).unwrap())
        .unwrap();
    assert_eq!(new.len(), 3);
    assert_ne!(new[0].set_id(), old_set);
    let mut u = Unsealer::open(dir.path()).unwrap();
    assert_eq!(u.progress().threshold, 2);
    assert!(matches!(
        u.submit(&text(&old.secrets[1])),
        Err(SealError::ForeignShare)
    ));
    u.submit(&text(&new[2])).unwrap();
    assert_eq!(unsealed(u.submit(&text(&new[0])).unwrap()), old.root);
}

#[test]
fn replace_root_keeps_the_shares() {
    let dir = common::data_dir();
    let init = init(dir.path(), 3, 2);
    let mut u = Unsealer::open(dir.path()).unwrap();
    u.submit(&text(&init.secrets[0])).unwrap();
    let Step::Unsealed(done) = u.submit(&text(&init.secrets[1])).unwrap() else {
        panic!("no quorum");
    };
    let (_, resealer) = done.into_parts();
    let rotated = RootMaterial::generate().unwrap();
    resealer.replace_root(dir.path(), &rotated).unwrap();
    let got = ShamirSealer::default()
        .unseal(
            dir.path(),
            &vec![init.secrets[2].clone(), init.secrets[0].clone()],
        )
        .unwrap();
    assert_eq!(got, rotated);
    assert_ne!(got, init.root);
    // Another node's resealer of the same share set opens the rotated seal without shares.
    assert_eq!(resealer.open_root(dir.path()).unwrap(), rotated);
    // A seal file of another share set (a rekey elsewhere) is refused.
    let other = common::data_dir();
    crate::init(other.path(), 3, 2);
    assert!(matches!(
        resealer.open_root(other.path()),
        Err(SealError::Tampered)
    ));
}

#[test]
fn parameters_are_validated() {
    for (n, t) in [(0, 0), (3, 0), (3, 5), (5, 1)] {
        assert!(
            matches!(
                ShamirParams::new(n, t),
                Err(SealError::InvalidParameters(_))
            ),
            "{n}/{t}"
        );
    }
    let dir = common::data_dir();
    let one = init(dir.path(), 1, 1);
    let mut u = Unsealer::open(dir.path()).unwrap();
    assert_eq!(
        unsealed(u.submit(&text(&one.secrets[0])).unwrap()),
        one.root
    );
    let dir = common::data_dir();
    let max = init(dir.path(), 255, 255);
    assert_eq!(max.secrets.len(), 255);
    assert_eq!(
        ShamirSealer::default()
            .unseal(dir.path(), &max.secrets)
            .unwrap(),
        max.root
    );
}

#[test]
fn directory_detection_tells_the_sealers_apart() {
    let dir = common::data_dir();
    assert_eq!(
        DirectorySeal::detect(dir.path()).unwrap(),
        DirectorySeal::Uninitialized
    );
    std::fs::write(dir.path().join("root.key"), "00").unwrap();
    assert_eq!(
        DirectorySeal::detect(dir.path()).unwrap(),
        DirectorySeal::LegacyDevFile
    );
    SealFile::dev_file("2025-01-01T00:00:00Z".into())
        .write(dir.path(), false)
        .unwrap();
    let kind = DirectorySeal::detect(dir.path()).unwrap().kind().unwrap();
    assert_eq!(kind, SealerKind::File);
    assert!(!kind.is_production());
    assert!(matches!(
        Unsealer::open(dir.path()),
        Err(SealError::WrongSealer {
            expected: "shamir",
            found: "file"
        })
    ));
    let dir = common::data_dir();
    init(dir.path(), 5, 3);
    let kind = DirectorySeal::detect(dir.path()).unwrap().kind().unwrap();
    assert_eq!(kind, SealerKind::Shamir);
    assert!(kind.is_production());
}
