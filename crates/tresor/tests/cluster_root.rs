//! Root rotation with many nodes on one PostgreSQL database: a rotation on one node is
//! taken by the others without a restart or shares, while they serve; nothing stays
//! under the old root key, and everything written during the rotation survives a
//! restart of every node.
//!
//! Skipped without PostgreSQL and `TRESOR_TEST_POSTGRES` (CI sets it: there they fail).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use aws_sdk_kms::error::ProvideErrorMetadata;
use common::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tresor_store::Store;

/// A node of the cluster: `tresor serve --store URL` on its own data directory.
fn node(dir: &std::path::Path, url: &str) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    Server::start_opts(dir, &["--store", url], &[])
}

/// Sends `f` until it is not a retryable 500/503, at most 50 times (a client's retry);
/// counts the retries.
async fn retried<T, E, F, Fut>(retries: &AtomicUsize, f: F) -> T
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    F: Fn() -> Fut,
    Fut: std::future::Future<
        Output = Result<T, aws_sdk_kms::error::SdkError<E, aws_smithy_runtime_api::http::Response>>,
    >,
{
    for _ in 0..50 {
        match f().await {
            Ok(v) => return v,
            Err(e)
                if matches!(
                    e.code(),
                    Some("KMSInternalException" | "DependencyTimeoutException")
                ) =>
            {
                retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    panic!("still failing after 50 tries");
}

fn rotate_root(srv: &Server, init: &Initialized) -> serde_json::Value {
    let (fine, out, err) = tresor_signed(
        &[
            "operator",
            "--endpoint",
            &srv.endpoint,
            "rotate-root",
            "--output",
            "json",
        ],
        &init.operator,
        "",
    );
    assert!(fine, "{err}");
    serde_json::from_str(out.trim()).unwrap()
}

/// The root generation node `c` wraps new keys under now (read from the database).
async fn generation_of_new_keys(c: &aws_sdk_kms::Client, store: &dyn Store) -> u32 {
    let key = create_key(c).await;
    store.materials(&key).unwrap()[0].root_generation
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_root_rotation_on_one_node_is_taken_by_the_others_while_they_serve() {
    let Some(db) = tresor_store::testing::TestDatabase::create() else {
        return;
    };
    let url = db.url().to_string();
    let store = tresor_store::PostgresStore::open(&url).unwrap();
    let base = tempfile::tempdir().unwrap();
    let (dir1, dir2) = (base.path().join("node1"), base.path().join("node2"));
    let init = init_shamir_on(&dir1, Some(&url));
    let node1 = node(&dir1, &url);
    unseal_with(&node1, &init.shares[..3]);
    let node2 = node(&dir2, &url);
    unseal_with(&node2, &init.shares[2..]);
    let c1 = client_for(&node1, &init.operator).await;
    let c2 = client_for(&node2, &init.operator).await;
    let before = create_key(&c1).await;
    let ct_before = ok(c1
        .encrypt()
        .key_id(&before)
        .plaintext(blob(b"before"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap()
    .into_inner();
    assert_eq!(generation_of_new_keys(&c2, &store).await, 1);

    // Node 2 serves a mixed load (new keys, Encrypt, Decrypt) through the rotation.
    let stop = Arc::new(AtomicBool::new(false));
    let retries = Arc::new(AtomicUsize::new(0));
    let load = {
        let (c2, stop, retries) = (c2.clone(), stop.clone(), retries.clone());
        tokio::spawn(async move {
            let mut made = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let key = retried(&retries, || c2.create_key().send())
                    .await
                    .key_metadata
                    .unwrap()
                    .key_id;
                let ct = retried(&retries, || {
                    c2.encrypt()
                        .key_id(&key)
                        .plaintext(blob(key.as_bytes()))
                        .send()
                })
                .await
                .ciphertext_blob
                .unwrap()
                .into_inner();
                let back =
                    retried(&retries, || c2.decrypt().ciphertext_blob(blob(&ct)).send()).await;
                assert_eq!(back.plaintext.unwrap().into_inner(), key.as_bytes());
                made.push((key, ct));
            }
            made
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rotated = tokio::task::block_in_place(|| rotate_root(&node1, &init));
    assert_eq!(rotated["Generation"], 2, "{rotated}");

    // Node 2 takes generation 2 by itself: its new keys are wrapped under it.
    let started = Instant::now();
    while generation_of_new_keys(&c2, &store).await != 2 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "node 2 still wraps under the old root key"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "node 2 took the rotated root key {:?} after rotate-root returned",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let made = load.await.unwrap();
    eprintln!(
        "load on node 2 during the rotation: {} keys, each encrypted and decrypted; {} retried requests",
        made.len(),
        retries.load(Ordering::Relaxed)
    );
    assert!(!made.is_empty());
    // Nothing is left under the old root key, and only generation 2 is recorded.
    assert!(store.wrapped_under(1, 10).unwrap().is_empty());
    let generations: Vec<u32> = store
        .root_generations()
        .unwrap()
        .iter()
        .map(|g| g.generation)
        .collect();
    assert_eq!(generations, [2]);
    // Both nodes decrypt everything, including the key made before the rotation.
    for c in [&c1, &c2] {
        let out = ok(c.decrypt().ciphertext_blob(blob(&ct_before)).send().await);
        assert_eq!(out.plaintext.unwrap().into_inner(), b"before");
    }

    // Node 2 may rotate next, without a restart; node 1 follows it.
    let rotated = tokio::task::block_in_place(|| rotate_root(&node2, &init));
    assert_eq!(rotated["Generation"], 3, "{rotated}");
    let started = Instant::now();
    while generation_of_new_keys(&c1, &store).await != 3 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "node 1 did not follow"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Every node restarted and unsealed with the same shares decrypts everything made
    // during the rotations.
    drop((c1, c2, node1, node2));
    let node1 = node(&dir1, &url);
    unseal_with(&node1, &init.shares[1..4]);
    let node2 = node(&dir2, &url);
    unseal_with(&node2, &init.shares[..3]);
    for srv in [&node1, &node2] {
        let c = client_for(srv, &init.operator).await;
        for (key, ct) in &made {
            let out = ok(c.decrypt().ciphertext_blob(blob(ct)).send().await);
            assert_eq!(out.plaintext.unwrap().into_inner(), key.as_bytes());
        }
        let out = ok(c.decrypt().ciphertext_blob(blob(&ct_before)).send().await);
        assert_eq!(out.plaintext.unwrap().into_inner(), b"before");
    }
}
