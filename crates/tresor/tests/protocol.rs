//! Wire protocol (awsJson1_1 over HTTP/1.1) with hand-built requests: authentication errors,
//! unknown operations, malformed bodies, error shape, request ids and body-size limits.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;

use common::*;

#[track_caller]
fn assert_error(resp: &RawResponse, expected: &[&str]) {
    assert!(
        (400..500).contains(&resp.status),
        "expected a 4xx, got {} body {}",
        resp.status,
        resp.body_str()
    );
    assert!(
        resp.header("x-amzn-RequestId")
            .is_some_and(|v| !v.is_empty()),
        "error response lacks x-amzn-RequestId: {:?}",
        resp.headers
    );
    let v = resp.json();
    assert!(
        v.is_object(),
        "error body must be a JSON object: {}",
        resp.body_str()
    );
    let t = resp.error_type();
    assert!(
        expected.contains(&t.as_str()),
        "expected __type in {expected:?}, got {t:?} ({})",
        resp.body_str()
    );
}

fn create_key_raw(srv: &Server) -> String {
    let r = srv.kms_raw("CreateKey", b"{}");
    assert_eq!(r.status, 200, "CreateKey: {}", r.body_str());
    r.json()["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("KeyId")
        .to_string()
}

#[test]
fn signed_create_and_describe_have_aws_json_shape() {
    let srv = Server::start();
    let r = srv.kms_raw("CreateKey", br#"{"Description":"raw"}"#);
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert!(r.header("x-amzn-RequestId").is_some_and(|v| !v.is_empty()));
    assert!(
        r.header("content-type")
            .is_some_and(|v| v.starts_with("application/x-amz-json-1.1")),
        "content-type {:?}",
        r.header("content-type")
    );
    let v = r.json();
    let m = &v["KeyMetadata"];
    let id = m["KeyId"].as_str().unwrap();
    assert!(is_uuid(id));
    assert_eq!(m["Arn"], serde_json::json!(key_arn(REGION, id)));
    assert_eq!(m["AWSAccountId"], serde_json::json!(ACCOUNT));
    assert!(
        m["CreationDate"].is_number(),
        "timestamps are epoch seconds: {}",
        m["CreationDate"]
    );
    assert_eq!(m["Enabled"], serde_json::json!(true));
    assert_eq!(m["Description"], serde_json::json!("raw"));
    assert_eq!(m["KeyUsage"], serde_json::json!("ENCRYPT_DECRYPT"));
    assert_eq!(m["KeyState"], serde_json::json!("Enabled"));
    assert_eq!(m["Origin"], serde_json::json!("AWS_KMS"));
    assert_eq!(m["KeyManager"], serde_json::json!("CUSTOMER"));
    assert_eq!(
        m["CustomerMasterKeySpec"],
        serde_json::json!("SYMMETRIC_DEFAULT")
    );
    assert_eq!(m["KeySpec"], serde_json::json!("SYMMETRIC_DEFAULT"));
    assert_eq!(
        m["EncryptionAlgorithms"],
        serde_json::json!(["SYMMETRIC_DEFAULT"])
    );
    assert_eq!(m["MultiRegion"], serde_json::json!(false));

    // Operations without output answer `{}` with 200.
    let body = format!(r#"{{"KeyId":"{id}"}}"#);
    let r = srv.kms_raw("DisableKey", body.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert_eq!(r.json(), serde_json::json!({}));
    let r = srv.kms_raw("DescribeKey", body.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["KeyMetadata"]["Enabled"], serde_json::json!(false));
    assert_eq!(
        r.json()["KeyMetadata"]["KeyState"],
        serde_json::json!("Disabled")
    );
}

#[test]
fn blobs_are_base64_on_the_wire() {
    let srv = Server::start();
    let id = create_key_raw(&srv);
    // "hello world" in base64.
    let body = format!(r#"{{"KeyId":"{id}","Plaintext":"aGVsbG8gd29ybGQ="}}"#);
    let r = srv.kms_raw("Encrypt", body.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body_str());
    let v = r.json();
    assert_eq!(v["KeyId"], serde_json::json!(key_arn(REGION, &id)));
    let ct = v["CiphertextBlob"]
        .as_str()
        .expect("CiphertextBlob is a base64 string");
    let body = format!(r#"{{"CiphertextBlob":"{ct}"}}"#);
    let r = srv.kms_raw("Decrypt", body.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert_eq!(r.json()["Plaintext"], serde_json::json!("aGVsbG8gd29ybGQ="));
    assert_eq!(
        r.json()["EncryptionAlgorithm"],
        serde_json::json!("SYMMETRIC_DEFAULT")
    );
}

#[test]
fn unknown_operation() {
    let srv = Server::start();
    let r = srv.kms_raw("FrobnicateKey", b"{}");
    assert_error(&r, &["UnknownOperationException"]);
    assert_eq!(r.status, 400);
}

#[test]
fn missing_authentication_token() {
    let srv = Server::start();
    let headers = unsigned_kms_headers(srv.port, "ListKeys");
    let r = http_request(srv.port, "POST", "/", &headers, b"{}");
    assert_error(&r, &["MissingAuthenticationTokenException"]);
}

#[test]
fn unknown_access_key_is_unrecognized_client() {
    let srv = Server::start();
    let r = srv.kms_raw_with(
        "ListKeys",
        b"{}",
        REGION,
        "AKIAUNKNOWNKEY000000",
        SECRET_KEY,
    );
    assert_error(&r, &["UnrecognizedClientException"]);
}

#[test]
fn wrong_secret_is_invalid_signature() {
    let srv = Server::start();
    let r = srv.kms_raw_with(
        "ListKeys",
        b"{}",
        REGION,
        ACCESS_KEY,
        "not-the-right-secret-key-at-all-000000000",
    );
    assert_error(&r, &["InvalidSignatureException"]);
    // A body altered after signing also breaks the signature.
    let headers = sign_kms_request(srv.port, "CreateKey", b"{}", REGION, ACCESS_KEY, SECRET_KEY);
    let r = http_request(
        srv.port,
        "POST",
        "/",
        &headers,
        br#"{"Description":"evil"}"#,
    );
    assert_error(&r, &["InvalidSignatureException"]);
    // The rejected CreateKey created nothing.
    let r = srv.kms_raw("ListKeys", b"{}");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["Keys"].as_array().map(Vec::len),
        Some(0),
        "{}",
        r.body_str()
    );
}

#[test]
fn every_response_has_a_distinct_request_id() {
    let srv = Server::start();
    let id = create_key_raw(&srv);
    let describe = format!(r#"{{"KeyId":"{id}"}}"#);
    let responses = vec![
        srv.kms_raw("ListKeys", b"{}"),
        srv.kms_raw("DescribeKey", describe.as_bytes()),
        srv.kms_raw("DescribeKey", br#"{"KeyId":"alias/none"}"#),
        srv.kms_raw("NoSuchOp", b"{}"),
        srv.kms_raw("ListKeys", b"{not json"),
        http_request(
            srv.port,
            "POST",
            "/",
            &unsigned_kms_headers(srv.port, "ListKeys"),
            b"{}",
        ),
        srv.kms_raw_with(
            "ListKeys",
            b"{}",
            REGION,
            "AKIAUNKNOWNKEY000000",
            SECRET_KEY,
        ),
    ];
    let mut ids = HashSet::new();
    for r in &responses {
        let rid = r
            .header("x-amzn-RequestId")
            .unwrap_or_else(|| panic!("no x-amzn-RequestId on {} {}", r.status, r.body_str()));
        assert!(!rid.is_empty());
        assert!(ids.insert(rid.to_string()), "request id {rid} repeated");
    }
}

#[test]
fn errors_aws_sends_without_a_message_have_no_message_member() {
    let srv = Server::start();
    let created = srv.kms_raw("CreateKey", b"{}").json();
    let key = created["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let enc = srv
        .kms_raw(
            "Encrypt",
            format!(r#"{{"KeyId":"{key}","Plaintext":"aGk="}}"#).as_bytes(),
        )
        .json();
    let blob = enc["CiphertextBlob"].as_str().unwrap();
    let r = srv.kms_raw(
        "Decrypt",
        format!(r#"{{"CiphertextBlob":"{blob}","EncryptionContext":{{"wrong":"context"}}}}"#)
            .as_bytes(),
    );
    assert_error(&r, &["InvalidCiphertextException"]);
    let v = r.json();
    assert!(v.get("message").is_none(), "{v}");
    assert!(v.get("Message").is_none(), "{v}");
}

#[test]
fn error_body_shape_for_service_errors() {
    let srv = Server::start();
    let missing = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b";
    let r = srv.kms_raw(
        "DescribeKey",
        format!(r#"{{"KeyId":"{missing}"}}"#).as_bytes(),
    );
    assert_error(&r, &["NotFoundException"]);
    assert_eq!(r.status, 400, "real KMS answers 400 for NotFoundException");
    let v = r.json();
    assert_eq!(
        v["message"],
        serde_json::json!(format!("Key '{}' does not exist", key_arn(REGION, missing)))
    );
    assert!(
        r.header("content-type")
            .is_some_and(|v| v.starts_with("application/x-amz-json-1.1")),
        "content-type {:?}",
        r.header("content-type")
    );
}

#[test]
fn malformed_json_is_serialization_exception() {
    let srv = Server::start();
    for body in [&b"{\"KeyId\":"[..], b"{not json", b"{\"Limit\": 2,}"] {
        let r = srv.kms_raw("ListKeys", body);
        assert_error(&r, &["SerializationException"]);
    }
}

#[test]
fn missing_required_member_is_validation_exception() {
    let srv = Server::start();
    let id = create_key_raw(&srv);
    let r = srv.kms_raw("Encrypt", format!(r#"{{"KeyId":"{id}"}}"#).as_bytes());
    assert_error(&r, &["ValidationException"]);
    let r = srv.kms_raw("Encrypt", br#"{"Plaintext":"aGk="}"#);
    assert_error(&r, &["ValidationException"]);
    let r = srv.kms_raw("DescribeKey", b"{}");
    assert_error(&r, &["ValidationException"]);
    let r = srv.kms_raw("CreateAlias", br#"{"AliasName":"alias/x"}"#);
    assert_error(&r, &["ValidationException"]);
}

#[test]
fn garbage_bodies_never_cause_a_server_error() {
    let srv = Server::start();
    let id = create_key_raw(&srv);
    const SV: &[&str] = &["SerializationException", "ValidationException"];
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_obj = format!("{}1{}", r#"{"a":"#.repeat(5_000), "}".repeat(5_000));
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("Encrypt", b"[]".to_vec(), SV),
        ("Encrypt", b"null".to_vec(), SV),
        ("Encrypt", b"\"string\"".to_vec(), SV),
        ("Encrypt", b"42".to_vec(), SV),
        (
            "Encrypt",
            format!(r#"{{"KeyId":"{id}","Plaintext":5}}"#).into_bytes(),
            SV,
        ),
        (
            "Encrypt",
            format!(r#"{{"KeyId":"{id}","Plaintext":"!!not*base64!!"}}"#).into_bytes(),
            SV,
        ),
        (
            "Encrypt",
            format!(r#"{{"KeyId":"{id}","Plaintext":null}}"#).into_bytes(),
            SV,
        ),
        // A number where a string is expected may be coerced by AWS, which then finds no key "5".
        (
            "Encrypt",
            br#"{"KeyId":5,"Plaintext":"aGk="}"#.to_vec(),
            &[
                "SerializationException",
                "ValidationException",
                "NotFoundException",
            ],
        ),
        (
            "Encrypt",
            format!(
                r#"{{"KeyId":"{id}","Plaintext":"aGk=","EncryptionContext":{{"a":{{"b":"c"}}}}}}"#
            )
            .into_bytes(),
            SV,
        ),
        (
            "ScheduleKeyDeletion",
            format!(r#"{{"KeyId":"{id}","PendingWindowInDays":[7]}}"#).into_bytes(),
            SV,
        ),
        (
            "CreateKey",
            br#"{"Tags":[{"TagKey":["k"],"TagValue":"v"}]}"#.to_vec(),
            SV,
        ),
        (
            "Encrypt",
            format!(r#"{{"KeyId":"{id}","Plaintext":"aGk=","EncryptionContext":[1,2]}}"#)
                .into_bytes(),
            SV,
        ),
        (
            "Encrypt",
            format!(r#"{{"KeyId":"{id}","Plaintext":"aGk=","DryRun":"yes"}}"#).into_bytes(),
            SV,
        ),
        ("Decrypt", br#"{"CiphertextBlob":{}}"#.to_vec(), SV),
        ("Decrypt", br#"{"CiphertextBlob":"%%%"}"#.to_vec(), SV),
        ("GenerateRandom", br#"{"NumberOfBytes":"ten"}"#.to_vec(), SV),
        ("GenerateRandom", br#"{"NumberOfBytes":1e400}"#.to_vec(), SV),
        (
            "GenerateRandom",
            br#"{"NumberOfBytes":99999999999999999999}"#.to_vec(),
            SV,
        ),
        ("GenerateRandom", br#"{"NumberOfBytes":-1}"#.to_vec(), SV),
        (
            "GenerateDataKey",
            format!(r#"{{"KeyId":"{id}","KeySpec":7}}"#).into_bytes(),
            SV,
        ),
        ("ListKeys", br#"{"Limit":-1}"#.to_vec(), SV),
        (
            "ListKeys",
            br#"{"Marker":"garbage-marker"}"#.to_vec(),
            &[
                "InvalidMarkerException",
                "ValidationException",
                "SerializationException",
            ],
        ),
        ("CreateKey", br#"{"Tags":"notalist"}"#.to_vec(), SV),
        ("CreateKey", br#"{"Tags":[null]}"#.to_vec(), SV),
        ("CreateKey", br#"{"KeySpec":{"nested":true}}"#.to_vec(), SV),
        (
            "TagResource",
            format!(r#"{{"KeyId":"{id}","Tags":{{"a":"b"}}}}"#).into_bytes(),
            SV,
        ),
        ("ListKeys", vec![0xff, 0xfe, 0x00, 0x7b], SV),
        ("ListKeys", deep.clone().into_bytes(), SV),
        ("DescribeKey", deep_obj.clone().into_bytes(), SV),
    ];
    for (op, body, allowed) in cases {
        let r = srv.kms_raw(op, &body);
        let shown = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        assert!(
            r.status < 500,
            "{op} with body {shown:?} answered {} {}",
            r.status,
            r.body_str()
        );
        assert!(
            (400..500).contains(&r.status),
            "{op} {shown:?} must be rejected, got {}",
            r.status
        );
        let t = r.error_type();
        assert!(
            allowed.contains(&t.as_str()),
            "{op} {shown:?}: __type {t:?} not in {allowed:?}"
        );
    }
    // Unsigned garbage, too.
    let r = http_request(
        srv.port,
        "POST",
        "/",
        &unsigned_kms_headers(srv.port, "Encrypt"),
        b"\x00\x01garbage",
    );
    assert!(
        (400..500).contains(&r.status),
        "unsigned garbage answered {}",
        r.status
    );
    // The server is still healthy and the key untouched.
    let r = srv.kms_raw("DescribeKey", format!(r#"{{"KeyId":"{id}"}}"#).as_bytes());
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert_eq!(
        r.json()["KeyMetadata"]["KeyState"],
        serde_json::json!("Enabled")
    );
}

#[test]
fn oversized_body_is_rejected_with_4xx() {
    let mut srv = Server::start();
    let id = create_key_raw(&srv);
    let filler = "A".repeat(2 * 1024 * 1024);
    let body = format!(r#"{{"KeyId":"{id}","Plaintext":"{filler}"}}"#);
    let r = srv.kms_raw("Encrypt", body.as_bytes());
    assert!(
        (400..500).contains(&r.status),
        "a 2 MiB body must be rejected with a 4xx, got {} {}",
        r.status,
        r.body_str()
    );
    // Also unsigned: the limit applies before authentication work.
    let headers = unsigned_kms_headers(srv.port, "Encrypt");
    let r = http_request(srv.port, "POST", "/", &headers, body.as_bytes());
    assert!(
        (400..500).contains(&r.status),
        "unsigned 2 MiB body answered {}",
        r.status
    );
    assert!(srv.is_running(), "server died on an oversized body");
    let r = srv.kms_raw("ListKeys", b"{}");
    assert_eq!(r.status, 200);
}

#[test]
fn region_comes_from_the_credential_scope() {
    let srv = Server::start();
    let r = srv.kms_raw_with("CreateKey", b"{}", "ap-southeast-2", ACCESS_KEY, SECRET_KEY);
    assert_eq!(r.status, 200, "{}", r.body_str());
    let m = &r.json()["KeyMetadata"];
    let id = m["KeyId"].as_str().unwrap().to_string();
    assert_eq!(m["Arn"], serde_json::json!(key_arn("ap-southeast-2", &id)));
    let body = format!(r#"{{"KeyId":"{id}"}}"#);
    let r = srv.kms_raw_with(
        "DescribeKey",
        body.as_bytes(),
        "ap-southeast-2",
        ACCESS_KEY,
        SECRET_KEY,
    );
    assert_eq!(r.status, 200);
    let r = srv.kms_raw("DescribeKey", body.as_bytes());
    assert_error(&r, &["NotFoundException"]);
}

#[tokio::test]
async fn dev_credentials_can_be_overridden_by_env() {
    let tmp = tempfile::tempdir().unwrap();
    let ak = "AKIAOVERRIDE00000001";
    let sk = "overrideSecretKey/abcdefghijklmnopqrstuvwxyz0123";
    let srv = Server::start_with(
        tmp.path(),
        &[
            ("TRESOR_DEV_ACCESS_KEY_ID", ak),
            ("TRESOR_DEV_SECRET_ACCESS_KEY", sk),
        ],
    );
    let good = srv.client_with(REGION, ak, sk).await;
    let out = ok(good.create_key().send().await);
    assert_eq!(out.key_metadata().unwrap().aws_account_id(), Some(ACCOUNT));
    let old = srv.client().await;
    assert_code(old.list_keys().send().await, "UnrecognizedClientException");
    let wrong_secret = srv.client_with(REGION, ak, SECRET_KEY).await;
    assert_code(
        wrong_secret.list_keys().send().await,
        "InvalidSignatureException",
    );
}
