//! Members at and past the limits of the botocore model, found by the model-driven
//! boundary test (scripts/interop/boundary.py): a malformed member is a
//! SerializationException or ValidationException before any "not supported" answer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::Engine as _;
use common::*;

#[track_caller]
fn assert_type(resp: &RawResponse, expected: &str) {
    assert!(
        (400..500).contains(&resp.status),
        "expected a 4xx, got {} body {}",
        resp.status,
        resp.body_str()
    );
    assert_eq!(resp.error_type(), expected, "{}", resp.body_str());
}

fn create_key_raw(srv: &Server) -> String {
    let r = srv.kms_raw("CreateKey", b"{}");
    assert_eq!(r.status, 200, "CreateKey: {}", r.body_str());
    r.json()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_recipient_of_the_wrong_type_is_a_serialization_error() {
    let srv = Server::start();
    let key = create_key_raw(&srv);
    for (op, body) in [
        (
            "GenerateRandom",
            r#"{"NumberOfBytes":16,"Recipient":RECIPIENT}"#.to_string(),
        ),
        (
            "GenerateDataKey",
            format!(r#"{{"KeyId":"{key}","KeySpec":"AES_256","Recipient":RECIPIENT}}"#),
        ),
    ] {
        for bad in ["\"x\"", "7", "true", "[1]", r#"{"AttestationDocument":5}"#] {
            let r = srv.kms_raw(op, body.replace("RECIPIENT", bad).as_bytes());
            assert_type(&r, "SerializationException");
        }
        // A well-formed Recipient is refused as unsupported, not mistaken for garbage.
        let good =
            r#"{"KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_256","AttestationDocument":"eA=="}"#;
        let r = srv.kms_raw(op, body.replace("RECIPIENT", good).as_bytes());
        assert_type(&r, "UnsupportedOperationException");
    }
}

#[test]
fn service_principal_members_are_validated_before_being_refused() {
    let srv = Server::start();
    let key = create_key_raw(&srv);
    let long = "a".repeat(129);
    let cases = [
        (
            "ListGrants",
            "GranteeServicePrincipal",
            format!(r#""KeyId":"{key}""#),
        ),
        (
            "ListRetirableGrants",
            "RetiringServicePrincipal",
            r#""RetiringPrincipal":"arn:aws:iam::111122223333:root""#.to_string(),
        ),
        (
            "CreateGrant",
            "GranteeServicePrincipal",
            format!(
                r#""KeyId":"{key}","GranteePrincipal":"arn:aws:iam::111122223333:root","Operations":["Encrypt"]"#
            ),
        ),
        (
            "CreateGrant",
            "RetiringServicePrincipal",
            format!(
                r#""KeyId":"{key}","GranteePrincipal":"arn:aws:iam::111122223333:root","Operations":["Encrypt"]"#
            ),
        ),
    ];
    for (op, member, rest) in &cases {
        let send =
            |value: &str| srv.kms_raw(op, format!(r#"{{{rest},"{member}":{value}}}"#).as_bytes());
        assert_type(&send("7"), "SerializationException");
        assert_type(&send("[\"a.b.c\"]"), "SerializationException");
        assert_type(&send("\"\""), "ValidationException");
        assert_type(&send(&format!("\"{long}\"")), "ValidationException");
        assert_type(
            &send("\"dynamodb.amazonaws.com\""),
            "UnsupportedOperationException",
        );
    }
    // Without the member ListGrants still lists.
    let r = srv.kms_raw("ListGrants", format!(r#"{{"KeyId":"{key}"}}"#).as_bytes());
    assert_eq!(r.status, 200, "{}", r.body_str());
}

#[test]
fn generate_data_key_without_plaintext_ignores_a_recipient() {
    // GenerateDataKeyWithoutPlaintext has no Recipient member in the model: one sent is
    // an unknown member, ignored as AWS ignores them, whatever its value.
    let srv = Server::start();
    let key = create_key_raw(&srv);
    let base = format!(r#""KeyId":"{key}","KeySpec":"AES_256""#);
    let plain = srv.kms_raw(
        "GenerateDataKeyWithoutPlaintext",
        format!("{{{base}}}").as_bytes(),
    );
    assert_eq!(plain.status, 200, "{}", plain.body_str());
    let members = |r: &RawResponse| -> Vec<String> {
        let mut m: Vec<String> = r.json().as_object().unwrap().keys().cloned().collect();
        m.sort();
        m
    };
    let good = r#"{"KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_256","AttestationDocument":"eA=="}"#;
    for recipient in [good, "\"x\"", "7", r#"{"AttestationDocument":5}"#] {
        let body = format!(r#"{{{base},"Recipient":{recipient}}}"#);
        let r = srv.kms_raw("GenerateDataKeyWithoutPlaintext", body.as_bytes());
        assert_eq!(r.status, 200, "Recipient {recipient}: {}", r.body_str());
        assert_eq!(members(&r), members(&plain), "Recipient {recipient}");
        let v = r.json();
        assert!(v.get("CiphertextForRecipient").is_none(), "{v}");
        assert!(v.get("Plaintext").is_none(), "{v}");
        assert_eq!(v["KeyId"], plain.json()["KeyId"]);
        // The data key is an ordinary one: it decrypts under the key, 32 bytes.
        let blob = v["CiphertextBlob"].as_str().unwrap();
        let d = srv.kms_raw(
            "Decrypt",
            format!(r#"{{"CiphertextBlob":"{blob}"}}"#).as_bytes(),
        );
        assert_eq!(d.status, 200, "{}", d.body_str());
        let pt = base64::engine::general_purpose::STANDARD
            .decode(d.json()["Plaintext"].as_str().unwrap())
            .unwrap();
        assert_eq!(pt.len(), 32);
    }
    // GenerateDataKey has the member, and still refuses it as unsupported.
    let body = format!(r#"{{{base},"Recipient":{good}}}"#);
    let r = srv.kms_raw("GenerateDataKey", body.as_bytes());
    assert_type(&r, "UnsupportedOperationException");
}
