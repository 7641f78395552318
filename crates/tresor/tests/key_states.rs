//! Key lifecycle: ScheduleKeyDeletion / CancelKeyDeletion, deletion through the test clock, and the
//! key-state table for Disabled and PendingDeletion keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::{DataKeySpec, KeyState, Tag};
use common::*;

const DAY: f64 = 86_400.0;

#[tokio::test]
async fn schedule_key_deletion_default_window_is_30_days() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let created = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap()
        .creation_date()
        .unwrap()
        .as_secs_f64();
    let out = ok(c.schedule_key_deletion().key_id(&id).send().await);
    assert_eq!(
        out.key_id(),
        Some(key_arn(REGION, &id).as_str()),
        "KeyId must be the key ARN"
    );
    assert_eq!(out.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(out.pending_window_in_days(), Some(30));
    let del = out.deletion_date().expect("DeletionDate").as_secs_f64();
    assert!(
        (del - (created + 30.0 * DAY)).abs() < 3600.0,
        "DeletionDate {del} should be ~30 days after creation {created}"
    );

    let m = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::PendingDeletion));
    assert!(!m.enabled(), "a key pending deletion is not Enabled");
    let ddel = m
        .deletion_date()
        .expect("DescribeKey shows DeletionDate")
        .as_secs_f64();
    assert!(
        (ddel - del).abs() < 1.0,
        "DescribeKey DeletionDate {ddel} != {del}"
    );
}

#[tokio::test]
async fn schedule_key_deletion_window_bounds() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    for bad in [0, 1, 6, 31, 365] {
        assert_code(
            c.schedule_key_deletion()
                .key_id(&id)
                .pending_window_in_days(bad)
                .send()
                .await,
            "ValidationException",
        );
    }
    // Still Enabled after the rejected calls.
    let m = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));

    let out = ok(c
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await);
    assert_eq!(out.pending_window_in_days(), Some(7));
    let k30 = create_key(&c).await;
    let out30 = ok(c
        .schedule_key_deletion()
        .key_id(&k30)
        .pending_window_in_days(30)
        .send()
        .await);
    assert_eq!(out30.pending_window_in_days(), Some(30));
    let d7 = out.deletion_date().unwrap().as_secs_f64();
    let d30 = out30.deletion_date().unwrap().as_secs_f64();
    assert!(
        ((d30 - d7) - 23.0 * DAY).abs() < 3600.0,
        "7 vs 30 day windows differ by 23 days"
    );
}

#[tokio::test]
async fn cancel_key_deletion_leaves_key_disabled() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    ok(c.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await);
    let out = ok(c.cancel_key_deletion().key_id(&id).send().await);
    assert_eq!(out.key_id(), Some(key_arn(REGION, &id).as_str()));
    let m = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::Disabled));
    assert!(!m.enabled());
    assert!(m.deletion_date().is_none(), "DeletionDate must be cleared");
    assert_code(
        c.encrypt().key_id(&id).plaintext(blob(b"x")).send().await,
        "DisabledException",
    );
    ok(c.enable_key().key_id(&id).send().await);
    ok(c.encrypt().key_id(&id).plaintext(blob(b"x")).send().await);
    // The cancelled deletion must not fire later.
    srv.advance_clock(8 * 86_400);
    let m = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
}

#[tokio::test]
async fn cancel_key_deletion_requires_pending_deletion() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    assert_code(
        c.cancel_key_deletion().key_id(&id).send().await,
        "KMSInvalidStateException",
    );
    ok(c.disable_key().key_id(&id).send().await);
    assert_code(
        c.cancel_key_deletion().key_id(&id).send().await,
        "KMSInvalidStateException",
    );
}

#[tokio::test]
async fn disabled_key_state_table() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let other = create_key(&c).await;
    let ct = ok(c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"before"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap();
    let ct_other = ok(c
        .encrypt()
        .key_id(&other)
        .plaintext(blob(b"other"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap();
    ok(c.disable_key().key_id(&id).send().await);
    let arn = key_arn(REGION, &id);
    let msg = format!("{arn} is disabled.");

    let e = assert_code(
        c.encrypt().key_id(&id).plaintext(blob(b"x")).send().await,
        "DisabledException",
    );
    assert_eq!(e.message.as_deref(), Some(msg.as_str()));
    let e = assert_code(
        c.decrypt().ciphertext_blob(ct.clone()).send().await,
        "DisabledException",
    );
    assert_eq!(e.message.as_deref(), Some(msg.as_str()));
    assert_code(
        c.generate_data_key()
            .key_id(&id)
            .key_spec(DataKeySpec::Aes256)
            .send()
            .await,
        "DisabledException",
    );
    assert_code(
        c.generate_data_key_without_plaintext()
            .key_id(&id)
            .number_of_bytes(32)
            .send()
            .await,
        "DisabledException",
    );
    // ReEncrypt from a disabled source and to a disabled destination.
    assert_code(
        c.re_encrypt()
            .ciphertext_blob(ct.clone())
            .destination_key_id(&other)
            .send()
            .await,
        "DisabledException",
    );
    assert_code(
        c.re_encrypt()
            .ciphertext_blob(ct_other)
            .destination_key_id(&id)
            .send()
            .await,
        "DisabledException",
    );

    // Management operations remain allowed.
    ok(c.describe_key().key_id(&id).send().await);
    ok(c.create_alias()
        .alias_name("alias/disabled-ok")
        .target_key_id(&id)
        .send()
        .await);
    ok(c.tag_resource()
        .key_id(&id)
        .tags(Tag::builder().tag_key("a").tag_value("b").build().unwrap())
        .send()
        .await);
    ok(c.untag_resource().key_id(&id).tag_keys("a").send().await);
    ok(c.list_resource_tags().key_id(&id).send().await);
    ok(c.delete_alias()
        .alias_name("alias/disabled-ok")
        .send()
        .await);

    // Re-enabled: the old ciphertext decrypts again.
    ok(c.enable_key().key_id(&id).send().await);
    let d = ok(c.decrypt().ciphertext_blob(ct).send().await);
    assert_eq!(d.plaintext().unwrap().as_ref(), b"before");
}

#[tokio::test]
async fn pending_deletion_key_state_table() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let other = create_key(&c).await;
    ok(c.create_alias()
        .alias_name("alias/doomed")
        .target_key_id(&id)
        .send()
        .await);
    ok(c.create_alias()
        .alias_name("alias/elsewhere")
        .target_key_id(&other)
        .send()
        .await);
    let ct = ok(c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"soon gone"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap();
    ok(c.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await);
    let arn = key_arn(REGION, &id);
    let msg = format!("{arn} is pending deletion.");
    const I: &str = "KMSInvalidStateException";

    let e = assert_code(
        c.encrypt().key_id(&id).plaintext(blob(b"x")).send().await,
        I,
    );
    assert_eq!(e.message.as_deref(), Some(msg.as_str()));
    let e = assert_code(c.decrypt().ciphertext_blob(ct.clone()).send().await, I);
    assert_eq!(e.message.as_deref(), Some(msg.as_str()));
    assert_code(
        c.generate_data_key()
            .key_id(&id)
            .number_of_bytes(32)
            .send()
            .await,
        I,
    );
    assert_code(
        c.generate_data_key_without_plaintext()
            .key_id(&id)
            .key_spec(DataKeySpec::Aes128)
            .send()
            .await,
        I,
    );
    assert_code(
        c.re_encrypt()
            .ciphertext_blob(ct.clone())
            .destination_key_id(&other)
            .send()
            .await,
        I,
    );
    assert_code(
        c.create_alias()
            .alias_name("alias/new-one")
            .target_key_id(&id)
            .send()
            .await,
        I,
    );
    assert_code(
        c.tag_resource()
            .key_id(&id)
            .tags(Tag::builder().tag_key("a").tag_value("b").build().unwrap())
            .send()
            .await,
        I,
    );
    assert_code(c.untag_resource().key_id(&id).tag_keys("a").send().await, I);
    assert_code(
        c.update_key_description()
            .key_id(&id)
            .description("x")
            .send()
            .await,
        I,
    );
    assert_code(c.enable_key().key_id(&id).send().await, I);
    assert_code(c.disable_key().key_id(&id).send().await, I);
    assert_code(c.schedule_key_deletion().key_id(&id).send().await, I);
    // UpdateAlias onto a key pending deletion.
    assert_code(
        c.update_alias()
            .alias_name("alias/elsewhere")
            .target_key_id(&id)
            .send()
            .await,
        I,
    );

    // Still allowed: DescribeKey, List*, DeleteAlias.
    let m = ok(c.describe_key().key_id("alias/doomed").send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::PendingDeletion));
    ok(c.list_resource_tags().key_id(&id).send().await);
    let aliases = ok(c.list_aliases().key_id(&id).send().await);
    assert_eq!(aliases.aliases().len(), 1);
    let listed = ok(c.list_keys().send().await);
    assert!(listed
        .keys()
        .iter()
        .any(|k| k.key_id() == Some(id.as_str())));
    ok(c.delete_alias().alias_name("alias/doomed").send().await);
}

#[tokio::test]
async fn deletion_completes_after_the_window_via_test_clock() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let keep = create_key(&c).await;
    ok(c.create_alias()
        .alias_name("alias/gone-soon")
        .target_key_id(&id)
        .send()
        .await);
    ok(c.create_alias()
        .alias_name("alias/gone-too")
        .target_key_id(&id)
        .send()
        .await);
    ok(c.create_alias()
        .alias_name("alias/stays")
        .target_key_id(&keep)
        .send()
        .await);
    let ct = ok(c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"ephemeral"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap();
    let keep_ct = ok(c
        .encrypt()
        .key_id(&keep)
        .plaintext(blob(b"durable"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap();
    ok(c.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await);

    // Six days later the key still exists, pending deletion.
    let t0 = srv.advance_clock(0);
    let t1 = srv.advance_clock(6 * 86_400);
    assert!(
        (t1 - t0 - 6.0 * DAY).abs() < 60.0,
        "advance-clock Now moved by {}",
        t1 - t0
    );
    let m = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::PendingDeletion));
    ok(c.describe_key().key_id("alias/gone-soon").send().await);

    // Past the deletion date the key, its aliases and its ciphertexts are gone.
    srv.advance_clock(2 * 86_400);
    assert_code(
        c.describe_key().key_id(&id).send().await,
        "NotFoundException",
    );
    assert_code(
        c.describe_key().key_id(key_arn(REGION, &id)).send().await,
        "NotFoundException",
    );
    assert_code(
        c.describe_key().key_id("alias/gone-soon").send().await,
        "NotFoundException",
    );
    let aliases = ok(c.list_aliases().send().await);
    let names: Vec<&str> = aliases
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    assert!(
        !names.contains(&"alias/gone-soon") && !names.contains(&"alias/gone-too"),
        "{names:?}"
    );
    assert!(names.contains(&"alias/stays"), "{names:?}");
    let keys = ok(c.list_keys().send().await);
    assert!(
        keys.keys().iter().all(|k| k.key_id() != Some(id.as_str())),
        "deleted key still listed"
    );
    let e = expect_err(c.decrypt().ciphertext_blob(ct.clone()).send().await);
    assert!(
        ["NotFoundException", "InvalidCiphertextException"].contains(&e.code.as_str()),
        "decrypt under a deleted key: {e:?}"
    );
    assert_code(
        c.cancel_key_deletion().key_id(&id).send().await,
        "NotFoundException",
    );
    // The alias name is free again.
    ok(c.create_alias()
        .alias_name("alias/gone-soon")
        .target_key_id(&keep)
        .send()
        .await);

    // The other key is untouched.
    let d = ok(c.decrypt().ciphertext_blob(keep_ct).send().await);
    assert_eq!(d.plaintext().unwrap().as_ref(), b"durable");
}
