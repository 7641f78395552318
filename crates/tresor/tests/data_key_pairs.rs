//! GenerateDataKeyPair / GenerateDataKeyPairWithoutPlaintext: for every pair spec the private
//! key is PKCS#8 DER that an independent implementation parses, its public half is exactly the
//! returned SubjectPublicKeyInfo, and the encrypted copy decrypts (with the same encryption
//! context) to the same bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::DataKeyPairSpec;
use aws_sdk_kms::Client;
use common::*;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;

const CTX: (&str, &str) = ("tenant", "acme");

/// Parse `private_der` (PKCS#8) and `public_der` (SPKI) independently and check they match.
fn check_pair(spec: &str, private_der: &[u8], public_der: &[u8]) {
    macro_rules! ec {
        ($c:ident) => {{
            let sk = $c::SecretKey::from_pkcs8_der(private_der)
                .unwrap_or_else(|e| panic!("{spec}: PKCS#8 private key: {e}"));
            let pk = $c::PublicKey::from_public_key_der(public_der)
                .unwrap_or_else(|e| panic!("{spec}: SPKI public key: {e}"));
            assert_eq!(
                sk.public_key(),
                pk,
                "{spec}: public key is not the private key's"
            );
            let canon = pk.to_public_key_der().unwrap();
            assert_eq!(
                canon.as_bytes(),
                public_der,
                "{spec}: SPKI is canonical DER"
            );
        }};
    }
    match spec {
        "RSA_2048" | "RSA_3072" | "RSA_4096" => {
            let sk = rsa::RsaPrivateKey::from_pkcs8_der(private_der)
                .unwrap_or_else(|e| panic!("{spec}: PKCS#8 private key: {e}"));
            sk.validate().expect("consistent RSA private key");
            let pk = rsa::RsaPublicKey::from_public_key_der(public_der).expect("RSA SPKI");
            assert_eq!(
                sk.to_public_key(),
                pk,
                "{spec}: public key is not the private key's"
            );
            assert_eq!(pk.n().bits(), spec[4..].parse::<usize>().unwrap());
            assert_eq!(pk.e(), &rsa::BigUint::from(65537u32));
            let canon = pk.to_public_key_der().unwrap();
            assert_eq!(
                canon.as_bytes(),
                public_der,
                "{spec}: SPKI is canonical DER"
            );
        }
        "ECC_NIST_P256" => ec!(p256),
        "ECC_NIST_P384" => ec!(p384),
        "ECC_NIST_P521" => ec!(p521),
        "ECC_SECG_P256K1" => ec!(k256),
        "ECC_NIST_EDWARDS25519" => {
            use ed25519_dalek::pkcs8::EncodePublicKey as _;
            use ed25519_dalek::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
            let sk = ed25519_dalek::SigningKey::from_pkcs8_der(private_der)
                .unwrap_or_else(|e| panic!("{spec}: PKCS#8 private key: {e}"));
            let pk =
                ed25519_dalek::VerifyingKey::from_public_key_der(public_der).expect("Ed25519 SPKI");
            assert_eq!(
                sk.verifying_key(),
                pk,
                "{spec}: public key is not the private key's"
            );
            assert_eq!(pk.to_public_key_der().unwrap().as_bytes(), public_der);
        }
        _ => panic!("unexpected {spec}"),
    }
}

/// Run both operations for `spec` under `key`, checking everything; returns the two public keys.
async fn exercise(c: Client, key: String, spec: String) -> (Vec<u8>, Vec<u8>) {
    let arn = key_arn(REGION, &key);
    let out = ok(c
        .generate_data_key_pair()
        .key_id(&key)
        .key_pair_spec(DataKeyPairSpec::from(spec.as_str()))
        .encryption_context(CTX.0, CTX.1)
        .send()
        .await);
    assert_eq!(
        out.key_id(),
        Some(arn.as_str()),
        "{spec}: KeyId is the key ARN"
    );
    assert_eq!(out.key_pair_spec().map(|s| s.as_str()), Some(spec.as_str()));
    let private = out
        .private_key_plaintext()
        .expect("PrivateKeyPlaintext")
        .as_ref()
        .to_vec();
    let public = out.public_key().expect("PublicKey").as_ref().to_vec();
    let blob_ct = out
        .private_key_ciphertext_blob()
        .expect("PrivateKeyCiphertextBlob");
    let blob_ct = blob_ct.as_ref().to_vec();
    check_pair(&spec, &private, &public);
    assert!(
        !blob_ct
            .windows(16)
            .any(|w| private.windows(16).any(|p| p == w)),
        "{spec}: the ciphertext must not contain the private key"
    );
    let d = ok(c
        .decrypt()
        .ciphertext_blob(blob(&blob_ct))
        .encryption_context(CTX.0, CTX.1)
        .send()
        .await);
    assert_eq!(d.key_id(), Some(arn.as_str()));
    assert_eq!(
        d.plaintext().unwrap().as_ref(),
        &private[..],
        "{spec}: decrypted blob"
    );
    assert_code(
        c.decrypt().ciphertext_blob(blob(&blob_ct)).send().await,
        "InvalidCiphertextException",
    );

    let wo = ok(c
        .generate_data_key_pair_without_plaintext()
        .key_id(&key)
        .key_pair_spec(DataKeyPairSpec::from(spec.as_str()))
        .send()
        .await);
    assert_eq!(wo.key_id(), Some(arn.as_str()));
    assert_eq!(wo.key_pair_spec().map(|s| s.as_str()), Some(spec.as_str()));
    let public2 = wo.public_key().expect("PublicKey").as_ref().to_vec();
    let ct2 = wo
        .private_key_ciphertext_blob()
        .expect("PrivateKeyCiphertextBlob");
    let d2 = ok(c.decrypt().ciphertext_blob(ct2.clone()).send().await);
    check_pair(&spec, d2.plaintext().unwrap().as_ref(), &public2);
    (public, public2)
}

async fn exercise_all(c: &Client, key: &str, specs: &[&str]) {
    let handles: Vec<_> = specs
        .iter()
        .map(|s| tokio::spawn(exercise(c.clone(), key.to_string(), s.to_string())))
        .collect();
    for (spec, h) in specs.iter().zip(handles) {
        let (p1, p2) = h.await.unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_ne!(p1, p2, "{spec}: every call makes a new key pair");
    }
}

#[tokio::test]
async fn ecc_and_ed25519_data_key_pairs_are_valid_pkcs8_and_spki() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = create_key(&c).await;
    exercise_all(
        &c,
        &key,
        &[
            "ECC_NIST_P256",
            "ECC_NIST_P384",
            "ECC_NIST_P521",
            "ECC_SECG_P256K1",
            "ECC_NIST_EDWARDS25519",
        ],
    )
    .await;
}

#[tokio::test]
async fn rsa_data_key_pairs_are_valid_pkcs8_and_spki() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = create_key(&c).await;
    exercise_all(&c, &key, &["RSA_2048", "RSA_3072", "RSA_4096"]).await;
}

#[tokio::test]
async fn data_key_pair_works_through_an_alias_and_keeps_context_binding() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = create_key(&c).await;
    ok(c.create_alias()
        .alias_name("alias/dkp")
        .target_key_id(&key)
        .send()
        .await);
    let out = ok(c
        .generate_data_key_pair_without_plaintext()
        .key_id("alias/dkp")
        .key_pair_spec(DataKeyPairSpec::EccNistP256)
        .encryption_context("a", "1")
        .encryption_context("b", "2")
        .send()
        .await);
    assert_eq!(out.key_id(), Some(key_arn(REGION, &key).as_str()));
    let ct = out.private_key_ciphertext_blob().unwrap().clone();
    for wrong in [("a", "1"), ("b", "2"), ("a", "2")] {
        assert_code(
            c.decrypt()
                .ciphertext_blob(ct.clone())
                .encryption_context(wrong.0, wrong.1)
                .send()
                .await,
            "InvalidCiphertextException",
        );
    }
    let d = ok(c
        .decrypt()
        .ciphertext_blob(ct)
        .encryption_context("b", "2")
        .encryption_context("a", "1")
        .send()
        .await);
    check_pair(
        "ECC_NIST_P256",
        d.plaintext().unwrap().as_ref(),
        out.public_key().unwrap().as_ref(),
    );
}

#[tokio::test]
async fn data_key_pairs_need_an_enabled_symmetric_encryption_key() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("RSA_2048", "ENCRYPT_DECRYPT"),
            ("ECC_NIST_P256", "SIGN_VERIFY"),
            ("HMAC_256", "GENERATE_VERIFY_MAC"),
            ("ECC_NIST_P384", "KEY_AGREEMENT"),
        ],
    )
    .await;
    for k in &ids {
        assert_code(
            c.generate_data_key_pair()
                .key_id(k)
                .key_pair_spec(DataKeyPairSpec::EccNistP256)
                .send()
                .await,
            "InvalidKeyUsageException",
        );
        assert_code(
            c.generate_data_key_pair_without_plaintext()
                .key_id(k)
                .key_pair_spec(DataKeyPairSpec::EccNistP256)
                .send()
                .await,
            "InvalidKeyUsageException",
        );
    }
    let sym = create_key(&c).await;
    // ML-DSA is not a data key pair spec.
    assert_code(
        c.generate_data_key_pair()
            .key_id(&sym)
            .key_pair_spec(DataKeyPairSpec::from("ML_DSA_44"))
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.generate_data_key_pair()
            .key_id(&sym)
            .key_pair_spec(DataKeyPairSpec::EccNistP256)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    assert_code(
        c.generate_data_key_pair()
            .key_id("alias/none")
            .key_pair_spec(DataKeyPairSpec::EccNistP256)
            .send()
            .await,
        "NotFoundException",
    );
    ok(c.disable_key().key_id(&sym).send().await);
    assert_code(
        c.generate_data_key_pair()
            .key_id(&sym)
            .key_pair_spec(DataKeyPairSpec::EccNistP256)
            .send()
            .await,
        "DisabledException",
    );
    assert_code(
        c.generate_data_key_pair_without_plaintext()
            .key_id(&sym)
            .key_pair_spec(DataKeyPairSpec::EccNistP256)
            .send()
            .await,
        "DisabledException",
    );
}

/// The raw encapsulation key of an ML-KEM seed d ‖ z.
fn ml_kem_public(spec: &str, seed: [u8; 64]) -> Vec<u8> {
    use ml_kem::KeyExport as _;
    let seed = ml_kem::Seed::from(seed);
    match spec {
        "ML_KEM_512" => ml_kem::DecapsulationKey::<ml_kem::MlKem512>::from_seed(seed)
            .encapsulation_key()
            .to_bytes()
            .to_vec(),
        "ML_KEM_768" => ml_kem::DecapsulationKey::<ml_kem::MlKem768>::from_seed(seed)
            .encapsulation_key()
            .to_bytes()
            .to_vec(),
        _ => ml_kem::DecapsulationKey::<ml_kem::MlKem1024>::from_seed(seed)
            .encapsulation_key()
            .to_bytes()
            .to_vec(),
    }
}

#[tokio::test]
async fn ml_kem_data_key_pairs_use_the_seed_format() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = create_key(&c).await;
    let mut private_lens = Vec::new();
    for (spec, pk_len) in [
        ("ML_KEM_512", 800usize),
        ("ML_KEM_768", 1184),
        ("ML_KEM_1024", 1568),
    ] {
        let res = c
            .generate_data_key_pair()
            .key_id(&key)
            .key_pair_spec(DataKeyPairSpec::from(spec))
            .send()
            .await;
        let out = ok(res);
        assert_eq!(out.key_pair_spec().map(|s| s.as_str()), Some(spec));
        let public = out.public_key().unwrap().as_ref().to_vec();
        assert_eq!(public.len(), pk_len + 22, "{spec}: SPKI length");
        let private = out.private_key_plaintext().unwrap().as_ref().to_vec();
        assert_eq!(private[0], 0x30, "{spec}: PKCS#8 is a DER SEQUENCE");
        // RFC 9935 seed form: OCTET STRING { [0] IMPLICIT OCTET STRING (64) }.
        assert_eq!(private.len(), 86, "{spec}");
        assert_eq!(&private[18..22], &[0x04, 0x42, 0x80, 0x40], "{spec}");
        // The public key is the one the seed expands to (RustCrypto ml-kem, independently
        // of the server's aws-lc path), and it encapsulates to the private key.
        let seed: [u8; 64] = private[22..].try_into().unwrap();
        let ek = ml_kem_public(spec, seed);
        assert_eq!(
            &public[22..],
            &ek[..],
            "{spec}: PublicKey is not the seed's"
        );
        private_lens.push(private.len());
        let ct = out.private_key_ciphertext_blob().unwrap().clone();
        let d = ok(c.decrypt().ciphertext_blob(ct).send().await);
        assert_eq!(d.plaintext().unwrap().as_ref(), &private[..]);
    }
    // Seed format: the private key has the same length for every ML-KEM spec.
    assert!(
        private_lens.windows(2).all(|w| w[0] == w[1]),
        "ML-KEM PKCS#8 lengths differ: {private_lens:?}"
    );
}
