//! Access keys with a lifecycle, through `tresor admin access-key` and the real server:
//! create, use with aws-sdk-kms, deactivate, activate, delete; IAM's two-key quota;
//! rotation without downtime; operator rotation; who may manage whose keys; the example
//! pair only in dev mode; secrets never at rest or in logs in clear.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::Engine as _;
use common::*;
use serde_json::Value;

const OTHER: &str = "444455556666";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

struct Key {
    id: String,
    secret: String,
}

fn key_of(v: &Value) -> Key {
    Key {
        id: v["AccessKeyId"].as_str().unwrap().to_string(),
        secret: v["SecretAccessKey"].as_str().unwrap().to_string(),
    }
}

fn admin(srv: &Server, args: &[&str]) -> Value {
    admin_as(srv, None, args).unwrap_or_else(|e| panic!("tresor admin {args:?}: {e}"))
}

fn statuses(srv: &Server, owner: &[&str]) -> Vec<(String, String)> {
    let v = admin(srv, &[&["access-key", "list"], owner].concat());
    v["AccessKeyMetadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            assert!(k.get("SecretAccessKey").is_none(), "list shows no secret");
            assert!(k["CreateDate"].as_f64().unwrap() > 1.0e9);
            (
                k["AccessKeyId"].as_str().unwrap().to_string(),
                k["Status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn works(srv: &Server, k: &Key) -> bool {
    let c = srv.client_with(REGION, &k.id, &k.secret).await;
    c.list_keys().send().await.is_ok()
}

/// The key authenticates (the call may still be denied by policy).
async fn authenticates(srv: &Server, k: &Key) -> bool {
    let c = srv.client_with(REGION, &k.id, &k.secret).await;
    match c.list_keys().send().await {
        Ok(_) => true,
        Err(e) => expect_err::<(), _>(Err(e)).code == "AccessDeniedException",
    }
}

async fn refused_as_invalid_token(srv: &Server, k: &Key) {
    let c = srv.client_with(REGION, &k.id, &k.secret).await;
    let e = assert_code(c.list_keys().send().await, "UnrecognizedClientException");
    assert_eq!(e.message.as_deref(), Some(INVALID_TOKEN));
}

#[tokio::test]
async fn create_use_deactivate_activate_delete() {
    let srv = Server::start();
    let root = ["--account", OTHER];
    let k = key_of(&admin(
        &srv,
        &[&["access-key", "create"], &root[..]].concat(),
    ));
    assert!(k.id.starts_with("AKIA") && k.id.len() == 20, "{}", k.id);
    assert_eq!(k.secret.len(), 40);
    let c = srv.client_with(REGION, &k.id, &k.secret).await;
    let key = create_key(&c).await;
    assert!(works(&srv, &k).await);
    assert_eq!(
        statuses(&srv, &root),
        [(k.id.clone(), "Active".to_string())]
    );

    let with_id = |verb: &'static str| -> Vec<String> {
        [
            "access-key",
            verb,
            "--account",
            OTHER,
            "--access-key-id",
            &k.id,
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |args: Vec<String>| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        admin(&srv, &a);
    };
    run(with_id("deactivate"));
    refused_as_invalid_token(&srv, &k).await;
    assert_eq!(
        statuses(&srv, &root),
        [(k.id.clone(), "Inactive".to_string())]
    );
    run(with_id("activate"));
    assert!(works(&srv, &k).await);
    ok(c.describe_key().key_id(&key).send().await);
    run(with_id("delete"));
    refused_as_invalid_token(&srv, &k).await;
    assert!(statuses(&srv, &root).is_empty());
    // The refusals and the admin calls are on the record.
    let names: Vec<String> = records(&audit_dir(&srv))
        .iter()
        .map(|r| r["eventName"].as_str().unwrap_or_default().to_string())
        .collect();
    for op in ["CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey"] {
        assert!(names.iter().any(|n| n == op), "no {op} record in {names:?}");
    }
}

#[tokio::test]
async fn a_principal_holds_at_most_two_keys() {
    let srv = Server::start();
    let user = admin(
        &srv,
        &["user", "create", "--account", OTHER, "--name", "carol"],
    );
    let first = key_of(&user);
    let owner = ["--account", OTHER, "--name", "carol"];
    let second = key_of(&admin(
        &srv,
        &[&["access-key", "create"], &owner[..]].concat(),
    ));
    let third = admin_as(
        &srv,
        None,
        &[&["access-key", "create"], &owner[..]].concat(),
    );
    let e = third.expect_err("a third key");
    assert!(
        e.contains("LimitExceededException") && e.contains("AccessKeysPerUser: 2"),
        "{e}"
    );
    assert_eq!(statuses(&srv, &owner).len(), 2);
    admin(
        &srv,
        &[
            &["access-key", "delete", "--access-key-id", &first.id],
            &owner[..],
        ]
        .concat(),
    );
    key_of(&admin(
        &srv,
        &[&["access-key", "create"], &owner[..]].concat(),
    ));
    assert_ne!(second.id, first.id);
    // Unknown users have no keys.
    let e = admin_as(
        &srv,
        None,
        &[
            "access-key",
            "create",
            "--account",
            OTHER,
            "--name",
            "nobody",
        ],
    )
    .expect_err("no such user");
    assert!(e.contains("NotFoundException"), "{e}");
}

#[tokio::test]
async fn rotating_a_users_key_has_no_downtime() {
    let srv = Server::start();
    let old = key_of(&admin(
        &srv,
        &["user", "create", "--account", ACCOUNT, "--name", "dora"],
    ));
    let policy = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        policy.path(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#,
    )
    .unwrap();
    let owner = ["--account", ACCOUNT, "--name", "dora"];
    admin(
        &srv,
        &[
            &[
                "user",
                "put-policy",
                "--policy-file",
                policy.path().to_str().unwrap(),
            ],
            &owner[..],
        ]
        .concat(),
    );
    // A client keeps working with the old key while the new one is made and adopted.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let old_client = srv.client_with(REGION, &old.id, &old.secret).await;
    let hammer = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                ok(old_client.list_keys().send().await);
                n += 1;
            }
            n
        })
    };
    let new = key_of(&admin(
        &srv,
        &[&["access-key", "create"], &owner[..]].concat(),
    ));
    assert!(works(&srv, &new).await && works(&srv, &old).await);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(hammer.await.unwrap() > 0);
    admin(
        &srv,
        &[
            &["access-key", "deactivate", "--access-key-id", &old.id],
            &owner[..],
        ]
        .concat(),
    );
    refused_as_invalid_token(&srv, &old).await;
    assert!(works(&srv, &new).await);
    admin(
        &srv,
        &[
            &["access-key", "delete", "--access-key-id", &old.id],
            &owner[..],
        ]
        .concat(),
    );
    assert_eq!(
        statuses(&srv, &owner),
        [(new.id.clone(), "Active".to_string())]
    );
}

#[tokio::test]
async fn nobody_manages_another_accounts_keys() {
    let srv = Server::start();
    let other_root = key_of(&admin(&srv, &["access-key", "create", "--account", OTHER]));
    let alice = key_of(&admin(
        &srv,
        &["user", "create", "--account", ACCOUNT, "--name", "alice"],
    ));
    let as_other = Some((other_root.id.as_str(), other_root.secret.as_str()));
    let alice_owner = ["--account", ACCOUNT, "--name", "alice"];
    for args in [
        [&["access-key", "create"], &alice_owner[..]].concat(),
        [&["access-key", "list"], &alice_owner[..]].concat(),
        [
            &["access-key", "deactivate", "--access-key-id", &alice.id],
            &alice_owner[..],
        ]
        .concat(),
        [
            &["access-key", "delete", "--access-key-id", &alice.id],
            &alice_owner[..],
        ]
        .concat(),
        vec!["access-key", "list", "--account", ACCOUNT],
        vec!["access-key", "create", "--operator"],
        vec![
            "access-key",
            "delete",
            "--operator",
            "--access-key-id",
            ACCESS_KEY,
        ],
    ] {
        let e = admin_as(&srv, as_other, &args).expect_err("cross-account management");
        assert!(e.contains("AccessDeniedException"), "{args:?}: {e}");
    }
    // Naming a key under the wrong owner finds nothing.
    let e = admin_as(
        &srv,
        as_other,
        &[
            "access-key",
            "delete",
            "--account",
            OTHER,
            "--access-key-id",
            &alice.id,
        ],
    )
    .expect_err("another principal's key");
    assert!(e.contains("NotFoundException"), "{e}");
    // A user manages no keys, not even its own.
    let as_alice = Some((alice.id.as_str(), alice.secret.as_str()));
    let e = admin_as(
        &srv,
        as_alice,
        &[&["access-key", "create"], &alice_owner[..]].concat(),
    )
    .expect_err("a user managing keys");
    assert!(e.contains("AccessDeniedException"), "{e}");
    // The other root manages its own.
    let own = admin_as(
        &srv,
        as_other,
        &["access-key", "create", "--account", OTHER],
    )
    .unwrap();
    assert!(works(&srv, &key_of(&own)).await);
    assert!(authenticates(&srv, &alice).await);
}

#[tokio::test]
async fn the_operator_credential_rotates_and_keeps_one_key() {
    let srv = Server::start();
    let new = key_of(&admin(&srv, &["access-key", "create", "--operator"]));
    let as_new = Some((new.id.as_str(), new.secret.as_str()));
    let listed = admin_as(&srv, as_new, &["access-key", "list", "--operator"]).unwrap();
    assert_eq!(listed["AccessKeyMetadata"].as_array().unwrap().len(), 2);
    // The new key is an operator: it manages any account and deletes the dev key.
    admin_as(
        &srv,
        as_new,
        &["user", "create", "--account", OTHER, "--name", "erin"],
    )
    .unwrap();
    admin_as(
        &srv,
        as_new,
        &[
            "access-key",
            "delete",
            "--operator",
            "--access-key-id",
            ACCESS_KEY,
        ],
    )
    .unwrap();
    let dev = Key {
        id: ACCESS_KEY.into(),
        secret: SECRET_KEY.into(),
    };
    refused_as_invalid_token(&srv, &dev).await;
    // The last operator key can be neither deactivated nor deleted.
    for verb in ["deactivate", "delete"] {
        let e = admin_as(
            &srv,
            as_new,
            &["access-key", verb, "--operator", "--access-key-id", &new.id],
        )
        .expect_err("removing the last operator key");
        assert!(e.contains("last active operator access key"), "{e}");
    }
    assert!(works(&srv, &new).await);
}

#[tokio::test]
async fn the_example_pair_is_accepted_only_in_dev_mode() {
    // A directory holding the example pair is a dev directory (plain root key file):
    // outside --dev it is not served at all (tests/sealing.rs), and a production
    // directory (`tresor init`) never has the example pair.
    let tmp = tempfile::tempdir().unwrap();
    let operator = {
        let srv = Server::start_in(tmp.path());
        key_of(&admin(&srv, &["access-key", "create", "--operator"]))
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tresor"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let srv = Server::start_in(tmp.path());
    assert!(works(&srv, &operator).await, "{}", srv.stderr());
}

#[tokio::test]
async fn secrets_are_nowhere_in_clear() {
    let srv = Server::start();
    let mut secrets = Vec::new();
    let user = admin(
        &srv,
        &["user", "create", "--account", OTHER, "--name", "frank"],
    );
    secrets.push(key_of(&user));
    let owner = ["--account", OTHER, "--name", "frank"];
    secrets.push(key_of(&admin(
        &srv,
        &[&["access-key", "create"], &owner[..]].concat(),
    )));
    secrets.push(key_of(&admin(
        &srv,
        &["access-key", "create", "--account", OTHER],
    )));
    secrets.push(key_of(&admin(
        &srv,
        &["access-key", "create", "--operator"],
    )));
    for k in &secrets {
        assert!(authenticates(&srv, k).await);
    }
    let mut srv = srv;
    let log = srv.stderr();
    srv.stop();
    let mut blobs: Vec<(String, Vec<u8>)> = vec![("stderr".into(), log.into_bytes())];
    let mut stack = vec![srv.data_dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                blobs.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    assert!(
        blobs.iter().any(|(n, _)| n.ends_with(".jsonl")),
        "audit files scanned"
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    for k in &secrets {
        let s = k.secret.as_bytes();
        let forms = [
            s.to_vec(),
            hex(s).into_bytes(),
            b64.encode(s).trim_end_matches('=').as_bytes().to_vec(),
        ];
        for (name, data) in &blobs {
            for f in &forms {
                assert!(
                    !data.windows(f.len()).any(|w| w == f.as_slice()),
                    "a secret is in clear in {name}"
                );
            }
        }
    }
}
