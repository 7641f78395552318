//! Fail-closed auditing: with the audit directory on a filesystem that fills up (a
//! small tmpfs) or that disappears, no change is committed without its record, requests
//! are refused with a clear error meanwhile, and service resumes by itself.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::Client;
use common::*;

const REFUSAL: &str = "The audit log cannot be written; requests are refused until it can.";

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs {
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. "2m"), or says why it cannot and returns `None`.
    fn mount(size: &str) -> Option<Tmpfs> {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("mnt");
        std::fs::create_dir(&dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir, _tmp: tmp }),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs (needs root): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount: {e}");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// What one request came to.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    Refused,
    Other(String),
}

fn outcome<T, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: &Result<T, SdkError<E, aws_sdk_kms::config::http::HttpResponse>>,
) -> Outcome {
    match r {
        Ok(_) => Outcome::Ok,
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            if status == Some(503)
                && e.code() == Some("KMSInternalException")
                && e.message() == Some(REFUSAL)
            {
                Outcome::Refused
            } else {
                Outcome::Other(format!("{status:?} {:?} {:?}", e.code(), e.message()))
            }
        }
    }
}

fn start(data: &Path, audit: &Path, extra: &[(&str, &str)]) -> Server {
    let mut envs = vec![("TRESOR_AUDIT_DIR", audit.to_str().unwrap())];
    envs.extend_from_slice(extra);
    Server::start_with(data, &envs)
}

async fn list_keys(client: &Client) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut marker = None;
    loop {
        let page = ok(client
            .list_keys()
            .set_marker(marker.clone())
            .limit(1000)
            .send()
            .await);
        for k in page.keys() {
            out.insert(k.key_id().unwrap().to_string());
        }
        if !page.truncated() {
            return out;
        }
        marker = page.next_marker().map(str::to_string);
    }
}

/// Key ids of the successful CreateKey records.
fn created_in_log(dir: &Path) -> BTreeSet<String> {
    records(dir)
        .iter()
        .filter(|r| r["eventName"] == "CreateKey" && r["errorCode"].is_null())
        .map(|r| {
            r["responseElements"]["keyMetadata"]["keyId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn wait_for(what: &str, client: &Client, want: Outcome) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = outcome(&client.list_keys().limit(1).send().await);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[derive(Default)]
struct Tally {
    created: Mutex<Vec<String>>,
    ok: AtomicUsize,
    refused: AtomicUsize,
    others: Mutex<Vec<String>>,
}

impl Tally {
    fn count(&self, o: Outcome) -> bool {
        match o {
            Outcome::Ok => {
                self.ok.fetch_add(1, Ordering::Relaxed);
                true
            }
            Outcome::Refused => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                false
            }
            Outcome::Other(e) => {
                self.others.lock().unwrap().push(e);
                false
            }
        }
    }
}

async fn worker(client: Client, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    while !stop.load(Ordering::Relaxed) {
        let r = client.create_key().description("fill").send().await;
        let created = r
            .as_ref()
            .ok()
            .and_then(|o| o.key_metadata())
            .map(|m| m.key_id().to_string());
        if !tally.count(outcome(&r)) {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let id = created.unwrap();
        tally.created.lock().unwrap().push(id.clone());
        let r = client
            .tag_resource()
            .key_id(&id)
            .tags(
                aws_sdk_kms::types::Tag::builder()
                    .tag_key("k")
                    .tag_value("v".repeat(200))
                    .build()
                    .unwrap(),
            )
            .send()
            .await;
        tally.count(outcome(&r));
        let r = client
            .encrypt()
            .key_id(&id)
            .plaintext(blob(&[7; 512]))
            .send()
            .await;
        tally.count(outcome(&r));
    }
}

/// Writes `path` until the filesystem is full; returns the bytes written.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0x55u8; 16 * 1024];
    let mut n = 0u64;
    while f.write_all(&chunk).is_ok() {
        n += chunk.len() as u64;
    }
    // Whatever is left below one chunk.
    while f.write_all(&[0x55; 512]).is_ok() {
        n += 512;
    }
    let _ = f.sync_all();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_audit_filesystem_refuses_requests_and_recovers_without_restart() {
    let Some(fs) = Tmpfs::mount("4m") else {
        return;
    };
    let audit = fs.dir.join("audit");
    let data = tempfile::tempdir().unwrap();
    let mut server = start(
        data.path(),
        &audit,
        &[
            ("TRESOR_AUDIT_ROTATE_BYTES", "262144"),
            ("TRESOR_AUDIT_RESERVE_BYTES", "262144"),
        ],
    );
    let client = server.client().await;
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let workers: Vec<_> = (0..4)
        .map(|_| tokio::spawn(worker(client.clone(), stop.clone(), tally.clone())))
        .collect();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let dummy = fs.dir.join("dummy");
    let filled = {
        let dummy = dummy.clone();
        tokio::task::spawn_blocking(move || fill(&dummy))
            .await
            .unwrap()
    };
    assert!(filled > 0);
    // Once the reserved space is used up, every request is refused, before it runs.
    wait_for("refusal while full", &client, Outcome::Refused).await;
    // Requests admitted before the space ran out finish and give back what their
    // admission over-estimated; after that, nothing more is admitted.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let refused_before = tally.refused.load(Ordering::Relaxed);
    let created_while_full = tally.created.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(tally.refused.load(Ordering::Relaxed) > refused_before);
    assert_eq!(
        tally.created.lock().unwrap().len(),
        created_while_full,
        "nothing is created while the log is full"
    );

    // Space comes back: service resumes by itself.
    std::fs::remove_file(&dummy).unwrap();
    let freed = Instant::now();
    wait_for("recovery", &client, Outcome::Ok).await;
    let resumed_after = freed.elapsed();
    let ok_at_recovery = tally.ok.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    assert!(tally.ok.load(Ordering::Relaxed) > ok_at_recovery);
    let others = tally.others.lock().unwrap().clone();
    assert!(others.is_empty(), "unexpected errors: {others:?}");

    // No committed change without a record.
    let listed = list_keys(&client).await;
    let logged = created_in_log(&audit);
    let created: BTreeSet<String> = tally.created.lock().unwrap().iter().cloned().collect();
    assert!(
        listed.is_subset(&logged),
        "keys without a CreateKey record: {:?}",
        listed.difference(&logged).collect::<Vec<_>>()
    );
    assert!(created.is_subset(&logged));
    assert!(created.is_subset(&listed));
    eprintln!(
        "created {} keys, {} ok / {} refused requests; resumed {:.0} ms after space returned",
        created.len(),
        tally.ok.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        resumed_after.as_secs_f64() * 1000.0
    );

    server.stop();
    let (passed, out) = verify(&audit);
    assert!(passed, "verify failed after recovery:\n{out}");
    drop(fs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_audit_directory_refuses_until_it_is_back() {
    let tmp = tempfile::tempdir().unwrap();
    let audit = tmp.path().join("audit-log");
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut server = start(&data, &audit, &[]);
    let client = server.client().await;
    for _ in 0..3 {
        ok(client.create_key().send().await);
    }
    std::fs::remove_dir_all(&audit).unwrap();
    // A mutation sent now is either admitted before the writer notices (then it commits
    // and waits for its record) or refused (then it changes nothing).
    let pending = {
        let client = client.clone();
        tokio::spawn(async move { client.create_key().description("waits").send().await })
    };
    wait_for("refusal", &client, Outcome::Refused).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    wait_for("still refused", &client, Outcome::Refused).await;
    // Health says so, for a load balancer to take the node out.
    let health = http_request(server.port, "GET", "/health", &[], b"");
    assert_eq!(health.status, 503, "{}", health.body_str());
    assert_ne!(health.json()["audit"], "ok", "{}", health.body_str());

    std::fs::create_dir(&audit).unwrap();
    let waited = pending.await.unwrap();
    let waited = match outcome(&waited) {
        Outcome::Ok => waited
            .unwrap()
            .key_metadata()
            .map(|m| m.key_id().to_string()),
        Outcome::Refused => None,
        Outcome::Other(e) => panic!("the CreateKey sent during the outage: {e}"),
    };
    wait_for("recovery", &client, Outcome::Ok).await;
    let health = http_request(server.port, "GET", "/health", &[], b"");
    assert_eq!(health.status, 200, "{}", health.body_str());
    let later = ok(client.create_key().send().await);
    let listed = list_keys(&client).await;
    server.stop();

    assert_eq!(listed.len(), 3 + usize::from(waited.is_some()) + 1);
    let logged = created_in_log(&audit);
    let later = later.key_metadata().unwrap().key_id().to_string();
    for k in waited.iter().chain([&later]) {
        assert!(logged.contains(k), "{k} not in {logged:?}");
    }
    let (passed, out) = verify(&audit);
    assert!(passed, "verify failed:\n{out}");
    assert!(out.contains("from sequence"), "{out}");
}
