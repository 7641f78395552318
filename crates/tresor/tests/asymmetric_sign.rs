//! Asymmetric signing keys: CreateKey/DescribeKey/GetPublicKey for every SIGN_VERIFY spec,
//! Sign/Verify with RAW and DIGEST messages, independent verification of the signatures with
//! RustCrypto (`rsa`, `p256`, `p384`, `p521`, `k256`, `ed25519-dalek`), limits and errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::SdkError;
use aws_sdk_kms::operation::sign::{SignError, SignOutput};
use aws_sdk_kms::operation::verify::{VerifyError, VerifyOutput};
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use aws_sdk_kms::Client;
use common::*;
use sha2::{Digest, Sha512};

type SignResult = Result<SignOutput, SdkError<SignError, HttpResponse>>;

async fn try_sign(c: &Client, key: &str, alg: &str, mt: &str, msg: &[u8]) -> SignResult {
    c.sign()
        .key_id(key)
        .signing_algorithm(SigningAlgorithmSpec::from(alg))
        .message_type(MessageType::from(mt))
        .message(blob(msg))
        .send()
        .await
}

async fn sign(c: &Client, key: &str, alg: &str, mt: &str, msg: &[u8]) -> Vec<u8> {
    let out = ok(try_sign(c, key, alg, mt, msg).await);
    assert_eq!(out.key_id(), Some(key_arn(REGION, key).as_str()));
    assert_eq!(out.signing_algorithm().map(|a| a.as_str()), Some(alg));
    out.signature().expect("Signature").as_ref().to_vec()
}

async fn try_verify(
    c: &Client,
    key: &str,
    alg: &str,
    mt: &str,
    msg: &[u8],
    sig: &[u8],
) -> Result<VerifyOutput, SdkError<VerifyError, HttpResponse>> {
    c.verify()
        .key_id(key)
        .signing_algorithm(SigningAlgorithmSpec::from(alg))
        .message_type(MessageType::from(mt))
        .message(blob(msg))
        .signature(blob(sig))
        .send()
        .await
}

async fn verify_ok(c: &Client, key: &str, alg: &str, mt: &str, msg: &[u8], sig: &[u8]) {
    let out = ok(try_verify(c, key, alg, mt, msg, sig).await);
    assert!(out.signature_valid(), "SignatureValid must be true");
    assert_eq!(out.key_id(), Some(key_arn(REGION, key).as_str()));
    assert_eq!(out.signing_algorithm().map(|a| a.as_str()), Some(alg));
}

fn expected_algs(spec: &str) -> Vec<String> {
    match spec {
        s if s.starts_with("RSA_") => sorted(&RSA_SIGNING_ALGS),
        "ECC_NIST_P256" | "ECC_SECG_P256K1" => sorted(&["ECDSA_SHA_256"]),
        "ECC_NIST_P384" => sorted(&["ECDSA_SHA_384"]),
        "ECC_NIST_P521" => sorted(&["ECDSA_SHA_512"]),
        "ECC_NIST_EDWARDS25519" => sorted(&["ED25519_SHA_512", "ED25519_PH_SHA_512"]),
        s if s.starts_with("ML_DSA_") => sorted(&["ML_DSA_SHAKE_256"]),
        _ => panic!("no signing algorithms for {spec}"),
    }
}

#[tokio::test]
async fn every_signing_spec_is_created_and_described_like_aws() {
    let srv = Server::start();
    let c = srv.client().await;
    let specs = [
        "RSA_2048",
        "RSA_3072",
        "ECC_NIST_P256",
        "ECC_NIST_P384",
        "ECC_NIST_P521",
        "ECC_SECG_P256K1",
        "ECC_NIST_EDWARDS25519",
        "ML_DSA_44",
        "ML_DSA_65",
        "ML_DSA_87",
    ];
    let pairs: Vec<(&str, &str)> = specs.iter().map(|s| (*s, "SIGN_VERIFY")).collect();
    let ids = create_keys_spec(&c, &pairs).await;
    for (spec, id) in specs.iter().zip(&ids) {
        let m = describe_key_metadata(&c, id).await;
        assert_eq!(m.key_spec(), Some(&KeySpec::from(*spec)), "{spec}");
        assert_eq!(m.key_usage(), Some(&KeyUsageType::SignVerify), "{spec}");
        assert!(m.enabled(), "{spec} must be enabled");
        assert_eq!(names(m.signing_algorithms()), expected_algs(spec), "{spec}");
        assert!(
            m.encryption_algorithms.is_none(),
            "{spec}: no EncryptionAlgorithms"
        );
        assert!(m.mac_algorithms.is_none(), "{spec}: no MacAlgorithms");
        assert!(
            m.key_agreement_algorithms.is_none(),
            "{spec}: no KeyAgreementAlgorithms"
        );
        assert!(
            m.encapsulation_algorithms.is_none(),
            "{spec}: no EncapsulationAlgorithms"
        );
        if spec.starts_with("RSA_") || spec.starts_with("ECC_NIST_P") || spec.contains("SECG") {
            #[allow(deprecated)]
            let cmk = m.customer_master_key_spec().map(|s| s.as_str().to_string());
            assert_eq!(
                cmk.as_deref(),
                Some(*spec),
                "CustomerMasterKeySpec mirrors KeySpec"
            );
        }

        let pk = ok(c.get_public_key().key_id(id).send().await);
        assert_eq!(pk.key_id(), Some(key_arn(REGION, id).as_str()));
        assert_eq!(pk.key_spec(), Some(&KeySpec::from(*spec)));
        assert_eq!(pk.key_usage(), Some(&KeyUsageType::SignVerify));
        assert_eq!(
            names(pk.signing_algorithms()),
            expected_algs(spec),
            "{spec}"
        );
        assert!(pk.encryption_algorithms.is_none(), "{spec}");
        assert!(pk.key_agreement_algorithms.is_none(), "{spec}");
        let der = pk.public_key().expect("PublicKey").as_ref().to_vec();
        check_spki(spec, &der);
    }
}

#[tokio::test]
async fn rsa_2048_signs_with_all_six_algorithms_raw_and_digest() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key_spec(&c, "RSA_2048", "SIGN_VERIFY").await;
    let spki = public_key_der(&c, &id).await;
    let msg = pattern(1000, 7);
    for alg in RSA_SIGNING_ALGS {
        let sig = sign(&c, &id, alg, "RAW", &msg).await;
        assert_eq!(sig.len(), 256, "{alg} signature length");
        verify_local("RSA_2048", &spki, alg, &msg, false, &sig);
        verify_ok(&c, &id, alg, "RAW", &msg, &sig).await;

        let digest = hash_for(alg, &msg);
        let dsig = sign(&c, &id, alg, "DIGEST", &digest).await;
        verify_local("RSA_2048", &spki, alg, &digest, true, &dsig);
        // A DIGEST signature is a signature over the original message.
        verify_local("RSA_2048", &spki, alg, &msg, false, &dsig);
        // The message type of Verify need not match the one used to sign.
        verify_ok(&c, &id, alg, "DIGEST", &digest, &sig).await;
        verify_ok(&c, &id, alg, "RAW", &msg, &dsig).await;

        let again = sign(&c, &id, alg, "RAW", &msg).await;
        if alg.contains("PSS") {
            assert_ne!(sig, again, "{alg} uses a random salt");
        } else {
            assert_eq!(sig, again, "{alg} is deterministic");
        }
    }
    // MessageType defaults to RAW (PKCS #1 v1.5 is deterministic).
    let alg = SigningAlgorithmSpec::RsassaPkcs1V15Sha256;
    let req = c.sign().key_id(&id).signing_algorithm(alg.clone());
    let out = ok(req.message(blob(&msg)).send().await);
    let raw = sign(&c, &id, alg.as_str(), "RAW", &msg).await;
    assert_eq!(out.signature().unwrap().as_ref(), &raw[..]);
}

#[tokio::test]
async fn rsa_3072_and_4096_signatures_verify_independently() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[("RSA_3072", "SIGN_VERIFY"), ("RSA_4096", "SIGN_VERIFY")],
    )
    .await;
    let msg = pattern(4096, 1);
    for (spec, id) in ["RSA_3072", "RSA_4096"].iter().zip(&ids) {
        let spki = public_key_der(&c, id).await;
        check_spki(spec, &spki);
        for alg in ["RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_384"] {
            let sig = sign(&c, id, alg, "RAW", &msg).await;
            assert_eq!(
                sig.len() * 8,
                spec[4..].parse::<usize>().unwrap(),
                "{spec} {alg}"
            );
            verify_local(spec, &spki, alg, &msg, false, &sig);
            verify_ok(&c, id, alg, "RAW", &msg, &sig).await;
        }
    }
}

#[tokio::test]
async fn ecdsa_signatures_verify_independently_on_every_curve() {
    let srv = Server::start();
    let c = srv.client().await;
    let curves = [
        ("ECC_NIST_P256", "ECDSA_SHA_256"),
        ("ECC_NIST_P384", "ECDSA_SHA_384"),
        ("ECC_NIST_P521", "ECDSA_SHA_512"),
        ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
    ];
    let pairs: Vec<(&str, &str)> = curves.iter().map(|(s, _)| (*s, "SIGN_VERIFY")).collect();
    let ids = create_keys_spec(&c, &pairs).await;
    for ((spec, alg), id) in curves.iter().zip(&ids) {
        let spki = public_key_der(&c, id).await;
        for msg in [pattern(1, 3), pattern(300, 4), pattern(4096, 5)] {
            let sig = sign(&c, id, alg, "RAW", &msg).await;
            verify_local(spec, &spki, alg, &msg, false, &sig);
            verify_ok(&c, id, alg, "RAW", &msg, &sig).await;
            let digest = hash_for(alg, &msg);
            let dsig = sign(&c, id, alg, "DIGEST", &digest).await;
            verify_local(spec, &spki, alg, &digest, true, &dsig);
            verify_local(spec, &spki, alg, &msg, false, &dsig);
            verify_ok(&c, id, alg, "DIGEST", &digest, &dsig).await;
            verify_ok(&c, id, alg, "RAW", &msg, &dsig).await;
        }
    }
}

#[tokio::test]
async fn ed25519_signs_raw_messages_and_prehash_digests() {
    use ed25519_dalek::pkcs8::DecodePublicKey;
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key_spec(&c, "ECC_NIST_EDWARDS25519", "SIGN_VERIFY").await;
    let spki = public_key_der(&c, &id).await;
    let vk = ed25519_dalek::VerifyingKey::from_public_key_der(&spki).expect("Ed25519 SPKI");
    for msg in [pattern(1, 9), pattern(4096, 8)] {
        let sig = sign(&c, &id, "ED25519_SHA_512", "RAW", &msg).await;
        assert_eq!(sig.len(), 64, "Ed25519 signatures are 64 bytes");
        let s = ed25519_dalek::Signature::from_slice(&sig).unwrap();
        vk.verify_strict(&msg, &s)
            .expect("independent Ed25519 verification");
        assert_eq!(sig, sign(&c, &id, "ED25519_SHA_512", "RAW", &msg).await);
        verify_ok(&c, &id, "ED25519_SHA_512", "RAW", &msg, &sig).await;
    }
    // ED25519_SHA_512 requires RAW; ED25519_PH_SHA_512 requires DIGEST.
    let digest = Sha512::digest(b"prehashed").to_vec();
    assert_code(
        try_sign(&c, &id, "ED25519_SHA_512", "DIGEST", &digest).await,
        "ValidationException",
    );
    assert_code(
        try_sign(&c, &id, "ED25519_PH_SHA_512", "RAW", b"raw message").await,
        "ValidationException",
    );
    let sig = sign(&c, &id, "ED25519_PH_SHA_512", "DIGEST", &digest).await;
    let s = ed25519_dalek::Signature::from_slice(&sig).unwrap();
    // KMS hashes the 64-byte input once more (FIPS 186-5 7.8.1 step 1).
    vk.verify_prehashed(Sha512::new().chain_update(&digest), None, &s)
        .expect("independent Ed25519ph verification");
    // Not Ed25519ph over the digest used as the prehash itself, not plain Ed25519.
    assert!(vk.verify_strict(&digest, &s).is_err());
    verify_ok(&c, &id, "ED25519_PH_SHA_512", "DIGEST", &digest, &sig).await;
    assert_code(
        try_verify(&c, &id, "ED25519_SHA_512", "RAW", &digest, &sig).await,
        "KMSInvalidSignatureException",
    );
    let mut bad = sig.clone();
    bad[40] ^= 1;
    assert_code(
        try_verify(&c, &id, "ED25519_PH_SHA_512", "DIGEST", &digest, &bad).await,
        "KMSInvalidSignatureException",
    );
    let other = Sha512::digest(b"other").to_vec();
    assert_code(
        try_verify(&c, &id, "ED25519_PH_SHA_512", "DIGEST", &other, &sig).await,
        "KMSInvalidSignatureException",
    );
    assert_code(
        try_sign(&c, &id, "ED25519_PH_SHA_512", "DIGEST", &digest[..32]).await,
        "ValidationException",
    );
}

/// FIPS 204 §6.2: μ = SHAKE256(SHAKE256(pk, 64) ‖ 0 ‖ 0 ‖ M, 64), empty context.
fn mu_of(spki: &[u8], message: &[u8]) -> Vec<u8> {
    use shake::{ExtendableOutput, Update, XofReader};
    // The raw key is the SPKI's BIT STRING after its header (22 bytes for ML-DSA).
    let raw = &spki[22..];
    let mut tr = [0u8; 64];
    let mut h = shake::Shake256::default();
    h.update(raw);
    h.finalize_xof().read(&mut tr);
    let mut h = shake::Shake256::default();
    h.update(&tr);
    h.update(&[0, 0]);
    h.update(message);
    let mut mu = vec![0u8; 64];
    h.finalize_xof().read(&mut mu);
    mu
}

#[tokio::test]
async fn ml_dsa_sign_and_verify_round_trip() {
    let srv = Server::start();
    let c = srv.client().await;
    let specs = [
        ("ML_DSA_44", 2420usize),
        ("ML_DSA_65", 3309),
        ("ML_DSA_87", 4627),
    ];
    let pairs: Vec<(&str, &str)> = specs.iter().map(|(s, _)| (*s, "SIGN_VERIFY")).collect();
    let ids = create_keys_spec(&c, &pairs).await;
    let msg = pattern(4096, 2);
    for ((spec, sig_len), id) in specs.iter().zip(&ids) {
        let sig = sign(&c, id, "ML_DSA_SHAKE_256", "RAW", &msg).await;
        assert_eq!(sig.len(), *sig_len, "{spec} signature length");
        verify_ok(&c, id, "ML_DSA_SHAKE_256", "RAW", &msg, &sig).await;
        let mut bad = sig.clone();
        bad[100] ^= 1;
        assert_code(
            try_verify(&c, id, "ML_DSA_SHAKE_256", "RAW", &msg, &bad).await,
            "KMSInvalidSignatureException",
        );
        assert_code(
            try_verify(&c, id, "ML_DSA_SHAKE_256", "RAW", b"other", &sig).await,
            "KMSInvalidSignatureException",
        );
        // EXTERNAL_MU: μ computed here (FIPS 204 §6.2), signed by the server, and the
        // signature checked over the message by aws-lc-rs (not the server's μ code).
        let spki = c.get_public_key().key_id(id).send().await.unwrap();
        let spki = spki.public_key().unwrap().as_ref().to_vec();
        let mu = mu_of(&spki, &msg);
        let s = sign(&c, id, "ML_DSA_SHAKE_256", "EXTERNAL_MU", &mu).await;
        assert_eq!(s.len(), *sig_len);
        let alg = match *spec {
            "ML_DSA_44" => &aws_lc_rs::signature::ML_DSA_44,
            "ML_DSA_65" => &aws_lc_rs::signature::ML_DSA_65,
            _ => &aws_lc_rs::signature::ML_DSA_87,
        };
        aws_lc_rs::signature::ParsedPublicKey::new(alg, &spki)
            .unwrap()
            .verify_sig(&msg, &s)
            .expect("independent ML-DSA verification of the EXTERNAL_MU signature");
        verify_ok(&c, id, "ML_DSA_SHAKE_256", "EXTERNAL_MU", &mu, &s).await;
        verify_ok(&c, id, "ML_DSA_SHAKE_256", "RAW", &msg, &s).await;
        // The RAW signature verifies through μ; another μ does not.
        verify_ok(&c, id, "ML_DSA_SHAKE_256", "EXTERNAL_MU", &mu, &sig).await;
        assert_code(
            try_verify(
                &c,
                id,
                "ML_DSA_SHAKE_256",
                "EXTERNAL_MU",
                &pattern(64, 11),
                &sig,
            )
            .await,
            "KMSInvalidSignatureException",
        );
        assert_code(
            try_sign(&c, id, "ML_DSA_SHAKE_256", "EXTERNAL_MU", &mu[..63]).await,
            "ValidationException",
        );
        // ML-DSA is not an ECDSA/RSA key.
        assert_code(
            try_sign(&c, id, "ECDSA_SHA_256", "RAW", &msg).await,
            "InvalidKeyUsageException",
        );
    }
}

#[tokio::test]
async fn message_size_and_digest_length_limits() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("ECC_NIST_P256", "SIGN_VERIFY"),
            ("RSA_2048", "SIGN_VERIFY"),
        ],
    )
    .await;
    let (ec, rsa) = (&ids[0], &ids[1]);
    for (id, alg) in [(ec, "ECDSA_SHA_256"), (rsa, "RSASSA_PSS_SHA_384")] {
        let max = pattern(4096, 0);
        let sig = sign(&c, id, alg, "RAW", &max).await;
        verify_ok(&c, id, alg, "RAW", &max, &sig).await;
        let over = pattern(4097, 0);
        assert_code(
            try_sign(&c, id, alg, "RAW", &over).await,
            "ValidationException",
        );
        assert_code(
            try_verify(&c, id, alg, "RAW", &over, &sig).await,
            "ValidationException",
        );
        let dlen = hash_for(alg, b"").len();
        for bad in [dlen - 1, dlen + 1, 20] {
            assert_code(
                try_sign(&c, id, alg, "DIGEST", &pattern(bad, 1)).await,
                "ValidationException",
            );
            assert_code(
                try_verify(&c, id, alg, "DIGEST", &pattern(bad, 1), &sig).await,
                "ValidationException",
            );
        }
    }
    // A signature blob longer than CiphertextType (6144 bytes) violates the model.
    assert_code(
        try_verify(&c, ec, "ECDSA_SHA_256", "RAW", b"m", &[1u8; 6145]).await,
        "ValidationException",
    );
}

#[tokio::test]
async fn verify_rejects_wrong_signatures_with_invalid_signature() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("ECC_NIST_P256", "SIGN_VERIFY"),
            ("ECC_NIST_P256", "SIGN_VERIFY"),
            ("RSA_2048", "SIGN_VERIFY"),
        ],
    )
    .await;
    let (ec, ec2, rsa) = (&ids[0], &ids[1], &ids[2]);
    let msg = b"pay 100 to alice".to_vec();
    let invalid = "KMSInvalidSignatureException";

    let sig = sign(&c, ec, "ECDSA_SHA_256", "RAW", &msg).await;
    let mut flipped = sig.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    assert_code(
        try_verify(&c, ec, "ECDSA_SHA_256", "RAW", &msg, &flipped).await,
        invalid,
    );
    assert_code(
        try_verify(&c, ec, "ECDSA_SHA_256", "RAW", b"pay 900 to alice", &sig).await,
        invalid,
    );
    assert_code(
        try_verify(&c, ec2, "ECDSA_SHA_256", "RAW", &msg, &sig).await,
        invalid,
    );
    assert_code(
        try_verify(&c, ec, "ECDSA_SHA_256", "RAW", &msg, b"not a DER signature").await,
        invalid,
    );
    // Signed RAW, but verifying the 32-byte message as if it were the digest.
    let m32 = pattern(32, 5);
    let sig32 = sign(&c, ec, "ECDSA_SHA_256", "RAW", &m32).await;
    assert_code(
        try_verify(&c, ec, "ECDSA_SHA_256", "DIGEST", &m32, &sig32).await,
        invalid,
    );

    let rsig = sign(&c, rsa, "RSASSA_PSS_SHA_256", "RAW", &msg).await;
    assert_code(
        try_verify(&c, rsa, "RSASSA_PKCS1_V1_5_SHA_256", "RAW", &msg, &rsig).await,
        invalid,
    );
    assert_code(
        try_verify(&c, rsa, "RSASSA_PSS_SHA_512", "RAW", &msg, &rsig).await,
        invalid,
    );
    let mut rbad = rsig.clone();
    rbad[10] ^= 0x80;
    assert_code(
        try_verify(&c, rsa, "RSASSA_PSS_SHA_256", "RAW", &msg, &rbad).await,
        invalid,
    );
}

#[tokio::test]
async fn signing_algorithm_must_match_the_key() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("ECC_NIST_P256", "SIGN_VERIFY"),
            ("ECC_NIST_P384", "SIGN_VERIFY"),
            ("RSA_2048", "SIGN_VERIFY"),
            ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY"),
            ("ECC_SECG_P256K1", "SIGN_VERIFY"),
        ],
    )
    .await;
    let msg = b"message";
    let bad = [
        (&ids[0], "ECDSA_SHA_384"),
        (&ids[0], "ECDSA_SHA_512"),
        (&ids[0], "RSASSA_PSS_SHA_256"),
        (&ids[1], "ECDSA_SHA_256"),
        (&ids[2], "ECDSA_SHA_256"),
        (&ids[2], "ED25519_SHA_512"),
        (&ids[3], "ECDSA_SHA_256"),
        (&ids[4], "ECDSA_SHA_384"),
    ];
    for (id, alg) in bad {
        // AWS: "Algorithm <alg> is incompatible with key spec <spec>."
        assert_code(
            try_sign(&c, id, alg, "RAW", msg).await,
            "InvalidKeyUsageException",
        );
        assert_code(
            try_verify(&c, id, alg, "RAW", msg, &[0x30, 0x06, 2, 1, 1, 2, 1, 1]).await,
            "InvalidKeyUsageException",
        );
    }
}

#[tokio::test]
async fn sign_needs_a_sign_verify_key_in_an_enabled_state() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("ECC_NIST_P256", "SIGN_VERIFY"),
            ("RSA_2048", "ENCRYPT_DECRYPT"),
            ("HMAC_256", "GENERATE_VERIFY_MAC"),
            ("ECC_NIST_P256", "KEY_AGREEMENT"),
        ],
    )
    .await;
    let (signer, rsa_enc, hmac, agree) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let sym = create_key(&c).await;
    let usage = "InvalidKeyUsageException";
    assert_code(
        try_sign(&c, &sym, "ECDSA_SHA_256", "RAW", b"m").await,
        usage,
    );
    assert_code(
        try_sign(&c, rsa_enc, "RSASSA_PSS_SHA_256", "RAW", b"m").await,
        usage,
    );
    assert_code(
        try_sign(&c, hmac, "ECDSA_SHA_256", "RAW", b"m").await,
        usage,
    );
    assert_code(
        try_sign(&c, agree, "ECDSA_SHA_256", "RAW", b"m").await,
        usage,
    );
    assert_code(
        try_verify(&c, &sym, "ECDSA_SHA_256", "RAW", b"m", &[1u8; 64]).await,
        usage,
    );
    // Symmetric and HMAC keys have no public key.
    for k in [&sym, hmac] {
        assert_code(
            c.get_public_key().key_id(k).send().await,
            "UnsupportedOperationException",
        );
    }
    // A signing key cannot encrypt or make data keys.
    assert_code(
        c.encrypt()
            .key_id(signer)
            .plaintext(blob(b"x"))
            .send()
            .await,
        usage,
    );
    assert_code(
        c.generate_data_key()
            .key_id(signer)
            .number_of_bytes(32)
            .send()
            .await,
        usage,
    );

    // By alias; the answer names the key ARN.
    ok(c.create_alias()
        .alias_name("alias/signer")
        .target_key_id(signer)
        .send()
        .await);
    let out = ok(try_sign(&c, "alias/signer", "ECDSA_SHA_256", "RAW", b"m").await);
    assert_eq!(out.key_id(), Some(key_arn(REGION, signer).as_str()));
    let sig = out.signature().unwrap().as_ref().to_vec();

    // DryRun.
    assert_code(
        c.sign()
            .key_id(signer)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .message(blob(b"m"))
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );

    // Disabled → DisabledException for Sign, Verify and GetPublicKey; enabling restores it.
    ok(c.disable_key().key_id(signer).send().await);
    assert_code(
        try_sign(&c, signer, "ECDSA_SHA_256", "RAW", b"m").await,
        "DisabledException",
    );
    assert_code(
        try_verify(&c, signer, "ECDSA_SHA_256", "RAW", b"m", &sig).await,
        "DisabledException",
    );
    assert_code(
        c.get_public_key().key_id(signer).send().await,
        "DisabledException",
    );
    ok(c.enable_key().key_id(signer).send().await);
    verify_ok(&c, signer, "ECDSA_SHA_256", "RAW", b"m", &sig).await;

    // Pending deletion → KMSInvalidStateException (the table allows D or I).
    ok(c.schedule_key_deletion()
        .key_id(signer)
        .pending_window_in_days(7)
        .send()
        .await);
    assert_code_in(
        try_sign(&c, signer, "ECDSA_SHA_256", "RAW", b"m").await,
        &["KMSInvalidStateException", "DisabledException"],
    );
}

#[tokio::test]
async fn invalid_signing_key_pairings_are_validation_errors() {
    let srv = Server::start();
    let c = srv.client().await;
    let bad: [(&str, Option<&str>); 8] = [
        ("SYMMETRIC_DEFAULT", Some("SIGN_VERIFY")),
        ("ECC_NIST_EDWARDS25519", Some("KEY_AGREEMENT")),
        ("ECC_NIST_EDWARDS25519", Some("ENCRYPT_DECRYPT")),
        ("ML_DSA_65", Some("ENCRYPT_DECRYPT")),
        ("ML_DSA_44", Some("KEY_AGREEMENT")),
        ("ECC_SECG_P256K1", Some("ENCRYPT_DECRYPT")),
        // KeyUsage defaults to ENCRYPT_DECRYPT, which these specs do not support.
        ("ECC_NIST_P256", None),
        ("ECC_NIST_EDWARDS25519", None),
    ];
    for (spec, usage) in bad {
        let mut req = c.create_key().key_spec(KeySpec::from(spec));
        if let Some(u) = usage {
            req = req.key_usage(KeyUsageType::from(u));
        }
        let info = assert_code(req.send().await, "ValidationException");
        assert!(info.message.is_some(), "{spec}/{usage:?} needs a message");
    }
    let keys = ok(c.list_keys().send().await);
    assert!(
        keys.keys().is_empty(),
        "no key may be created by a rejected request"
    );
}
