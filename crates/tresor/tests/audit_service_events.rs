//! Things the service does by itself (scheduled deletion, automatic rotation) are audited
//! as CloudTrail service events.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;

#[tokio::test]
async fn scheduled_deletion_and_rotation_are_service_events() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = create_key(&c).await;
    ok(c.enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(90)
        .send()
        .await);
    srv.advance_clock(91 * 86_400);
    ok(c.schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await);
    srv.advance_clock(8 * 86_400);
    let all = records(&audit_dir(&srv));
    let arn = key_arn(REGION, &key);
    for event in ["RotateKey", "DeleteKey"] {
        let r = all
            .iter()
            .find(|r| r["eventName"] == event)
            .unwrap_or_else(|| panic!("no {event} record among {} records", all.len()));
        assert_eq!(r["eventType"], "AwsServiceEvent", "{r}");
        assert_eq!(r["userIdentity"]["invokedBy"], "AWS Internal", "{r}");
        assert_eq!(r["userIdentity"]["accountId"], ACCOUNT, "{r}");
        assert!(r["userIdentity"].get("arn").is_none(), "{r}");
        assert_eq!(r["resources"][0]["ARN"], arn.as_str(), "{r}");
        assert_eq!(r["readOnly"], false);
        assert_eq!(r["sourceIPAddress"], "AWS Internal");
    }
    assert!(
        verify(&audit_dir(&srv)).0,
        "the log with service events verifies"
    );
}
