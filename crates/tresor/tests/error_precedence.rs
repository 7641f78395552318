//! Which error AWS answers when several checks fail (issue #14 item 5), and the model's
//! constraint messages end to end (item 4): a key of the wrong type named in
//! Decrypt/ReEncrypt is IncorrectKeyException; the key's state is checked before its
//! type or usage; RotateKeyOnDemand tells an unrotatable key from one without pending
//! material; errors AWS sends without a message have no `message` member.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;

/// (__type, message) of a raw call that must fail with a 4xx.
fn fails(srv: &Server, op: &str, body: &str) -> (String, Option<String>) {
    let r = srv.kms_raw(op, body.as_bytes());
    assert!(
        (400..500).contains(&r.status),
        "{op} {body}: {} {}",
        r.status,
        r.body_str()
    );
    let j = r.json();
    (
        r.error_type().to_string(),
        j.get("message").map(|m| m.as_str().unwrap().to_string()),
    )
}

fn ok(srv: &Server, op: &str, body: &str) -> serde_json::Value {
    let r = srv.kms_raw(op, body.as_bytes());
    assert_eq!(r.status, 200, "{op}: {}", r.body_str());
    r.json()
}

/// (KeyId, Arn) of a new key.
fn create(srv: &Server, body: &str) -> (String, String) {
    let md = ok(srv, "CreateKey", body)["KeyMetadata"].clone();
    (
        md["KeyId"].as_str().unwrap().to_string(),
        md["Arn"].as_str().unwrap().to_string(),
    )
}

const RSA: &str = r#"{"KeySpec":"RSA_2048","KeyUsage":"ENCRYPT_DECRYPT"}"#;
const INCORRECT: &str =
    "The key ID in the request does not identify a CMK that can perform this operation.";

fn symmetric_ciphertext(srv: &Server, key: &str) -> String {
    ok(
        srv,
        "Encrypt",
        &format!(r#"{{"KeyId":"{key}","Plaintext":"aGk="}}"#),
    )["CiphertextBlob"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_symmetric_ciphertext_with_the_key_id_of_an_asymmetric_key_is_incorrect_key() {
    let srv = Server::start();
    let (sym, _) = create(&srv, "{}");
    let (rsa, _) = create(&srv, RSA);
    let (other, _) = create(&srv, "{}");
    let ct = symmetric_ciphertext(&srv, &sym);
    for key in [&rsa, &other] {
        let (t, m) = fails(
            &srv,
            "Decrypt",
            &format!(r#"{{"CiphertextBlob":"{ct}","KeyId":"{key}"}}"#),
        );
        assert_eq!(t, "IncorrectKeyException", "{key}");
        assert_eq!(m.as_deref(), Some(INCORRECT));
        let (t, m) = fails(
            &srv,
            "ReEncrypt",
            &format!(
                r#"{{"CiphertextBlob":"{ct}","SourceKeyId":"{key}","DestinationKeyId":"{sym}"}}"#
            ),
        );
        assert_eq!(t, "IncorrectKeyException", "{key}");
        assert_eq!(m.as_deref(), Some(INCORRECT));
    }
    // The right key still opens it, with or without the KeyId.
    ok(
        &srv,
        "Decrypt",
        &format!(r#"{{"CiphertextBlob":"{ct}","KeyId":"{sym}"}}"#),
    );
    // An RSA ciphertext under the RSA key still needs its algorithm (not IncorrectKey).
    let (t, _) = fails(
        &srv,
        "Decrypt",
        &format!(
            r#"{{"CiphertextBlob":"{ct}","KeyId":"{rsa}","EncryptionAlgorithm":"RSAES_OAEP_SHA_256"}}"#
        ),
    );
    assert_eq!(t, "InvalidCiphertextException");
}

#[test]
fn the_key_state_is_checked_before_the_key_type_and_usage() {
    let srv = Server::start();
    let (sym, _) = create(&srv, "{}");
    let ct = symmetric_ciphertext(&srv, &sym);
    let (rsa, rsa_arn) = create(&srv, RSA);
    let (signer, signer_arn) = create(
        &srv,
        r#"{"KeySpec":"ECC_NIST_P256","KeyUsage":"SIGN_VERIFY"}"#,
    );
    let (sym2, sym2_arn) = create(&srv, "{}");
    for id in [&rsa, &signer, &sym2] {
        ok(&srv, "DisableKey", &format!(r#"{{"KeyId":"{id}"}}"#));
    }
    // A disabled key of the wrong type for the ciphertext: disabled, not IncorrectKey.
    let (t, m) = fails(
        &srv,
        "Decrypt",
        &format!(r#"{{"CiphertextBlob":"{ct}","KeyId":"{rsa}"}}"#),
    );
    assert_eq!(t, "DisabledException");
    assert_eq!(m, Some(format!("{rsa_arn} is disabled.")));
    // A disabled signing key asked to encrypt: disabled, not InvalidKeyUsage.
    let (t, m) = fails(
        &srv,
        "Encrypt",
        &format!(r#"{{"KeyId":"{signer}","Plaintext":"aGk="}}"#),
    );
    assert_eq!(t, "DisabledException");
    assert_eq!(m, Some(format!("{signer_arn} is disabled.")));
    // A disabled encryption key asked to sign.
    let (t, m) = fails(
        &srv,
        "Sign",
        &format!(r#"{{"KeyId":"{sym2}","Message":"aGk=","SigningAlgorithm":"ECDSA_SHA_256"}}"#),
    );
    assert_eq!(t, "DisabledException");
    assert_eq!(m, Some(format!("{sym2_arn} is disabled.")));
    // Enabled again, the type and usage errors show.
    ok(&srv, "EnableKey", &format!(r#"{{"KeyId":"{signer}"}}"#));
    let (t, m) = fails(
        &srv,
        "Encrypt",
        &format!(r#"{{"KeyId":"{signer}","Plaintext":"aGk="}}"#),
    );
    assert_eq!(t, "InvalidKeyUsageException");
    assert_eq!(
        m,
        Some(format!(
            "{signer_arn} key usage is SIGN_VERIFY which is not valid for Encrypt."
        ))
    );
}

#[test]
fn rotating_on_demand_a_key_that_cannot_rotate_is_unsupported_without_a_message() {
    let srv = Server::start();
    for body in [
        RSA,
        r#"{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}"#,
        r#"{"KeySpec":"ECC_NIST_P256","KeyUsage":"SIGN_VERIFY"}"#,
    ] {
        let (id, _) = create(&srv, body);
        let r = srv.kms_raw(
            "RotateKeyOnDemand",
            format!(r#"{{"KeyId":"{id}"}}"#).as_bytes(),
        );
        assert_eq!(r.error_type(), "UnsupportedOperationException", "{body}");
        assert!(r.json().get("message").is_none(), "{}", r.body_str());
    }
    // The state before the type: an RSA key pending deletion.
    let (rsa, rsa_arn) = create(&srv, RSA);
    ok(
        &srv,
        "ScheduleKeyDeletion",
        &format!(r#"{{"KeyId":"{rsa}","PendingWindowInDays":7}}"#),
    );
    let (t, m) = fails(
        &srv,
        "RotateKeyOnDemand",
        &format!(r#"{{"KeyId":"{rsa}"}}"#),
    );
    assert_eq!(t, "KMSInvalidStateException");
    assert_eq!(m, Some(format!("{rsa_arn} is pending deletion.")));
    // A symmetric EXTERNAL key still pending import: unsupported in that state
    // (kms-reference.md §4, the rotation row); one with material but none pending is
    // KMSInvalidStateException (tests/imported_materials.rs).
    let (ext, _) = create(&srv, r#"{"Origin":"EXTERNAL"}"#);
    let (t, _) = fails(
        &srv,
        "RotateKeyOnDemand",
        &format!(r#"{{"KeyId":"{ext}"}}"#),
    );
    assert_eq!(t, "UnsupportedOperationException");
}

#[test]
fn failed_checks_aws_answers_without_a_message_have_no_message_member() {
    let srv = Server::start();
    let (sym, _) = create(&srv, "{}");
    // A ciphertext altered in its last byte.
    let ct = symmetric_ciphertext(&srv, &sym);
    let mut raw = base64_decode(&ct);
    *raw.last_mut().unwrap() ^= 1;
    let (t, m) = fails(
        &srv,
        "Decrypt",
        &format!(r#"{{"CiphertextBlob":"{}"}}"#, base64_encode(&raw)),
    );
    assert_eq!(t, "InvalidCiphertextException");
    assert_eq!(m, None);
    // A signature that does not verify.
    let (signer, _) = create(
        &srv,
        r#"{"KeySpec":"ECC_NIST_P256","KeyUsage":"SIGN_VERIFY"}"#,
    );
    let sig = ok(
        &srv,
        "Sign",
        &format!(r#"{{"KeyId":"{signer}","Message":"aGk=","SigningAlgorithm":"ECDSA_SHA_256"}}"#),
    )["Signature"]
        .as_str()
        .unwrap()
        .to_string();
    let (t, m) = fails(
        &srv,
        "Verify",
        &format!(
            r#"{{"KeyId":"{signer}","Message":"aG8=","Signature":"{sig}","SigningAlgorithm":"ECDSA_SHA_256"}}"#
        ),
    );
    assert_eq!(t, "KMSInvalidSignatureException");
    assert_eq!(m, None);
    // A MAC that does not verify.
    let (mac_key, _) = create(
        &srv,
        r#"{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}"#,
    );
    let (t, m) = fails(
        &srv,
        "VerifyMac",
        &format!(
            r#"{{"KeyId":"{mac_key}","Message":"aGk=","Mac":"{}","MacAlgorithm":"HMAC_SHA_256"}}"#,
            base64_encode(&[0u8; 32])
        ),
    );
    assert_eq!(t, "KMSInvalidMacException");
    assert_eq!(m, None);
}

#[test]
fn model_constraint_violations_are_counted_and_ordered_as_the_model_lists_members() {
    let srv = Server::start();
    let (t, m) = fails(&srv, "Encrypt", r#"{"EncryptionAlgorithm":"AES"}"#);
    assert_eq!(t, "ValidationException");
    assert_eq!(
        m.as_deref(),
        Some(
            "3 validation errors detected: \
             Value null at 'keyId' failed to satisfy constraint: Member must not be null; \
             Value null at 'plaintext' failed to satisfy constraint: Member must not be null; \
             Value 'AES' at 'encryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]"
        )
    );
    // Nested members: tags.N.member.tagKey, 1-based.
    let (sym, _) = create(&srv, "{}");
    let (t, m) = fails(
        &srv,
        "TagResource",
        &format!(
            r#"{{"KeyId":"{sym}","Tags":[{{"TagKey":"a","TagValue":"b"}},{{"TagKey":"","TagValue":"c"}}]}}"#
        ),
    );
    assert_eq!(t, "ValidationException");
    assert_eq!(
        m.as_deref(),
        Some("1 validation error detected: Value '' at 'tags.2.member.tagKey' failed to satisfy constraint: Member must have length greater than or equal to 1")
    );
    // A limit out of the model's range, before the key is even looked up.
    let (t, m) = fails(&srv, "ListKeys", r#"{"Limit":0}"#);
    assert_eq!(t, "ValidationException");
    assert_eq!(
        m.as_deref(),
        Some("1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
    );
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}
