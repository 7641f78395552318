//! The trust boundary, attacked through the real server with hand-signed requests:
//! members an operation does not use never satisfy a policy condition or a grant
//! constraint; ReEncrypt is authorized per side; another account cannot manage a key
//! whatever its policy says; a request body is a JSON object; a disable is in force for
//! every request that starts after it is acknowledged.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::Engine;
use common::*;
use serde_json::{json, Value};
use std::time::Instant;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// A raw request signed with `who`'s key.
fn raw_as(srv: &Server, who: &Identity, op: &str, body: &Value) -> RawResponse {
    srv.kms_raw_with(
        op,
        body.to_string().as_bytes(),
        REGION,
        &who.access_key_id,
        &who.secret,
    )
}

/// A Decrypt body: `ciphertext` under the context `{Dept: dept}`.
fn decrypt_body(ciphertext: &[u8], dept: &str) -> Value {
    json!({"CiphertextBlob": b64(ciphertext), "EncryptionContext": {"Dept": dept}})
}

/// A key whose policy gives the account root everything plus `statements`.
async fn key_with(root: &aws_sdk_kms::Client, statements: Vec<Value>) -> String {
    let mut all = vec![json!({"Sid": "Root", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "kms:*", "Resource": "*"})];
    all.extend(statements);
    let policy = json!({"Version": "2012-10-17", "Statement": all});
    ok(root.create_key().policy(policy.to_string()).send().await)
        .key_metadata
        .unwrap()
        .key_id()
        .to_string()
}

async fn encrypt_with(
    root: &aws_sdk_kms::Client,
    key: &str,
    plaintext: &[u8],
    dept: &str,
) -> Vec<u8> {
    ok(root
        .encrypt()
        .key_id(key)
        .plaintext(blob(plaintext))
        .encryption_context("Dept", dept)
        .send()
        .await)
    .ciphertext_blob
    .unwrap()
    .into_inner()
}

fn assert_denied(resp: &RawResponse, what: &str) {
    assert_eq!(
        resp.error_type(),
        "AccessDeniedException",
        "{what}: {} {}",
        resp.status,
        resp.body_str()
    );
    assert!(
        !resp.body_str().contains("Plaintext"),
        "{what} leaked a plaintext"
    );
}

#[tokio::test]
async fn members_the_operation_does_not_use_never_satisfy_a_context_condition() {
    let srv = Server::start();
    let root = srv.client().await;
    let bob = create_user(&srv, ACCOUNT, "bob");
    let key = key_with(
        &root,
        vec![json!({"Sid": "Bob decrypts IT data", "Effect": "Allow",
            "Principal": {"AWS": bob.arn}, "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "IT"}}})],
    )
    .await;
    let hr = encrypt_with(&root, &key, b"HR salaries", "HR").await;
    let it = encrypt_with(&root, &key, b"IT inventory", "IT").await;

    // The use: IT's data decrypts for bob.
    let resp = raw_as(&srv, &bob, "Decrypt", &decrypt_body(&it, "IT"));
    assert_eq!(resp.status, 200, "{}", resp.body_str());
    assert_eq!(
        B64.decode(resp.json()["Plaintext"].as_str().unwrap())
            .unwrap(),
        b"IT inventory"
    );

    // The attack: HR's real context plus a member Decrypt does not have.
    for extra in [
        "DestinationEncryptionContext",
        "SourceEncryptionContext",
        "encryptionContext",
    ] {
        let mut body = decrypt_body(&hr, "HR");
        body[extra] = json!({"Dept": "IT"});
        assert_denied(&raw_as(&srv, &bob, "Decrypt", &body), extra);
    }
    // And HR's data without the extra member is refused too.
    assert_denied(
        &raw_as(&srv, &bob, "Decrypt", &decrypt_body(&hr, "HR")),
        "plain HR decrypt",
    );
    // Members Decrypt does not have are left out of its audit records.
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    let decrypts = loop {
        let decrypts: Vec<Value> = records(&audit_dir(&srv))
            .into_iter()
            .filter(|r| r["eventName"] == "Decrypt" && r["errorCode"] == "AccessDeniedException")
            .collect();
        if decrypts.len() >= 4 || Instant::now() > deadline {
            break decrypts;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(decrypts.len(), 4, "one record per denied Decrypt");
    for r in &decrypts {
        let params = r["requestParameters"].as_object().unwrap();
        assert_eq!(
            params.keys().collect::<Vec<_>>(),
            ["encryptionContext"],
            "{r}"
        );
        assert_eq!(params["encryptionContext"], json!({"Dept": "HR"}));
    }
}

#[tokio::test]
async fn members_the_operation_does_not_use_never_satisfy_a_grant_constraint() {
    let srv = Server::start();
    let root = srv.client().await;
    let bob = create_user(&srv, ACCOUNT, "bob");
    let key = create_key(&root).await;
    ok(root
        .create_grant()
        .key_id(&key)
        .grantee_principal(&bob.arn)
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .constraints(
            aws_sdk_kms::types::GrantConstraints::builder()
                .encryption_context_equals("Dept", "IT")
                .build(),
        )
        .send()
        .await);
    let hr = encrypt_with(&root, &key, b"HR salaries", "HR").await;
    let it = encrypt_with(&root, &key, b"IT inventory", "IT").await;
    let resp = raw_as(&srv, &bob, "Decrypt", &decrypt_body(&it, "IT"));
    assert_eq!(resp.status, 200, "the grant works: {}", resp.body_str());
    let resp = raw_as(&srv, &bob, "Decrypt", &{
        let mut body = decrypt_body(&hr, "HR");
        body["DestinationEncryptionContext"] = json!({"Dept": "IT"});
        body
    });
    assert_denied(&resp, "grant constraint with an extra context member");
}

#[tokio::test]
async fn request_alias_comes_only_from_the_member_naming_the_key() {
    let srv = Server::start();
    let root = srv.client().await;
    let bob = create_user(&srv, ACCOUNT, "bob");
    let key = key_with(
        &root,
        vec![
            json!({"Sid": "Bob encrypts through the alias", "Effect": "Allow",
            "Principal": {"AWS": bob.arn}, "Action": "kms:Encrypt", "Resource": "*",
            "Condition": {"StringEquals": {"kms:RequestAlias": "alias/app"}}}),
        ],
    )
    .await;
    ok(root
        .create_alias()
        .alias_name("alias/app")
        .target_key_id(&key)
        .send()
        .await);
    let arn = key_arn(REGION, &key);
    let plaintext = b64(b"x");
    for key_id in ["alias/app".to_string(), alias_arn(REGION, "alias/app")] {
        let resp = raw_as(
            &srv,
            &bob,
            "Encrypt",
            &json!({"KeyId": key_id, "Plaintext": plaintext}),
        );
        assert_eq!(resp.status, 200, "{key_id}: {}", resp.body_str());
    }
    assert_denied(
        &raw_as(
            &srv,
            &bob,
            "Encrypt",
            &json!({"KeyId": arn, "Plaintext": plaintext}),
        ),
        "by key ARN",
    );
    for extra in ["DestinationKeyId", "TargetKeyId", "SourceKeyId"] {
        let mut body = json!({"KeyId": arn, "Plaintext": plaintext});
        body[extra] = json!("alias/app");
        assert_denied(&raw_as(&srv, &bob, "Encrypt", &body), extra);
    }
}

#[tokio::test]
async fn re_encrypt_is_authorized_on_each_side_with_that_sides_context() {
    let srv = Server::start();
    let root = srv.client().await;
    let bob = create_user(&srv, ACCOUNT, "bob");
    let key = key_with(
        &root,
        vec![
            json!({"Sid": "From IT only", "Effect": "Allow", "Principal": {"AWS": bob.arn},
                "Action": "kms:ReEncryptFrom", "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "IT"}}}),
            json!({"Sid": "To anything", "Effect": "Allow", "Principal": {"AWS": bob.arn},
                "Action": "kms:ReEncryptTo", "Resource": "*"}),
        ],
    )
    .await;
    let hr = encrypt_with(&root, &key, b"HR salaries", "HR").await;
    let it = encrypt_with(&root, &key, b"IT inventory", "IT").await;
    let resp = raw_as(
        &srv,
        &bob,
        "ReEncrypt",
        &json!({"CiphertextBlob": b64(&it), "SourceEncryptionContext": {"Dept": "IT"},
                "DestinationKeyId": key, "DestinationEncryptionContext": {"Dept": "Archive"}}),
    );
    assert_eq!(resp.status, 200, "{}", resp.body_str());
    // The destination's context does not make HR's data re-encryptable.
    let resp = raw_as(
        &srv,
        &bob,
        "ReEncrypt",
        &json!({"CiphertextBlob": b64(&hr), "SourceEncryptionContext": {"Dept": "HR"},
                "DestinationKeyId": key, "DestinationEncryptionContext": {"Dept": "IT"}}),
    );
    assert_denied(&resp, "ReEncryptFrom with the destination's context");
    assert!(resp.body_str().contains("kms:ReEncryptFrom"));
    // A destination condition is checked with the destination's context only.
    let key2 = key_with(
        &root,
        vec![
            json!({"Sid": "From anything", "Effect": "Allow", "Principal": {"AWS": bob.arn},
                "Action": "kms:ReEncryptFrom", "Resource": "*"}),
            json!({"Sid": "To Archive only", "Effect": "Allow", "Principal": {"AWS": bob.arn},
                "Action": "kms:ReEncryptTo", "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "Archive"}}}),
        ],
    )
    .await;
    let archive = encrypt_with(&root, &key2, b"old", "Archive").await;
    let resp = raw_as(
        &srv,
        &bob,
        "ReEncrypt",
        &json!({"CiphertextBlob": b64(&archive), "SourceEncryptionContext": {"Dept": "Archive"},
                "DestinationKeyId": key2, "DestinationEncryptionContext": {"Dept": "HR"}}),
    );
    assert_denied(&resp, "ReEncryptTo with the source's context");
    assert!(resp.body_str().contains("kms:ReEncryptTo"));
}

#[tokio::test]
async fn another_account_cannot_manage_a_key_whatever_its_policy_says() {
    let srv = Server::start();
    let root = srv.client().await;
    let other = "444455556666";
    let mallory = create_user(&srv, other, "mallory");
    put_policy(
        &srv,
        other,
        "mallory",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}),
    );
    let key = key_with(
        &root,
        vec![json!({"Sid": "Other account", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{other}:root")},
            "Action": "kms:*", "Resource": "*"})],
    )
    .await;
    let arn = key_arn(REGION, &key);
    let policy_before = ok(root.get_key_policy().key_id(&key).send().await)
        .policy
        .unwrap();
    let m = client_for(&srv, &mallory).await;

    // What AWS allows across accounts works.
    let ct = ok(m.encrypt().key_id(&arn).plaintext(blob(b"ok")).send().await)
        .ciphertext_blob
        .unwrap();
    ok(m.decrypt().ciphertext_blob(ct).send().await);
    ok(m.describe_key().key_id(&arn).send().await);
    ok(m.get_key_rotation_status().key_id(&arn).send().await);
    ok(m.generate_data_key()
        .key_id(&arn)
        .number_of_bytes(32)
        .send()
        .await);
    ok(m.create_grant()
        .key_id(&arn)
        .grantee_principal(&mallory.arn)
        .operations(aws_sdk_kms::types::GrantOperation::Encrypt)
        .send()
        .await);
    ok(m.list_grants().key_id(&arn).send().await);

    // Management does not, whatever the key policy says.
    let body = |extra: Value| {
        let mut b = json!({"KeyId": arn});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let attempts: Vec<(&str, Value)> = vec![
        (
            "ScheduleKeyDeletion",
            body(json!({"PendingWindowInDays": 7})),
        ),
        ("DisableKey", body(json!({}))),
        (
            "PutKeyPolicy",
            body(
                json!({"PolicyName": "default", "BypassPolicyLockoutSafetyCheck": true,
                "Policy": json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"AWS": format!("arn:aws:iam::{other}:root")},
                    "Action": "kms:*", "Resource": "*"}]}).to_string()}),
            ),
        ),
        (
            "TagResource",
            body(json!({"Tags": [{"TagKey": "owner", "TagValue": "mallory"}]})),
        ),
        ("UntagResource", body(json!({"TagKeys": ["x"]}))),
        (
            "UpdateKeyDescription",
            body(json!({"Description": "mallory was here"})),
        ),
        ("EnableKeyRotation", body(json!({}))),
        ("DisableKeyRotation", body(json!({}))),
        ("RotateKeyOnDemand", body(json!({}))),
        ("GetKeyPolicy", body(json!({"PolicyName": "default"}))),
        ("ListKeyPolicies", body(json!({}))),
        ("ListResourceTags", body(json!({}))),
        ("ListKeyRotations", body(json!({}))),
        ("EnableKey", body(json!({}))),
        ("CancelKeyDeletion", body(json!({}))),
    ];
    for (op, b) in &attempts {
        let resp = raw_as(&srv, &mallory, op, b);
        assert_denied(&resp, op);
        let action = format!("kms:{op}");
        assert!(
            resp.body_str().contains(&action),
            "{op}: {}",
            resp.body_str()
        );
    }

    // Nothing changed.
    let md = describe_key_metadata(&root, &key).await;
    assert_eq!(md.key_state().unwrap().as_str(), "Enabled");
    assert!(md.deletion_date().is_none());
    assert_eq!(md.description(), Some(""));
    assert_eq!(
        ok(root.get_key_policy().key_id(&key).send().await)
            .policy
            .unwrap(),
        policy_before
    );
    assert!(ok(root.list_resource_tags().key_id(&key).send().await)
        .tags()
        .is_empty());
    assert!(!ok(root.get_key_rotation_status().key_id(&key).send().await).key_rotation_enabled());
}

#[tokio::test]
async fn a_request_body_is_a_json_object() {
    let srv = Server::start();
    let root = srv.client().await;
    let key = create_key(&root).await;
    let keys_before = ok(root.list_keys().send().await).keys().len();
    let cases: Vec<(&str, String)> = vec![
        ("GenerateRandom", "[32,null,null]".into()),
        (
            "Encrypt",
            format!("[\"{key}\",\"eA==\",null,null,null,null]"),
        ),
        ("CreateKey", "[null,\"from an array\"]".into()),
        ("GenerateRandom", "null".into()),
        ("GenerateRandom", "32".into()),
        ("GenerateRandom", "\"NumberOfBytes\"".into()),
        ("ListKeys", "true".into()),
        // Duplicated members are refused, not resolved either way.
        (
            "GenerateRandom",
            "{\"NumberOfBytes\":32,\"NumberOfBytes\":1024}".into(),
        ),
        (
            "Encrypt",
            format!("{{\"KeyId\":\"{key}\",\"KeyId\":\"alias/other\",\"Plaintext\":\"eA==\"}}"),
        ),
    ];
    for (op, body) in &cases {
        let resp = srv.kms_raw(op, body.as_bytes());
        assert_eq!(
            (resp.status, resp.error_type().as_str()),
            (400, "SerializationException"),
            "{op} {body}: {}",
            resp.body_str()
        );
    }
    assert_eq!(
        ok(root.list_keys().send().await).keys().len(),
        keys_before,
        "no key was created from an array"
    );
    // Whitespace around an object is fine; an empty body is an empty object.
    assert_eq!(
        srv.kms_raw("GenerateRandom", b"  \n{\"NumberOfBytes\":8} ")
            .status,
        200
    );
    assert_eq!(srv.kms_raw("ListKeys", b"").status, 200);
}

/// Many tasks encrypt under keys whose caches start cold while the keys are disabled;
/// no Encrypt that started after a DisableKey was acknowledged may succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_disable_is_in_force_for_every_request_after_its_acknowledgement() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = {
        let srv = Server::start_in(tmp.path());
        let root = srv.client().await;
        let mut keys = Vec::new();
        for _ in 0..12 {
            keys.push(create_key(&root).await);
        }
        keys
    };
    // A restart empties the caches, so the first uses below fill them concurrently
    // with the disables.
    let srv = Server::start_in(tmp.path());
    let root = srv.client().await;
    let mut violations = 0;
    for key in &keys {
        let mut workers = Vec::new();
        for _ in 0..6 {
            let c = root.clone();
            let key = key.clone();
            workers.push(tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for _ in 0..40 {
                    let sent = Instant::now();
                    let r = c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await;
                    outcomes.push((sent, r.is_ok()));
                }
                outcomes
            }));
        }
        ok(root.disable_key().key_id(key).send().await);
        let acked = Instant::now();
        for w in workers {
            for (sent, succeeded) in w.await.unwrap() {
                if succeeded && sent > acked {
                    violations += 1;
                }
            }
        }
        // And later requests stay refused.
        assert_code(
            root.encrypt()
                .key_id(key)
                .plaintext(blob(b"x"))
                .send()
                .await,
            "DisabledException",
        );
    }
    assert_eq!(
        violations, 0,
        "Encrypts that started after DisableKey was acknowledged succeeded"
    );
}

/// A revoked grant and a disabled user are, like a disabled key, refused for every
/// request that starts after the change was acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoked_grants_and_disabled_users_stop_at_once() {
    let srv = Server::start();
    let root = srv.client().await;
    let bob = create_user(&srv, ACCOUNT, "bob");
    let key = create_key(&root).await;
    let grant = ok(root
        .create_grant()
        .key_id(&key)
        .grantee_principal(&bob.arn)
        .operations(aws_sdk_kms::types::GrantOperation::Encrypt)
        .send()
        .await)
    .grant_id
    .unwrap();
    let b = client_for(&srv, &bob).await;
    let hammer = |c: aws_sdk_kms::Client, key: String| {
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for _ in 0..60 {
                let sent = Instant::now();
                let r = c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await;
                outcomes.push((sent, r.is_ok()));
            }
            outcomes
        })
    };
    let workers: Vec<_> = (0..6).map(|_| hammer(b.clone(), key.clone())).collect();
    ok(root
        .revoke_grant()
        .key_id(&key)
        .grant_id(&grant)
        .send()
        .await);
    let acked = Instant::now();
    for w in workers {
        for (sent, succeeded) in w.await.unwrap() {
            assert!(
                !(succeeded && sent > acked),
                "an Encrypt through a revoked grant succeeded"
            );
        }
    }
    // A user with an identity policy, disabled while in use.
    put_policy(
        &srv,
        ACCOUNT,
        "bob",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}]}),
    );
    ok(b.encrypt().key_id(&key).plaintext(blob(b"x")).send().await);
    let workers: Vec<_> = (0..6).map(|_| hammer(b.clone(), key.clone())).collect();
    admin(
        &srv,
        &["user", "disable", "--account", ACCOUNT, "--name", "bob"],
    )
    .expect("disable bob");
    let acked = Instant::now();
    for w in workers {
        for (sent, succeeded) in w.await.unwrap() {
            assert!(
                !(succeeded && sent > acked),
                "a disabled user's Encrypt succeeded"
            );
        }
    }
}
