//! Unauthenticated floods are cheap: unknown access keys hit a negative cache, failed
//! authentications are rate-limited per source, and their audit records are bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use std::time::{Duration, Instant};

const FLOOD: usize = 2_000;
const STORE_READ: &str = "reading an access key from the store";

fn start() -> Server {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let mut s = Server::start_with(&dir, &[("TRESOR_LOG", "warn,tresor_core::service=debug")]);
    // Keep the directory alive with the server.
    std::mem::forget(tmp);
    s.data_dir = dir;
    s
}

/// Sends `FLOOD` ListKeys requests signed with `key_id(i)` from 8 threads; returns how
/// many were answered ThrottlingException and how long it took.
fn flood(port: u16, key_id: impl Fn(usize) -> String + Sync) -> (usize, Duration) {
    let started = Instant::now();
    let throttled = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..8 {
            let (throttled, key_id) = (&throttled, &key_id);
            s.spawn(move || {
                for i in (t..FLOOD).step_by(8) {
                    let h =
                        sign_kms_request(port, "ListKeys", b"{}", REGION, &key_id(i), SECRET_KEY);
                    let r = http_request(port, "POST", "/", &h, b"{}");
                    assert_eq!(r.status, 400, "{}", r.body_str());
                    match r.error_type().as_str() {
                        "ThrottlingException" => {
                            assert_eq!(r.json()["message"], "Rate exceeded");
                            throttled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        "UnrecognizedClientException" => {}
                        other => panic!("unexpected {other}: {}", r.body_str()),
                    }
                }
            });
        }
    });
    (throttled.into_inner(), started.elapsed())
}

/// Records of refused requests and how many requests they stand for, once they add
/// up to `expected` (aggregates are written once a second).
fn refusal_records(srv: &Server, expected: u64) -> (usize, u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let refused: Vec<_> = records(&audit_dir(srv))
            .into_iter()
            .filter(|r| {
                matches!(
                    r["errorCode"].as_str(),
                    Some("ThrottlingException" | "UnrecognizedClientException")
                )
            })
            .collect();
        let stands_for: u64 = refused
            .iter()
            .map(|r| {
                r["additionalEventData"]["aggregatedRejections"]["count"]
                    .as_u64()
                    .unwrap_or(1)
            })
            .sum();
        if stands_for >= expected || Instant::now() > deadline {
            return (refused.len(), stands_for);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_with_a_bogus_key_is_cheap_and_the_service_stays_up() {
    let srv = start();
    let client = srv.client().await;
    let key = create_key(&client).await;

    let reads_before = srv.stderr().matches(STORE_READ).count();
    let port = srv.port;
    let flooding =
        tokio::task::spawn_blocking(move || flood(port, |_| "AKIABOGUSBOGUSBOGUS1".into()));
    // A valid client from the same address keeps being served during the flood.
    let mut served = 0;
    while !flooding.is_finished() {
        ok(client
            .encrypt()
            .key_id(&key)
            .plaintext(blob(b"still here"))
            .send()
            .await);
        served += 1;
    }
    let (throttled, took) = flooding.await.unwrap();
    assert!(served > 0);
    assert!(
        throttled >= FLOOD - 50 - (20.0 * took.as_secs_f64()) as usize - 50,
        "{throttled} throttled in {took:?}"
    );

    // The negative cache answers all but the first lookups (at most one per flooding
    // thread can race past it before the first refusal is cached).
    let reads = srv.stderr().matches(STORE_READ).count() - reads_before;
    assert!(
        (1..=8).contains(&reads),
        "{reads} store reads for one unknown key"
    );

    // Every refusal is accounted for, in a bounded number of records.
    let (records, stands_for) = refusal_records(&srv, FLOOD as u64);
    assert_eq!(stands_for, FLOOD as u64);
    eprintln!("one bogus key: {throttled} throttled, {records} records, {served} served, {took:?}");
    assert!(
        records < 200,
        "{records} audit records for {FLOOD} refusals in {took:?}"
    );
    let (ok_verify, out) = verify(&audit_dir(&srv));
    assert!(ok_verify, "{out}");
}

#[tokio::test]
async fn distinct_bogus_keys_are_throttled_before_the_store() {
    let srv = start();
    let reads_before = srv.stderr().matches(STORE_READ).count();
    let (throttled, took) = flood(srv.port, |i| format!("AKIABOGUS{i:011}"));
    let reads = srv.stderr().matches(STORE_READ).count() - reads_before;
    // The burst, plus the sustained rate over the flood's duration.
    let allowed = 50 + (20.0 * took.as_secs_f64()).ceil() as usize + 10;
    assert!(
        reads <= allowed,
        "{reads} store reads in {took:?} (allowed {allowed})"
    );
    assert_eq!(
        throttled + reads,
        FLOOD,
        "every non-throttled request read the store once"
    );
    let (records, stands_for) = refusal_records(&srv, FLOOD as u64);
    assert_eq!(stands_for, FLOOD as u64);
    eprintln!("distinct keys: {throttled} throttled, {reads} reads, {records} records, {took:?}");
    assert!(records < 200, "{records} records");
    // A key known to be good still works from the throttled source.
    let r = srv.kms_raw("ListKeys", b"{}");
    assert_eq!(r.status, 200, "{}", r.body_str());
}
