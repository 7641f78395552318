//! Multi-Region keys through aws-sdk-kms, their lifecycle: rotation of the primary reaching
//! every replica, UpdatePrimaryRegion, deletion of a primary that has replicas, and
//! imported material in a replica — with the attacks next to each use.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::{
    AlgorithmSpec, KeyState, MultiRegionKeyType, OriginType, WrappingKeySpec,
};
use aws_sdk_kms::Client;
use common::multi_region::*;
use common::*;

#[tokio::test]
async fn rotation_of_the_primary_reaches_every_replica_and_is_refused_on_replicas() {
    let srv = Server::start();
    let east = srv.client().await;
    let west = srv.client_in(WEST).await;
    let id = mrk(&east).await;
    replicate(&east, &id, WEST).await;
    let old = encrypt(&west, &id, b"before rotation").await;
    ok(east.rotate_key_on_demand().key_id(&id).send().await);
    let east_current = describe_key_metadata(&east, &id)
        .await
        .current_key_material_id;
    assert_eq!(
        east_current,
        describe_key_metadata(&west, &id)
            .await
            .current_key_material_id
    );
    let rotations = ok(west.list_key_rotations().key_id(&id).send().await);
    assert_eq!(rotations.rotations().len(), 1);
    assert_eq!(
        rotations.rotations()[0].key_material_id(),
        east_current.as_deref()
    );
    let new = encrypt(&west, &id, b"after rotation").await;
    assert_eq!(decrypt(&east, &new).await, b"after rotation");
    assert_eq!(decrypt(&east, &old).await, b"before rotation");
    assert_eq!(decrypt(&west, &old).await, b"before rotation");

    // A replica made after the rotation has every version.
    let south = srv.client_in("ap-south-1").await;
    replicate(&east, &id, "ap-south-1").await;
    assert_eq!(decrypt(&south, &old).await, b"before rotation");
    assert_eq!(decrypt(&south, &new).await, b"after rotation");

    // Rotation is managed on the primary only.
    assert_code(
        west.enable_key_rotation().key_id(&id).send().await,
        "UnsupportedOperationException",
    );
    assert_code(
        west.disable_key_rotation().key_id(&id).send().await,
        "UnsupportedOperationException",
    );
    assert_code(
        west.rotate_key_on_demand().key_id(&id).send().await,
        "UnsupportedOperationException",
    );
    ok(east
        .enable_key_rotation()
        .key_id(&id)
        .rotation_period_in_days(90)
        .send()
        .await);
    let status = ok(west.get_key_rotation_status().key_id(&id).send().await);
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(90));
    // The automatic rotation of the primary reaches the replicas too.
    srv.advance_clock(91 * DAY);
    let east_current = describe_key_metadata(&east, &id)
        .await
        .current_key_material_id;
    assert_eq!(
        east_current,
        describe_key_metadata(&west, &id)
            .await
            .current_key_material_id
    );
    assert_eq!(
        east_current,
        describe_key_metadata(&south, &id)
            .await
            .current_key_material_id
    );
    assert_eq!(
        ok(south.list_key_rotations().key_id(&id).send().await)
            .rotations()
            .len(),
        2
    );
    let latest = encrypt(&south, &id, b"latest").await;
    assert_eq!(decrypt(&west, &latest).await, b"latest");
}

#[tokio::test]
async fn update_primary_region_swaps_the_roles() {
    let srv = Server::start();
    let east = srv.client().await;
    let west = srv.client_in(WEST).await;
    let id = mrk(&east).await;
    replicate(&east, &id, WEST).await;
    let ct = encrypt(&east, &id, b"kept").await;
    // Refusals first: no replica in that Region, a replica is not the primary.
    assert_code(
        east.update_primary_region()
            .key_id(&id)
            .primary_region("ap-south-1")
            .send()
            .await,
        "NotFoundException",
    );
    assert_code(
        west.update_primary_region()
            .key_id(&id)
            .primary_region(REGION)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    ok(west.disable_key().key_id(&id).send().await);
    assert_code(
        east.update_primary_region()
            .key_id(&id)
            .primary_region(WEST)
            .send()
            .await,
        "DisabledException",
    );
    ok(west.enable_key().key_id(&id).send().await);

    ok(east
        .update_primary_region()
        .key_id(&id)
        .primary_region(WEST)
        .send()
        .await);
    for (c, kind) in [
        (&east, MultiRegionKeyType::Replica),
        (&west, MultiRegionKeyType::Primary),
    ] {
        let cfg = describe_key_metadata(c, &id)
            .await
            .multi_region_configuration
            .unwrap();
        assert_eq!(cfg.multi_region_key_type(), Some(&kind));
        assert_eq!(cfg.primary_key().unwrap().region(), Some(WEST));
        let replicas: Vec<_> = cfg
            .replica_keys()
            .iter()
            .map(|r| r.region().unwrap().to_string())
            .collect();
        assert_eq!(replicas, vec![REGION.to_string()]);
    }
    assert_eq!(decrypt(&west, &ct).await, b"kept");
    assert_eq!(decrypt(&east, &ct).await, b"kept");
    // The old primary is now a replica; the new one replicates and rotates.
    assert_code(
        east.replicate_key()
            .key_id(&id)
            .replica_region("ap-south-1")
            .send()
            .await,
        "UnsupportedOperationException",
    );
    assert_code(
        east.rotate_key_on_demand().key_id(&id).send().await,
        "UnsupportedOperationException",
    );
    settled(&west, &id).await;
    replicate(&west, &id, "ap-south-1").await;
    ok(west.rotate_key_on_demand().key_id(&id).send().await);
    assert_eq!(
        describe_key_metadata(&east, &id)
            .await
            .current_key_material_id,
        describe_key_metadata(&west, &id)
            .await
            .current_key_material_id
    );
}

#[tokio::test]
async fn a_primary_with_replicas_waits_in_pending_replica_deletion() {
    let srv = Server::start();
    let east = srv.client().await;
    let west = srv.client_in(WEST).await;
    let id = mrk(&east).await;
    replicate(&east, &id, WEST).await;
    let out = ok(east
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await);
    assert_eq!(out.key_state(), Some(&KeyState::PendingReplicaDeletion));
    assert!(out.deletion_date().is_none());
    assert_eq!(out.pending_window_in_days(), Some(7));
    let md = describe_key_metadata(&east, &id).await;
    assert_eq!(md.key_state(), Some(&KeyState::PendingReplicaDeletion));
    assert!(md.deletion_date().is_none());
    assert_code(
        east.encrypt()
            .key_id(&id)
            .plaintext(blob(b"x"))
            .send()
            .await,
        "KMSInvalidStateException",
    );
    // The replica keeps working and is deleted on its own schedule.
    let ct = encrypt(&west, &id, b"still here").await;
    ok(west
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await);
    srv.advance_clock(3 * DAY);
    assert_eq!(
        describe_key_metadata(&east, &id).await.key_state(),
        Some(&KeyState::PendingReplicaDeletion)
    );
    let now = srv.advance_clock(5 * DAY);
    assert_code(
        west.describe_key().key_id(&id).send().await,
        "NotFoundException",
    );
    // The last replica is gone: the primary's countdown starts now, with its window.
    let md = describe_key_metadata(&east, &id).await;
    assert_eq!(md.key_state(), Some(&KeyState::PendingDeletion));
    let left = md.deletion_date().unwrap().as_secs_f64() - now;
    assert!((left - 7.0 * DAY as f64).abs() < 120.0, "{left}");
    assert!(md
        .multi_region_configuration()
        .unwrap()
        .replica_keys()
        .is_empty());
    // CancelKeyDeletion still rescues it (Disabled), and it decrypts the replica's data.
    ok(east.cancel_key_deletion().key_id(&id).send().await);
    ok(east.enable_key().key_id(&id).send().await);
    assert_eq!(decrypt(&east, &ct).await, b"still here");

    // Cancelling from PendingReplicaDeletion gives Disabled too.
    let id2 = mrk(&east).await;
    replicate(&east, &id2, WEST).await;
    ok(east.schedule_key_deletion().key_id(&id2).send().await);
    ok(east.cancel_key_deletion().key_id(&id2).send().await);
    assert_eq!(
        describe_key_metadata(&east, &id2).await.key_state(),
        Some(&KeyState::Disabled)
    );
}

struct Params {
    token: Vec<u8>,
    public: rsa::RsaPublicKey,
}

async fn params(c: &Client, key: &str) -> Params {
    use rsa::pkcs8::DecodePublicKey;
    let out = ok(c
        .get_parameters_for_import()
        .key_id(key)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await);
    Params {
        token: out.import_token.unwrap().into_inner(),
        public: rsa::RsaPublicKey::from_public_key_der(out.public_key.unwrap().as_ref()).unwrap(),
    }
}

async fn import(c: &Client, key: &str, material: &[u8]) -> Result<(), String> {
    let p = params(c, key).await;
    let wrapped = p
        .public
        .encrypt(
            &mut rand_core::OsRng,
            rsa::Oaep::new::<sha2::Sha256>(),
            material,
        )
        .unwrap();
    c.import_key_material()
        .key_id(key)
        .import_token(blob(&p.token))
        .encrypted_key_material(blob(&wrapped))
        .expiration_model(aws_sdk_kms::types::ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| expect_err::<(), _>(Err(e)).code)
}

#[tokio::test]
async fn an_imported_replica_accepts_only_the_primary_material() {
    let srv = Server::start();
    let east = srv.client().await;
    let west = srv.client_in(WEST).await;
    let id = ok(east
        .create_key()
        .multi_region(true)
        .origin(OriginType::External)
        .send()
        .await)
    .key_metadata
    .unwrap()
    .key_id()
    .to_string();
    // No material yet: nothing a replica could be held to.
    assert_code(
        east.replicate_key()
            .key_id(&id)
            .replica_region(WEST)
            .send()
            .await,
        "KMSInvalidStateException",
    );
    let material = pattern(32, 7);
    import(&east, &id, &material).await.unwrap();
    let md = replicate(&east, &id, WEST).await;
    assert_eq!(md.key_state(), Some(&KeyState::PendingImport));
    assert_eq!(md.origin(), Some(&OriginType::External));
    assert_code(
        west.encrypt()
            .key_id(&id)
            .plaintext(blob(b"x"))
            .send()
            .await,
        "KMSInvalidStateException",
    );
    // Attack: other material into the replica.
    assert_eq!(
        import(&west, &id, &pattern(32, 9)).await,
        Err("IncorrectKeyMaterialException".to_string())
    );
    import(&west, &id, &material).await.unwrap();
    assert_eq!(
        describe_key_metadata(&west, &id).await.key_state(),
        Some(&KeyState::Enabled)
    );
    let ct = encrypt(&east, &id, b"imported").await;
    assert_eq!(decrypt(&west, &ct).await, b"imported");
    let back = encrypt(&west, &id, b"and back").await;
    assert_eq!(decrypt(&east, &back).await, b"and back");
}
