//! HMAC keys: CreateKey/DescribeKey for HMAC_224/256/384/512, GenerateMac/VerifyMac round
//! trips, MAC sizes, limits, tampering and wrong key types.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::SdkError;
use aws_sdk_kms::operation::generate_mac::{GenerateMacError, GenerateMacOutput};
use aws_sdk_kms::operation::verify_mac::{VerifyMacError, VerifyMacOutput};
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MacAlgorithmSpec};
use aws_sdk_kms::Client;
use common::*;

/// (KeySpec, MacAlgorithm, MAC length in bytes)
const SPECS: [(&str, &str, usize); 4] = [
    ("HMAC_224", "HMAC_SHA_224", 28),
    ("HMAC_256", "HMAC_SHA_256", 32),
    ("HMAC_384", "HMAC_SHA_384", 48),
    ("HMAC_512", "HMAC_SHA_512", 64),
];

async fn try_mac(
    c: &Client,
    key: &str,
    alg: &str,
    msg: &[u8],
) -> Result<GenerateMacOutput, SdkError<GenerateMacError, HttpResponse>> {
    c.generate_mac()
        .key_id(key)
        .mac_algorithm(MacAlgorithmSpec::from(alg))
        .message(blob(msg))
        .send()
        .await
}

async fn mac(c: &Client, key: &str, alg: &str, msg: &[u8]) -> Vec<u8> {
    let out = ok(try_mac(c, key, alg, msg).await);
    assert_eq!(out.key_id(), Some(key_arn(REGION, key).as_str()));
    assert_eq!(out.mac_algorithm().map(|a| a.as_str()), Some(alg));
    out.mac().expect("Mac").as_ref().to_vec()
}

async fn try_verify_mac(
    c: &Client,
    key: &str,
    alg: &str,
    msg: &[u8],
    tag: &[u8],
) -> Result<VerifyMacOutput, SdkError<VerifyMacError, HttpResponse>> {
    c.verify_mac()
        .key_id(key)
        .mac_algorithm(MacAlgorithmSpec::from(alg))
        .message(blob(msg))
        .mac(blob(tag))
        .send()
        .await
}

async fn create_hmac_keys(c: &Client) -> Vec<String> {
    let pairs: Vec<(&str, &str)> = SPECS
        .iter()
        .map(|(s, _, _)| (*s, "GENERATE_VERIFY_MAC"))
        .collect();
    create_keys_spec(c, &pairs).await
}

#[tokio::test]
async fn hmac_keys_of_every_size_are_described_like_aws() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_hmac_keys(&c).await;
    for ((spec, alg, _), id) in SPECS.iter().zip(&ids) {
        let m = describe_key_metadata(&c, id).await;
        assert_eq!(m.key_spec(), Some(&KeySpec::from(*spec)));
        assert_eq!(m.key_usage(), Some(&KeyUsageType::GenerateVerifyMac));
        assert_eq!(names(m.mac_algorithms()), sorted(&[alg]), "{spec}");
        assert!(
            m.encryption_algorithms.is_none(),
            "{spec}: no EncryptionAlgorithms"
        );
        assert!(
            m.signing_algorithms.is_none(),
            "{spec}: no SigningAlgorithms"
        );
        assert!(m.key_agreement_algorithms.is_none(), "{spec}");
        assert!(m.enabled());
        #[allow(deprecated)]
        let cmk = m.customer_master_key_spec().map(|s| s.as_str().to_string());
        assert_eq!(
            cmk.as_deref(),
            Some(*spec),
            "CustomerMasterKeySpec mirrors KeySpec"
        );
        // HMAC keys are symmetric: there is no public key.
        assert_code(
            c.get_public_key().key_id(id).send().await,
            "UnsupportedOperationException",
        );
    }
}

#[tokio::test]
async fn generate_mac_and_verify_mac_round_trip_for_every_size() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_hmac_keys(&c).await;
    for ((spec, alg, len), id) in SPECS.iter().zip(&ids) {
        for msg in [pattern(1, 1), pattern(100, 2), pattern(4096, 3)] {
            let tag = mac(&c, id, alg, &msg).await;
            assert_eq!(tag.len(), *len, "{spec}: MAC length equals the hash size");
            assert_eq!(
                tag,
                mac(&c, id, alg, &msg).await,
                "{spec}: HMAC is deterministic"
            );
            let v = ok(try_verify_mac(&c, id, alg, &msg, &tag).await);
            assert!(v.mac_valid(), "MacValid must be true");
            assert_eq!(v.key_id(), Some(key_arn(REGION, id).as_str()));
            assert_eq!(v.mac_algorithm().map(|a| a.as_str()), Some(*alg));
        }
        let a = mac(&c, id, alg, b"message a").await;
        let b = mac(&c, id, alg, b"message b").await;
        assert_ne!(a, b, "{spec}: different messages, different MACs");
    }
    // Two keys of the same spec hold different secret keys.
    let other = create_key_spec(&c, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    assert_ne!(
        mac(&c, &ids[1], "HMAC_SHA_256", b"same").await,
        mac(&c, &other, "HMAC_SHA_256", b"same").await
    );
}

#[tokio::test]
async fn verify_mac_rejects_tampering_with_invalid_mac() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("HMAC_384", "GENERATE_VERIFY_MAC"),
            ("HMAC_384", "GENERATE_VERIFY_MAC"),
        ],
    )
    .await;
    let (k, k2) = (&ids[0], &ids[1]);
    let alg = "HMAC_SHA_384";
    let msg = b"transfer 10 EUR".to_vec();
    let tag = mac(&c, k, alg, &msg).await;
    let invalid = "KMSInvalidMacException";
    for bit in [0usize, 7, 200, 383] {
        let mut bad = tag.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert_code(try_verify_mac(&c, k, alg, &msg, &bad).await, invalid);
    }
    assert_code(try_verify_mac(&c, k, alg, &msg, &tag[..47]).await, invalid);
    let mut longer = tag.clone();
    longer.push(0);
    assert_code(try_verify_mac(&c, k, alg, &msg, &longer).await, invalid);
    assert_code(
        try_verify_mac(&c, k, alg, b"transfer 99 EUR", &tag).await,
        invalid,
    );
    assert_code(try_verify_mac(&c, k2, alg, &msg, &tag).await, invalid);
    // Still valid afterwards.
    assert!(ok(try_verify_mac(&c, k, alg, &msg, &tag).await).mac_valid());
}

#[tokio::test]
async fn mac_limits_and_algorithm_mismatch() {
    let srv = Server::start();
    let c = srv.client().await;
    let k = create_key_spec(&c, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let over = pattern(4097, 0);
    assert_code(
        try_mac(&c, &k, "HMAC_SHA_256", &over).await,
        "ValidationException",
    );
    let tag = mac(&c, &k, "HMAC_SHA_256", b"m").await;
    assert_code(
        try_verify_mac(&c, &k, "HMAC_SHA_256", &over, &tag).await,
        "ValidationException",
    );
    assert_code(
        try_verify_mac(&c, &k, "HMAC_SHA_256", b"m", &[0u8; 6145]).await,
        "ValidationException",
    );
    // A MAC algorithm the key does not support.
    for alg in ["HMAC_SHA_224", "HMAC_SHA_384", "HMAC_SHA_512"] {
        assert_code(try_mac(&c, &k, alg, b"m").await, "InvalidKeyUsageException");
        assert_code(
            try_verify_mac(&c, &k, alg, b"m", &tag).await,
            "InvalidKeyUsageException",
        );
    }
}

#[tokio::test]
async fn mac_operations_need_an_enabled_hmac_key() {
    let srv = Server::start();
    let c = srv.client().await;
    let ids = create_keys_spec(
        &c,
        &[
            ("HMAC_512", "GENERATE_VERIFY_MAC"),
            ("RSA_2048", "SIGN_VERIFY"),
            ("ECC_NIST_P256", "KEY_AGREEMENT"),
        ],
    )
    .await;
    let (k, rsa, ecdh) = (&ids[0], &ids[1], &ids[2]);
    let sym = create_key(&c).await;
    let usage = "InvalidKeyUsageException";
    for other in [&sym, rsa, ecdh] {
        assert_code(try_mac(&c, other, "HMAC_SHA_256", b"m").await, usage);
        assert_code(
            try_verify_mac(&c, other, "HMAC_SHA_256", b"m", &[0u8; 32]).await,
            usage,
        );
    }
    // An HMAC key is not an encryption key.
    assert_code(
        c.encrypt().key_id(k).plaintext(blob(b"m")).send().await,
        usage,
    );
    assert_code(
        c.generate_data_key()
            .key_id(k)
            .number_of_bytes(16)
            .send()
            .await,
        usage,
    );
    assert_code(
        c.generate_data_key_pair()
            .key_id(k)
            .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
            .send()
            .await,
        usage,
    );

    assert_code(
        c.generate_mac()
            .key_id(k)
            .mac_algorithm(MacAlgorithmSpec::HmacSha512)
            .message(blob(b"m"))
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );

    // By alias.
    ok(c.create_alias()
        .alias_name("alias/mac")
        .target_key_id(k)
        .send()
        .await);
    let tag = mac(&c, k, "HMAC_SHA_512", b"m").await;
    let via = ok(try_mac(&c, "alias/mac", "HMAC_SHA_512", b"m").await);
    assert_eq!(via.key_id(), Some(key_arn(REGION, k).as_str()));
    assert_eq!(via.mac().unwrap().as_ref(), &tag[..]);

    ok(c.disable_key().key_id(k).send().await);
    assert_code(
        try_mac(&c, k, "HMAC_SHA_512", b"m").await,
        "DisabledException",
    );
    assert_code(
        try_verify_mac(&c, k, "HMAC_SHA_512", b"m", &tag).await,
        "DisabledException",
    );
    ok(c.enable_key().key_id(k).send().await);
    assert!(ok(try_verify_mac(&c, k, "HMAC_SHA_512", b"m", &tag).await).mac_valid());
}

#[tokio::test]
async fn invalid_hmac_key_pairings_are_validation_errors() {
    let srv = Server::start();
    let c = srv.client().await;
    let bad: [(&str, Option<&str>); 7] = [
        // KeyUsage must be stated for HMAC keys (the default is ENCRYPT_DECRYPT).
        ("HMAC_256", None),
        ("HMAC_512", Some("ENCRYPT_DECRYPT")),
        ("HMAC_224", Some("SIGN_VERIFY")),
        ("HMAC_384", Some("KEY_AGREEMENT")),
        ("RSA_2048", Some("GENERATE_VERIFY_MAC")),
        ("SYMMETRIC_DEFAULT", Some("GENERATE_VERIFY_MAC")),
        ("ECC_NIST_P256", Some("GENERATE_VERIFY_MAC")),
    ];
    for (spec, usage) in bad {
        let mut req = c.create_key().key_spec(KeySpec::from(spec));
        if let Some(u) = usage {
            req = req.key_usage(KeyUsageType::from(u));
        }
        assert_code(req.send().await, "ValidationException");
    }
    let keys = ok(c.list_keys().send().await);
    assert!(
        keys.keys().is_empty(),
        "no key may be created by a rejected request"
    );
}
