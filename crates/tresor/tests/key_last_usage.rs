//! GetKeyLastUsage through aws-sdk-kms: the last successful cryptographic operation on a
//! key, with the request id the client saw and the audit record's event id; failures,
//! dry runs and management calls do not count; tracking starts with the process.
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
    let u = ok(c.get_key_last_usage().key_id("alias/used").send().await);
    assert_eq!(
        u.key_last_usage().unwrap().operation().unwrap().as_str(),
        "GenerateDataKey"
    );

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

    // Tracking starts again with the process: the earlier use is not claimed.
    srv.stop();
    std::thread::sleep(Duration::from_millis(1100));
    let srv = Server::start_in(tmp.path());
    let c = srv.client().await;
    let after = ok(c.get_key_last_usage().key_id(&key).send().await);
    assert!(after.key_last_usage().is_none());
    assert!(after.tracking_start_date().unwrap().secs() > start);
    assert!(
        after.key_creation_date().unwrap().secs() < after.tracking_start_date().unwrap().secs()
    );
}
