//! Automatic and on-demand rotation through the real server and the test clock: old
//! ciphertexts keep decrypting after one, two and many rotations; ListKeyRotations
//! records each; the documented error cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::{IncludeKeyMaterial, RotationType};
use common::*;

const DAY: u64 = 86_400;

async fn encrypt(c: &aws_sdk_kms::Client, key: &str, pt: &[u8]) -> Vec<u8> {
    ok(c.encrypt().key_id(key).plaintext(blob(pt)).send().await)
        .ciphertext_blob
        .unwrap()
        .into_inner()
}

async fn decrypt(c: &aws_sdk_kms::Client, ct: &[u8]) -> Vec<u8> {
    ok(c.decrypt().ciphertext_blob(blob(ct)).send().await)
        .plaintext
        .unwrap()
        .into_inner()
}

async fn current_material(c: &aws_sdk_kms::Client, key: &str) -> String {
    describe_key_metadata(c, key)
        .await
        .current_key_material_id
        .expect("CurrentKeyMaterialId")
}

#[tokio::test]
async fn automatic_rotation_keeps_old_ciphertexts_decrypting() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = create_key(&c).await;
    let status = ok(c.get_key_rotation_status().key_id(&key).send().await);
    assert!(!status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), None);

    ok(c.enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(90)
        .send()
        .await);
    let status = ok(c.get_key_rotation_status().key_id(&key).send().await);
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(90));
    let next = status
        .next_rotation_date()
        .expect("NextRotationDate")
        .as_secs_f64();
    assert!(
        (next - (now_epoch() + 90.0 * DAY as f64)).abs() < 3600.0,
        "next rotation ~90 days out"
    );

    let mut ciphertexts = vec![(
        b"before any rotation".to_vec(),
        encrypt(&c, &key, b"before any rotation").await,
    )];
    let mut materials = vec![current_material(&c, &key).await];
    srv.advance_clock(89 * DAY);
    assert_eq!(
        current_material(&c, &key).await,
        materials[0],
        "not due yet: no rotation"
    );
    for round in 1..=5u8 {
        srv.advance_clock(91 * DAY);
        let m = current_material(&c, &key).await;
        assert!(
            !materials.contains(&m),
            "round {round}: a new material becomes current"
        );
        materials.push(m);
        let pt = format!("after rotation {round}").into_bytes();
        ciphertexts.push((pt.clone(), encrypt(&c, &key, &pt).await));
    }
    for (pt, ct) in &ciphertexts {
        assert_eq!(&decrypt(&c, ct).await, pt, "every version keeps decrypting");
    }
    let rotations = ok(c.list_key_rotations().key_id(&key).send().await);
    let list = rotations.rotations();
    assert_eq!(list.len(), 5, "one entry per rotation: {list:?}");
    assert!(list
        .iter()
        .all(|r| r.rotation_type() == Some(&RotationType::Automatic)));
    assert_eq!(
        list.last().unwrap().key_material_id(),
        materials.last().map(String::as_str)
    );
    let all = ok(c
        .list_key_rotations()
        .key_id(&key)
        .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
        .send()
        .await);
    assert_eq!(
        all.rotations().len(),
        6,
        "ALL_KEY_MATERIAL includes the original material"
    );
}

#[tokio::test]
async fn on_demand_rotation_and_paging() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = create_key(&c).await;
    let first = encrypt(&c, &key, b"v1").await;
    let out = ok(c.rotate_key_on_demand().key_id(&key).send().await);
    assert_eq!(out.key_id(), Some(key_arn(REGION, &key).as_str()));
    let second = encrypt(&c, &key, b"v2").await;
    ok(c.rotate_key_on_demand().key_id(&key).send().await);
    ok(c.rotate_key_on_demand().key_id(&key).send().await);
    assert_eq!(decrypt(&c, &first).await, b"v1");
    assert_eq!(decrypt(&c, &second).await, b"v2");
    // On-demand rotation leaves automatic rotation off.
    assert!(!ok(c.get_key_rotation_status().key_id(&key).send().await).key_rotation_enabled());

    let page1 = ok(c.list_key_rotations().key_id(&key).limit(2).send().await);
    assert_eq!(page1.rotations().len(), 2);
    assert!(page1.truncated());
    let page2 = ok(c
        .list_key_rotations()
        .key_id(&key)
        .limit(2)
        .marker(page1.next_marker().unwrap())
        .send()
        .await);
    assert_eq!(page2.rotations().len(), 1);
    assert!(!page2.truncated());
    assert!(page1
        .rotations()
        .iter()
        .chain(page2.rotations())
        .all(|r| r.rotation_type() == Some(&RotationType::OnDemand)));
}

#[tokio::test]
async fn on_demand_rotation_lifetime_quota() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = create_key(&c).await;
    for _ in 0..25 {
        ok(c.rotate_key_on_demand().key_id(&key).send().await);
    }
    assert_code(
        c.rotate_key_on_demand().key_id(&key).send().await,
        "LimitExceededException",
    );
}

#[tokio::test]
async fn on_demand_rotation_conflicts_with_imminent_automatic_rotation() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = create_key(&c).await;
    ok(c.enable_key_rotation()
        .key_id(&key)
        .rotation_period_in_days(90)
        .send()
        .await);
    // The scheduler only runs when the clock is advanced; stop 10 minutes short of due.
    srv.advance_clock(90 * DAY - 600);
    assert_code(
        c.rotate_key_on_demand().key_id(&key).send().await,
        "ConflictException",
    );
}

#[tokio::test]
async fn rotation_errors_and_key_states() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = create_key(&c).await;
    assert_code(
        c.enable_key_rotation()
            .key_id(&key)
            .rotation_period_in_days(89)
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.enable_key_rotation()
            .key_id(&key)
            .rotation_period_in_days(2561)
            .send()
            .await,
        "ValidationException",
    );
    ok(c.enable_key_rotation().key_id(&key).send().await);
    assert_eq!(
        ok(c.get_key_rotation_status().key_id(&key).send().await).rotation_period_in_days(),
        Some(365),
        "default period"
    );
    ok(c.disable_key().key_id(&key).send().await);
    assert_code(
        c.enable_key_rotation().key_id(&key).send().await,
        "DisabledException",
    );
    assert_code(
        c.disable_key_rotation().key_id(&key).send().await,
        "DisabledException",
    );
    assert_code(
        c.rotate_key_on_demand().key_id(&key).send().await,
        "DisabledException",
    );
    // A disabled key does not rotate; when re-enabled it rotates at once if due.
    let before = current_material(&c, &key).await;
    srv.advance_clock(366 * DAY);
    assert_eq!(current_material(&c, &key).await, before);
    ok(c.enable_key().key_id(&key).send().await);
    srv.advance_clock(1);
    assert_ne!(
        current_material(&c, &key).await,
        before,
        "due rotation runs after EnableKey"
    );

    ok(c.schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await);
    assert!(
        !ok(c.get_key_rotation_status().key_id(&key).send().await).key_rotation_enabled(),
        "a key pending deletion reads as not rotating"
    );
    assert_code(
        c.enable_key_rotation().key_id(&key).send().await,
        "KMSInvalidStateException",
    );
    assert_code(
        c.rotate_key_on_demand().key_id(&key).send().await,
        "KMSInvalidStateException",
    );
    ok(c.cancel_key_deletion().key_id(&key).send().await);
    ok(c.enable_key().key_id(&key).send().await);
    assert!(
        ok(c.get_key_rotation_status().key_id(&key).send().await).key_rotation_enabled(),
        "CancelKeyDeletion restores the rotation status"
    );
    ok(c.disable_key_rotation().key_id(&key).send().await);
    assert!(!ok(c.get_key_rotation_status().key_id(&key).send().await).key_rotation_enabled());

    let missing = "11111111-2222-3333-4444-555555555555";
    assert_code(
        c.enable_key_rotation().key_id(missing).send().await,
        "NotFoundException",
    );
    assert_code(
        c.list_key_rotations().key_id(&key).limit(0).send().await,
        "ValidationException",
    );
}

#[tokio::test]
async fn rotation_is_for_symmetric_keys_only() {
    let srv = Server::start();
    let c = srv.client().await;
    let hmac = create_key_spec(&c, "HMAC_256", "GENERATE_VERIFY_MAC").await;
    assert_code(
        c.enable_key_rotation().key_id(&hmac).send().await,
        "UnsupportedOperationException",
    );
    assert_code(
        c.rotate_key_on_demand().key_id(&hmac).send().await,
        "UnsupportedOperationException",
    );
    assert_code(
        c.get_key_rotation_status().key_id(&hmac).send().await,
        "UnsupportedOperationException",
    );
}

#[tokio::test]
async fn rotated_material_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let ct;
    let key;
    {
        let srv = Server::start_in(dir.path());
        let c = srv.client().await;
        key = create_key(&c).await;
        ct = encrypt(&c, &key, b"old").await;
        ok(c.rotate_key_on_demand().key_id(&key).send().await);
    }
    let srv = Server::start_in(dir.path());
    let c = srv.client().await;
    assert_eq!(decrypt(&c, &ct).await, b"old");
    let new_ct = encrypt(&c, &key, b"new").await;
    assert_eq!(decrypt(&c, &new_ct).await, b"new");
    assert_eq!(
        ok(c.list_key_rotations().key_id(&key).send().await)
            .rotations()
            .len(),
        1
    );
}
