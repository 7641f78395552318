//! Backup and restore: `tresor admin backup` under load, `tresor restore` into a new
//! directory, unseal with the same shares, and everything from before the backup works;
//! the backup holds no root key, share, secret or plaintext; backups and the operator's
//! Seal, Rekey and RotateRoot calls are audited without shares.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn backup(srv: &Server, who: &Identity, out: &Path) -> (bool, String, String) {
    tresor_signed(
        &[
            "admin",
            "--endpoint",
            &srv.endpoint,
            "backup",
            "--out",
            out.to_str().unwrap(),
        ],
        who,
        "",
    )
}

fn restore(from: &Path, dir: &Path) -> (bool, String, String) {
    tresor(&[
        "restore",
        "--from",
        from.to_str().unwrap(),
        "--data-dir",
        dir.to_str().unwrap(),
    ])
}

fn root_bytes(dir: &Path, shares: &[String]) -> Vec<u8> {
    let mut u = tresor_seal::shamir::Unsealer::open(dir).unwrap();
    for s in shares {
        if let tresor_seal::shamir::Step::Unsealed(done) = u.submit(s).unwrap() {
            return done.root().expose().to_vec();
        }
    }
    panic!("not enough shares");
}

/// Encrypt (and every 10th round CreateKey) from 4 tasks until `stop`; the failures.
fn load(
    client: &aws_sdk_kms::Client,
    key: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<(u32, Vec<String>)>> {
    (0..4)
        .map(|t| {
            let (client, key, stop) = (client.clone(), key.to_string(), stop.clone());
            tokio::spawn(async move {
                let (mut n, mut failures) = (0u32, Vec::new());
                while !stop.load(Ordering::Relaxed) {
                    let msg = format!("load {t} {n}");
                    let r = client
                        .encrypt()
                        .key_id(&key)
                        .plaintext(blob(msg.as_bytes()))
                        .send()
                        .await;
                    if let Err(e) = r {
                        failures.push(format!("{e:?}"));
                    }
                    if n % 10 == 0 {
                        if let Err(e) = client.create_key().send().await {
                            failures.push(format!("{e:?}"));
                        }
                    }
                    n += 1;
                }
                (n, failures)
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_under_load_restores_every_key_alias_grant_and_ciphertext() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let init = init_shamir_on(&dir, None); // SQLite: the backup file is its database
    let op = &init.operator;
    let srv = start_production(&dir);
    unseal_with(&srv, &init.shares[..3]);
    let client = srv.client_with(REGION, &op.access_key_id, &op.secret).await;

    // Keys, aliases, a grant to a user, ciphertexts, and an asymmetric key.
    let grantee = {
        let v = run_admin(
            &srv,
            Some(op),
            &["user", "create", "--account", ACCOUNT, "--name", "gina"],
        )
        .unwrap();
        Identity {
            arn: v["Arn"].as_str().unwrap().into(),
            access_key_id: v["AccessKeyId"].as_str().unwrap().into(),
            secret: v["SecretAccessKey"].as_str().unwrap().into(),
        }
    };
    let mut keys = Vec::new();
    let mut ciphertexts = Vec::new();
    let mut plaintexts = Vec::new();
    for i in 0..5 {
        let key = create_key(&client).await;
        ok(client
            .create_alias()
            .alias_name(format!("alias/backup-{i}"))
            .target_key_id(&key)
            .send()
            .await);
        let plaintext = format!("plaintext-before-backup-{i}-{}", uuid_like(i));
        let ct = ok(client
            .encrypt()
            .key_id(&key)
            .plaintext(blob(plaintext.as_bytes()))
            .encryption_context("purpose", "backup-test")
            .send()
            .await)
        .ciphertext_blob
        .unwrap();
        keys.push(key);
        ciphertexts.push(ct);
        plaintexts.push(plaintext);
    }
    let grant = ok(client
        .create_grant()
        .key_id(&keys[0])
        .grantee_principal(&grantee.arn)
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .operations(aws_sdk_kms::types::GrantOperation::Encrypt)
        .send()
        .await)
    .grant_id
    .unwrap();
    let signer = create_key_spec(&client, "ECC_NIST_P256", "SIGN_VERIFY").await;

    // Back up while Encrypt and CreateKey run.
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = load(&client, &keys[1], &stop);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let file = tmp.path().join("tresor.backup");
    let started = Instant::now();
    let (fine, out, err) = {
        let (srv_endpoint, file, op) = (srv.endpoint.clone(), file.clone(), op.clone());
        tokio::task::spawn_blocking(move || {
            tresor_signed(
                &[
                    "admin",
                    "--endpoint",
                    &srv_endpoint,
                    "backup",
                    "--out",
                    file.to_str().unwrap(),
                ],
                &op,
                "",
            )
        })
        .await
        .unwrap()
    };
    let backup_time = started.elapsed();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let mut rounds = 0;
    for t in tasks {
        let (n, failures) = t.await.unwrap();
        assert!(
            failures.is_empty(),
            "requests failed during the backup: {failures:?}"
        );
        rounds += n;
    }
    assert!(fine, "{err}");
    assert!(out.contains("Backup written"), "{out}");
    assert!(rounds > 0);
    assert_eq!(mode_of(&file), 0o600);
    eprintln!(
        "backup under load: {backup_time:?}, {} bytes, {rounds} load rounds",
        std::fs::metadata(&file).unwrap().len()
    );
    // An existing file is never overwritten.
    assert!(!backup(&srv, op, &file).0);

    // No root key, share, secret or plaintext in the backup.
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"TRESORBK"));
    let root = root_bytes(&dir, &init.shares[..3]);
    let root_hex = hex_of(&root);
    let mut needles: Vec<&[u8]> = vec![
        &root,
        root_hex.as_bytes(),
        op.secret.as_bytes(),
        grantee.secret.as_bytes(),
    ];
    needles.extend(init.shares.iter().map(|s| s.as_bytes()));
    needles.extend(plaintexts.iter().map(|p| p.as_bytes()));
    assert_absent("the backup", &bytes, &needles);

    // The backup is audited (durably, without the copy itself).
    let records = records(&dir.join("audit"));
    let rec = records
        .iter()
        .find(|r| r["eventName"] == json!("TresorOperator.Backup"))
        .expect("a Backup audit record");
    assert_eq!(rec["errorCode"], Value::Null, "{rec}");
    assert_eq!(
        rec["additionalEventData"]["bytes"],
        json!(bytes.len()),
        "{rec}"
    );
    assert!(rec.to_string().len() < 4096, "{rec}");

    // Restore into a new directory (mode 0700); an existing one is refused.
    let restored = tmp.path().join("restored");
    let started = Instant::now();
    let (fine, out, err) = restore(&file, &restored);
    assert!(fine, "{err}");
    eprintln!("restore: {:?} ({})", started.elapsed(), out.trim());
    assert_eq!(mode_of(&restored), 0o700);
    for f in files_under(&restored) {
        assert_eq!(mode_of(&f), 0o600, "{}", f.display());
    }
    let (fine, _, err) = restore(&file, &restored);
    assert!(!fine && err.contains("already exists"), "{err}");
    drop(client);

    // Start it, unseal with (other) shares of the same set, and use everything.
    let copy = start_production(&restored);
    assert_eq!(seal_status(&copy)["Sealed"], json!(true));
    unseal_with(&copy, &init.shares[2..5]);
    let c = copy
        .client_with(REGION, &op.access_key_id, &op.secret)
        .await;
    for (i, key) in keys.iter().enumerate() {
        let d = ok(c
            .decrypt()
            .ciphertext_blob(ciphertexts[i].clone())
            .encryption_context("purpose", "backup-test")
            .send()
            .await);
        assert_eq!(d.plaintext.unwrap().as_ref(), plaintexts[i].as_bytes());
        assert_eq!(d.key_id.unwrap(), key_arn(REGION, key));
        let via_alias = ok(c
            .encrypt()
            .key_id(format!("alias/backup-{i}"))
            .plaintext(blob(b"after restore"))
            .send()
            .await);
        assert_eq!(via_alias.key_id.unwrap(), key_arn(REGION, key));
    }
    let grants = ok(c.list_grants().key_id(&keys[0]).send().await);
    assert!(grants
        .grants
        .unwrap_or_default()
        .iter()
        .any(|g| g.grant_id.as_deref() == Some(grant.as_str())));
    // The grantee's access key and the grant work on the copy.
    let g = copy
        .client_with(REGION, &grantee.access_key_id, &grantee.secret)
        .await;
    let d = ok(g
        .decrypt()
        .ciphertext_blob(ciphertexts[0].clone())
        .encryption_context("purpose", "backup-test")
        .send()
        .await);
    assert_eq!(d.plaintext.unwrap().as_ref(), plaintexts[0].as_bytes());
    let sig = ok(c
        .sign()
        .key_id(&signer)
        .message(blob(b"restored"))
        .signing_algorithm(aws_sdk_kms::types::SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await);
    let v = ok(c
        .verify()
        .key_id(&signer)
        .message(blob(b"restored"))
        .signature(sig.signature.unwrap())
        .signing_algorithm(aws_sdk_kms::types::SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await);
    assert!(v.signature_valid);
}

#[test]
fn restore_refuses_damaged_files_and_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.backup");
    std::fs::write(&bad, b"TRESORBK\0\0\0\x02{}").unwrap();
    let dir = tmp.path().join("d");
    let (fine, _, err) = restore(&bad, &dir);
    assert!(!fine, "restored a damaged file");
    assert!(err.contains("backup"), "{err}");
    assert!(!dir.exists());
    std::fs::write(&bad, b"SQLite format 3\0").unwrap();
    let (fine, _, err) = restore(&bad, &dir);
    assert!(!fine && err.contains("not a Tresor backup"), "{err}");
    assert!(!dir.exists());
}

#[tokio::test]
async fn backup_is_operator_only_and_operator_calls_are_audited_without_shares() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let init = init_shamir_on(&dir, None); // SQLite: the backup file is its database
    let op = &init.operator;
    let srv = start_production(&dir);
    unseal_with(&srv, &init.shares[..3]);
    let operator = |args: &[&str], stdin: &str| {
        let mut cmd = vec!["operator", "--endpoint", &srv.endpoint, "--output", "json"];
        cmd.extend_from_slice(args);
        tresor_signed(&cmd, op, stdin)
    };

    // A user may not take a backup.
    let v = run_admin(
        &srv,
        Some(op),
        &["user", "create", "--account", ACCOUNT, "--name", "uma"],
    )
    .unwrap();
    let user = Identity {
        arn: v["Arn"].as_str().unwrap().into(),
        access_key_id: v["AccessKeyId"].as_str().unwrap().into(),
        secret: v["SecretAccessKey"].as_str().unwrap().into(),
    };
    let out = tmp.path().join("u.backup");
    let (fine, _, err) = backup(&srv, &user, &out);
    assert!(!fine && err.contains("AccessDenied"), "{err}");
    assert!(!out.exists());

    // Rekey (start, three shares), rotate the root, seal.
    assert!(operator(&["rekey", "--start"], "").0);
    let mut last = String::new();
    for s in &init.shares[..3] {
        let (fine, out, err) = operator(&["rekey"], s);
        assert!(fine, "{err}");
        last = out;
    }
    let new_shares: Vec<String> = serde_json::from_str::<Value>(last.trim()).unwrap()["Shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(new_shares.len(), 5);
    let (fine, _, err) = operator(&["rotate-root"], "");
    assert!(fine, "{err}");
    let (fine, _, err) = operator(&["seal"], "");
    assert!(fine, "{err}");

    let records = records(&dir.join("audit"));
    let named = |name: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["eventName"] == json!(name))
            .collect()
    };
    let backups = named("TresorOperator.Backup");
    assert_eq!(backups.len(), 1);
    assert_eq!(backups[0]["errorCode"], json!("AccessDeniedException"));
    let rekeys = named("TresorOperator.Rekey");
    assert_eq!(rekeys.len(), 4, "start + 3 shares");
    assert!(rekeys.iter().all(|r| r["errorCode"] == Value::Null));
    assert_eq!(
        rekeys[3]["additionalEventData"]["newShareCount"],
        json!(5),
        "{}",
        rekeys[3]
    );
    let rotations = named("TresorOperator.RotateRoot");
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0]["additionalEventData"]["generation"], json!(2));
    let seals = named("TresorOperator.Seal");
    assert_eq!(seals.len(), 1);
    for r in rekeys.iter().chain(&rotations).chain(&seals) {
        assert_eq!(
            r["userIdentity"]["accessKeyId"],
            json!(op.access_key_id),
            "{r}"
        );
        assert_eq!(r["readOnly"], json!(false), "{r}");
    }
    // No share, old or new, in the audit log (nor anywhere in the directory).
    let needles: Vec<&[u8]> = init
        .shares
        .iter()
        .chain(&new_shares)
        .map(|s| s.as_bytes())
        .collect();
    for f in files_under(&dir) {
        assert_absent(
            &f.display().to_string(),
            &std::fs::read(&f).unwrap(),
            &needles,
        );
    }
    let (fine, out) = verify(&dir.join("audit"));
    assert!(fine, "{out}");
}

/// The backup file is an SQLite database: a PostgreSQL store (shared by every node,
/// holding the sealed root itself) is backed up with PostgreSQL's tools, and Backup
/// says so instead of failing obscurely.
#[tokio::test]
async fn backup_on_a_postgresql_store_is_refused_and_points_to_pg_dump() {
    let Some(db) = tresor_store::testing::TestDatabase::create() else {
        return;
    };
    let url = db.url().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let init = init_shamir_on(&dir, Some(&url));
    let srv = Server::start_opts(&dir, &["--store", &url], &[]);
    unseal_with(&srv, &init.shares[..3]);
    let out = tmp.path().join("pg.backup");
    let (fine, _, err) = backup(&srv, &init.operator, &out);
    assert!(!fine, "a backup of a PostgreSQL store was taken");
    assert!(err.contains("UnsupportedOperationException"), "{err}");
    assert!(
        err.contains("pg_dump") && err.contains("PostgreSQL"),
        "{err}"
    );
    assert!(!out.exists());
    let records = records(&dir.join("audit"));
    let backups: Vec<&Value> = records
        .iter()
        .filter(|r| r["eventName"] == json!("TresorOperator.Backup"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(
        backups[0]["errorCode"],
        json!("UnsupportedOperationException")
    );
    // The other operator calls are unchanged there.
    let (fine, _, err) = tresor_signed(
        &["operator", "--endpoint", &srv.endpoint, "seal"],
        &init.operator,
        "",
    );
    assert!(fine, "{err}");
    assert_eq!(seal_status(&srv)["Sealed"], json!(true));
    drop(srv);
}

/// `cargo test -p tresor --test backup -- --ignored --nocapture backup_time`
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "measurement: 10,000 keys"]
async fn backup_time_for_10000_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let init = init_shamir_on(&dir, None); // SQLite: the backup file is its database
    let op = &init.operator;
    let srv = start_production(&dir);
    unseal_with(&srv, &init.shares[..3]);
    let client = srv.client_with(REGION, &op.access_key_id, &op.secret).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..625 {
                    ok(client.create_key().send().await);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let file = tmp.path().join("10k.backup");
    let started = Instant::now();
    let (fine, out, err) = backup(&srv, op, &file);
    assert!(fine, "{err}");
    eprintln!(
        "backup of 10,000 keys: {:?}, {} bytes (database {} bytes): {}",
        started.elapsed(),
        std::fs::metadata(&file).unwrap().len(),
        std::fs::metadata(dir.join("tresor.sqlite")).unwrap().len(),
        out.trim()
    );
    let started = Instant::now();
    let (fine, _, err) = restore(&file, &tmp.path().join("restored"));
    assert!(fine, "{err}");
    eprintln!("restore of 10,000 keys: {:?}", started.elapsed());
    let copy = start_production(&tmp.path().join("restored"));
    let started = Instant::now();
    unseal_with(&copy, &init.shares[..3]);
    let c = copy
        .client_with(REGION, &op.access_key_id, &op.secret)
        .await;
    let mut n = 0;
    let mut marker = None;
    loop {
        let page = ok(c.list_keys().set_marker(marker).limit(1000).send().await);
        n += page.keys.unwrap_or_default().len();
        marker = page.next_marker;
        if marker.is_none() {
            break;
        }
    }
    eprintln!(
        "restored copy unsealed and listed {n} keys in {:?}",
        started.elapsed()
    );
    assert_eq!(n, 10_000);
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn uuid_like(i: usize) -> String {
    format!("{:08x}-{}", i.wrapping_mul(2_654_435_761), i)
}
