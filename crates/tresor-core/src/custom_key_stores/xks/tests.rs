//! Tests of the XKS proxy calls and their error mapping.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use parking_lot::Mutex;

#[test]
fn endpoints_are_https_or_loopback_http() {
    assert!(check_endpoint("https://xks.example.com").is_ok());
    assert!(check_endpoint("https://xks.example.com:8443").is_ok());
    assert!(check_endpoint("http://127.0.0.1:9000").is_ok());
    assert!(check_endpoint("http://localhost:9000").is_ok());
    assert!(check_endpoint("http://[::1]:9000").is_ok());
    assert!(check_endpoint("http://xks.example.com").is_err());
    assert!(check_endpoint("http://10.0.0.1:9000").is_err());
    assert!(check_endpoint("https://xks.example.com/path").is_err());
    assert!(check_endpoint("https://user@xks.example.com").is_err());
    assert!(check_endpoint("ftp://xks.example.com").is_err());
    assert!(check_endpoint("https://").is_err());
    assert!(check_endpoint("https://a:99999").is_err());
}

#[test]
fn paths_follow_the_model() {
    assert!(check_path("/kms/xks/v1").is_ok());
    assert!(check_path("/tenant-a/kms/xks/v1").is_ok());
    assert!(check_path("/a/b_c/kms/xks/v12").is_ok());
    assert!(check_path("/kms/xks/v123").is_err());
    assert!(check_path("kms/xks/v1").is_err());
    assert!(check_path("/x y/kms/xks/v1").is_err());
    assert!(check_path("//kms/xks/v1x").is_err());
}

#[test]
fn ciphertext_layout_round_trips_and_rejects_junk() {
    let c = XksCiphertext {
        iv: vec![1; 12],
        metadata: vec![2; 5],
        tag: [3; 16],
        ciphertext: vec![4; 40],
    };
    let enc = c.encode().unwrap();
    assert_eq!(XksCiphertext::decode(&enc), Some(c));
    assert_eq!(XksCiphertext::decode(&enc[..34]), None);
    assert_eq!(XksCiphertext::decode(&[]), None);
    let mut bad_iv = enc.clone();
    bad_iv[0] = 13;
    assert_eq!(XksCiphertext::decode(&bad_iv), None);
    let mut bad_meta = enc;
    bad_meta[13] = 21;
    assert_eq!(XksCiphertext::decode(&bad_meta), None);
}

/// A transport that answers from a script and records the requests.
#[derive(Debug, Default)]
struct Scripted {
    answers: Mutex<Vec<Result<XksHttpResponse, TransportError>>>,
    seen: Mutex<Vec<(String, serde_json::Value)>>,
}

impl XksTransport for Scripted {
    fn post(&self, req: &XksHttpRequest<'_>) -> Result<XksHttpResponse, TransportError> {
        self.seen.lock().push((
            req.path.to_owned(),
            serde_json::from_slice(req.body).unwrap(),
        ));
        self.answers.lock().remove(0)
    }
}

fn conn(answers: Vec<Result<XksHttpResponse, TransportError>>) -> (XksConnection, Arc<Scripted>) {
    let t = Arc::new(Scripted {
        answers: Mutex::new(answers),
        ..Scripted::default()
    });
    let c = XksConnection::new(
        XksTarget {
            store_id: "cks-1".into(),
            endpoint: "http://127.0.0.1:1".into(),
            uri_path: "/p/kms/xks/v1".into(),
            region: "us-east-1".into(),
            access_key_id: "A".repeat(20),
            secret: SecretBytes::from_slice(&[b'x'; 43]),
        },
        t.clone(),
    );
    (c, t)
}

fn ok(body: serde_json::Value) -> Result<XksHttpResponse, TransportError> {
    Ok(XksHttpResponse {
        status: 200,
        body: serde_json::to_vec(&body).unwrap(),
    })
}

const WHO: Who<'static> = Who {
    principal_arn: "arn:aws:iam::111122223333:root",
    operation: "Encrypt",
    request_id: "req-1",
    key_arn: Some("arn:aws:kms:us-east-1:111122223333:key/k"),
};

#[test]
fn encrypt_sends_the_specifications_body_and_checks_the_integrity_value() {
    let aad = b"header";
    let (iv, ct, tag, meta) = ([7u8; 12], [9u8; 4], [5u8; 16], [1u8, 0, 0, 0, 1]);
    let cdiv = tresor_crypto::sha256(&[aad, &meta, &iv, &ct, &tag]);
    let answer = json!({
        "ciphertext": b64(&ct), "ciphertextMetadata": b64(&meta),
        "initializationVector": b64(&iv), "authenticationTag": b64(&tag),
        "ciphertextDataIntegrityValue": b64(&cdiv),
    });
    let mut wrong = answer.clone();
    wrong["ciphertextDataIntegrityValue"] = json!(b64(&[0u8; 32]));
    let (c, t) = conn(vec![ok(answer), ok(wrong)]);
    let got = c.encrypt("xk", WHO, b"abcd", aad).unwrap();
    assert_eq!(got.ciphertext, ct.to_vec());
    let (path, body) = t.seen.lock()[0].clone();
    assert_eq!(path, "/p/kms/xks/v1/keys/xk/encrypt");
    assert_eq!(body["encryptionAlgorithm"], "AES_GCM");
    assert_eq!(body["ciphertextDataIntegrityValueAlgorithm"], "SHA_256");
    assert_eq!(body["additionalAuthenticatedData"], b64(aad));
    assert_eq!(body["requestMetadata"]["kmsOperation"], "Encrypt");
    assert_eq!(body["requestMetadata"]["kmsRequestId"], "req-1");
    assert_eq!(body["requestMetadata"]["kmsKeyArn"], WHO.key_arn.unwrap());
    assert_eq!(
        body["requestMetadata"]["awsPrincipalArn"],
        WHO.principal_arn
    );
    assert!(matches!(
        c.encrypt("xk", WHO, b"abcd", aad),
        Err(ProxyFailure::Invalid(_))
    ));
}

#[test]
fn failures_map_to_codes_and_exceptions() {
    let err = |status, name: &str| {
        Ok(XksHttpResponse {
            status,
            body: serde_json::to_vec(&json!({"errorName": name})).unwrap(),
        })
    };
    let (c, _) = conn(vec![
        err(401, "AuthenticationFailedException"),
        Err(TransportError::Timeout),
        Ok(XksHttpResponse {
            status: 500,
            body: b"<html>".to_vec(),
        }),
        ok(json!({"xksProxyFleetSize": 1})),
        err(400, "InvalidStateException"),
    ]);
    let f = c.health(WHO).unwrap_err();
    assert_eq!(f.connection_error_code(), "INVALID_CREDENTIALS");
    assert!(matches!(
        f.management_error("cks-1"),
        KmsError::XksProxyIncorrectAuthenticationCredential(_)
    ));
    let f = c.health(WHO).unwrap_err();
    assert_eq!(f.connection_error_code(), "XKS_PROXY_TIMED_OUT");
    assert!(matches!(
        f.crypto_error("k"),
        KmsError::DependencyTimeout(_)
    ));
    let f = c.health(WHO).unwrap_err();
    assert_eq!(f.connection_error_code(), "XKS_PROXY_INVALID_RESPONSE");
    let f = c.health(WHO).unwrap_err();
    assert_eq!(f.connection_error_code(), "XKS_PROXY_INVALID_RESPONSE");
    let f = c.encrypt("xk", WHO, b"abcd", b"").unwrap_err();
    assert!(matches!(f.crypto_error("k"), KmsError::InvalidState(_)));
}
