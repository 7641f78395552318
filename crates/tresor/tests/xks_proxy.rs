//! Tresor as an XKS proxy (`serve --xks-listen`): the four calls of the XKS proxy API
//! driven with hand-signed requests (service `kms-xks-proxy`), as AWS KMS sends them,
//! and the attacks next to each use.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::KeySpec;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use common::*;
use serde_json::{json, Value};

const PREFIX: &str = "/ks/test";
const OTHER_ACCOUNT: &str = "444455556666";

struct Proxy {
    srv: Server,
    _tmp: tempfile::TempDir,
    access: String,
    secret: String,
}

fn start() -> Proxy {
    let tmp = tempfile::tempdir().unwrap();
    let srv = Server::start_opts(
        tmp.path(),
        &[
            "--dev",
            "--test-clock",
            "--xks-listen",
            "127.0.0.1:0",
            "--xks-uri-prefix",
            PREFIX,
        ],
        &[],
    );
    assert!(srv.xks_port.is_some(), "no XKS banner line");
    let (access, secret) = credential(&srv, ACCOUNT, None);
    Proxy {
        srv,
        _tmp: tmp,
        access,
        secret,
    }
}

/// `tresor admin xks-credential create` for `account` (and user `name`).
fn credential(srv: &Server, account: &str, name: Option<&str>) -> (String, String) {
    let mut args = vec!["xks-credential", "create", "--account", account];
    if let Some(n) = name {
        args.extend(["--name", n]);
    }
    let v = admin(srv, &args).expect("create an XKS credential");
    (
        v["AccessKeyId"].as_str().unwrap().to_string(),
        v["SecretAccessKey"].as_str().unwrap().to_string(),
    )
}

impl Proxy {
    fn port(&self) -> u16 {
        self.srv.xks_port.unwrap()
    }

    /// A signed POST to `{PREFIX}/kms/xks/v1{path}` with this proxy's credential.
    fn post(&self, path: &str, body: &Value) -> RawResponse {
        self.post_as(path, body, (&self.access, &self.secret), "kms-xks-proxy")
    }

    fn post_as(
        &self,
        path: &str,
        body: &Value,
        (access, secret): (&str, &str),
        service: &str,
    ) -> RawResponse {
        let path = format!("{PREFIX}/kms/xks/v1{path}");
        let body = body.to_string().into_bytes();
        let headers = sign_post(self.port(), &path, &body, (REGION, service), access, secret);
        http_request(self.port(), "POST", &path, &headers, &body)
    }

    fn encrypt(&self, key: &str, plaintext: &[u8], aad: &[u8]) -> Value {
        let r = self.post(
            &format!("/keys/{key}/encrypt"),
            &json!({
                "requestMetadata": meta("Encrypt", key),
                "plaintext": B64.encode(plaintext),
                "additionalAuthenticatedData": B64.encode(aad),
                "encryptionAlgorithm": "AES_GCM",
                "ciphertextDataIntegrityValueAlgorithm": "SHA_256",
            }),
        );
        assert_eq!(r.status, 200, "{}", r.body_str());
        r.json()
    }

    fn decrypt(&self, key: &str, sealed: &Value, aad: &[u8]) -> RawResponse {
        self.post(
            &format!("/keys/{key}/decrypt"),
            &json!({
                "requestMetadata": meta("Decrypt", key),
                "ciphertext": sealed["ciphertext"],
                "ciphertextMetadata": sealed["ciphertextMetadata"],
                "initializationVector": sealed["initializationVector"],
                "authenticationTag": sealed["authenticationTag"],
                "additionalAuthenticatedData": B64.encode(aad),
                "encryptionAlgorithm": "AES_GCM",
            }),
        )
    }
}

fn meta(op: &str, key: &str) -> Value {
    json!({
        "awsPrincipalArn": "arn:aws:iam::123456789012:user/Alice",
        "kmsKeyArn": format!("arn:aws:kms:us-east-2:123456789012:key/{key}"),
        "kmsOperation": op,
        "kmsRequestId": format!("req-{op}-{key}"),
        "kmsViaService": "ebs",
    })
}

fn error_name(r: &RawResponse) -> String {
    r.json()["errorName"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn assert_error(r: &RawResponse, status: u16, name: &str) {
    assert_eq!(
        (r.status, error_name(r).as_str()),
        (status, name),
        "{}",
        r.body_str()
    );
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap()).unwrap()
}

async fn symmetric_key(srv: &Server) -> String {
    let c = srv.client().await;
    let k = c.create_key().send().await.unwrap();
    k.key_metadata().unwrap().key_id().to_string()
}

#[tokio::test]
async fn the_four_calls_work_as_the_specification_says() {
    let p = start();
    // The credential has the specification's shape.
    assert!((20..=30).contains(&p.access.len()), "{}", p.access);
    assert!(p
        .access
        .chars()
        .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)));
    assert!((43..=64).contains(&p.secret.len()));
    assert!(p
        .secret
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)));

    let health = p.post(
        "/health",
        &json!({"requestMetadata": {"kmsOperation": "KmsHealthCheck", "kmsRequestId": "h-1"}}),
    );
    assert_eq!(health.status, 200, "{}", health.body_str());
    let h = health.json();
    assert_eq!(h["xksProxyFleetSize"], 1);
    assert!(h["xksProxyVendor"].is_string() && h["xksProxyModel"].is_string());
    assert!(h["ekmVendor"].is_string());
    assert_eq!(h["ekmFleetDetails"][0]["healthStatus"], "ACTIVE");

    let key = symmetric_key(&p.srv).await;
    let m = p.post(
        &format!("/keys/{key}/metadata"),
        &json!({"requestMetadata": {"awsPrincipalArn": "arn:aws:iam::123456789012:user/Alice", "kmsOperation": "CreateKey", "kmsRequestId": "m-1"}}),
    );
    assert_eq!(m.status, 200, "{}", m.body_str());
    assert_eq!(
        m.json(),
        json!({"keySpec": "AES_256", "keyUsage": ["ENCRYPT", "DECRYPT"], "keyStatus": "ENABLED"})
    );

    let plaintext = vec![0x5a; 4300];
    let aad = b"project=nile,department=marketing";
    let sealed = p.encrypt(&key, &plaintext, aad);
    let (ct, iv, tag, md) = (
        b64(&sealed["ciphertext"]),
        b64(&sealed["initializationVector"]),
        b64(&sealed["authenticationTag"]),
        b64(&sealed["ciphertextMetadata"]),
    );
    assert_eq!((ct.len(), iv.len(), tag.len()), (4300, 12, 16));
    assert!(md.len() <= 20);
    assert_ne!(ct, plaintext);
    // The integrity value, computed independently.
    let mut h = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in [&aad[..], &md, &iv, &ct, &tag] {
        h.update(part);
    }
    assert_eq!(
        b64(&sealed["ciphertextDataIntegrityValue"]),
        h.finish().as_ref()
    );
    let d = p.decrypt(&key, &sealed, aad);
    assert_eq!(d.status, 200, "{}", d.body_str());
    assert_eq!(b64(&d.json()["plaintext"]), plaintext);

    // Two encryptions of the same plaintext differ (fresh IV).
    let again = p.encrypt(&key, &plaintext, aad);
    assert_ne!(
        again["initializationVector"],
        sealed["initializationVector"]
    );

    // Without AAD and without an integrity value request.
    let r = p.post(
        &format!("/keys/{key}/encrypt"),
        &json!({"requestMetadata": meta("GenerateDataKey", &key), "plaintext": B64.encode(b"k"), "encryptionAlgorithm": "AES_GCM"}),
    );
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert!(r.json().get("ciphertextDataIntegrityValue").is_none());
    let d = p.decrypt(&key, &r.json(), b"");
    assert_eq!(b64(&d.json()["plaintext"]), b"k");

    // A rotation leaves earlier ciphertexts decryptable.
    let c = p.srv.client().await;
    c.rotate_key_on_demand().key_id(&key).send().await.unwrap();
    let d = p.decrypt(&key, &sealed, aad);
    assert_eq!(d.status, 200, "{}", d.body_str());
    assert_eq!(b64(&d.json()["plaintext"]), plaintext);
    let after = p.encrypt(&key, b"new", b"");
    assert_ne!(after["ciphertextMetadata"], sealed["ciphertextMetadata"]);
}

#[tokio::test]
async fn tampered_ciphertexts_aad_and_metadata_fail_alike() {
    let p = start();
    let key = symmetric_key(&p.srv).await;
    let other = symmetric_key(&p.srv).await;
    let aad = b"context";
    let sealed = p.encrypt(&key, b"secret data", aad);
    let flip = |member: &str| {
        let mut s = sealed.clone();
        let mut bytes = b64(&s[member]);
        bytes[0] ^= 1;
        s[member] = json!(B64.encode(bytes));
        s
    };
    for member in [
        "ciphertext",
        "authenticationTag",
        "initializationVector",
        "ciphertextMetadata",
    ] {
        let r = p.decrypt(&key, &flip(member), aad);
        assert_error(&r, 400, "InvalidCiphertextException");
    }
    assert_error(
        &p.decrypt(&key, &sealed, b"contexT"),
        400,
        "InvalidCiphertextException",
    );
    assert_error(
        &p.decrypt(&key, &sealed, b""),
        400,
        "InvalidCiphertextException",
    );
    // Bytes moved from the AAD into the metadata do not open either.
    let mut moved = p.encrypt(&key, b"x", b"");
    let md = b64(&moved["ciphertextMetadata"]);
    moved["ciphertextMetadata"] = json!("");
    assert_error(
        &p.decrypt(&key, &moved, &md),
        400,
        "InvalidCiphertextException",
    );
    // Another key of the same account does not open it.
    assert_error(
        &p.decrypt(&other, &sealed, aad),
        400,
        "InvalidCiphertextException",
    );
    // A short IV or tag is an invalid ciphertext, not a crash.
    let mut short = sealed.clone();
    short["initializationVector"] = json!(B64.encode([0u8; 8]));
    assert_error(
        &p.decrypt(&key, &short, aad),
        400,
        "InvalidCiphertextException",
    );
    let mut short = sealed.clone();
    short["authenticationTag"] = json!(B64.encode([0u8; 4]));
    assert_error(
        &p.decrypt(&key, &short, aad),
        400,
        "InvalidCiphertextException",
    );
    // The untampered one still opens.
    assert_eq!(p.decrypt(&key, &sealed, aad).status, 200);
}

#[tokio::test]
async fn only_an_xks_credential_signing_for_kms_xks_proxy_gets_in() {
    let p = start();
    let key = symmetric_key(&p.srv).await;
    let path = format!("/keys/{key}/metadata");
    let body = json!({"requestMetadata": meta("DescribeKey", &key)});
    assert_eq!(p.post(&path, &body).status, 200);

    // Unsigned.
    let full = format!("{PREFIX}/kms/xks/v1{path}");
    let raw = http_request(
        p.port(),
        "POST",
        &full,
        &[("Content-Type".into(), "application/json".into())],
        body.to_string().as_bytes(),
    );
    assert_error(&raw, 401, "AuthenticationFailedException");
    // Wrong secret.
    let r = p.post_as(
        &path,
        &body,
        (&p.access, "x".repeat(44).as_str()),
        "kms-xks-proxy",
    );
    assert_error(&r, 401, "AuthenticationFailedException");
    // The right credential, scoped to another service.
    let r = p.post_as(&path, &body, (&p.access, &p.secret), "kms");
    assert_error(&r, 401, "AuthenticationFailedException");
    // An ordinary access key (the dev operator's) cannot sign XKS requests.
    let r = p.post_as(&path, &body, (ACCESS_KEY, SECRET_KEY), "kms-xks-proxy");
    assert_error(&r, 401, "AuthenticationFailedException");
    // A signed body that was changed on the way.
    let signed = body.to_string().into_bytes();
    let mut headers = sign_post(
        p.port(),
        &full,
        &signed,
        (REGION, "kms-xks-proxy"),
        &p.access,
        &p.secret,
    );
    let tampered = json!({"requestMetadata": meta("CreateKey", &key)}).to_string();
    headers.retain(|(k, _)| k != "Content-Length");
    let r = http_request(p.port(), "POST", &full, &headers, tampered.as_bytes());
    assert_error(&r, 401, "AuthenticationFailedException");
    // A request signed for another path is not valid for this one.
    let health = format!("{PREFIX}/kms/xks/v1/health");
    let hb = json!({"requestMetadata": {"kmsOperation": "KmsHealthCheck", "kmsRequestId": "1"}})
        .to_string()
        .into_bytes();
    let headers = sign_post(
        p.port(),
        &health,
        &hb,
        (REGION, "kms-xks-proxy"),
        &p.access,
        &p.secret,
    );
    let r = http_request(p.port(), "POST", &full, &headers, &hb);
    assert_error(&r, 401, "AuthenticationFailedException");

    // The XKS credential opens nothing on the KMS API.
    let r = p
        .srv
        .kms_raw_with("ListKeys", b"{}", REGION, &p.access, &p.secret);
    assert_eq!(r.status, 400);
    assert_eq!(r.error_type(), "UnrecognizedClientException");
    // …nor the admin API.
    let who = Identity {
        arn: String::new(),
        access_key_id: p.access.clone(),
        secret: p.secret.clone(),
    };
    assert!(run_admin(&p.srv, Some(&who), &["user", "list", "--account", ACCOUNT]).is_err());

    // Listed, then deleted: it stops working at once.
    let listed = admin(&p.srv, &["xks-credential", "list", "--account", ACCOUNT]).unwrap();
    let ids: Vec<&str> = listed["XksCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["AccessKeyId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [p.access.as_str()]);
    // Access-key commands do not see or delete it.
    let keys = admin(&p.srv, &["access-key", "list", "--account", ACCOUNT]).unwrap();
    assert!(!keys.to_string().contains(&p.access));
    assert!(admin(
        &p.srv,
        &[
            "access-key",
            "delete",
            "--account",
            ACCOUNT,
            "--access-key-id",
            &p.access
        ]
    )
    .is_err());
    // Another account cannot delete it.
    assert!(admin(
        &p.srv,
        &[
            "xks-credential",
            "delete",
            "--account",
            OTHER_ACCOUNT,
            "--access-key-id",
            &p.access
        ]
    )
    .is_err());
    admin(
        &p.srv,
        &[
            "xks-credential",
            "delete",
            "--account",
            ACCOUNT,
            "--access-key-id",
            &p.access,
        ],
    )
    .unwrap();
    assert_error(&p.post(&path, &body), 401, "AuthenticationFailedException");
}

#[tokio::test]
async fn only_symmetric_keys_of_the_credentials_account_are_external_keys() {
    let p = start();
    // A key of another account, created by that account's user.
    let bob = create_user(&p.srv, OTHER_ACCOUNT, "bob");
    put_policy(
        &p.srv,
        OTHER_ACCOUNT,
        "bob",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}),
    );
    let theirs = client_for(&p.srv, &bob)
        .await
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    let c = p.srv.client().await;
    let rsa = c
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::EncryptDecrypt)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    for key in [
        theirs.as_str(),
        rsa.as_str(),
        "9b3e2c1a-0000-4000-8000-000000000000",
    ] {
        let r = p.post(
            &format!("/keys/{key}/encrypt"),
            &json!({"requestMetadata": meta("Encrypt", key), "plaintext": "AA==", "encryptionAlgorithm": "AES_GCM"}),
        );
        assert_error(&r, 404, "KeyNotFoundException");
        let r = p.post(
            &format!("/keys/{key}/metadata"),
            &json!({"requestMetadata": meta("DescribeKey", key)}),
        );
        assert_error(&r, 404, "KeyNotFoundException");
    }
    // The other account's own credential reaches its key.
    let (a, s) = credential(&p.srv, OTHER_ACCOUNT, None);
    let r = p.post_as(
        &format!("/keys/{theirs}/metadata"),
        &json!({"requestMetadata": meta("DescribeKey", &theirs)}),
        (&a, &s),
        "kms-xks-proxy",
    );
    assert_eq!(r.status, 200, "{}", r.body_str());
    // An id outside the specification's alphabet is a validation error.
    let r = p.post(
        "/keys/a~b/metadata",
        &json!({"requestMetadata": meta("DescribeKey", "x")}),
    );
    assert_error(&r, 400, "ValidationException");
}

#[tokio::test]
async fn a_disabled_key_reads_disabled_and_does_no_crypto() {
    let p = start();
    let key = symmetric_key(&p.srv).await;
    let sealed = p.encrypt(&key, b"before", b"");
    let c = p.srv.client().await;
    c.disable_key().key_id(&key).send().await.unwrap();
    let m = p.post(
        &format!("/keys/{key}/metadata"),
        &json!({"requestMetadata": meta("DescribeKey", &key)}),
    );
    assert_eq!(m.json()["keyStatus"], "DISABLED");
    let r = p.post(
        &format!("/keys/{key}/encrypt"),
        &json!({"requestMetadata": meta("Encrypt", &key), "plaintext": "AA==", "encryptionAlgorithm": "AES_GCM"}),
    );
    assert_error(&r, 400, "InvalidStateException");
    assert_error(&p.decrypt(&key, &sealed, b""), 400, "InvalidStateException");
    c.enable_key().key_id(&key).send().await.unwrap();
    assert_eq!(p.decrypt(&key, &sealed, b"").status, 200);
    // Pending deletion: the same.
    c.schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_error(&p.decrypt(&key, &sealed, b""), 400, "InvalidStateException");
}

#[tokio::test]
async fn policies_decide_which_keys_a_credential_may_use() {
    let p = start();
    let allowed = symmetric_key(&p.srv).await;
    let denied = symmetric_key(&p.srv).await;
    create_user(&p.srv, ACCOUNT, "xks-proxy");
    put_policy(
        &p.srv,
        ACCOUNT,
        "xks-proxy",
        &json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
            "Resource": format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{allowed}"),
        }]}),
    );
    let (a, s) = credential(&p.srv, ACCOUNT, Some("xks-proxy"));
    let encrypt = |key: &str| {
        p.post_as(
            &format!("/keys/{key}/encrypt"),
            &json!({"requestMetadata": meta("Encrypt", key), "plaintext": "AA==", "encryptionAlgorithm": "AES_GCM"}),
            (&a, &s),
            "kms-xks-proxy",
        )
    };
    assert_eq!(
        encrypt(&allowed).status,
        200,
        "{}",
        encrypt(&allowed).body_str()
    );
    assert_error(&encrypt(&denied), 403, "AccessDeniedException");
    // Disabling the user disables its XKS credential.
    admin(
        &p.srv,
        &[
            "user",
            "disable",
            "--account",
            ACCOUNT,
            "--name",
            "xks-proxy",
        ],
    )
    .unwrap();
    assert_error(&encrypt(&allowed), 401, "AuthenticationFailedException");
}

#[tokio::test]
async fn bad_requests_get_the_specifications_errors() {
    let p = start();
    let key = symmetric_key(&p.srv).await;
    let path = format!("{PREFIX}/kms/xks/v1/keys/{key}/encrypt");
    // GET and other methods on a call's path: 405.
    for method in ["GET", "PUT", "DELETE"] {
        let r = http_request(p.port(), method, &path, &[], b"");
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("POST"));
    }
    // Unknown paths: 404 InvalidUriPathException, signed or not.
    for bad in ["/kms/xks/v1/health", "/ks/test/kms/xks/v1/keys/k/sign", "/"] {
        let r = http_request(p.port(), "GET", bad, &[], b"");
        assert_error(&r, 404, "InvalidUriPathException");
    }
    let r = p.post("/nothing", &json!({}));
    assert_error(&r, 404, "InvalidUriPathException");
    // An oversized body.
    let big = json!({"requestMetadata": meta("Encrypt", &key), "plaintext": "A".repeat(100_000)});
    assert_error(
        &p.post(&format!("/keys/{key}/encrypt"), &big),
        400,
        "ValidationException",
    );
    let e = format!("/keys/{key}/encrypt");
    let cases = [
        // No requestMetadata.
        json!({"plaintext": "AA==", "encryptionAlgorithm": "AES_GCM"}),
        // No kmsRequestId.
        json!({"requestMetadata": {"kmsOperation": "Encrypt", "awsPrincipalArn": "a", "kmsKeyArn": "k"}, "plaintext": "AA==", "encryptionAlgorithm": "AES_GCM"}),
        // Another algorithm.
        json!({"requestMetadata": meta("Encrypt", &key), "plaintext": "AA==", "encryptionAlgorithm": "AES_CBC"}),
        // No plaintext.
        json!({"requestMetadata": meta("Encrypt", &key), "encryptionAlgorithm": "AES_GCM"}),
        // Not Base64.
        json!({"requestMetadata": meta("Encrypt", &key), "plaintext": "***", "encryptionAlgorithm": "AES_GCM"}),
        // A number for a string.
        json!({"requestMetadata": meta("Encrypt", &key), "plaintext": 5, "encryptionAlgorithm": "AES_GCM"}),
        // Another integrity algorithm.
        json!({"requestMetadata": meta("Encrypt", &key), "plaintext": "AA==", "encryptionAlgorithm": "AES_GCM", "ciphertextDataIntegrityValueAlgorithm": "MD5"}),
        // An ARN beyond 2048 characters.
        json!({"requestMetadata": {"kmsOperation": "Encrypt", "kmsRequestId": "r", "kmsKeyArn": "k", "awsPrincipalArn": "a".repeat(2049)}, "plaintext": "AA==", "encryptionAlgorithm": "AES_GCM"}),
        // Not an object.
        json!([1, 2]),
    ];
    for body in cases {
        let r = p.post(&e, &body);
        assert_error(&r, 400, "ValidationException");
        let msg = r.json()["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            msg.len() < 512 && msg.bytes().all(|b| (0x20..=0x7e).contains(&b)),
            "{msg}"
        );
    }
    // Malformed JSON.
    let full = format!("{PREFIX}/kms/xks/v1{e}");
    let headers = sign_post(
        p.port(),
        &full,
        b"{",
        (REGION, "kms-xks-proxy"),
        &p.access,
        &p.secret,
    );
    assert_error(
        &http_request(p.port(), "POST", &full, &headers, b"{"),
        400,
        "ValidationException",
    );
    // Beyond the sizes the proxy supports: UnsupportedOperationException.
    let r = p.post(
        &e,
        &json!({"requestMetadata": meta("Encrypt", &key), "plaintext": B64.encode(vec![0u8; 9000]), "encryptionAlgorithm": "AES_GCM"}),
    );
    assert_error(&r, 501, "UnsupportedOperationException");
    // The server survived all of it.
    assert_eq!(p.encrypt(&key, b"ok", b"").as_object().unwrap().len(), 5);
}

#[tokio::test]
async fn every_call_is_audited_with_the_callers_request_metadata() {
    let p = start();
    let key = symmetric_key(&p.srv).await;
    let secret = b"do not log me, ever";
    let sealed = p.encrypt(&key, secret, b"aad-not-logged");
    assert_eq!(p.decrypt(&key, &sealed, b"aad-not-logged").status, 200);
    let dir = audit_dir(&p.srv);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let records = loop {
        let r = records(&dir);
        if r.iter().any(|e| e["eventName"] == "XksDecrypt") || std::time::Instant::now() > deadline
        {
            break r;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let enc = records
        .iter()
        .find(|e| e["eventName"] == "XksEncrypt")
        .expect("an XksEncrypt record");
    let m = &enc["requestParameters"]["requestMetadata"];
    assert_eq!(m["kmsOperation"], "Encrypt");
    assert_eq!(m["kmsRequestId"], format!("req-Encrypt-{key}"));
    assert_eq!(m["awsPrincipalArn"], "arn:aws:iam::123456789012:user/Alice");
    assert_eq!(m["kmsViaService"], "ebs");
    assert_eq!(enc["requestParameters"]["externalKeyId"], key.as_str());
    assert!(enc["resources"].to_string().contains(&key));
    assert!(records.iter().any(|e| e["eventName"] == "XksDecrypt"));
    let all = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|f| std::fs::read_to_string(f.path()).unwrap_or_default())
        .collect::<String>();
    for never in [
        B64.encode(secret),
        sealed["ciphertext"].as_str().unwrap().to_string(),
        sealed["authenticationTag"].as_str().unwrap().to_string(),
        B64.encode(b"aad-not-logged"),
    ] {
        assert!(!all.contains(&never), "the audit log holds {never}");
    }
}

#[tokio::test]
async fn the_proxy_speaks_tls_when_the_server_does() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = Server::start_opts(
        tmp.path(),
        &["--dev", "--tls", "--xks-listen", "127.0.0.1:0"],
        &[],
    );
    let port = srv.xks_port.expect("an XKS banner line");
    let ca_path = srv.ca_bundle.clone().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tresor"))
        .args(["admin", "--output", "json", "--endpoint", &srv.endpoint])
        .args(["xks-credential", "create", "--account", ACCOUNT])
        .env("AWS_CA_BUNDLE", &ca_path)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (access, secret) = (
        v["AccessKeyId"].as_str().unwrap().to_string(),
        v["SecretAccessKey"].as_str().unwrap().to_string(),
    );
    let ca = std::fs::read(&ca_path).unwrap();
    let path = "/kms/xks/v1/health";
    let body = json!({"requestMetadata": {"kmsOperation": "KmsHealthCheck", "kmsRequestId": "t"}})
        .to_string()
        .into_bytes();
    let headers = sign_post(
        port,
        path,
        &body,
        (REGION, "kms-xks-proxy"),
        &access,
        &secret,
    );
    let r = tls_request(
        port,
        client_config(&ca, None),
        "POST",
        path,
        &headers,
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert_eq!(r.json()["ekmFleetDetails"][0]["healthStatus"], "ACTIVE");
    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    plain
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    use std::io::{Read, Write};
    let _ = plain
        .write_all(b"POST /kms/xks/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(
        !got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
}
