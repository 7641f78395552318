//! The sealer contract, run against every sealer: what `serve` and `init` rely on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::Engine as _;
use serde_json::Value;
use std::path::Path;
use tresor_crypto::{SecretBytes, WrapPurpose};
use tresor_seal::{RootMaterial, SealError, SealFile, Sealer};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The forms in which root material could leak into a file or a message.
fn leak_forms(root: &RootMaterial) -> Vec<String> {
    let b = root.expose();
    vec![
        hex(b),
        base64::engine::general_purpose::STANDARD.encode(b),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b),
        format!("{b:?}"),
    ]
}

fn read_json(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(SealFile::path_in(dir)).unwrap()).unwrap()
}

fn write_json(dir: &Path, v: &Value) {
    std::fs::write(
        SealFile::path_in(dir),
        serde_json::to_vec_pretty(v).unwrap(),
    )
    .unwrap();
}

/// Every leaf of the seal file, as a JSON pointer.
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, v)| leaves(v, format!("{at}/{k}"), out)),
        _ => out.push(at),
    }
}

/// Variants of a leaf that a tamperer might write.
fn tamperings(v: &Value) -> Vec<Value> {
    match v {
        Value::Number(n) => {
            let n = n.as_u64().unwrap();
            vec![Value::from(n + 1), Value::from(n.saturating_sub(1))]
        }
        Value::String(s) => {
            let mut chars: Vec<char> = s.chars().collect();
            let mid = chars.len() / 2;
            chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
            vec![
                Value::from(chars.into_iter().collect::<String>()),
                Value::from(""),
            ]
        }
        other => panic!("unexpected leaf {other}"),
    }
}

pub fn init_then_unseal_gives_the_same_root_key<S: Sealer>(sealer: &S) {
    let dir = common::data_dir();
    let init = sealer.init(dir.path(), None).unwrap();
    let unsealed = sealer.unseal(dir.path(), &init.secrets).unwrap();
    assert_eq!(unsealed, init.root);
    // The same key in use: what one wraps, the other unwraps.
    let p = WrapPurpose::AccessKeySecret {
        access_key_id: "AKIDCONTRACT",
    };
    let secret = SecretBytes::from_slice(b"the secret");
    let wrapped = init.root.root_key().unwrap().wrap(p, &secret).unwrap();
    assert_eq!(
        unsealed.root_key().unwrap().unwrap(p, &wrapped).unwrap(),
        secret
    );
    assert_eq!(SealFile::read(dir.path()).unwrap().kind(), sealer.kind());
}

pub fn init_seals_a_given_root_key<S: Sealer>(sealer: &S) {
    let dir = common::data_dir();
    let root = RootMaterial::generate().unwrap();
    let init = sealer.init(dir.path(), Some(root.clone())).unwrap();
    assert_eq!(init.root, root);
    assert_eq!(sealer.unseal(dir.path(), &init.secrets).unwrap(), root);
}

pub fn init_refuses_an_initialized_directory<S: Sealer>(sealer: &S) {
    let dir = common::data_dir();
    let init = sealer.init(dir.path(), None).unwrap();
    let before = std::fs::read(SealFile::path_in(dir.path())).unwrap();
    assert!(matches!(
        sealer.init(dir.path(), None),
        Err(SealError::AlreadyInitialized(_))
    ));
    assert_eq!(
        std::fs::read(SealFile::path_in(dir.path())).unwrap(),
        before
    );
    assert_eq!(sealer.unseal(dir.path(), &init.secrets).unwrap(), init.root);
}

pub fn uninitialized_directory_is_refused<S: Sealer>(sealer: &S, secrets: &S::Secrets) {
    let dir = common::data_dir();
    assert!(matches!(
        sealer.unseal(dir.path(), secrets),
        Err(SealError::NotInitialized(_))
    ));
}

/// Another directory's seal (its secrets, or its encrypted root key pasted in) never
/// yields a root key other than this directory's.
pub fn another_seal_is_refused<S: Sealer>(sealer: &S, ciphertext_field: &str) {
    let a = common::data_dir();
    let b = common::data_dir();
    let ia = sealer.init(a.path(), None).unwrap();
    let ib = sealer.init(b.path(), None).unwrap();
    assert_ne!(ia.root, ib.root);
    match sealer.unseal(a.path(), &ib.secrets) {
        Err(_) => {}
        Ok(root) => assert_eq!(root, ia.root, "B's secrets gave A a foreign key"),
    }
    let mut ja = read_json(a.path());
    let jb = read_json(b.path());
    let ptr = format!("/sealer/{ciphertext_field}");
    *ja.pointer_mut(&ptr).unwrap() = jb.pointer(&ptr).unwrap().clone();
    if let Some(iv) = jb.pointer("/sealer/iv") {
        *ja.pointer_mut("/sealer/iv").unwrap() = iv.clone();
    }
    write_json(a.path(), &ja);
    assert!(sealer.unseal(a.path(), &ia.secrets).is_err());
}

/// Any edit of any field of the seal file is refused (never a wrong key, never a panic).
pub fn seal_file_tampering_is_detected<S: Sealer>(sealer: &S) {
    let dir = common::data_dir();
    let init = sealer.init(dir.path(), None).unwrap();
    let original = read_json(dir.path());
    let mut fields = Vec::new();
    leaves(&original, String::new(), &mut fields);
    assert!(fields.len() >= 5, "{fields:?}");
    for field in &fields {
        for bad in tamperings(original.pointer(field).unwrap()) {
            let mut edited = original.clone();
            *edited.pointer_mut(field).unwrap() = bad.clone();
            write_json(dir.path(), &edited);
            let got = sealer.unseal(dir.path(), &init.secrets);
            assert!(got.is_err(), "editing {field} to {bad} was not detected");
        }
    }
    write_json(dir.path(), &original);
    assert_eq!(sealer.unseal(dir.path(), &init.secrets).unwrap(), init.root);
    std::fs::write(SealFile::path_in(dir.path()), b"{not json").unwrap();
    assert!(matches!(
        sealer.unseal(dir.path(), &init.secrets),
        Err(SealError::InvalidSealFile(_))
    ));
}

/// No root key in the seal file, in `Debug` output or in error messages; the seal file
/// is private to the owner.
pub fn secrets_never_shown<S: Sealer>(
    sealer: &S,
    secret_texts: impl Fn(&S::Secrets) -> Vec<String>,
) {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::data_dir();
    let init = sealer.init(dir.path(), None).unwrap();
    let file = std::fs::read_to_string(SealFile::path_in(dir.path())).unwrap();
    let mode = std::fs::metadata(SealFile::path_in(dir.path()))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let unsealed = sealer.unseal(dir.path(), &init.secrets).unwrap();
    let shown = format!(
        "{init:?} {:?} {unsealed:?} {:?}",
        init.secrets,
        unsealed.root_key().unwrap()
    );
    let mut forbidden = leak_forms(&init.root);
    forbidden.extend(secret_texts(&init.secrets));
    for f in &forbidden {
        assert!(!file.contains(f.as_str()), "seal file holds a secret");
        assert!(!shown.contains(f.as_str()), "Debug shows a secret: {shown}");
    }
    assert!(shown.contains("REDACTED"), "{shown}");
}

macro_rules! contract {
    ($name:ident, $fixture:expr, $sealer:expr, $ciphertext_field:expr, $secret_texts:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn init_then_unseal_gives_the_same_root_key() {
                let _fixture = $fixture;
                super::init_then_unseal_gives_the_same_root_key(&$sealer(&_fixture));
            }

            #[test]
            fn init_seals_a_given_root_key() {
                let _fixture = $fixture;
                super::init_seals_a_given_root_key(&$sealer(&_fixture));
            }

            #[test]
            fn init_refuses_an_initialized_directory() {
                let _fixture = $fixture;
                super::init_refuses_an_initialized_directory(&$sealer(&_fixture));
            }

            #[test]
            fn uninitialized_directory_is_refused() {
                let _fixture = $fixture;
                let sealer = $sealer(&_fixture);
                let other = common::data_dir();
                let secrets = sealer.init(other.path(), None).unwrap().secrets;
                super::uninitialized_directory_is_refused(&sealer, &secrets);
            }

            #[test]
            fn another_seal_is_refused() {
                let _fixture = $fixture;
                super::another_seal_is_refused(&$sealer(&_fixture), $ciphertext_field);
            }

            #[test]
            fn seal_file_tampering_is_detected() {
                let _fixture = $fixture;
                super::seal_file_tampering_is_detected(&$sealer(&_fixture));
            }

            #[test]
            fn secrets_never_shown() {
                let _fixture = $fixture;
                super::secrets_never_shown(&$sealer(&_fixture), $secret_texts);
            }
        }
    };
}

contract!(
    shamir,
    (),
    |_: &()| tresor_seal::shamir::ShamirSealer::new(
        tresor_seal::shamir::ShamirParams::new(5, 3).unwrap()
    ),
    "encrypted_root_key",
    |shares: &Vec<tresor_seal::shamir::Share>| shares
        .iter()
        .flat_map(|s| {
            let text = s.encode().expose().to_owned();
            let value = text.split(':').nth(4).unwrap().to_owned();
            [text, value]
        })
        .collect()
);

contract!(
    pkcs11,
    common::SoftHsm::new(),
    |hsm: &common::SoftHsm| tresor_seal::pkcs11::Pkcs11Sealer::new(hsm.config.clone()),
    "wrapped_root_key",
    |_: &()| vec![common::USER_PIN.to_owned()]
);
