//! Production data directories: `tresor init`, sealed start, unseal over the API (wrong,
//! foreign and duplicate shares refused), seal, rekey, PKCS#11 auto-unseal, and root
//! rotation under load; and no root key, share or secret anywhere on disk or in logs.
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
use std::process::Command;
use std::time::{Duration, Instant};
use tresor_crypto::WrapPurpose;

struct Init {
    access: String,
    secret: String,
    shares: Vec<String>,
}

fn tresor(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    tresor_as(args, stdin, None)
}

/// Runs the CLI, signing as `creds` (the test process's environment is shared by
/// parallel tests, so credentials go to the child only).
fn tresor_as(args: &[&str], stdin: Option<&str>, creds: Option<&Init>) -> (bool, String, String) {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tresor"));
    if let Some(c) = creds {
        cmd.env("AWS_ACCESS_KEY_ID", &c.access)
            .env("AWS_SECRET_ACCESS_KEY", &c.secret);
    }
    let mut child = cmd
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `tresor init --sealer shamir`; with `TRESOR_TEST_STORE=postgres` on a database of
/// the directory's own, which `start_production` then serves.
fn init_shamir(dir: &Path) -> Init {
    let store = production_store_url(dir);
    let mut args = vec![
        "init",
        "--data-dir",
        dir.to_str().unwrap(),
        "--sealer",
        "shamir",
        "--output",
        "json",
    ];
    if let Some(url) = &store {
        args.extend(["--store", url.as_str()]);
    }
    let (fine, out, err) = tresor(&args, None);
    assert!(fine, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    Init {
        access: v["AccessKeyId"].as_str().unwrap().into(),
        secret: v["SecretAccessKey"].as_str().unwrap().into(),
        shares: v["Shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect(),
    }
}

fn status(srv: &Server) -> Value {
    http_request(srv.port, "GET", "/tresor/operator/seal-status", &[], b"").json()
}

fn unseal(srv: &Server, share: &str) -> RawResponse {
    let body = json!({ "Share": share }).to_string();
    http_request(
        srv.port,
        "POST",
        "/tresor/operator/unseal",
        &[],
        body.as_bytes(),
    )
}

fn unseal_with(srv: &Server, shares: &[String]) {
    for s in shares {
        let r = unseal(srv, s);
        assert_eq!(r.status, 200, "{}", r.body_str());
    }
    assert_eq!(status(srv)["Sealed"], json!(false));
}

fn operator(
    srv: &Server,
    init: &Init,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    let mut cmd = vec!["operator", "--endpoint", &srv.endpoint];
    cmd.extend_from_slice(args);
    tresor_as(&cmd, stdin, Some(init))
}

fn start_production(dir: &Path) -> Server {
    Server::start_opts(dir, &[], &[])
}

fn assert_sealed_503(srv: &Server, init: &Init) {
    for op in ["ListKeys", "CreateKey"] {
        let r = srv.kms_raw_with(op, b"{}", REGION, &init.access, &init.secret);
        assert_eq!(r.status, 503, "{}", r.body_str());
        assert_eq!(r.error_type(), "KMSInternalException");
        assert!(r.body_str().contains("sealed"), "{}", r.body_str());
    }
    let headers = sign_kms_request(
        srv.port,
        "ListUsers",
        b"{}",
        REGION,
        &init.access,
        &init.secret,
    )
    .into_iter()
    .map(|(k, v)| {
        if k.eq_ignore_ascii_case("x-amz-target") {
            (k, "TresorAdmin.ListUsers".to_string())
        } else {
            (k, v)
        }
    })
    .collect::<Vec<_>>();
    let r = http_request(srv.port, "POST", "/", &headers, b"{}");
    assert_eq!(r.status, 503, "{}", r.body_str());
}

fn grep_dir(dir: &Path, needles: &[&str]) {
    for entry in files_under(dir) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        for n in needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                "{} holds a secret",
                entry.display()
            );
        }
    }
}

#[tokio::test]
async fn init_sealed_start_unseal_and_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let init = init_shamir(&dir);
    assert_eq!(init.shares.len(), 5);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    // init refuses an existing directory
    let (fine, _, err) = tresor(
        &[
            "init",
            "--data-dir",
            dir.to_str().unwrap(),
            "--sealer",
            "shamir",
        ],
        None,
    );
    assert!(!fine && err.contains("already exists"), "{err}");

    let mut srv = start_production(&dir);
    assert_eq!(
        status(&srv),
        json!({"Sealed": true, "Sealer": "shamir", "Threshold": 3, "Progress": 0})
    );
    assert_sealed_503(&srv, &init);

    // malformed, foreign (another directory's) and duplicate shares are refused
    let other = init_shamir(&tmp.path().join("other"));
    let r = unseal(&srv, "tresor-share:v1:nonsense");
    assert_eq!(
        (r.status, r.error_type().as_str()),
        (400, "ValidationException")
    );
    let r = unseal(&srv, &other.shares[0]);
    assert_eq!(
        (r.status, r.error_type().as_str()),
        (400, "AccessDeniedException"),
        "{}",
        r.body_str()
    );
    assert!(!r.body_str().contains(&other.shares[0]));
    assert_eq!(unseal(&srv, &init.shares[0]).json()["Progress"], json!(1));
    let r = unseal(&srv, &init.shares[0]);
    assert_eq!(r.status, 400, "{}", r.body_str());
    assert_eq!(status(&srv)["Progress"], json!(1));
    // reset, then the CLI: one share per call from stdin or a file
    let r = http_request(
        srv.port,
        "POST",
        "/tresor/operator/unseal",
        &[],
        br#"{"Reset":true}"#,
    );
    assert_eq!(r.json()["Progress"], json!(0));
    let (fine, out, err) = operator(&srv, &init, &["unseal"], Some(&init.shares[1]));
    assert!(fine && out.contains("Progress: 1"), "{out}{err}");
    let share_file = tmp.path().join("share3");
    std::fs::write(&share_file, &init.shares[3]).unwrap();
    let (fine, out, err) = operator(
        &srv,
        &init,
        &["unseal", "--share-file", share_file.to_str().unwrap()],
        None,
    );
    assert!(fine && out.contains("Progress: 2"), "{out}{err}");
    let started = Instant::now();
    let (fine, _, err) = operator(&srv, &init, &["unseal"], Some(&init.shares[4]));
    assert!(fine, "{err}");
    eprintln!(
        "last unseal call (CLI process included): {:?}",
        started.elapsed()
    );
    let (fine, out, _) = operator(&srv, &init, &["seal-status", "--output", "json"], None);
    assert!(fine);
    let st: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(st["Sealed"], json!(false));

    // serving: the operator key works
    let client = srv.client_with(REGION, &init.access, &init.secret).await;
    let key = create_key(&client).await;
    let ct = ok(client
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"survives restarts"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap();

    // restart: sealed again, unsealed again, data intact
    srv.stop();
    let srv = start_production(&dir);
    assert_sealed_503(&srv, &init);
    unseal_with(&srv, &init.shares[2..5]);
    let client = srv.client_with(REGION, &init.access, &init.secret).await;
    let pt = ok(client.decrypt().ciphertext_blob(ct).send().await)
        .plaintext
        .unwrap();
    assert_eq!(pt.as_ref(), b"survives restarts");

    let mut needles: Vec<&str> = init.shares.iter().map(String::as_str).collect();
    needles.push(&init.secret);
    grep_dir(&dir, &needles);
    let stderr = srv.stderr();
    for n in &needles {
        assert!(!stderr.contains(n), "stderr holds a secret");
    }
}

#[test]
fn serve_refuses_dev_and_open_directories() {
    let tmp = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    // a --dev directory (plain root key file: SQLite, whatever the suite's store) is not
    // served without --dev
    let sqlite = format!("sqlite:{}", tmp.path().join("tresor.sqlite").display());
    drop(Server::start_opts(
        tmp.path(),
        &["--dev", "--test-clock", "--store", &sqlite],
        &[],
    ));
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let (fine, _, err) = tresor(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            tmp.path().to_str().unwrap(),
        ],
        None,
    );
    assert!(!fine && err.contains("plain file"), "{err}");
    // a production directory others can read is refused; --dev refuses it too
    let dir = tmp.path().join("prod");
    init_shamir(&dir);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (fine, _, err) = tresor(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(!fine && err.contains("accessible to others"), "{err}");
    let (fine, _, err) = tresor(
        &[
            "serve",
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(!fine && err.contains("production data directory"), "{err}");
    assert!(!dir.join("root.key").exists());
}

#[tokio::test]
async fn seal_a_running_server_and_rekey() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let init = init_shamir(&dir);
    let srv = start_production(&dir);
    unseal_with(&srv, &init.shares[..3]);
    let client = srv.client_with(REGION, &init.access, &init.secret).await;
    let key = create_key(&client).await;

    // a non-operator cannot seal
    let user = {
        let (fine, out, err) = tresor_as(
            &[
                "admin",
                "--endpoint",
                &srv.endpoint,
                "--output",
                "json",
                "user",
                "create",
                "--account",
                "111122223333",
                "--name",
                "dora",
            ],
            None,
            Some(&init),
        );
        assert!(fine, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        Init {
            access: v["AccessKeyId"].as_str().unwrap_or_default().into(),
            secret: v["SecretAccessKey"].as_str().unwrap_or_default().into(),
            shares: vec![],
        }
    };
    let (fine, _, err) = operator(&srv, &user, &["seal"], None);
    assert!(!fine, "a user sealed the server");
    assert!(
        err.contains("AccessDenied") || err.contains("UnrecognizedClient"),
        "{err}"
    );

    let (fine, _, err) = operator(&srv, &init, &["seal"], None);
    assert!(fine, "{err}");
    assert_sealed_503(&srv, &init);
    unseal_with(&srv, &init.shares[1..4]);
    ok(client.describe_key().key_id(&key).send().await);

    // rekey: start, three current shares, new shares printed once
    let (fine, _, err) = operator(
        &srv,
        &init,
        &["rekey", "--start", "--shares", "3", "--threshold", "2"],
        None,
    );
    assert!(fine, "{err}");
    let mut last = String::new();
    for s in &init.shares[..3] {
        let (fine, out, err) = operator(&srv, &init, &["rekey", "--output", "json"], Some(s));
        assert!(fine, "{err}");
        last = out;
    }
    let v: Value = serde_json::from_str(last.trim()).unwrap();
    let new_shares: Vec<String> = v["Shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(new_shares.len(), 3);
    // the old shares stop working, the new ones unseal (2 of 3)
    assert!(operator(&srv, &init, &["seal"], None).0);
    let r = unseal(&srv, &init.shares[0]);
    assert_eq!(r.error_type(), "AccessDeniedException", "{}", r.body_str());
    assert_eq!(status(&srv)["Threshold"], json!(2));
    unseal_with(&srv, &new_shares[1..3]);
    ok(client.describe_key().key_id(&key).send().await);
    // root rotation after a rekey uses the new share set
    let (fine, _, err) = operator(&srv, &init, &["rotate-root"], None);
    assert!(fine, "{err}");
    grep_dir(
        &dir,
        &new_shares.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

/// Root key material recovered from the seal with the shares, the way a test can.
fn root_of(dir: &Path, shares: &[String]) -> tresor_crypto::RootKey {
    let mut u = tresor_seal::shamir::Unsealer::open(dir).unwrap();
    for s in shares {
        if let tresor_seal::shamir::Step::Unsealed(done) = u.submit(s).unwrap() {
            return done.root().root_key().unwrap();
        }
    }
    panic!("not enough shares");
}

/// Every wrapped value in the database, with the purpose it is bound to.
fn wrapped_rows(dir: &Path) -> Vec<(String, u32, Vec<u8>, u32)> {
    let db = rusqlite::Connection::open(dir.join("tresor.sqlite")).unwrap();
    let mut out = Vec::new();
    let mut q = db
        .prepare("SELECT k.region, k.account, m.key_id, m.version, m.wrapped, m.root_generation FROM materials m JOIN keys k USING (key_id)")
        .unwrap();
    let rows = q
        .query_map([], |r| {
            let arn = format!(
                "arn:aws:kms:{}:{}:key/{}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?
            );
            Ok((arn, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .unwrap();
    out.extend(rows.map(Result::unwrap));
    let mut q = db
        .prepare("SELECT access_key_id, wrapped_secret, root_generation FROM access_keys")
        .unwrap();
    let rows = q
        .query_map([], |r| {
            Ok((
                format!("ak:{}", r.get::<_, String>(0)?),
                0,
                r.get(1)?,
                r.get(2)?,
            ))
        })
        .unwrap();
    out.extend(rows.map(Result::unwrap));
    out
}

fn unwraps(root: &tresor_crypto::RootKey, row: &(String, u32, Vec<u8>, u32)) -> bool {
    let purpose = match row.0.strip_prefix("ak:") {
        Some(id) => WrapPurpose::AccessKeySecret { access_key_id: id },
        None => WrapPurpose::KeyMaterial {
            key_arn: &row.0,
            version: row.1,
        },
    };
    root.unwrap(purpose, &row.2).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotate_root_under_load_leaves_nothing_under_the_old_key() {
    if on_postgres() {
        // It reads the wrapped values from the SQLite file. On PostgreSQL the root is
        // rotated by seal_a_running_server_and_rekey.
        eprintln!("SKIPPED on PostgreSQL: reads the SQLite file");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let init = init_shamir(&dir);
    let srv = start_production(&dir);
    unseal_with(&srv, &init.shares[..3]);
    let client = srv.client_with(REGION, &init.access, &init.secret).await;
    let mut keys = Vec::new();
    for _ in 0..20 {
        keys.push(create_key(&client).await);
    }
    let old_root = root_of(&dir, &init.shares[..3]);
    assert!(wrapped_rows(&dir).iter().all(|r| unwraps(&old_root, r)));

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for t in 0..4 {
        let client = client.clone();
        let keys = keys.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let (mut n, mut failures) = (0u32, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let key = &keys[(n as usize + t) % keys.len()];
                let msg = format!("message {t} {n}");
                let r = client
                    .encrypt()
                    .key_id(key)
                    .plaintext(blob(msg.as_bytes()))
                    .send()
                    .await;
                match r {
                    Ok(o) => match client
                        .decrypt()
                        .ciphertext_blob(o.ciphertext_blob.unwrap())
                        .send()
                        .await
                    {
                        Ok(d)
                            if d.plaintext.as_ref().map(|p| p.as_ref()) == Some(msg.as_bytes()) => {
                        }
                        other => failures.push(format!("{other:?}")),
                    },
                    Err(e) => failures.push(format!("{e:?}")),
                }
                // new keys and access keys are written during the rotation too
                if n % 10 == 0 {
                    if let Err(e) = client.create_key().send().await {
                        failures.push(format!("{e:?}"));
                    }
                }
                n += 1;
            }
            (n, failures)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let srv_endpoint = srv.endpoint.clone();
    let creds = Init {
        access: init.access.clone(),
        secret: init.secret.clone(),
        shares: vec![],
    };
    let rotated = tokio::task::spawn_blocking(move || {
        tresor_as(
            &[
                "operator",
                "--endpoint",
                &srv_endpoint,
                "--output",
                "json",
                "rotate-root",
            ],
            None,
            Some(&creds),
        )
    })
    .await
    .unwrap();
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for t in tasks {
        let (n, failures) = t.await.unwrap();
        assert!(
            failures.is_empty(),
            "failed requests during rotation: {failures:?}"
        );
        total += n;
    }
    assert!(rotated.0, "{}", rotated.2);
    let report: Value = serde_json::from_str(rotated.1.trim()).unwrap();
    assert_eq!(report["Generation"], json!(2));
    eprintln!("rotate-root with {total} Encrypt/Decrypt pairs alongside: {took:?}, {report}");

    // no stored value unwraps with the old root; all do with the new one
    let new_root = root_of(&dir, &init.shares[2..5]);
    let rows = wrapped_rows(&dir);
    assert!(rows.len() > 21);
    for r in &rows {
        assert!(!unwraps(&old_root, r), "{} still under the old root", r.0);
        assert!(unwraps(&new_root, r), "{} not under the new root", r.0);
        assert_eq!(r.3, 2);
    }
    let db = rusqlite::Connection::open(dir.join("tresor.sqlite")).unwrap();
    let gens: Vec<(u32, bool)> = db
        .prepare("SELECT generation, wrapped_previous IS NULL FROM root_generations")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(gens, vec![(2, true)]);
    // and after a restart everything still works with the same shares
    drop(srv);
    let srv = start_production(&dir);
    unseal_with(&srv, &init.shares[..3]);
    let client = srv.client_with(REGION, &init.access, &init.secret).await;
    for k in &keys {
        ok(client
            .encrypt()
            .key_id(k)
            .plaintext(blob(b"x"))
            .send()
            .await);
    }
}

#[tokio::test]
async fn pkcs11_init_auto_unseals_at_start() {
    let module = "/usr/lib/softhsm/libsofthsm2.so";
    assert!(Path::new(module).exists(), "apt-get install softhsm2");
    let tmp = tempfile::tempdir().unwrap();
    let tokens = tmp.path().join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = tmp.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            "tresor-e2e",
            "--pin",
            "482916",
            "--so-pin",
            "99887766",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let pin = tmp.path().join("pin");
    std::fs::write(&pin, "482916\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pin, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let dir = tmp.path().join("data");
    let (ok_init, out, err) = tresor(
        &[
            "init",
            "--data-dir",
            dir.to_str().unwrap(),
            "--sealer",
            "pkcs11",
            "--pkcs11-module",
            module,
            "--pkcs11-token-label",
            "tresor-e2e",
            "--pkcs11-pin-file",
            pin.to_str().unwrap(),
            "--output",
            "json",
        ],
        None,
    );
    assert!(ok_init, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v.get("Shares").is_none());
    let init = Init {
        access: v["AccessKeyId"].as_str().unwrap().into(),
        secret: v["SecretAccessKey"].as_str().unwrap().into(),
        shares: vec![],
    };
    let flags = [
        "--pkcs11-module",
        module,
        "--pkcs11-pin-file",
        pin.to_str().unwrap(),
    ];
    let conf_s = conf.to_str().unwrap().to_string();
    let mut srv = Server::start_opts(&dir, &flags, &[("SOFTHSM2_CONF", &conf_s)]);
    assert_eq!(status(&srv)["Sealed"], json!(false));
    let client = srv.client_with(REGION, &init.access, &init.secret).await;
    let key = create_key(&client).await;
    // root rotation with a new wrapping key in the token
    let (ok_rot, _, err) = operator(&srv, &init, &["rotate-root"], None);
    assert!(ok_rot, "{err}");
    srv.stop();
    let srv = Server::start_opts(&dir, &flags, &[("SOFTHSM2_CONF", &conf_s)]);
    let client = srv.client_with(REGION, &init.access, &init.secret).await;
    ok(client.describe_key().key_id(&key).send().await);
    ok(client
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"hsm"))
        .send()
        .await);
    grep_dir(&dir, &[&init.secret, "482916"]);
}

/// `cargo test -p tresor --test sealing -- --ignored --nocapture rotation_time`
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "measurement: 10,000 keys"]
async fn rotation_time_for_10000_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let init = init_shamir(&dir);
    let srv = start_production(&dir);
    let started = Instant::now();
    unseal_with(&srv, &init.shares[..3]);
    eprintln!("unseal (3 HTTP calls): {:?}", started.elapsed());
    let client = srv.client_with(REGION, &init.access, &init.secret).await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..625 {
                ok(client.create_key().send().await);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (fine, out, err) = operator(&srv, &init, &["rotate-root", "--output", "json"], None);
    assert!(fine, "{err}");
    eprintln!("rotate-root over 10,000 keys: {out}");
}
