//! GetKeyLastUsage through aws-sdk-kms: the last successful cryptographic operation on a
//! key, with the request id the client saw and the audit record's event id; failures,
//! dry runs and management calls do not count; usage survives a graceful restart, and a
//! crash once it was flushed; the tracking start is the deployment's; multi-Region keys
//! are tracked per Region.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::operation::RequestId;
use common::*;
use std::time::{Duration, Instant};

/// The audit record of the request `request_id`, once it is written.
fn record_of(srv: &Server, request_id: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(r) = records(&audit_dir(srv))
            .into_iter()
            .find(|r| r["requestID"] == request_id)
        {
            return r;
        }
        assert!(Instant::now() < deadline, "no record of {request_id}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn the_last_cryptographic_use_with_its_request_and_event() {
    let tmp = tempfile::tempdir().unwrap();
    let mut srv = Server::start_in(tmp.path());
    let c = srv.client().await;
    let key = create_key(&c).await;
    let other = create_key(&c).await;

    let fresh = ok(c.get_key_last_usage().key_id(&key).send().await);
    assert_eq!(fresh.key_id(), Some(key_arn(REGION, &key).as_str()));
    assert!(fresh.key_last_usage().is_none(), "{fresh:?}");
    let start = fresh.tracking_start_date().unwrap().secs();
    let created = fresh.key_creation_date().unwrap().secs();
    assert!(created >= start, "created after tracking started");

    let enc = ok(c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await);
    let enc_id = enc.request_id().unwrap().to_string();
    let used = ok(c.get_key_last_usage().key_id(&key).send().await);
    let last = used.key_last_usage().unwrap();
    assert_eq!(last.operation().unwrap().as_str(), "Encrypt");
    assert_eq!(last.kms_request_id(), Some(enc_id.as_str()));
    let record = record_of(&srv, &enc_id);
    assert_eq!(
        last.cloud_trail_event_id(),
        record["eventID"].as_str(),
        "the event id is the audit record's"
    );
    assert!(last.timestamp().unwrap().secs() >= start);

    // Neither failures, nor dry runs, nor management calls count.
    assert_code(
        c.decrypt()
            .ciphertext_blob(enc.ciphertext_blob().unwrap().clone())
            .encryption_context("wrong", "context")
            .send()
            .await,
        "InvalidCiphertextException",
    );
    assert_code(
        c.encrypt()
            .key_id(&key)
            .plaintext(blob(b"x"))
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    ok(c.describe_key().key_id(&key).send().await);
    ok(c.update_key_description()
        .key_id(&key)
        .description("d")
        .send()
        .await);
    let same = ok(c.get_key_last_usage().key_id(&key).send().await);
    assert_eq!(
        same.key_last_usage().unwrap().kms_request_id(),
        Some(enc_id.as_str())
    );

    // ReEncrypt is a use of both keys; GenerateDataKey by alias counts for its key.
    let re = ok(c
        .re_encrypt()
        .ciphertext_blob(enc.ciphertext_blob().unwrap().clone())
        .destination_key_id(&other)
        .send()
        .await);
    let re_id = re.request_id().unwrap().to_string();
    for k in [&key, &other] {
        let u = ok(c.get_key_last_usage().key_id(k).send().await);
        let l = u.key_last_usage().unwrap();
        assert_eq!(l.operation().unwrap().as_str(), "ReEncrypt");
        assert_eq!(l.kms_request_id(), Some(re_id.as_str()));
    }
    ok(c.create_alias()
        .alias_name("alias/used")
        .target_key_id(&other)
        .send()
        .await);
    ok(c.generate_data_key()
        .key_id("alias/used")
        .number_of_bytes(32)
        .send()
        .await);
    let u = ok(c.get_key_last_usage().key_id(&other).send().await);
    assert_eq!(
        u.key_last_usage().unwrap().operation().unwrap().as_str(),
        "GenerateDataKey"
    );
    // AWS documents KeyId as a key ID or key ARN only: an alias name or alias ARN is
    // refused as by the other key-id-or-ARN-only operations.
    for alias in ["alias/used".to_string(), alias_arn(REGION, "alias/used")] {
        let e = assert_code(
            c.get_key_last_usage().key_id(&alias).send().await,
            "NotFoundException",
        );
        assert_eq!(
            e.message.as_deref(),
            Some(format!("Invalid keyId '{alias}': an alias is not accepted here").as_str())
        );
    }

    // Authorized like any key operation: a user without permission is refused.
    let bob = create_user(&srv, ACCOUNT, "bob");
    let b = client_for(&srv, &bob).await;
    assert_code(
        b.get_key_last_usage().key_id(&key).send().await,
        "AccessDeniedException",
    );

    // Unknown keys and bad ids answer as DescribeKey does.
    assert_code(
        c.get_key_last_usage()
            .key_id("1234abcd-12ab-34cd-56ef-1234567890ab")
            .send()
            .await,
        "NotFoundException",
    );

    // A graceful stop flushes what is in memory: the use survives the restart, and
    // tracking started when it did (it is the deployment's, not the process's).
    let gdk = u
        .key_last_usage()
        .unwrap()
        .kms_request_id()
        .unwrap()
        .to_string();
    signal(&srv, "-TERM");
    assert!(srv.wait_exit(Duration::from_secs(15)).is_some(), "no exit");
    std::thread::sleep(Duration::from_millis(1100));
    let mut srv = Server::start_in(tmp.path());
    let c = srv.client().await;
    let after = ok(c.get_key_last_usage().key_id(&key).send().await);
    let last = after.key_last_usage().expect("kept across the restart");
    assert_eq!(last.kms_request_id(), Some(re_id.as_str()));
    assert_eq!(last.operation().unwrap().as_str(), "ReEncrypt");
    let other_after = ok(c.get_key_last_usage().key_id(&other).send().await);
    assert_eq!(
        other_after.key_last_usage().unwrap().kms_request_id(),
        Some(gdk.as_str())
    );
    assert_eq!(after.tracking_start_date().unwrap().secs(), start);
    srv.stop();
}

fn signal(srv: &Server, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &srv.pid().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

#[tokio::test]
async fn a_flushed_use_survives_a_crash_and_the_tracking_start_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let flush = [("TRESOR_KEY_USAGE_FLUSH_INTERVAL", "1")];
    let mut srv = Server::start_with(tmp.path(), &flush);
    let c = srv.client().await;
    let key = create_key(&c).await;
    let start = ok(c.get_key_last_usage().key_id(&key).send().await)
        .tracking_start_date()
        .unwrap()
        .secs();
    let enc = ok(c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await);
    let enc_id = enc.request_id().unwrap().to_string();
    // Past one flush interval, then SIGKILL: no graceful flush happens.
    std::thread::sleep(Duration::from_millis(2500));
    srv.stop();
    let srv = Server::start_with(tmp.path(), &flush);
    let c = srv.client().await;
    let after = ok(c.get_key_last_usage().key_id(&key).send().await);
    assert_eq!(
        after
            .key_last_usage()
            .expect("flushed before the crash")
            .kms_request_id(),
        Some(enc_id.as_str())
    );
    assert_eq!(after.tracking_start_date().unwrap().secs(), start);
    // A key created after tracking started: its tracking starts at its creation.
    let fresh = create_key(&c).await;
    let f = ok(c.get_key_last_usage().key_id(&fresh).send().await);
    assert!(f.key_last_usage().is_none());
    assert_eq!(f.tracking_start_date(), f.key_creation_date());
    assert!(f.tracking_start_date().unwrap().secs() > start);
}

#[tokio::test]
async fn multi_region_keys_are_tracked_per_region() {
    let srv = Server::start();
    let east = srv.client().await;
    let west = srv.client_in("eu-west-1").await;
    let key = ok(east.create_key().multi_region(true).send().await)
        .key_metadata
        .unwrap()
        .key_id()
        .to_string();
    ok(east
        .replicate_key()
        .key_id(&key)
        .replica_region("eu-west-1")
        .send()
        .await);
    common::multi_region::settled(&west, &key).await;
    let enc = ok(west
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"x"))
        .send()
        .await);
    let enc_id = enc.request_id().unwrap().to_string();
    let w = ok(west.get_key_last_usage().key_id(&key).send().await);
    assert_eq!(
        w.key_last_usage()
            .expect("the replica's use")
            .kms_request_id(),
        Some(enc_id.as_str())
    );
    assert_eq!(w.key_id(), Some(key_arn("eu-west-1", &key).as_str()));
    let e = ok(east.get_key_last_usage().key_id(&key).send().await);
    assert!(
        e.key_last_usage().is_none(),
        "the primary was not used: {e:?}"
    );
    let dec = ok(east
        .decrypt()
        .ciphertext_blob(enc.ciphertext_blob().unwrap().clone())
        .send()
        .await);
    let e = ok(east.get_key_last_usage().key_id(&key).send().await);
    let last = e.key_last_usage().unwrap();
    assert_eq!(last.operation().unwrap().as_str(), "Decrypt");
    assert_eq!(last.kms_request_id(), dec.request_id());
    let w = ok(west.get_key_last_usage().key_id(&key).send().await);
    assert_eq!(
        w.key_last_usage().unwrap().kms_request_id(),
        Some(enc_id.as_str())
    );
}
