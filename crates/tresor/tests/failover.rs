//! Failover: three nodes on one PostgreSQL database under a mixed load that retries on
//! another node when one fails, while nodes are `kill -9`ed and restarted. Afterwards
//! every acknowledged key, alias, grant and tag exists and every acknowledged
//! ciphertext decrypts on every node.
//!
//! `TRESOR_FAILOVER_SECS` sets how long the load runs (default 12 s, CI's short form).
//! Skipped without PostgreSQL unless `TRESOR_TEST_POSTGRES` is set (see `cluster.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::types::{GrantOperation, Tag};
use common::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NODES: usize = 3;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_on(dir: &std::path::Path, url: &str, port: u16) -> Server {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tresor"));
    cmd.args(["serve", "--dev", "--store", url, "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir);
    Server::start_command(cmd, dir)
}

/// What the load had acknowledged.
#[derive(Default)]
struct Acked {
    keys: Vec<(String, String)>,    // key id, tag value
    aliases: Vec<(String, String)>, // alias, key id
    grants: Vec<(String, String)>,  // key id, grant id
    ciphertexts: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Retries `op` on the next node on a failure a retry may absorb (no answer, or a
/// 5xx), up to 8 attempts; `Err` only for a definite refusal or when all attempts fail.
macro_rules! retry {
    ($clients:expr, $start:expr, $retries:expr, |$c:ident| $op:expr) => {{
        let mut attempt = 0usize;
        loop {
            let $c = &$clients[($start + attempt) % NODES];
            match $op.await {
                Ok(v) => break Ok(v),
                Err(e) => {
                    let status = e.raw_response().map(|r| r.status().as_u16());
                    let transient = status.is_none_or(|s| s >= 500);
                    attempt += 1;
                    if !transient || attempt >= 8 {
                        break Err((e.code().map(str::to_string), status, attempt > 1));
                    }
                    $retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
                }
            }
        }
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_nodes_lose_nothing_acknowledged() {
    let Some(db) = tresor_store::testing::TestDatabase::create() else {
        return;
    };
    let url = db.url().to_string();
    let secs: u64 = std::env::var("TRESOR_FAILOVER_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let dirs: Vec<tempfile::TempDir> = (0..NODES).map(|_| tempfile::tempdir().unwrap()).collect();
    let ports: Vec<u16> = (0..NODES).map(|_| free_port()).collect();
    let nodes: Vec<Server> = (0..NODES)
        .map(|i| start_on(dirs[i].path(), &url, ports[i]))
        .collect();
    let mut clients = Vec::new();
    for n in &nodes {
        clients.push(n.client().await);
    }
    let clients = Arc::new(clients);
    let nodes = Arc::new(Mutex::new(nodes));
    let acked = Arc::new(Mutex::new(Acked::default()));
    let (retries, failures, requests) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(Mutex::new(Vec::<String>::new())),
        Arc::new(AtomicUsize::new(0)),
    );
    let stop = Arc::new(AtomicBool::new(false));

    // The killer: every 3 s one node is killed -9, and restarted a second later.
    let killer = {
        let (nodes, stop, url) = (nodes.clone(), stop.clone(), url.clone());
        let dirs: Vec<std::path::PathBuf> = dirs.iter().map(|d| d.path().to_path_buf()).collect();
        let ports = ports.clone();
        std::thread::spawn(move || {
            let mut kills = 0;
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_secs(2));
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                nodes.lock().unwrap()[i].stop(); // SIGKILL
                kills += 1;
                std::thread::sleep(Duration::from_millis(700));
                let fresh = start_on(&dirs[i], &url, ports[i]);
                nodes.lock().unwrap()[i] = fresh;
                i = (i + 1) % NODES;
            }
            kills
        })
    };

    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut workers = Vec::new();
    for w in 0..6usize {
        let (clients, acked, retries, failures, requests) = (
            clients.clone(),
            acked.clone(),
            retries.clone(),
            failures.clone(),
            requests.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut n = 0usize;
            let mut my_keys: Vec<String> = Vec::new();
            while Instant::now() < deadline {
                n += 1;
                requests.fetch_add(1, Ordering::Relaxed);
                let start = w + n;
                let step = n % 4;
                if step == 1 || my_keys.is_empty() {
                    let tag = format!("w{w}-{n}");
                    let r = retry!(clients, start, retries, |c| c
                        .create_key()
                        .tags(Tag::builder().tag_key("t").tag_value(&tag).build().unwrap())
                        .send());
                    match r {
                        Ok(out) => {
                            let id = out.key_metadata.unwrap().key_id;
                            acked.lock().unwrap().keys.push((id.clone(), tag));
                            my_keys.push(id);
                        }
                        Err(e) => failures.lock().unwrap().push(format!("CreateKey {e:?}")),
                    }
                } else if step == 2 {
                    let key = my_keys.last().unwrap().clone();
                    let alias = format!("alias/w{w}-{n}");
                    let r = retry!(clients, start, retries, |c| c
                        .create_alias()
                        .alias_name(&alias)
                        .target_key_id(&key)
                        .send());
                    match r {
                        Ok(_) => acked.lock().unwrap().aliases.push((alias, key)),
                        // A retry of a create that had committed before its node died.
                        Err((Some(code), _, true)) if code == "AlreadyExistsException" => {
                            acked.lock().unwrap().aliases.push((alias, key))
                        }
                        Err(e) => failures.lock().unwrap().push(format!("CreateAlias {e:?}")),
                    }
                } else if step == 3 {
                    let key = my_keys.last().unwrap().clone();
                    let r = retry!(clients, start, retries, |c| c
                        .create_grant()
                        .key_id(&key)
                        .grantee_principal("arn:aws:iam::111122223333:user/g")
                        .operations(GrantOperation::Decrypt)
                        .name(format!("g{n}"))
                        .send());
                    match r {
                        Ok(out) => acked
                            .lock()
                            .unwrap()
                            .grants
                            .push((key, out.grant_id.unwrap())),
                        Err(e) => failures.lock().unwrap().push(format!("CreateGrant {e:?}")),
                    }
                } else {
                    let key = my_keys[n % my_keys.len()].clone();
                    let plaintext = format!("w{w} n{n}").into_bytes();
                    let r = retry!(clients, start, retries, |c| c
                        .encrypt()
                        .key_id(&key)
                        .plaintext(blob(&plaintext))
                        .send());
                    match r {
                        Ok(out) => {
                            let ct = out.ciphertext_blob.unwrap().into_inner();
                            // And it decrypts at once, wherever the retry lands.
                            let d = retry!(clients, start + 1, retries, |c| c
                                .decrypt()
                                .ciphertext_blob(blob(&ct))
                                .send());
                            match d {
                                Ok(p) => assert_eq!(p.plaintext.unwrap().into_inner(), plaintext),
                                Err(e) => failures.lock().unwrap().push(format!("Decrypt {e:?}")),
                            }
                            acked.lock().unwrap().ciphertexts.push((ct, plaintext));
                        }
                        Err(e) => failures.lock().unwrap().push(format!("Encrypt {e:?}")),
                    }
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let kills = killer.join().unwrap();

    // Every node up again: check everything acknowledged, on every node.
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let mut checked = 0usize;
    for c in clients.iter() {
        for (key, tag) in &acked.keys {
            let tags = ok(c.list_resource_tags().key_id(key).send().await)
                .tags
                .unwrap();
            assert_eq!(tags.len(), 1, "{key}");
            assert_eq!(tags[0].tag_value(), tag);
            checked += 1;
        }
        for (alias, key) in &acked.aliases {
            let m = ok(c.describe_key().key_id(alias).send().await)
                .key_metadata
                .unwrap();
            assert_eq!(&m.key_id, key, "{alias}");
            checked += 1;
        }
        for (key, grant) in &acked.grants {
            let grants = ok(c.list_grants().key_id(key).send().await).grants.unwrap();
            assert!(
                grants.iter().any(|g| g.grant_id() == Some(grant.as_str())),
                "grant {grant} of {key} is gone"
            );
            checked += 1;
        }
        for (ct, plaintext) in &acked.ciphertexts {
            let p = ok(c.decrypt().ciphertext_blob(blob(ct)).send().await);
            assert_eq!(&p.plaintext.unwrap().into_inner(), plaintext);
            checked += 1;
        }
    }
    let failures = failures.lock().unwrap().clone();
    eprintln!(
        "failover: {secs} s, {kills} kill -9, {} requests, {} retries absorbed, {} keys, {} aliases, {} grants, {} ciphertexts acknowledged, {checked} checks on {NODES} nodes, {} failed beyond retry",
        requests.load(Ordering::Relaxed),
        retries.load(Ordering::Relaxed),
        acked.keys.len(),
        acked.aliases.len(),
        acked.grants.len(),
        acked.ciphertexts.len(),
        failures.len()
    );
    assert!(kills >= 2, "the load ran too short to kill nodes");
    assert!(
        failures.is_empty(),
        "requests failed beyond retry: {failures:?}"
    );
    assert!(!acked.keys.is_empty() && !acked.ciphertexts.is_empty());
    drop(nodes);
    drop(db);
}
