//! The audit log, black box: CloudTrail records of real calls, secrecy, tamper evidence
//! (`tresor audit verify`), crash safety and `tresor audit query`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_kms::operation::RequestId;
use aws_sdk_kms::types::{DataKeySpec, MacAlgorithmSpec, SigningAlgorithmSpec};
use base64::Engine as _;
use common::*;
use serde_json::Value;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Waits (read-only records are group-committed) until a record with each request id
/// is on disk; returns them in the order of `ids`.
fn wait_for(dir: &Path, ids: &[String]) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let all = records(dir);
        let found: Vec<Option<Value>> = ids
            .iter()
            .map(|id| all.iter().find(|r| r["requestID"] == id.as_str()).cloned())
            .collect();
        if found.iter().all(Option::is_some) {
            return found.into_iter().flatten().collect();
        }
        assert!(
            Instant::now() < deadline,
            "records for {ids:?} not all written; have {all:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_common(r: &Value, event: &str, read_only: bool) {
    assert_eq!(r["eventVersion"], "1.11", "{r}");
    assert_eq!(r["eventSource"], "kms.amazonaws.com");
    assert_eq!(r["eventName"], event);
    assert_eq!(r["awsRegion"], REGION);
    assert_eq!(r["sourceIPAddress"], "127.0.0.1");
    assert!(r["userAgent"].is_string(), "{r}");
    assert_eq!(r["readOnly"], read_only);
    assert_eq!(r["eventType"], "AwsApiCall");
    assert_eq!(r["managementEvent"], true);
    assert_eq!(r["eventCategory"], "Management");
    assert!(is_uuid(r["eventID"].as_str().unwrap()), "{r}");
    let t = r["eventTime"].as_str().unwrap();
    assert_eq!(t.len(), 20, "eventTime {t}");
    assert!(
        t.ends_with('Z') && t.as_bytes()[10] == b'T',
        "eventTime {t}"
    );
    assert!(t.starts_with(&time_prefix()), "eventTime {t} is not today");
    assert!(r["requestParameters"].is_object() || r["requestParameters"].is_null());
    assert!(
        r.get("responseElements").is_some(),
        "responseElements is always present"
    );
    let chain = &r["tresor"];
    assert!(chain["sequence"].as_u64().is_some(), "{r}");
    assert_eq!(chain["previousHash"].as_str().unwrap().len(), 64);
}

fn time_prefix() -> String {
    // The UTC date of now, YYYY-MM-DD (civil-from-days).
    let days = (now_epoch() as i64).div_euclid(86400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn assert_root_identity(r: &Value) {
    let u = &r["userIdentity"];
    assert_eq!(u["type"], "Root", "{r}");
    assert_eq!(u["principalId"], ACCOUNT);
    assert_eq!(u["arn"], format!("arn:aws:iam::{ACCOUNT}:root"));
    assert_eq!(u["accountId"], ACCOUNT);
    assert_eq!(u["accessKeyId"], ACCESS_KEY);
    assert_eq!(r["recipientAccountId"], ACCOUNT);
}

fn assert_key_resource(r: &Value, key_id: &str) {
    let res = r["resources"].as_array().expect("resources");
    assert_eq!(res.len(), 1, "{r}");
    assert_eq!(res[0]["accountId"], ACCOUNT);
    assert_eq!(res[0]["type"], "AWS::KMS::Key");
    assert_eq!(res[0]["ARN"], key_arn(REGION, key_id));
}

#[tokio::test]
async fn records_have_the_cloudtrail_shape() {
    let server = Server::start();
    let client = server.client().await;
    let dir = audit_dir(&server);

    let created = ok(client
        .create_key()
        .description("audit test key")
        .send()
        .await);
    let key_id = created.key_metadata().unwrap().key_id().to_string();
    let alias = ok(client
        .create_alias()
        .alias_name("alias/audit-test")
        .target_key_id(&key_id)
        .send()
        .await);
    let enc = ok(client
        .encrypt()
        .key_id(&key_id)
        .plaintext(blob(b"attack at dawn"))
        .encryption_context("Dept", "IT")
        .send()
        .await);
    let ciphertext = enc.ciphertext_blob().unwrap().clone();
    let dec = client
        .decrypt()
        .ciphertext_blob(ciphertext)
        .encryption_context("Dept", "HR")
        .send()
        .await;
    let dec_id = dec.request_id().unwrap().to_string();
    assert_code(dec, "InvalidCiphertextException");
    let desc = ok(client
        .describe_key()
        .key_id("alias/audit-test")
        .send()
        .await);
    let bad = server.kms_raw_with(
        "Encrypt",
        br#"{"KeyId":"alias/audit-test","Plaintext":"c2VjcmV0"}"#,
        REGION,
        ACCESS_KEY,
        "not-the-secret-access-key-at-all-00000000",
    );
    assert_eq!(bad.error_type(), "InvalidSignatureException");
    let bad_id = bad.header("x-amzn-RequestId").unwrap().to_string();
    let unknown = server.kms_raw("FlyToTheMoon", b"{}");
    let unknown_id = unknown.header("x-amzn-RequestId").unwrap().to_string();
    let opened = ok(client
        .decrypt()
        .ciphertext_blob(enc.ciphertext_blob().unwrap().clone())
        .encryption_context("Dept", "IT")
        .send()
        .await);

    let ids = vec![
        created.request_id().unwrap().to_string(),
        alias.request_id().unwrap().to_string(),
        enc.request_id().unwrap().to_string(),
        dec_id,
        desc.request_id().unwrap().to_string(),
        bad_id,
        unknown_id,
        opened.request_id().unwrap().to_string(),
    ];
    let recs = wait_for(&dir, &ids);
    let [create, alias_r, encrypt, decrypt, describe, bad_r, unknown_r, opened_r] = &recs[..]
    else {
        unreachable!()
    };

    // CreateKey: a mutation, with its keyMetadata.
    assert_common(create, "CreateKey", false);
    assert_root_identity(create);
    assert_key_resource(create, &key_id);
    assert_eq!(create["requestParameters"]["description"], "audit test key");
    assert!(
        create["userAgent"]
            .as_str()
            .unwrap()
            .contains("aws-sdk-rust"),
        "{create}"
    );
    assert_eq!(
        create["responseElements"]["keyMetadata"]["keyId"],
        key_id.as_str()
    );
    assert_eq!(
        create["responseElements"]["keyMetadata"]["arn"],
        key_arn(REGION, &key_id)
    );
    assert!(create.get("errorCode").is_none() && create.get("errorMessage").is_none());

    assert_common(alias_r, "CreateAlias", false);
    assert_eq!(
        alias_r["requestParameters"]["aliasName"],
        "alias/audit-test"
    );
    assert_eq!(alias_r["requestParameters"]["targetKeyId"], key_id.as_str());

    // Encrypt: read-only, no plaintext, no response elements.
    assert_common(encrypt, "Encrypt", true);
    assert_root_identity(encrypt);
    assert_key_resource(encrypt, &key_id);
    let params = encrypt["requestParameters"].as_object().unwrap();
    assert_eq!(params["keyId"], key_id.as_str());
    assert_eq!(
        params["encryptionContext"],
        serde_json::json!({"Dept": "IT"})
    );
    assert!(!params.contains_key("plaintext"), "{params:?}");
    assert_eq!(encrypt["responseElements"], Value::Null);
    // As CloudTrail's: the algorithm used though the request named none, and the key
    // material used.
    assert_eq!(params["encryptionAlgorithm"], "SYMMETRIC_DEFAULT");
    let material = desc
        .key_metadata()
        .unwrap()
        .current_key_material_id()
        .unwrap();
    assert_eq!(encrypt["additionalEventData"]["keyMaterialId"], material);

    // Decrypt with the wrong context: an error record.
    assert_common(decrypt, "Decrypt", true);
    assert_root_identity(decrypt);
    assert_eq!(decrypt["errorCode"], "InvalidCiphertextException");
    assert!(decrypt["errorMessage"].as_str().is_some());
    assert_eq!(
        decrypt["requestParameters"]["encryptionContext"],
        serde_json::json!({"Dept": "HR"})
    );
    assert!(decrypt["requestParameters"].get("ciphertextBlob").is_none());
    assert_eq!(decrypt["responseElements"], Value::Null);
    for r in decrypt["resources"].as_array().unwrap() {
        assert_eq!(r["ARN"], key_arn(REGION, &key_id));
    }
    // No material was used by the failed Decrypt; the successful one names it.
    assert!(decrypt.get("additionalEventData").is_none(), "{decrypt}");
    assert_common(opened_r, "Decrypt", true);
    assert_eq!(
        opened_r["requestParameters"]["encryptionAlgorithm"],
        "SYMMETRIC_DEFAULT"
    );
    assert_eq!(opened_r["additionalEventData"]["keyMaterialId"], material);

    // DescribeKey by alias: the alias as given, the key as the resource.
    assert_common(describe, "DescribeKey", true);
    assert_eq!(describe["requestParameters"]["keyId"], "alias/audit-test");
    assert_key_resource(describe, &key_id);
    assert_eq!(describe["responseElements"], Value::Null);

    // A bad signature: audited with what is known, nothing of the body.
    assert_common(bad_r, "Encrypt", true);
    assert_eq!(bad_r["errorCode"], "InvalidSignatureException");
    assert!(bad_r["errorMessage"].as_str().is_some());
    assert_eq!(bad_r["userIdentity"]["type"], "Unknown");
    assert_eq!(bad_r["userIdentity"]["accessKeyId"], ACCESS_KEY);
    assert!(bad_r["userIdentity"].get("arn").is_none(), "{bad_r}");
    assert_eq!(bad_r["requestParameters"], Value::Null);
    assert_eq!(bad_r["resources"], serde_json::json!([]));

    // An unknown operation, from an authenticated caller.
    assert_common(unknown_r, "FlyToTheMoon", true);
    assert_root_identity(unknown_r);
    assert_eq!(unknown_r["errorCode"], "UnknownOperationException");

    // Every record is distinct and the chain is intact.
    let event_ids: BTreeSet<&str> = recs
        .iter()
        .map(|r| r["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(event_ids.len(), recs.len());
    let all = records(&dir);
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r["tresor"]["sequence"], i as u64 + 1);
    }
    let (ok, out) = verify(&dir);
    assert!(ok, "verify failed: {out}");
}

/// Patterns a secret could be stored as.
fn encodings(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut v = vec![
        secret.to_vec(),
        B64.encode(secret).into_bytes(),
        hex(secret).into_bytes(),
    ];
    v.retain(|p| p.len() >= 8);
    v
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn records_hold_no_secrets() {
    let server = Server::start();
    let client = server.client().await;
    let key = create_key(&client).await;
    let hmac = create_key_spec(&client, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    let signer = create_key_spec(&client, "ECC_NIST_P256", "SIGN_VERIFY").await;
    let plaintext = b"PLAINTEXT-the-eagle-lands-at-midnight".to_vec();
    let message = b"MESSAGE-to-be-signed-and-maced-0123456789".to_vec();
    let mut ids = Vec::new();
    let mut secrets: Vec<Vec<u8>> = vec![plaintext.clone(), message.clone()];

    let enc = ok(client
        .encrypt()
        .key_id(&key)
        .plaintext(blob(&plaintext))
        .send()
        .await);
    ids.push(enc.request_id().unwrap().to_string());
    let ct = enc.ciphertext_blob().unwrap().clone();
    secrets.push(ct.as_ref().to_vec());
    let dec = ok(client.decrypt().ciphertext_blob(ct).send().await);
    ids.push(dec.request_id().unwrap().to_string());
    let dk = ok(client
        .generate_data_key()
        .key_id(&key)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await);
    ids.push(dk.request_id().unwrap().to_string());
    secrets.push(dk.plaintext().unwrap().as_ref().to_vec());
    secrets.push(dk.ciphertext_blob().unwrap().as_ref().to_vec());
    let mac = ok(client
        .generate_mac()
        .key_id(&hmac)
        .message(blob(&message))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await);
    ids.push(mac.request_id().unwrap().to_string());
    secrets.push(mac.mac().unwrap().as_ref().to_vec());
    let sig = ok(client
        .sign()
        .key_id(&signer)
        .message(blob(&message))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await);
    ids.push(sig.request_id().unwrap().to_string());
    secrets.push(sig.signature().unwrap().as_ref().to_vec());
    let bad = server.kms_raw_with(
        "Encrypt",
        format!(
            r#"{{"KeyId":"{key}","Plaintext":"{}"}}"#,
            B64.encode(&plaintext)
        )
        .as_bytes(),
        REGION,
        ACCESS_KEY,
        "wrong-secret-wrong-secret-wrong-secret-00",
    );
    ids.push(bad.header("x-amzn-RequestId").unwrap().to_string());
    secrets.push(SECRET_KEY.as_bytes().to_vec());

    let dir = audit_dir(&server);
    let recs = wait_for(&dir, &ids);
    assert_eq!(recs.len(), ids.len());
    let mut all = Vec::new();
    for f in files_under(&dir) {
        all.extend(std::fs::read(&f).unwrap());
    }
    for s in &secrets {
        for pattern in encodings(s) {
            assert!(
                !contains(&all, &pattern),
                "the audit directory holds a secret ({:?})",
                String::from_utf8_lossy(&pattern)
            );
        }
    }
    let text = String::from_utf8_lossy(&all);
    for member in [
        "\"plaintext\"",
        "\"ciphertextBlob\"",
        "\"message\"",
        "\"signature\"",
        "\"mac\"",
    ] {
        assert!(!text.contains(member), "a record has {member}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let target = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    v.sort();
    v
}

fn digest_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("digests"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

async fn some_calls(server: &Server, n: usize) {
    let client = server.client().await;
    let mut ids = Vec::new();
    let key = create_key(&client).await;
    for i in 0..n {
        let out = ok(client
            .encrypt()
            .key_id(&key)
            .plaintext(blob(format!("p{i}").as_bytes()))
            .send()
            .await);
        ids.push(out.request_id().unwrap().to_string());
    }
    let d = ok(client.describe_key().key_id(&key).send().await);
    ids.push(d.request_id().unwrap().to_string());
    wait_for(&audit_dir(server), &ids);
}

fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut s = lines.join("\n");
    s.push('\n');
    std::fs::write(path, s).unwrap();
}

#[tokio::test]
async fn verify_catches_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // Three runs, each killed: the second and third seal the files of the one before, so
    // two files are covered by signed digests and the third is only chained.
    for _ in 0..3 {
        let mut server = Server::start_in(&data);
        some_calls(&server, 6).await;
        server.stop();
    }
    let audit = data.join("audit");
    let logs = log_files(&audit);
    assert_eq!(logs.len(), 3, "{logs:?}");
    assert_eq!(digest_files(&audit).len(), 2);
    let (ok_, out) = verify(&audit);
    assert!(ok_, "intact log fails verification: {out}");
    assert!(out.contains("OK: 24 record(s)"), "{out}");
    assert!(out.contains("2 signed digest(s)"), "{out}");

    // Each tampering on its own copy; `want` is a fragment of the report.
    type Tamper = Box<dyn Fn(&Path)>;
    let name = |p: &Path| p.file_name().unwrap().to_owned();
    let (f1, f2, f3) = (name(&logs[0]), name(&logs[1]), name(&logs[2]));
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "edit a byte",
            Box::new({
                let f = f1.clone();
                move |d: &Path| {
                    let p = d.join(&f);
                    let mut b = std::fs::read(&p).unwrap();
                    let at = b.windows(7).position(|w| w == b"Encrypt").unwrap();
                    b[at + 6] = b'T';
                    std::fs::write(&p, b).unwrap();
                }
            }),
            "changed since",
        ),
        (
            "delete a line",
            Box::new({
                let f = f1.clone();
                move |d: &Path| {
                    let p = d.join(&f);
                    let mut l = lines_of(&p);
                    l.remove(3);
                    write_lines(&p, &l);
                }
            }),
            "missing",
        ),
        (
            "delete a line of the unsigned tail",
            Box::new({
                let f = f3.clone();
                move |d: &Path| {
                    let p = d.join(&f);
                    let mut l = lines_of(&p);
                    l.remove(2);
                    write_lines(&p, &l);
                }
            }),
            "are missing",
        ),
        (
            "delete a file",
            Box::new({
                let f = f2.clone();
                move |d: &Path| std::fs::remove_file(d.join(&f)).unwrap()
            }),
            "missing (listed in digests/",
        ),
        (
            "reorder lines",
            Box::new({
                let f = f3.clone();
                move |d: &Path| {
                    let p = d.join(&f);
                    let mut l = lines_of(&p);
                    l.swap(1, 2);
                    write_lines(&p, &l);
                }
            }),
            "out of order",
        ),
        (
            "truncate",
            Box::new({
                let f = f2.clone();
                move |d: &Path| {
                    let p = d.join(&f);
                    let len = std::fs::metadata(&p).unwrap().len();
                    let file = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
                    file.set_len(len / 2).unwrap();
                }
            }),
            "",
        ),
        (
            "edit a digest",
            Box::new(|d: &Path| {
                let p = digest_files(d)[0].clone();
                let t = std::fs::read_to_string(&p).unwrap();
                std::fs::write(&p, t.replacen("\"startup\"", "\"rotation\"", 1)).unwrap();
            }),
            "bad signature",
        ),
        (
            "delete a digest",
            Box::new(|d: &Path| {
                let p = digest_files(d)[0].clone();
                std::fs::remove_file(p.with_extension("sig")).unwrap();
                std::fs::remove_file(p).unwrap();
            }),
            "",
        ),
    ];
    for (what, tamper, want) in cases {
        let copy = tmp.path().join(format!("copy-{}", what.replace(' ', "-")));
        copy_dir(&audit, &copy);
        tamper(&copy);
        let (ok_, out) = verify(&copy);
        assert!(!ok_, "{what}: verify passed: {out}");
        assert!(out.contains("FAILED"), "{what}: {out}");
        assert!(out.contains(want), "{what}: expected {want:?} in {out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_during_a_burst_loses_no_acknowledged_mutation() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start_in(&data);
    let client = server.client().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for t in 0..16 {
        let client = client.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut created = Vec::new();
            let mut key: Option<String> = None;
            let mut i = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                if key.is_none() || (i + t) & 3 == 0 {
                    match client.create_key().send().await {
                        Ok(out) => {
                            let id = out.key_metadata().unwrap().key_id().to_string();
                            created.push(id.clone());
                            key = Some(id);
                        }
                        Err(_) => break,
                    }
                } else if let Some(k) = &key {
                    if client
                        .encrypt()
                        .key_id(k)
                        .plaintext(blob(b"burst"))
                        .send()
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
            created
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.stop(); // SIGKILL
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for t in tasks {
        acknowledged.extend(t.await.unwrap());
    }
    assert!(
        acknowledged.len() > 10,
        "too few keys created: {}",
        acknowledged.len()
    );
    let audit = data.join("audit");
    let (ok_, out) = verify(&audit);
    assert!(ok_, "verify after kill -9: {out}");
    let logged: BTreeSet<String> = records(&audit)
        .iter()
        .filter(|r| r["eventName"] == "CreateKey" && r.get("errorCode").is_none())
        .filter_map(|r| {
            r["responseElements"]["keyMetadata"]["keyId"]
                .as_str()
                .map(String::from)
        })
        .collect();
    for id in &acknowledged {
        assert!(
            logged.contains(id),
            "acknowledged CreateKey {id} has no record"
        );
    }

    // The next start continues the chain and seals what the crash left.
    let before = records(&audit).len();
    let mut server = Server::start_in(&data);
    some_calls(&server, 2).await;
    server.stop();
    let (ok_, out) = verify(&audit);
    assert!(ok_, "verify after restart: {out}");
    let all = records(&audit);
    assert!(all.len() >= before + 4);
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r["tresor"]["sequence"], i as u64 + 1);
    }
}

#[tokio::test]
async fn query_filters_records() {
    let server = Server::start();
    let client = server.client().await;
    let key = create_key(&client).await;
    let other = create_key(&client).await;
    let mut ids = Vec::new();
    for k in [&key, &other, &key] {
        let out = ok(client
            .encrypt()
            .key_id(k)
            .plaintext(blob(b"q"))
            .send()
            .await);
        ids.push(out.request_id().unwrap().to_string());
    }
    let res = client.describe_key().key_id("alias/nope").send().await;
    ids.push(res.request_id().unwrap().to_string());
    assert_code(res, "NotFoundException");
    let dir = audit_dir(&server);
    wait_for(&dir, &ids);
    let d = dir.to_str().unwrap();
    let count = |args: &[&str]| {
        let mut all = vec!["audit", "query", "--dir", d];
        all.extend_from_slice(args);
        let (ok_, out, err) = tresor(&all);
        assert!(ok_, "query {args:?}: {err}");
        out.lines().count()
    };
    assert_eq!(count(&[]), 6);
    assert_eq!(count(&["--event-name", "Encrypt"]), 3);
    assert_eq!(count(&["--event-name", "Encrypt", "--key", &key]), 2);
    assert_eq!(count(&["--key", &key_arn(REGION, &key)]), 3);
    assert_eq!(count(&["--errors-only"]), 1);
    assert_eq!(
        count(&["--principal", &format!("arn:aws:iam::{ACCOUNT}:root")]),
        6
    );
    assert_eq!(count(&["--principal", "arn:aws:iam::999999999999:root"]), 0);
    assert_eq!(count(&["--since", "1h"]), 6);
    assert_eq!(count(&["--until", "2000-01-01"]), 0);
    assert_eq!(count(&["--errors-only", "--output", "table"]), 2);
    let (_, table, _) = tresor(&[
        "audit",
        "query",
        "--dir",
        d,
        "--output",
        "table",
        "--errors-only",
    ]);
    assert!(table.contains("NotFoundException"), "{table}");
    let (ok_, tail, _) = tresor(&["audit", "tail", "--dir", d, "-n", "2"]);
    assert!(ok_);
    let tail: Vec<Value> = tail
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(tail.len(), 2);
    assert_eq!(tail[1]["eventName"], "DescribeKey");
}
