//! Many nodes on one PostgreSQL database: shared dev state, races between nodes with
//! exactly one winner, cross-node cache coherence, key usage shared once flushed, and
//! an unreachable database.
//!
//! Each test makes its own database (see `tresor_store::testing`); without PostgreSQL
//! and without `TRESOR_TEST_POSTGRES` the tests are skipped (CI sets it: there they
//! fail instead).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use aws_sdk_kms::error::ProvideErrorMetadata;
use common::*;
use std::time::{Duration, Instant};

async fn encrypt(c: &aws_sdk_kms::Client, key: &str) -> Vec<u8> {
    ok(c.encrypt()
        .key_id(key)
        .plaintext(blob(b"secret"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap()
    .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dev_nodes_share_the_account_the_root_key_and_the_records() {
    let Some(cluster) = Cluster::start(3, &[]) else {
        return;
    };
    let clients = [
        cluster.nodes[0].client().await,
        cluster.nodes[1].client().await,
        cluster.nodes[2].client().await,
    ];
    let key = create_key(&clients[0]).await;
    ok(clients[1]
        .create_alias()
        .alias_name("alias/shared")
        .target_key_id(&key)
        .send()
        .await);
    let ct = encrypt(&clients[2], "alias/shared").await;
    for c in &clients {
        let out = ok(c.decrypt().ciphertext_blob(blob(&ct)).send().await);
        assert_eq!(out.plaintext.unwrap().into_inner(), b"secret");
        assert_eq!(out.key_id.unwrap(), key_arn(REGION, &key));
    }
    // A restarted node keeps using the database's root key and account.
    let mut cluster = cluster;
    cluster.nodes[0].stop();
    cluster.restart(0, &[]);
    let c0 = cluster.nodes[0].client().await;
    let out = ok(c0.decrypt().ciphertext_blob(blob(&ct)).send().await);
    assert_eq!(out.plaintext.unwrap().into_inner(), b"secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_nodes_make_exactly_one_winner() {
    let Some(cluster) = Cluster::start(2, &[]) else {
        return;
    };
    let a = cluster.nodes[0].client().await;
    let b = cluster.nodes[1].client().await;
    let key = create_key(&a).await;

    // CreateAlias of one name on both nodes at once, many times over.
    for round in 0..10 {
        let name = format!("alias/race-{round}");
        let (ra, rb) = tokio::join!(
            a.create_alias()
                .alias_name(&name)
                .target_key_id(&key)
                .send(),
            b.create_alias()
                .alias_name(&name)
                .target_key_id(&key)
                .send()
        );
        let wins = [ra.is_ok(), rb.is_ok()].iter().filter(|w| **w).count();
        assert_eq!(wins, 1, "round {round}: {ra:?} {rb:?}");
        let loser = if ra.is_ok() {
            expect_err(rb)
        } else {
            expect_err(ra)
        };
        assert_eq!(loser.code, "AlreadyExistsException", "{loser:?}");
    }

    // CreateGrant with one name and the same parameters: one grant, one GrantId.
    for round in 0..10 {
        let name = format!("grant-{round}");
        let grant = |c: &aws_sdk_kms::Client| {
            c.create_grant()
                .key_id(&key)
                .grantee_principal("arn:aws:iam::111122223333:user/g")
                .operations(aws_sdk_kms::types::GrantOperation::Encrypt)
                .name(&name)
                .send()
        };
        let (ga, gb) = tokio::join!(grant(&a), grant(&b));
        let (ga, gb) = (ok(ga), ok(gb));
        assert_eq!(ga.grant_id, gb.grant_id, "round {round}");
    }
    let grants = ok(a.list_grants().key_id(&key).send().await)
        .grants
        .unwrap();
    assert_eq!(grants.len(), 10, "{grants:?}");

    // On-demand rotations racing on both nodes: exactly the quota of 25 succeed.
    let rotating = create_key(&a).await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        let k = rotating.clone();
        tasks.push(tokio::spawn(async move {
            c.rotate_key_on_demand().key_id(k).send().await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => wins += 1,
            Err(e) => {
                let info = expect_err::<(), _>(Err(e));
                assert_eq!(info.code, "LimitExceededException", "{info:?}");
            }
        }
    }
    assert_eq!(wins, 25);
    let rotations = ok(b
        .list_key_rotations()
        .key_id(&rotating)
        .limit(100)
        .send()
        .await);
    assert_eq!(rotations.rotations.unwrap().len(), 25);

    // ScheduleKeyDeletion on both nodes: one schedules, the other finds it pending.
    for _ in 0..5 {
        let k = create_key(&a).await;
        let (ra, rb) = tokio::join!(
            a.schedule_key_deletion()
                .key_id(&k)
                .pending_window_in_days(7)
                .send(),
            b.schedule_key_deletion()
                .key_id(&k)
                .pending_window_in_days(7)
                .send()
        );
        let wins = [ra.is_ok(), rb.is_ok()].iter().filter(|w| **w).count();
        assert_eq!(wins, 1, "{ra:?} {rb:?}");
        let loser = if ra.is_ok() {
            expect_err(rb)
        } else {
            expect_err(ra)
        };
        assert_eq!(loser.code, "KMSInvalidStateException", "{loser:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_on_one_node_is_enforced_by_the_others() {
    let Some(cluster) = Cluster::start(3, &[]) else {
        return;
    };
    let a = cluster.nodes[0].client().await;
    let b = cluster.nodes[1].client().await;
    let c = cluster.nodes[2].client().await;
    let mut delays = Vec::new();
    for _ in 0..5 {
        let key = create_key(&a).await;
        // B and C have the key cached (hot path: no storage read).
        encrypt(&b, &key).await;
        encrypt(&c, &key).await;
        ok(a.disable_key().key_id(&key).send().await);
        let acknowledged = Instant::now();
        for other in [&b, &c] {
            loop {
                match other
                    .encrypt()
                    .key_id(&key)
                    .plaintext(blob(b"x"))
                    .send()
                    .await
                {
                    Err(e) => {
                        let info = expect_err::<(), _>(Err(e));
                        assert_eq!(info.code, "DisabledException", "{info:?}");
                        break;
                    }
                    Ok(_) => {
                        assert!(
                            acknowledged.elapsed() < Duration::from_secs(5),
                            "a node still encrypts with a key disabled 5 s ago"
                        );
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }
        }
        delays.push(acknowledged.elapsed().as_millis());
        // And back: re-enabling is seen too.
        ok(a.enable_key().key_id(&key).send().await);
        let t = Instant::now();
        while b
            .encrypt()
            .key_id(&key)
            .plaintext(blob(b"x"))
            .send()
            .await
            .is_err()
        {
            assert!(t.elapsed() < Duration::from_secs(5));
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    eprintln!("DisableKey on node A enforced by nodes B and C after (ms): {delays:?}");

    // Revoking a grant on A: B stops honouring it.
    let key = create_key(&a).await;
    let user = create_user(&cluster.nodes[0], ACCOUNT, "grantee");
    let grantee = client_for(&cluster.nodes[1], &user).await;
    let grant = ok(a
        .create_grant()
        .key_id(&key)
        .grantee_principal(&user.arn)
        .operations(aws_sdk_kms::types::GrantOperation::Encrypt)
        .send()
        .await);
    let t = Instant::now();
    while grantee
        .encrypt()
        .key_id(key_arn(REGION, &key))
        .plaintext(blob(b"x"))
        .send()
        .await
        .is_err()
    {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the grant never worked on B"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    ok(a.revoke_grant()
        .key_id(&key)
        .grant_id(grant.grant_id.unwrap())
        .send()
        .await);
    let revoked = Instant::now();
    loop {
        match grantee
            .encrypt()
            .key_id(key_arn(REGION, &key))
            .plaintext(blob(b"x"))
            .send()
            .await
        {
            Ok(_) => {
                assert!(
                    revoked.elapsed() < Duration::from_secs(5),
                    "a revoked grant still works on B"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err(e) => {
                let info = expect_err::<(), _>(Err(e));
                assert_eq!(info.code, "AccessDeniedException", "{info:?}");
                break;
            }
        }
    }
    eprintln!(
        "RevokeGrant on node A enforced by node B after {} ms",
        revoked.elapsed().as_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_database_is_a_503_in_bounded_time_and_service_resumes() {
    let Some(db) = tresor_store::testing::TestDatabase::create() else {
        return;
    };
    let proxy = TcpProxy::start("127.0.0.1:5432");
    let url = proxy.url_for(db.url());
    let (_t, dir) = temp_dir();
    let node = start_node(&dir, &url, &[]);
    let client = node.client().await;
    let key = create_key(&client).await;
    let ct = encrypt(&client, &key).await;

    proxy.close();
    // Every request is answered, with a retryable 503, within the store's bound.
    let mut saw_503 = false;
    for _ in 0..3 {
        let t = Instant::now();
        let r = client.create_key().send().await;
        let took = t.elapsed();
        let info = expect_err(r);
        assert!(
            ["DependencyTimeoutException", "KMSInternalException"].contains(&info.code.as_str()),
            "{info:?}"
        );
        assert_eq!(info.status, Some(503), "{info:?}");
        assert!(took < Duration::from_secs(7), "answered after {took:?}");
        saw_503 = true;
    }
    assert!(saw_503);
    // The cached key is not trusted beyond the coherence bound either: the node cannot
    // know whether another node disabled it meanwhile.
    let t = Instant::now();
    loop {
        match client.decrypt().ciphertext_blob(blob(&ct)).send().await {
            Ok(_) => {
                assert!(
                    t.elapsed() < Duration::from_secs(5),
                    "cached key served for 5 s without its database"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => {
                let info = expect_err::<(), _>(Err(e));
                assert_eq!(info.status, Some(503), "{info:?}");
                break;
            }
        }
    }

    proxy.reopen();
    // Service resumes by itself.
    let t = Instant::now();
    let created = loop {
        match client.create_key().send().await {
            Ok(out) => break out,
            Err(_) => {
                assert!(
                    t.elapsed() < Duration::from_secs(20),
                    "no recovery after 20 s"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert!(created.key_metadata.is_some());
    let out = ok(client.decrypt().ciphertext_blob(blob(&ct)).send().await);
    assert_eq!(out.plaintext.unwrap().into_inner(), b"secret");
    drop(node);
}

/// Sends `n` requests made by `send(node, i)` at once, alternating between the two
/// nodes; how many succeeded, after checking every failure is `LimitExceededException`.
async fn race_to_a_limit<F, Fut>(clients: &[aws_sdk_kms::Client; 2], n: usize, send: F) -> usize
where
    F: Fn(aws_sdk_kms::Client, usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let tasks: Vec<_> = (0..n)
        .map(|i| tokio::spawn(send(clients[i % 2].clone(), i)))
        .collect();
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => wins += 1,
            Err(code) => assert_eq!(code, "LimitExceededException"),
        }
    }
    wins
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_nodes_cannot_exceed_the_alias_and_grant_limits() {
    let Some(cluster) = Cluster::start(2, &[]) else {
        return;
    };
    let clients = [
        cluster.nodes[0].client().await,
        cluster.nodes[1].client().await,
    ];
    let key = create_key(&clients[0]).await;
    // 50 aliases per key: 46 made, then 8 at once on both nodes for the last 4 places.
    for i in 0..46 {
        ok(clients[i % 2]
            .create_alias()
            .alias_name(format!("alias/fill-{i}"))
            .target_key_id(&key)
            .send()
            .await);
    }
    let k = key.clone();
    let wins = race_to_a_limit(&clients, 8, move |c, i| {
        let k = k.clone();
        async move {
            c.create_alias()
                .alias_name(format!("alias/race-{i}"))
                .target_key_id(k)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.code().unwrap_or("?").to_string())
        }
    })
    .await;
    assert_eq!(wins, 4);
    let listed = ok(clients[1]
        .list_aliases()
        .key_id(&key)
        .limit(100)
        .send()
        .await)
    .aliases
    .unwrap();
    assert_eq!(listed.len(), 50);

    // 50,000 grants per key: all but 2 written straight into the database, then 6 at
    // once on both nodes.
    cluster
        .db
        .execute(&format!(
            "INSERT INTO grants (grant_id, key_id, grantee, issuing_account, operations, created_ms) \
             SELECT 'fill' || g, '{key}', 'arn:aws:iam::111122223333:user/g', '111122223333', \
             '[\"Encrypt\"]', 1 FROM generate_series(1, 49998) AS g"
        ))
        .unwrap();
    let k = key.clone();
    let wins = race_to_a_limit(&clients, 6, move |c, _| {
        let k = k.clone();
        async move {
            c.create_grant()
                .key_id(k)
                .grantee_principal("arn:aws:iam::111122223333:user/g")
                .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.code().unwrap_or("?").to_string())
        }
    })
    .await;
    assert_eq!(wins, 2);
    cluster
        .db
        .execute(&format!(
            "DO $$ BEGIN IF (SELECT COUNT(*) FROM grants WHERE key_id = '{key}') <> 50000 \
             THEN RAISE EXCEPTION 'grant count'; END IF; END $$"
        ))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_nodes_cannot_move_more_aliases_onto_a_key_than_fit() {
    let Some(cluster) = Cluster::start(2, &[]) else {
        return;
    };
    let clients = [
        cluster.nodes[0].client().await,
        cluster.nodes[1].client().await,
    ];
    let (target, source) = (create_key(&clients[0]).await, create_key(&clients[0]).await);
    // 48 of 50 places taken; 6 aliases of another key move onto it at once.
    for i in 0..48 {
        ok(clients[i % 2]
            .create_alias()
            .alias_name(format!("alias/fill-{i}"))
            .target_key_id(&target)
            .send()
            .await);
    }
    for i in 0..6 {
        ok(clients[0]
            .create_alias()
            .alias_name(format!("alias/move-{i}"))
            .target_key_id(&source)
            .send()
            .await);
    }
    let t = target.clone();
    let wins = race_to_a_limit(&clients, 6, move |c, i| {
        let t = t.clone();
        async move {
            c.update_alias()
                .alias_name(format!("alias/move-{i}"))
                .target_key_id(t)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.code().unwrap_or("?").to_string())
        }
    })
    .await;
    assert_eq!(wins, 2);
    for (key, want) in [(&target, 50), (&source, 4)] {
        let listed = ok(clients[1]
            .list_aliases()
            .key_id(key)
            .limit(100)
            .send()
            .await)
        .aliases
        .unwrap();
        assert_eq!(listed.len(), want);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn production_nodes_share_the_sealed_root_in_the_database() {
    let Some(db) = tresor_store::testing::TestDatabase::create() else {
        return;
    };
    let url = db.url().to_string();
    let base = tempfile::tempdir().unwrap();
    let dir1 = base.path().join("node1");
    let init = init_shamir_on(&dir1, Some(&url));
    let node1 = Server::start_opts(&dir1, &["--store", &url], &[]);
    unseal_with(&node1, &init.shares[..3]);
    let c1 = client_for(&node1, &init.operator).await;
    let key = create_key(&c1).await;
    let ct = encrypt(&c1, &key).await;

    // A second node on an empty data directory takes the database's seal, starts
    // sealed, and unseals with other shares of the same set.
    let dir2 = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir2.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let node2 = Server::start_opts(dir2.path(), &["--store", &url], &[]);
    assert_eq!(seal_status(&node2)["Sealed"], serde_json::Value::Bool(true));
    assert_eq!(
        std::fs::read(dir2.path().join("seal.json")).unwrap(),
        std::fs::read(dir1.join("seal.json")).unwrap()
    );
    unseal_with(&node2, &init.shares[2..]);
    let c2 = client_for(&node2, &init.operator).await;
    let out = ok(c2.decrypt().ciphertext_blob(blob(&ct)).send().await);
    assert_eq!(out.plaintext.unwrap().into_inner(), b"secret");

    // A data directory of another deployment refuses to start on this database, and
    // its seal file is left as it was.
    let dir3 = base.path().join("other");
    init_shamir(&dir3);
    let before = std::fs::read(dir3.join("seal.json")).unwrap();
    let (started, _, err) = tresor(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir3.to_str().unwrap(),
        "--store",
        &url,
    ]);
    assert!(!started);
    assert!(err.contains("is not this database's seal"), "{err}");
    assert_eq!(std::fs::read(dir3.join("seal.json")).unwrap(), before);
    // And `tresor init` on a database that has a seal makes none.
    let (made, _, err) = tresor(&[
        "init",
        "--data-dir",
        base.path().join("third").to_str().unwrap(),
        "--sealer",
        "shamir",
        "--store",
        &url,
    ]);
    assert!(!made);
    assert!(err.contains("already has"), "{err}");
    drop((node1, node2));
}

/// Polls `c`'s GetKeyLastUsage of `key` until it reports request `request_id`.
async fn wait_for_use(c: &aws_sdk_kms::Client, key: &str, request_id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let u = ok(c.get_key_last_usage().key_id(key).send().await);
        if u.key_last_usage().and_then(|l| l.kms_request_id()) == Some(request_id) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{request_id} not reported: {u:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn key_usage_is_shared_by_the_nodes_once_flushed() {
    use aws_sdk_kms::operation::RequestId;
    let flags = ["--key-usage-flush-interval", "1"];
    let Some(cluster) = Cluster::start(2, &flags) else {
        return;
    };
    let a = cluster.nodes[0].client().await;
    let b = cluster.nodes[1].client().await;
    let key = create_key(&a).await;
    let enc = ok(a.encrypt().key_id(&key).plaintext(blob(b"x")).send().await);
    let enc_id = enc.request_id().unwrap().to_string();
    // The node that served it at once, the other once it is flushed.
    let here = ok(a.get_key_last_usage().key_id(&key).send().await);
    assert_eq!(
        here.key_last_usage().unwrap().kms_request_id(),
        Some(enc_id.as_str())
    );
    wait_for_use(&b, &key, &enc_id).await;
    // A later use on the other node wins on both, whichever flushes first.
    let dec = ok(b
        .decrypt()
        .ciphertext_blob(enc.ciphertext_blob().unwrap().clone())
        .send()
        .await);
    let dec_id = dec.request_id().unwrap().to_string();
    wait_for_use(&b, &key, &dec_id).await;
    wait_for_use(&a, &key, &dec_id).await;
}
