//! Request quotas: a configured per-account rate is enforced with ThrottlingException,
//! per class, and admits requests again once the bucket refills.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;

#[tokio::test]
async fn throttling_kicks_in_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start_with(
        dir.path(),
        &[("TRESOR_QUOTA", "symmetric=10,DescribeKey=3")],
    );
    let c = srv.client().await;
    let key = create_key(&c).await;

    let (mut admitted, mut throttled) = (0, 0);
    for _ in 0..100 {
        match c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await {
            Ok(_) => admitted += 1,
            Err(e) => {
                assert_eq!(expect_err::<(), _>(Err(e)).code, "ThrottlingException");
                throttled += 1;
            }
        }
    }
    assert!(
        admitted >= 10,
        "the burst of one second's worth is admitted ({admitted})"
    );
    assert!(throttled > 0, "100 back-to-back requests exceed 10/s");

    // DescribeKey has its own bucket, unaffected by the symmetric one.
    for _ in 0..3 {
        ok(c.describe_key().key_id(&key).send().await);
    }
    let mut describe_throttled = false;
    for _ in 0..20 {
        if c.describe_key().key_id(&key).send().await.is_err() {
            describe_throttled = true;
            break;
        }
    }
    assert!(describe_throttled, "DescribeKey is limited to 3/s");

    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    ok(c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await);
    ok(c.describe_key().key_id(&key).send().await);
}
