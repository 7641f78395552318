//! The PKCS#11 sealer against a real SoftHSM2 token.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use std::os::unix::fs::PermissionsExt;
use tresor_seal::pkcs11::{Pkcs11Config, Pkcs11Sealer};
use tresor_seal::shamir::{ShamirSealer, Unsealer};
use tresor_seal::{SealError, SealFile, Sealer, SealerRecord};

fn record(dir: &std::path::Path) -> tresor_seal::Pkcs11Record {
    match SealFile::read(dir).unwrap().sealer {
        SealerRecord::Pkcs11(r) => r,
        other => panic!("{other:?}"),
    }
}

/// Runs `f` with a logged-in session on the test token, outside the sealer.
fn with_session<T>(hsm: &common::SoftHsm, f: impl FnOnce(&cryptoki::session::Session) -> T) -> T {
    let ctx = Pkcs11::new(&hsm.config.module).unwrap();
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label() == common::TOKEN_LABEL)
        .unwrap();
    let out = {
        let session = ctx.open_rw_session(slot).unwrap();
        session
            .login(
                UserType::User,
                Some(&AuthPin::from(common::USER_PIN.to_owned())),
            )
            .unwrap();
        f(&session)
    };
    ctx.finalize().unwrap();
    out
}

#[test]
fn the_wrapping_key_never_leaves_the_token() {
    let hsm = common::SoftHsm::new();
    let dir = common::data_dir();
    Pkcs11Sealer::new(hsm.config.clone())
        .init(dir.path(), None)
        .unwrap();
    let rec = record(dir.path());
    assert_eq!(rec.key_label, format!("tresor-root-wrap-{}", rec.seal_id));
    assert_eq!(rec.mechanism, "CKM_AES_GCM");
    with_session(&hsm, |s| {
        let keys = s
            .find_objects(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::Label(rec.key_label.clone().into_bytes()),
            ])
            .unwrap();
        assert_eq!(keys.len(), 1);
        let attrs = s
            .get_attributes(
                keys[0],
                &[
                    AttributeType::Token,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::NeverExtractable,
                    AttributeType::ValueLen,
                ],
            )
            .unwrap();
        for want in [
            Attribute::Token(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::NeverExtractable(true),
            Attribute::ValueLen(32.into()),
        ] {
            assert!(attrs.contains(&want), "{want:?} not in {attrs:?}");
        }
        // The key's value cannot be read out.
        let value = s.get_attributes(keys[0], &[AttributeType::Value]);
        assert!(
            !matches!(value.as_deref(), Ok([Attribute::Value(_)])),
            "{value:?}"
        );
    });
}

#[test]
fn a_wrong_pin_is_refused_without_showing_it() {
    let hsm = common::SoftHsm::new();
    let dir = common::data_dir();
    Pkcs11Sealer::new(hsm.config.clone())
        .init(dir.path(), None)
        .unwrap();
    let wrong = common::write_pin(hsm.dir.path(), "wrong-pin", "000111");
    let err = Pkcs11Sealer::new(Pkcs11Config {
        pin_file: wrong,
        ..hsm.config.clone()
    })
    .unseal(dir.path(), &())
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("refused the PIN"), "{msg}");
    assert!(
        !msg.contains("000111") && !msg.contains(common::USER_PIN),
        "{msg}"
    );
}

#[test]
fn a_pin_file_others_can_read_is_refused() {
    let hsm = common::SoftHsm::new();
    std::fs::set_permissions(&hsm.config.pin_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let dir = common::data_dir();
    let err = Pkcs11Sealer::new(hsm.config.clone())
        .init(dir.path(), None)
        .unwrap_err();
    assert!(matches!(err, SealError::PinFile { .. }), "{err}");
    assert!(!SealFile::path_in(dir.path()).exists());
    let empty = common::write_pin(hsm.dir.path(), "empty", "");
    let err = Pkcs11Sealer::new(Pkcs11Config {
        pin_file: empty,
        ..hsm.config.clone()
    })
    .init(dir.path(), None)
    .unwrap_err();
    assert!(matches!(err, SealError::PinFile { .. }), "{err}");
}

#[test]
fn another_token_or_module_is_refused() {
    let hsm = common::SoftHsm::new();
    let dir = common::data_dir();
    Pkcs11Sealer::new(hsm.config.clone())
        .init(dir.path(), None)
        .unwrap();
    let err = Pkcs11Sealer::new(Pkcs11Config {
        token_label: "no-such-token".into(),
        ..hsm.config.clone()
    })
    .unseal(dir.path(), &())
    .unwrap_err();
    assert!(err.to_string().contains("no-such-token"), "{err}");
    let err = Pkcs11Sealer::new(Pkcs11Config {
        module: "/nonexistent/libpkcs11.so".into(),
        ..hsm.config.clone()
    })
    .unseal(dir.path(), &())
    .unwrap_err();
    assert!(err.to_string().contains("loading module"), "{err}");
}

#[test]
fn a_deleted_wrapping_key_cannot_unseal() {
    let hsm = common::SoftHsm::new();
    let dir = common::data_dir();
    let sealer = Pkcs11Sealer::new(hsm.config.clone());
    sealer.init(dir.path(), None).unwrap();
    let rec = record(dir.path());
    with_session(&hsm, |s| {
        let keys = s
            .find_objects(&[Attribute::Label(rec.key_label.clone().into_bytes())])
            .unwrap();
        s.destroy_object(keys[0]).unwrap();
    });
    let err = sealer.unseal(dir.path(), &()).unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
}

#[test]
fn each_sealer_refuses_the_others_seal_file() {
    let hsm = common::SoftHsm::new();
    let p11_dir = common::data_dir();
    let shamir_dir = common::data_dir();
    let p11 = Pkcs11Sealer::new(hsm.config.clone());
    p11.init(p11_dir.path(), None).unwrap();
    ShamirSealer::default()
        .init(shamir_dir.path(), None)
        .unwrap();
    assert!(matches!(
        Unsealer::open(p11_dir.path()),
        Err(SealError::WrongSealer {
            expected: "shamir",
            found: "pkcs11"
        })
    ));
    assert!(matches!(
        p11.unseal(shamir_dir.path(), &()),
        Err(SealError::WrongSealer {
            expected: "pkcs11",
            found: "shamir"
        })
    ));
}

#[test]
fn an_edited_wrapped_root_key_or_iv_is_reported_as_tampering() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let hsm = common::SoftHsm::new();
    let dir = common::data_dir();
    let sealer = Pkcs11Sealer::new(hsm.config.clone());
    let init = sealer.init(dir.path(), None).unwrap();
    let original = SealFile::read(dir.path()).unwrap();
    for edit in [0usize, 1] {
        let mut file = original.clone();
        let SealerRecord::Pkcs11(r) = &mut file.sealer else {
            panic!("not pkcs11")
        };
        let field = if edit == 0 {
            &mut r.wrapped_root_key
        } else {
            &mut r.iv
        };
        let mut bytes = b64.decode(&*field).unwrap();
        bytes[0] ^= 0x80;
        *field = b64.encode(bytes);
        file.write(dir.path(), true).unwrap();
        let err = sealer.unseal(dir.path(), &()).unwrap_err();
        assert!(matches!(err, SealError::Tampered), "{err}");
    }
    original.write(dir.path(), true).unwrap();
    assert_eq!(sealer.unseal(dir.path(), &()).unwrap(), init.root);
}
