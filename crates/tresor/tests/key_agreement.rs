//! KEY_AGREEMENT keys and DeriveSharedSecret: the shared secret equals the ECDH secret computed
//! independently (RustCrypto `p256`/`p384`/`p521`) from a local private key and the KMS public key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::SdkError;
use aws_sdk_kms::operation::derive_shared_secret::{
    DeriveSharedSecretError, DeriveSharedSecretOutput,
};
use aws_sdk_kms::types::{KeyAgreementAlgorithmSpec, KeySpec, KeyUsageType, OriginType};
use aws_sdk_kms::Client;
use common::*;
use p256::pkcs8::{DecodePublicKey, EncodePublicKey};
use rand_core::OsRng;

const CURVES: [&str; 3] = ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"];

async fn try_derive(
    c: &Client,
    key: &str,
    peer_spki: &[u8],
) -> Result<DeriveSharedSecretOutput, SdkError<DeriveSharedSecretError, HttpResponse>> {
    c.derive_shared_secret()
        .key_id(key)
        .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
        .public_key(blob(peer_spki))
        .send()
        .await
}

type Ecdh = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// A fresh local key pair on `spec`'s curve: (our SPKI, ECDH with a peer SPKI).
fn local_party(spec: &str) -> (Vec<u8>, Ecdh) {
    macro_rules! party {
        ($c:ident) => {{
            let sk = $c::SecretKey::random(&mut OsRng);
            let spki = sk
                .public_key()
                .to_public_key_der()
                .unwrap()
                .as_bytes()
                .to_vec();
            let f: Ecdh = Box::new(move |peer: &[u8]| {
                let pk = $c::PublicKey::from_public_key_der(peer).expect("peer SPKI");
                let shared = $c::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
                shared.raw_secret_bytes().to_vec()
            });
            (spki, f)
        }};
    }
    match spec {
        "ECC_NIST_P256" => party!(p256),
        "ECC_NIST_P384" => party!(p384),
        "ECC_NIST_P521" => party!(p521),
        _ => panic!("no curve for {spec}"),
    }
}

fn secret_len(spec: &str) -> usize {
    match spec {
        "ECC_NIST_P256" => 32,
        "ECC_NIST_P384" => 48,
        _ => 66,
    }
}

#[tokio::test]
async fn key_agreement_keys_are_described_like_aws() {
    let srv = Server::start();
    let c = srv.client().await;
    let pairs: Vec<(&str, &str)> = CURVES.iter().map(|s| (*s, "KEY_AGREEMENT")).collect();
    let ids = create_keys_spec(&c, &pairs).await;
    for (spec, id) in CURVES.iter().zip(&ids) {
        let m = describe_key_metadata(&c, id).await;
        assert_eq!(m.key_spec(), Some(&KeySpec::from(*spec)));
        assert_eq!(m.key_usage(), Some(&KeyUsageType::KeyAgreement));
        assert_eq!(
            m.key_agreement_algorithms(),
            &[KeyAgreementAlgorithmSpec::Ecdh]
        );
        assert!(
            m.encryption_algorithms.is_none(),
            "{spec}: no EncryptionAlgorithms"
        );
        assert!(
            m.signing_algorithms.is_none(),
            "{spec}: no SigningAlgorithms"
        );
        assert!(m.mac_algorithms.is_none(), "{spec}: no MacAlgorithms");

        let gp = ok(c.get_public_key().key_id(id).send().await);
        assert_eq!(gp.key_id(), Some(key_arn(REGION, id).as_str()));
        assert_eq!(gp.key_spec(), Some(&KeySpec::from(*spec)));
        assert_eq!(gp.key_usage(), Some(&KeyUsageType::KeyAgreement));
        assert_eq!(
            gp.key_agreement_algorithms(),
            &[KeyAgreementAlgorithmSpec::Ecdh]
        );
        assert!(gp.signing_algorithms.is_none() && gp.encryption_algorithms.is_none());
    }
}

#[tokio::test]
async fn derived_secret_equals_independent_ecdh_on_every_curve() {
    let srv = Server::start();
    let c = srv.client().await;
    let pairs: Vec<(&str, &str)> = CURVES.iter().map(|s| (*s, "KEY_AGREEMENT")).collect();
    let ids = create_keys_spec(&c, &pairs).await;
    for (spec, id) in CURVES.iter().zip(&ids) {
        let kms_spki = public_key_der(&c, id).await;
        for _ in 0..2 {
            let (our_spki, ecdh) = local_party(spec);
            let out = ok(try_derive(&c, id, &our_spki).await);
            assert_eq!(out.key_id(), Some(key_arn(REGION, id).as_str()));
            assert_eq!(
                out.key_agreement_algorithm(),
                Some(&KeyAgreementAlgorithmSpec::Ecdh)
            );
            assert_eq!(out.key_origin(), Some(&OriginType::AwsKms));
            assert!(out.ciphertext_for_recipient().is_none());
            let secret = out.shared_secret().expect("SharedSecret").as_ref().to_vec();
            assert_eq!(secret.len(), secret_len(spec), "{spec} secret length");
            assert_eq!(
                secret,
                ecdh(&kms_spki),
                "{spec}: KMS and local ECDH disagree"
            );
            // Deterministic for the same pair of keys.
            let again = ok(try_derive(&c, id, &our_spki).await);
            assert_eq!(again.shared_secret().unwrap().as_ref(), &secret[..]);
        }
    }
}

#[tokio::test]
async fn two_kms_keys_agree_with_each_other() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("ECC_NIST_P384", "KEY_AGREEMENT"),
            ("ECC_NIST_P384", "KEY_AGREEMENT"),
        ],
    )
    .await;
    let (a, b) = (&ids[0], &ids[1]);
    let (pa, pb) = (public_key_der(&c, a).await, public_key_der(&c, b).await);
    let ab = ok(try_derive(&c, a, &pb).await);
    let ba = ok(try_derive(&c, b, &pa).await);
    assert_eq!(
        ab.shared_secret().unwrap().as_ref(),
        ba.shared_secret().unwrap().as_ref(),
        "Alice(priv)·Bob(pub) must equal Bob(priv)·Alice(pub)"
    );
    // By alias too.
    ok(c.create_alias()
        .alias_name("alias/alice")
        .target_key_id(a)
        .send()
        .await);
    let via_alias = ok(try_derive(&c, "alias/alice", &pb).await);
    assert_eq!(via_alias.key_id(), Some(key_arn(REGION, a).as_str()));
    assert_eq!(via_alias.shared_secret(), ab.shared_secret());
}

#[tokio::test]
async fn derive_shared_secret_rejects_unusable_public_keys() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("ECC_NIST_P256", "KEY_AGREEMENT"),
            ("RSA_2048", "ENCRYPT_DECRYPT"),
        ],
    )
    .await;
    let (id, rsa) = (&ids[0], &ids[1]);
    let bad_key = ["ValidationException", "InvalidKeyUsageException"];
    // A public key on another curve.
    for other in ["ECC_NIST_P384", "ECC_NIST_P521"] {
        let (spki, _) = local_party(other);
        assert_code_in(try_derive(&c, id, &spki).await, &bad_key);
    }
    let k1 = k256::SecretKey::random(&mut OsRng)
        .public_key()
        .to_public_key_der()
        .unwrap();
    assert_code_in(try_derive(&c, id, k1.as_bytes()).await, &bad_key);
    // An RSA public key.
    let rsa_spki = public_key_der(&c, rsa).await;
    assert_code_in(try_derive(&c, id, &rsa_spki).await, &bad_key);
    // Not DER at all, or a truncated SPKI.
    assert_code(
        try_derive(&c, id, b"definitely not DER").await,
        "ValidationException",
    );
    let (good, _) = local_party("ECC_NIST_P256");
    assert_code(
        try_derive(&c, id, &good[..good.len() - 5]).await,
        "ValidationException",
    );
    // A point that is not on the curve (last coordinate byte changed).
    let mut off_curve = good.clone();
    let last = off_curve.len() - 1;
    off_curve[last] ^= 0x01;
    assert_code(try_derive(&c, id, &off_curve).await, "ValidationException");
    // The good key still works afterwards.
    ok(try_derive(&c, id, &good).await);
}

#[tokio::test]
async fn derive_shared_secret_needs_an_enabled_key_agreement_key() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("ECC_NIST_P256", "KEY_AGREEMENT"),
            ("ECC_NIST_P256", "SIGN_VERIFY"),
            ("RSA_2048", "ENCRYPT_DECRYPT"),
            ("HMAC_256", "GENERATE_VERIFY_MAC"),
        ],
    )
    .await;
    let (agree, signer, rsa, mac) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let sym = create_key(&c).await;
    let (peer, _) = local_party("ECC_NIST_P256");
    let usage = "InvalidKeyUsageException";
    for k in [signer, rsa, mac, &sym] {
        assert_code(try_derive(&c, k, &peer).await, usage);
    }
    // A KEY_AGREEMENT key cannot sign or encrypt.
    assert_code(
        c.sign()
            .key_id(agree)
            .signing_algorithm(aws_sdk_kms::types::SigningAlgorithmSpec::EcdsaSha256)
            .message(blob(b"m"))
            .send()
            .await,
        usage,
    );
    assert_code(
        c.encrypt().key_id(agree).plaintext(blob(b"m")).send().await,
        usage,
    );

    assert_code(
        c.derive_shared_secret()
            .key_id(agree)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(blob(&peer))
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );

    ok(c.disable_key().key_id(agree).send().await);
    assert_code(try_derive(&c, agree, &peer).await, "DisabledException");
    ok(c.enable_key().key_id(agree).send().await);
    ok(try_derive(&c, agree, &peer).await);

    // Key specs that cannot do key agreement.
    for spec in [
        "ECC_SECG_P256K1",
        "RSA_2048",
        "ECC_NIST_EDWARDS25519",
        "HMAC_256",
        "SYMMETRIC_DEFAULT",
        "ML_DSA_44",
    ] {
        assert_code(
            c.create_key()
                .key_spec(KeySpec::from(spec))
                .key_usage(KeyUsageType::KeyAgreement)
                .send()
                .await,
            "ValidationException",
        );
    }
}
