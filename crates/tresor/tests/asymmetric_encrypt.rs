//! Asymmetric encryption: RSA ENCRYPT_DECRYPT keys (RSAES_OAEP_SHA_1/256) checked against the
//! independent `rsa` crate, plaintext limits, required parameters, ReEncrypt across key types,
//! and ML-KEM ENCAPSULATE_DECAPSULATE keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::SdkError;
use aws_sdk_kms::operation::decrypt::{DecryptError, DecryptOutput};
use aws_sdk_kms::operation::encrypt::{EncryptError, EncryptOutput};
use aws_sdk_kms::types::{
    EncapsulationAlgorithmSpec, EncryptionAlgorithmSpec, KeySpec, KeyUsageType,
};
use aws_sdk_kms::Client;
use common::*;
use rsa::pkcs8::DecodePublicKey;
use rsa::rand_core::OsRng;
use rsa::traits::PublicKeyParts;

const OAEP1: &str = "RSAES_OAEP_SHA_1";
const OAEP256: &str = "RSAES_OAEP_SHA_256";

async fn try_encrypt(
    c: &Client,
    key: &str,
    alg: &str,
    pt: &[u8],
) -> Result<EncryptOutput, SdkError<EncryptError, HttpResponse>> {
    c.encrypt()
        .key_id(key)
        .encryption_algorithm(EncryptionAlgorithmSpec::from(alg))
        .plaintext(blob(pt))
        .send()
        .await
}

async fn try_decrypt(
    c: &Client,
    key: &str,
    alg: &str,
    ct: &[u8],
) -> Result<DecryptOutput, SdkError<DecryptError, HttpResponse>> {
    c.decrypt()
        .key_id(key)
        .encryption_algorithm(EncryptionAlgorithmSpec::from(alg))
        .ciphertext_blob(blob(ct))
        .send()
        .await
}

async fn encrypt(c: &Client, key: &str, alg: &str, pt: &[u8]) -> Vec<u8> {
    let out = ok(try_encrypt(c, key, alg, pt).await);
    assert_eq!(out.key_id(), Some(key_arn(REGION, key).as_str()));
    assert_eq!(out.encryption_algorithm().map(|a| a.as_str()), Some(alg));
    out.ciphertext_blob()
        .expect("CiphertextBlob")
        .as_ref()
        .to_vec()
}

async fn decrypt(c: &Client, key: &str, alg: &str, ct: &[u8]) -> Vec<u8> {
    let out = ok(try_decrypt(c, key, alg, ct).await);
    assert_eq!(out.key_id(), Some(key_arn(REGION, key).as_str()));
    assert_eq!(out.encryption_algorithm().map(|a| a.as_str()), Some(alg));
    out.plaintext().expect("Plaintext").as_ref().to_vec()
}

/// OAEP encryption with the independent crate (same hash for OAEP and MGF1, empty label).
fn local_encrypt(pk: &rsa::RsaPublicKey, alg: &str, pt: &[u8]) -> Vec<u8> {
    let padding = match alg {
        OAEP1 => rsa::Oaep::new::<sha1::Sha1>(),
        OAEP256 => rsa::Oaep::new::<sha2::Sha256>(),
        _ => panic!("unexpected {alg}"),
    };
    pk.encrypt(&mut OsRng, padding, pt)
        .expect("local OAEP encryption")
}

fn max_plaintext(bits: usize, alg: &str) -> usize {
    let hlen = if alg == OAEP1 { 20 } else { 32 };
    bits / 8 - 2 * hlen - 2
}

#[tokio::test]
async fn rsa_encryption_keys_of_every_size_round_trip_at_the_plaintext_limit() {
    let srv = Server::start();
    let c = srv.client().await;
    let specs = [
        ("RSA_2048", 2048usize),
        ("RSA_3072", 3072),
        ("RSA_4096", 4096),
    ];
    let pairs: Vec<(&str, &str)> = specs.iter().map(|(s, _)| (*s, "ENCRYPT_DECRYPT")).collect();
    let ids = create_keys_spec(&c, &pairs).await;
    // The documented maxima.
    assert_eq!(
        [2048, 3072, 4096].map(|b| max_plaintext(b, OAEP1)),
        [214, 342, 470]
    );
    assert_eq!(
        [2048, 3072, 4096].map(|b| max_plaintext(b, OAEP256)),
        [190, 318, 446]
    );
    for ((spec, bits), id) in specs.iter().zip(&ids) {
        let m = describe_key_metadata(&c, id).await;
        assert_eq!(m.key_spec(), Some(&KeySpec::from(*spec)));
        assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
        assert_eq!(
            names(m.encryption_algorithms()),
            sorted(&[OAEP1, OAEP256]),
            "{spec}"
        );
        assert!(
            m.signing_algorithms.is_none(),
            "{spec}: no SigningAlgorithms"
        );
        assert!(m.mac_algorithms.is_none() && m.key_agreement_algorithms.is_none());

        let gp = ok(c.get_public_key().key_id(id).send().await);
        assert_eq!(gp.key_spec(), Some(&KeySpec::from(*spec)));
        assert_eq!(gp.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
        assert_eq!(names(gp.encryption_algorithms()), sorted(&[OAEP1, OAEP256]));
        assert!(gp.signing_algorithms.is_none());
        let pk = rsa::RsaPublicKey::from_public_key_der(gp.public_key().unwrap().as_ref())
            .expect("RSA SPKI");
        assert_eq!(pk.n().bits(), *bits);

        for alg in [OAEP1, OAEP256] {
            let max = max_plaintext(*bits, alg);
            for len in [1, max] {
                let pt = pattern(len, len as u8);
                let ct = encrypt(&c, id, alg, &pt).await;
                assert_eq!(
                    ct.len(),
                    bits / 8,
                    "{spec} {alg}: ciphertext is one modulus long"
                );
                assert_eq!(
                    decrypt(&c, id, alg, &ct).await,
                    pt,
                    "{spec} {alg} len {len}"
                );
                // Ciphertext made with the public key outside KMS decrypts inside.
                let local = local_encrypt(&pk, alg, &pt);
                assert_eq!(decrypt(&c, id, alg, &local).await, pt, "{spec} {alg} local");
            }
            assert_code_in(
                try_encrypt(&c, id, alg, &pattern(max + 1, 0)).await,
                &["ValidationException", "InvalidKeyUsageException"],
            );
        }
    }
}

#[tokio::test]
async fn rsa_encryption_is_randomized_and_bound_to_key_and_algorithm() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("RSA_2048", "ENCRYPT_DECRYPT"),
            ("RSA_2048", "ENCRYPT_DECRYPT"),
        ],
    )
    .await;
    let (a, b) = (&ids[0], &ids[1]);
    let pt = b"the eagle has landed".to_vec();
    let ct1 = encrypt(&c, a, OAEP256, &pt).await;
    let ct2 = encrypt(&c, a, OAEP256, &pt).await;
    assert_ne!(ct1, ct2, "OAEP is randomized");
    let bad_ct = "InvalidCiphertextException";
    // The other OAEP hash, another key, or a changed byte cannot decrypt it.
    assert_code(try_decrypt(&c, a, OAEP1, &ct1).await, bad_ct);
    assert_code(try_decrypt(&c, b, OAEP256, &ct1).await, bad_ct);
    let mut tampered = ct1.clone();
    tampered[100] ^= 0x04;
    assert_code(try_decrypt(&c, a, OAEP256, &tampered).await, bad_ct);
    assert_code(try_decrypt(&c, a, OAEP256, &ct1[..255]).await, bad_ct);

    // Asymmetric ciphertext carries no key id: without KeyId KMS cannot find the key.
    assert_code_in(
        c.decrypt()
            .ciphertext_blob(blob(&ct1))
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .send()
            .await,
        &["InvalidCiphertextException", "ValidationException"],
    );
    // EncryptionAlgorithm is required for asymmetric keys (the default is SYMMETRIC_DEFAULT).
    // An RSA ciphertext is random bytes: 2 times in 256 its first byte is a symmetric
    // blob's format byte, and then it reads as a symmetric ciphertext, which an RSA key
    // answers with IncorrectKeyException (as AWS does for a symmetric ciphertext).
    assert_code_in(
        c.decrypt()
            .key_id(a)
            .ciphertext_blob(blob(&ct1))
            .send()
            .await,
        &[
            "InvalidKeyUsageException",
            "ValidationException",
            bad_ct,
            "IncorrectKeyException",
        ],
    );
    // AWS: "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."
    assert_code(
        c.encrypt().key_id(a).plaintext(blob(&pt)).send().await,
        "InvalidKeyUsageException",
    );
    assert_code(
        try_encrypt(&c, a, "SYMMETRIC_DEFAULT", &pt).await,
        "InvalidKeyUsageException",
    );
    // An encryption context is only for symmetric keys.
    let with_ctx = expect_err(
        c.encrypt()
            .key_id(a)
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .encryption_context("purpose", "test")
            .plaintext(blob(&pt))
            .send()
            .await,
    );
    assert!(
        matches!(with_ctx.status, Some(400..=499)),
        "EncryptionContext on an RSA key must be a client error: {with_ctx:?}"
    );
    assert_eq!(decrypt(&c, a, OAEP256, &ct2).await, pt);
}

#[tokio::test]
async fn rsa_keys_are_only_for_their_usage() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("RSA_2048", "ENCRYPT_DECRYPT"),
            ("RSA_2048", "SIGN_VERIFY"),
            ("ECC_NIST_P256", "SIGN_VERIFY"),
            ("HMAC_256", "GENERATE_VERIFY_MAC"),
        ],
    )
    .await;
    let (enc, sig, ec, mac) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let sym = create_key(&c).await;
    let usage = "InvalidKeyUsageException";

    // Symmetric-only operations reject an RSA ENCRYPT_DECRYPT key.
    assert_code(
        c.generate_data_key()
            .key_id(enc)
            .number_of_bytes(32)
            .send()
            .await,
        usage,
    );
    assert_code(
        c.generate_data_key_without_plaintext()
            .key_id(enc)
            .number_of_bytes(32)
            .send()
            .await,
        usage,
    );
    // Encrypt/Decrypt reject keys without ENCRYPT_DECRYPT usage.
    for k in [sig, ec, mac] {
        assert_code(try_encrypt(&c, k, OAEP256, b"x").await, usage);
        assert_code(try_decrypt(&c, k, OAEP256, &[7u8; 256]).await, usage);
    }
    // An RSA algorithm on a symmetric key.
    assert_code(try_encrypt(&c, &sym, OAEP256, b"x").await, usage);

    // A default KeyUsage on an RSA spec is ENCRYPT_DECRYPT.
    let out = ok(c.create_key().key_spec(KeySpec::Rsa2048).send().await);
    let m = out.key_metadata().unwrap();
    assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(names(m.encryption_algorithms()), sorted(&[OAEP1, OAEP256]));

    // Disabled → DisabledException for both directions.
    let ct = encrypt(&c, enc, OAEP1, b"state").await;
    ok(c.disable_key().key_id(enc).send().await);
    assert_code(try_encrypt(&c, enc, OAEP1, b"x").await, "DisabledException");
    assert_code(try_decrypt(&c, enc, OAEP1, &ct).await, "DisabledException");
    ok(c.enable_key().key_id(enc).send().await);
    assert_eq!(decrypt(&c, enc, OAEP1, &ct).await, b"state");

    // Invalid pairings for encryption.
    for (spec, u) in [
        ("ECC_NIST_P256", "ENCRYPT_DECRYPT"),
        ("RSA_2048", "GENERATE_VERIFY_MAC"),
        ("RSA_3072", "KEY_AGREEMENT"),
        ("ML_KEM_768", "ENCRYPT_DECRYPT"),
        ("RSA_2048", "ENCAPSULATE_DECAPSULATE"),
    ] {
        assert_code(
            c.create_key()
                .key_spec(KeySpec::from(spec))
                .key_usage(KeyUsageType::from(u))
                .send()
                .await,
            "ValidationException",
        );
    }
}

#[tokio::test]
async fn reencrypt_moves_ciphertext_between_rsa_and_symmetric_keys() {
    let srv = Server::start();
    let c = srv.client().await;
    let rsa_id = create_key_spec(&c, "RSA_2048", "ENCRYPT_DECRYPT").await;
    let sym = create_key(&c).await;
    let pt = b"migrate me".to_vec();
    let rsa_ct = encrypt(&c, &rsa_id, OAEP1, &pt).await;

    let out = ok(c
        .re_encrypt()
        .ciphertext_blob(blob(&rsa_ct))
        .source_key_id(&rsa_id)
        .source_encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
        .destination_key_id(&sym)
        .send()
        .await);
    assert_eq!(out.source_key_id(), Some(key_arn(REGION, &rsa_id).as_str()));
    assert_eq!(out.key_id(), Some(key_arn(REGION, &sym).as_str()));
    assert_eq!(
        out.source_encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::RsaesOaepSha1)
    );
    let sym_ct = out.ciphertext_blob().unwrap().as_ref().to_vec();
    let d = ok(c.decrypt().ciphertext_blob(blob(&sym_ct)).send().await);
    assert_eq!(d.plaintext().unwrap().as_ref(), &pt[..]);

    let back = ok(c
        .re_encrypt()
        .ciphertext_blob(blob(&sym_ct))
        .destination_key_id(&rsa_id)
        .destination_encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await);
    assert_eq!(
        back.destination_encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::RsaesOaepSha256)
    );
    let rsa_ct2 = back.ciphertext_blob().unwrap().as_ref().to_vec();
    assert_eq!(rsa_ct2.len(), 256);
    assert_eq!(decrypt(&c, &rsa_id, OAEP256, &rsa_ct2).await, pt);
}

#[tokio::test]
async fn ml_kem_keys_encapsulate_and_decapsulate() {
    let srv = Server::start();
    let c = srv.client().await;
    let specs = [
        ("ML_KEM_512", 800usize, 768usize),
        ("ML_KEM_768", 1184, 1088),
        ("ML_KEM_1024", 1568, 1568),
    ];
    let pairs: Vec<(&str, &str)> = specs
        .iter()
        .map(|(s, _, _)| (*s, "ENCAPSULATE_DECAPSULATE"))
        .collect();
    let ids = create_keys_spec(&c, &pairs).await;
    for ((spec, pk_len, ct_len), id) in specs.iter().zip(&ids) {
        let m = describe_key_metadata(&c, id).await;
        assert_eq!(m.key_spec(), Some(&KeySpec::from(*spec)));
        assert_eq!(m.key_usage(), Some(&KeyUsageType::EncapsulateDecapsulate));
        assert_eq!(
            m.encapsulation_algorithms(),
            &[EncapsulationAlgorithmSpec::MlKem]
        );
        assert!(m.encryption_algorithms.is_none() && m.signing_algorithms.is_none());

        let gp = ok(c.get_public_key().key_id(id).send().await);
        assert_eq!(gp.key_usage(), Some(&KeyUsageType::EncapsulateDecapsulate));
        assert_eq!(
            gp.encapsulation_algorithms(),
            &[EncapsulationAlgorithmSpec::MlKem]
        );
        let spki = gp.public_key().unwrap().as_ref().to_vec();
        assert_eq!(spki.len(), pk_len + 22, "{spec} SPKI length");

        assert_code(
            try_encrypt(&c, id, OAEP256, b"x").await,
            "InvalidKeyUsageException",
        );

        // The primitive may be missing from the server's library.
        let enc = c
            .encapsulate()
            .key_id(id)
            .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
            .send()
            .await;
        let enc = match enc {
            Ok(o) => o,
            Err(e) => {
                let info = expect_err::<(), _>(Err(e));
                assert_eq!(info.code, "UnsupportedOperationException", "{info:?}");
                continue;
            }
        };
        assert_eq!(enc.key_id(), Some(key_arn(REGION, id).as_str()));
        let secret = enc.shared_secret().unwrap().as_ref().to_vec();
        let kem_ct = enc
            .shared_secret_ciphertext_blob()
            .unwrap()
            .as_ref()
            .to_vec();
        assert_eq!(secret.len(), 32, "{spec} shared secret");
        assert_eq!(kem_ct.len(), *ct_len, "{spec} ciphertext");
        let dec = ok(c
            .decapsulate()
            .key_id(id)
            .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
            .shared_secret_ciphertext_blob(blob(&kem_ct))
            .send()
            .await);
        assert_eq!(dec.shared_secret().unwrap().as_ref(), &secret[..]);
        // Implicit rejection: a changed ciphertext yields some other secret, not an error.
        let mut bad = kem_ct.clone();
        bad[5] ^= 1;
        let rej = ok(c
            .decapsulate()
            .key_id(id)
            .encapsulation_algorithm(EncapsulationAlgorithmSpec::MlKem)
            .shared_secret_ciphertext_blob(blob(&bad))
            .send()
            .await);
        let other = rej.shared_secret().unwrap().as_ref().to_vec();
        assert_eq!(other.len(), 32);
        assert_ne!(
            other, secret,
            "implicit rejection must not return the real secret"
        );
    }
}
