//! Audit logs of several nodes: the node id in every record, `tresor audit query` over
//! several nodes' directories merged by time, `tresor audit verify` of each.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::operation::RequestId;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// Waits until `dir` holds a record of every request id in `ids`.
fn wait_for(dir: &Path, ids: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ids
        .iter()
        .all(|id| records(dir).iter().any(|r| r["requestID"] == id.as_str()))
    {
        assert!(Instant::now() < deadline, "records of {ids:?} not written");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn two_nodes_logs_merge_by_time_and_verify_each() {
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let a = Server::start_opts(a_dir.path(), &["--dev", "--node-id", "node-a.eu_1"], &[]);
    // B gets its id from the data directory (made once, kept across restarts).
    let mut b = Server::start_in(b_dir.path());
    let (ca, cb) = (a.client().await, b.client().await);
    let ka = create_key(&ca).await;
    let kb = create_key(&cb).await;
    // Interleaved calls: a, b, a, b, … each after the previous one answered.
    let mut ids = Vec::new();
    for i in 0..6 {
        let (client, key) = if i % 2 == 0 { (&ca, &ka) } else { (&cb, &kb) };
        let out = ok(client
            .encrypt()
            .key_id(key)
            .plaintext(blob(b"merge"))
            .send()
            .await);
        ids.push(out.request_id().unwrap().to_string());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (ad, bd) = (audit_dir(&a), audit_dir(&b));
    wait_for(&ad, &ids[0..1]);
    wait_for(&bd, &ids[1..2]);
    wait_for(&ad, &ids[4..5]);
    wait_for(&bd, &ids[5..6]);

    // Every record names its node and carries the time in ms.
    let b_id = std::fs::read_to_string(b_dir.path().join("node-id")).unwrap();
    let b_id = b_id.trim();
    assert!(b_id.starts_with("node-"), "{b_id}");
    for r in records(&ad) {
        assert_eq!(r["tresor"]["node"], "node-a.eu_1", "{r}");
        assert!(r["tresor"]["timeMs"].as_i64().unwrap() > 1_700_000_000_000);
    }
    assert!(records(&bd).iter().all(|r| r["tresor"]["node"] == b_id));

    // query over both directories: the Encrypts in the order they happened.
    let (ok_, out, err) = tresor(&[
        "audit",
        "query",
        "--dir",
        ad.to_str().unwrap(),
        "--dir",
        bd.to_str().unwrap(),
        "--event-name",
        "Encrypt",
    ]);
    assert!(ok_, "{err}");
    let merged: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<&str> = merged
        .iter()
        .map(|r| r["requestID"].as_str().unwrap())
        .collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let times: Vec<i64> = merged
        .iter()
        .map(|r| r["tresor"]["timeMs"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    // --node keeps one node's records; the table shows the node.
    let (_, only_b, _) = tresor(&[
        "audit",
        "query",
        "--dir",
        ad.to_str().unwrap(),
        "--dir",
        bd.to_str().unwrap(),
        "--node",
        b_id,
        "--event-name",
        "Encrypt",
    ]);
    assert_eq!(only_b.lines().count(), 3, "{only_b}");
    let (_, table, _) = tresor(&[
        "audit",
        "query",
        "--dir",
        ad.to_str().unwrap(),
        "--output",
        "table",
    ]);
    assert!(
        table.contains("NODE") && table.contains("node-a.eu_1"),
        "{table}"
    );

    // verify takes both directories, checks each, and names their nodes.
    let (ok_, out, err) = tresor(&[
        "audit",
        "verify",
        ad.to_str().unwrap(),
        bd.to_str().unwrap(),
    ]);
    assert!(ok_, "{out}{err}");
    assert!(out.contains("node-a.eu_1") && out.contains(b_id), "{out}");

    // B restarted keeps its id.
    b.stop();
    let b2 = Server::start_in(b_dir.path());
    let c2 = b2.client().await;
    let out = ok(c2.describe_key().key_id(&kb).send().await);
    let id = out.request_id().unwrap().to_string();
    wait_for(&bd, std::slice::from_ref(&id));
    let r = records(&bd)
        .into_iter()
        .find(|r| r["requestID"] == id.as_str())
        .unwrap();
    assert_eq!(r["tresor"]["node"], b_id);
}

#[tokio::test]
async fn a_record_moved_between_node_logs_and_shared_ids_are_caught() {
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let mut a = Server::start_opts(a_dir.path(), &["--dev", "--node-id", "same"], &[]);
    let mut b = Server::start_opts(b_dir.path(), &["--dev", "--node-id", "same"], &[]);
    create_key(&a.client().await).await;
    create_key(&b.client().await).await;
    a.stop();
    b.stop();
    let (ad, bd) = (a_dir.path().join("audit"), b_dir.path().join("audit"));
    let (ok_, out, err) = tresor(&[
        "audit",
        "verify",
        ad.to_str().unwrap(),
        bd.to_str().unwrap(),
    ]);
    assert!(!ok_, "two logs with one node id must not verify: {out}");
    assert!(err.contains("two nodes share an id"), "{err}");

    // A record of B's log appended to A's: A's chain breaks.
    let file_of = |d: &Path| {
        let mut f: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        f.sort();
        f.pop().unwrap()
    };
    let theirs = std::fs::read_to_string(file_of(&bd)).unwrap();
    let moved = theirs.lines().last().unwrap().to_string();
    let mine = file_of(&ad);
    let mut text = std::fs::read_to_string(&mine).unwrap();
    text.push_str(&moved);
    text.push('\n');
    std::fs::write(&mine, text).unwrap();
    let (ok_, out) = verify(&ad);
    assert!(!ok_, "a moved record must break the chain: {out}");

    // Node ids are checked at start.
    let bad = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tresor"));
    let out = cmd
        .args([
            "serve",
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--node-id",
            "a b\"c",
        ])
        .arg("--data-dir")
        .arg(bad.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a node id"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
