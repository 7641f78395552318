//! The transient states of multi-Region keys through aws-sdk-kms: a new replica is
//! `Creating` (crypto refused) until it settles by itself, the two keys of an
//! UpdatePrimaryRegion are `Updating` (crypto works, state changes are refused), and a
//! key left in either state by a crash settles after the restart. A long
//! `--multi-region-transition-ms` holds the state for the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::KeyState;
use common::multi_region::*;
use common::*;

/// Long enough that nothing settles during a test.
const HOLD: (&str, &str) = ("TRESOR_MULTI_REGION_TRANSITION_MS", "600000");

#[tokio::test]
async fn a_creating_replica_refuses_crypto_and_is_enabled_after_a_crash_and_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let mut srv = Server::start_with(tmp.path(), &[HOLD]);
    let east = srv.client().await;
    let west = srv.client_in(WEST).await;
    let id = mrk(&east).await;
    let md = ok(east
        .replicate_key()
        .key_id(&id)
        .replica_region(WEST)
        .send()
        .await)
    .replica_key_metadata
    .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::Creating));
    assert!(!md.enabled());
    let arn = key_arn(WEST, &id);
    let creating = format!("{arn} is creating.");
    let e = assert_code(
        west.encrypt()
            .key_id(&id)
            .plaintext(blob(b"x"))
            .send()
            .await,
        "KMSInvalidStateException",
    );
    assert_eq!(e.message.as_deref(), Some(creating.as_str()));
    // A ciphertext of the primary does not decrypt under the Creating replica either.
    let ct = encrypt(&east, &id, b"made before").await;
    assert_code(
        west.decrypt().ciphertext_blob(blob(&ct)).send().await,
        "KMSInvalidStateException",
    );
    let refused = [
        assert_code(
            west.enable_key().key_id(&id).send().await,
            "KMSInvalidStateException",
        ),
        assert_code(
            west.disable_key().key_id(&id).send().await,
            "KMSInvalidStateException",
        ),
    ];
    for e in refused {
        assert_eq!(e.message.as_deref(), Some(creating.as_str()));
    }
    assert_code(
        east.update_primary_region()
            .key_id(&id)
            .primary_region(WEST)
            .send()
            .await,
        "KMSInvalidStateException",
    );
    // Management the state table allows while Creating.
    ok(west
        .update_key_description()
        .key_id(&id)
        .description("still creating")
        .send()
        .await);
    // Still Creating a while later: only the delay ends it.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        describe_key_metadata(&west, &id).await.key_state(),
        Some(&KeyState::Creating)
    );

    // A crash leaves it Creating in the store; the next start settles it.
    srv.stop();
    let srv = Server::start_with(tmp.path(), &[("TRESOR_MULTI_REGION_TRANSITION_MS", "0")]);
    let west = srv.client_in(WEST).await;
    let md = settled(&west, &id).await;
    assert_eq!(md.key_state(), Some(&KeyState::Enabled));
    assert_eq!(md.description(), Some("still creating"));
    assert_eq!(decrypt(&west, &ct).await, b"made before");
}

#[tokio::test]
async fn update_primary_region_shows_updating_while_crypto_keeps_working() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = Server::start_with(tmp.path(), &[("TRESOR_MULTI_REGION_TRANSITION_MS", "0")]);
    let east = srv.client().await;
    let id = mrk(&east).await;
    replicate(&east, &id, WEST).await;
    drop(srv);

    let mut srv = Server::start_with(tmp.path(), &[HOLD]);
    let east = srv.client().await;
    let west = srv.client_in(WEST).await;
    ok(east
        .update_primary_region()
        .key_id(&id)
        .primary_region(WEST)
        .send()
        .await);
    for c in [&east, &west] {
        let md = describe_key_metadata(c, &id).await;
        assert_eq!(md.key_state(), Some(&KeyState::Updating));
        let cfg = md.multi_region_configuration().unwrap();
        assert_eq!(cfg.primary_key().unwrap().region(), Some(WEST));
    }
    // Crypto keeps working in both Regions.
    let ct = encrypt(&east, &id, b"while updating").await;
    assert_eq!(decrypt(&west, &ct).await, b"while updating");
    let back = encrypt(&west, &id, b"and back").await;
    assert_eq!(decrypt(&east, &back).await, b"and back");
    // State changes are refused, with AWS's message.
    for (c, region) in [(&east, REGION), (&west, WEST)] {
        let updating = format!("{} is updating.", key_arn(region, &id));
        let refused = [
            assert_code(
                c.enable_key().key_id(&id).send().await,
                "KMSInvalidStateException",
            ),
            assert_code(
                c.disable_key().key_id(&id).send().await,
                "KMSInvalidStateException",
            ),
            assert_code(
                c.schedule_key_deletion()
                    .key_id(&id)
                    .pending_window_in_days(7)
                    .send()
                    .await,
                "KMSInvalidStateException",
            ),
        ];
        for e in refused {
            assert_eq!(e.message.as_deref(), Some(updating.as_str()));
        }
    }
    let e = assert_code(
        west.replicate_key()
            .key_id(&id)
            .replica_region("ap-south-1")
            .send()
            .await,
        "KMSInvalidStateException",
    );
    assert_eq!(
        e.message.as_deref(),
        Some(format!("{} is updating.", key_arn(WEST, &id)).as_str())
    );
    // Nor may the primary move again meanwhile.
    assert_code(
        west.update_primary_region()
            .key_id(&id)
            .primary_region(REGION)
            .send()
            .await,
        "KMSInvalidStateException",
    );

    // Left Updating by a crash: both are Enabled again after the restart.
    srv.stop();
    let srv = Server::start_with(tmp.path(), &[("TRESOR_MULTI_REGION_TRANSITION_MS", "0")]);
    for region in [REGION, WEST] {
        let c = srv.client_in(region).await;
        assert_eq!(settled(&c, &id).await.key_state(), Some(&KeyState::Enabled));
    }
    // And with a short delay the states settle by themselves, with no restart.
    let west = srv.client_in(WEST).await;
    ok(west
        .update_primary_region()
        .key_id(&id)
        .primary_region(REGION)
        .send()
        .await);
    for region in [REGION, WEST] {
        let c = srv.client_in(region).await;
        let md = settled(&c, &id).await;
        assert_eq!(md.key_state(), Some(&KeyState::Enabled));
        assert_eq!(
            md.multi_region_configuration()
                .unwrap()
                .primary_key()
                .unwrap()
                .region(),
            Some(REGION)
        );
    }
}
