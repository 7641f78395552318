//! AWS's exact error wording and response shapes, end to end (issue #14 items 4 and 5):
//! each message of `tresor-core/src/messages.rs` as a client sees it, next to the attack
//! or mistake that triggers it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;

const ACCOUNT: &str = "111122223333";

/// (status, __type, message or None) of a raw call.
fn call(srv: &Server, op: &str, body: &str) -> (u16, String, Option<String>) {
    let r = srv.kms_raw(op, body.as_bytes());
    let j = r.json();
    (
        r.status,
        j["__type"].as_str().unwrap_or_default().to_string(),
        j.get("message")
            .and_then(|m| m.as_str())
            .map(str::to_string),
    )
}

fn ok(srv: &Server, op: &str, body: &str) -> serde_json::Value {
    let r = srv.kms_raw(op, body.as_bytes());
    assert_eq!(r.status, 200, "{op}: {}", r.body_str());
    r.json()
}

fn create(srv: &Server, body: &str) -> (String, String) {
    let md = ok(srv, "CreateKey", body)["KeyMetadata"].clone();
    (
        md["KeyId"].as_str().unwrap().to_string(),
        md["Arn"].as_str().unwrap().to_string(),
    )
}

#[test]
fn key_usage_dry_run_and_not_found_read_as_aws_writes_them() {
    let srv = Server::start();
    let (sign_id, sign_arn) = create(
        &srv,
        r#"{"KeySpec":"ECC_NIST_P256","KeyUsage":"SIGN_VERIFY"}"#,
    );
    let (sym_id, _) = create(&srv, "{}");
    // A signing key used to encrypt.
    let (_, t, m) = call(
        &srv,
        "Encrypt",
        &format!(r#"{{"KeyId":"{sign_id}","Plaintext":"aGk="}}"#),
    );
    assert_eq!(t, "InvalidKeyUsageException");
    assert_eq!(
        m.as_deref(),
        Some(
            format!("{sign_arn} key usage is SIGN_VERIFY which is not valid for Encrypt.").as_str()
        )
    );
    // DryRun.
    let (_, t, m) = call(
        &srv,
        "Encrypt",
        &format!(r#"{{"KeyId":"{sym_id}","Plaintext":"aGk=","DryRun":true}}"#),
    );
    assert_eq!(t, "DryRunOperationException");
    assert_eq!(
        m.as_deref(),
        Some("The request would have succeeded, but the DryRun option is set.")
    );
    // Not found, and a KeyId that is no key id at all.
    let missing =
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-4000-8000-000000000000");
    let (_, t, m) = call(&srv, "DescribeKey", &format!(r#"{{"KeyId":"{missing}"}}"#));
    assert_eq!(t, "NotFoundException");
    assert_eq!(
        m.as_deref(),
        Some(format!("Key '{missing}' does not exist").as_str())
    );
    let (_, t, m) = call(&srv, "DescribeKey", r#"{"KeyId":"not-a-key"}"#);
    assert_eq!(t, "NotFoundException");
    assert_eq!(m.as_deref(), Some("Invalid keyId 'not-a-key'"));
    // GenerateRandom without NumberOfBytes.
    let (_, t, m) = call(&srv, "GenerateRandom", "{}");
    assert_eq!(t, "ValidationException");
    assert_eq!(m.as_deref(), Some("NumberOfBytes is required."));
}

#[test]
fn reserved_tag_prefix_in_any_letter_case_and_duplicate_keys() {
    let srv = Server::start();
    let (id, _) = create(&srv, "{}");
    // The use: an ordinary tag is fine.
    ok(
        &srv,
        "TagResource",
        &format!(r#"{{"KeyId":"{id}","Tags":[{{"TagKey":"team","TagValue":"a"}}]}}"#),
    );
    // The attack: `aws:` disguised by letter case.
    for prefix in ["aws:", "AWS:", "Aws:", "aWs:"] {
        let (_, t, m) = call(
            &srv,
            "TagResource",
            &format!(r#"{{"KeyId":"{id}","Tags":[{{"TagKey":"{prefix}x","TagValue":"v"}}]}}"#),
        );
        assert_eq!(t, "TagException", "{prefix}");
        assert_eq!(m.as_deref(), Some("Tags beginning with aws: are reserved"));
        let (_, t, _) = call(
            &srv,
            "CreateKey",
            &format!(r#"{{"Tags":[{{"TagKey":"{prefix}x","TagValue":"v"}}]}}"#),
        );
        assert_eq!(t, "TagException", "CreateKey {prefix}");
    }
    let (_, t, m) = call(
        &srv,
        "TagResource",
        &format!(
            r#"{{"KeyId":"{id}","Tags":[{{"TagKey":"k","TagValue":"1"}},{{"TagKey":"k","TagValue":"2"}}]}}"#
        ),
    );
    assert_eq!(t, "TagException");
    assert_eq!(m.as_deref(), Some("Duplicate tag keys"));
    let tags: Vec<String> = (0..51)
        .map(|i| format!(r#"{{"TagKey":"k{i}","TagValue":"v"}}"#))
        .collect();
    let (_, t, m) = call(
        &srv,
        "TagResource",
        &format!(r#"{{"KeyId":"{id}","Tags":[{}]}}"#, tags.join(",")),
    );
    assert_eq!(t, "TagException");
    assert_eq!(m.as_deref(), Some("Too many tags"));
}

#[test]
fn rsa_hmac_and_create_key_messages() {
    let srv = Server::start();
    let (rsa, _) = create(
        &srv,
        r#"{"KeySpec":"RSA_2048","KeyUsage":"ENCRYPT_DECRYPT"}"#,
    );
    // 190 bytes is the limit for OAEP-SHA-256 with RSA_2048; 191 is refused as AWS does.
    let b64 = |n: usize| base64_of(&vec![7u8; n]);
    ok(
        &srv,
        "Encrypt",
        &format!(
            r#"{{"KeyId":"{rsa}","Plaintext":"{}","EncryptionAlgorithm":"RSAES_OAEP_SHA_256"}}"#,
            b64(190)
        ),
    );
    let (_, t, m) = call(
        &srv,
        "Encrypt",
        &format!(
            r#"{{"KeyId":"{rsa}","Plaintext":"{}","EncryptionAlgorithm":"RSAES_OAEP_SHA_256"}}"#,
            b64(191)
        ),
    );
    assert_eq!(t, "ValidationException");
    assert_eq!(
        m.as_deref(),
        Some("Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes.")
    );
    let (_, t, m) = call(
        &srv,
        "Encrypt",
        &format!(
            r#"{{"KeyId":"{rsa}","Plaintext":"{}","EncryptionAlgorithm":"RSAES_OAEP_SHA_1"}}"#,
            b64(215)
        ),
    );
    assert_eq!(t, "ValidationException");
    assert_eq!(
        m.as_deref(),
        Some("Algorithm RSAES_OAEP_SHA_1 and key spec RSA_2048 cannot encrypt data larger than 214 bytes.")
    );
    // HMAC key with another HMAC algorithm.
    let (hmac, _) = create(
        &srv,
        r#"{"KeySpec":"HMAC_224","KeyUsage":"GENERATE_VERIFY_MAC"}"#,
    );
    let (_, t, m) = call(
        &srv,
        "GenerateMac",
        &format!(r#"{{"KeyId":"{hmac}","Message":"aGk=","MacAlgorithm":"HMAC_SHA_256"}}"#),
    );
    assert_eq!(t, "InvalidKeyUsageException");
    assert_eq!(
        m.as_deref(),
        Some("Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.")
    );
    // CreateKey: no KeyUsage for an HMAC spec; a KeyUsage the spec cannot have.
    let (_, t, m) = call(&srv, "CreateKey", r#"{"KeySpec":"HMAC_256"}"#);
    assert_eq!(t, "ValidationException");
    assert_eq!(
        m.as_deref(),
        Some("You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.")
    );
    let (_, t, m) = call(
        &srv,
        "CreateKey",
        r#"{"KeySpec":"RSA_2048","KeyUsage":"KEY_AGREEMENT"}"#,
    );
    assert_eq!(t, "ValidationException");
    assert_eq!(
        m.as_deref(),
        Some("KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048")
    );
}

#[test]
fn an_explicit_deny_in_the_key_policy_is_named_as_such() {
    let srv = Server::start();
    let (id, arn) = create(&srv, "{}");
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},{{"Effect":"Deny","Principal":{{"AWS":"*"}},"Action":"kms:Encrypt","Resource":"*"}}]}}"#
    );
    let body = serde_json::json!({"KeyId": id, "PolicyName": "default", "Policy": policy});
    ok(&srv, "PutKeyPolicy", &body.to_string());
    // The use next to it: another action still works.
    ok(&srv, "DescribeKey", &format!(r#"{{"KeyId":"{id}"}}"#));
    let (status, t, m) = call(
        &srv,
        "Encrypt",
        &format!(r#"{{"KeyId":"{id}","Plaintext":"aGk="}}"#),
    );
    assert_eq!((status, t.as_str()), (400, "AccessDeniedException"));
    let m = m.unwrap();
    assert!(
        m.ends_with(&format!(
            "is not authorized to perform: kms:Encrypt on resource: {arn} with an explicit deny in a resource-based policy"
        )),
        "{m}"
    );
    assert!(m.starts_with("User: arn:aws:iam::"), "{m}");
}

#[test]
fn response_shapes_follow_aws() {
    let srv = Server::start();
    // CurrentKeyMaterialId only for symmetric encryption keys.
    let sym = ok(&srv, "CreateKey", "{}")["KeyMetadata"].clone();
    assert!(sym["CurrentKeyMaterialId"].is_string(), "{sym}");
    let sym_id = sym["KeyId"].as_str().unwrap();
    let described = ok(&srv, "DescribeKey", &format!(r#"{{"KeyId":"{sym_id}"}}"#));
    assert!(described["KeyMetadata"]["CurrentKeyMaterialId"].is_string());
    for body in [
        r#"{"KeySpec":"ECC_NIST_P256","KeyUsage":"SIGN_VERIFY"}"#,
        r#"{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}"#,
        r#"{"KeySpec":"RSA_2048","KeyUsage":"ENCRYPT_DECRYPT"}"#,
    ] {
        let md = ok(&srv, "CreateKey", body)["KeyMetadata"].clone();
        assert!(md.get("CurrentKeyMaterialId").is_none(), "{body}: {md}");
        let id = md["KeyId"].as_str().unwrap();
        let d = ok(&srv, "DescribeKey", &format!(r#"{{"KeyId":"{id}"}}"#));
        assert!(
            d["KeyMetadata"].get("CurrentKeyMaterialId").is_none(),
            "{body}: {d}"
        );
        // Rotating a non-symmetric key: UnsupportedOperationException without a message.
        let r = srv.kms_raw(
            "EnableKeyRotation",
            format!(r#"{{"KeyId":"{id}"}}"#).as_bytes(),
        );
        assert_eq!(r.error_type(), "UnsupportedOperationException", "{body}");
        assert!(r.json().get("message").is_none(), "{}", r.body_str());
    }
    // Decrypt with a symmetric key reports the KeyMaterialId it used.
    let enc = ok(
        &srv,
        "Encrypt",
        &format!(r#"{{"KeyId":"{sym_id}","Plaintext":"aGk="}}"#),
    );
    let blob = enc["CiphertextBlob"].as_str().unwrap();
    let dec = ok(
        &srv,
        "Decrypt",
        &format!(r#"{{"CiphertextBlob":"{blob}"}}"#),
    );
    assert!(dec["KeyMaterialId"].is_string(), "{dec}");
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
