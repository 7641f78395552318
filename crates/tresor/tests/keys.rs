//! Key management: CreateKey, DescribeKey, ListKeys, Enable/DisableKey, UpdateKeyDescription,
//! identifier resolution, region isolation and request validation.
#![allow(
    deprecated,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;

use aws_sdk_kms::types::{
    CustomerMasterKeySpec, EncryptionAlgorithmSpec, KeyManagerType, KeySpec, KeyState,
    KeyUsageType, OriginType, Tag,
};
use common::*;

#[tokio::test]
async fn create_key_returns_full_symmetric_metadata() {
    let srv = Server::start();
    let c = srv.client().await;
    let before = now_epoch();
    let out = ok(c
        .create_key()
        .description("my first key")
        .key_usage(KeyUsageType::EncryptDecrypt)
        .key_spec(KeySpec::SymmetricDefault)
        .origin(OriginType::AwsKms)
        .send()
        .await);
    let m = out.key_metadata().expect("KeyMetadata");
    let id = m.key_id();
    assert!(is_uuid(id), "KeyId must be a lower-case UUID, got {id:?}");
    assert_eq!(m.aws_account_id(), Some(ACCOUNT));
    assert_eq!(m.arn(), Some(key_arn(REGION, id).as_str()));
    let created = m.creation_date().expect("CreationDate").as_secs_f64();
    // The business clock starts at (about) wall-clock time; allow a generous window.
    assert!(
        (created - before).abs() < 86_400.0,
        "CreationDate {created} is not close to now {before}"
    );
    assert!(m.enabled(), "Enabled must be true");
    assert_eq!(m.description(), Some("my first key"));
    assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert_eq!(m.origin(), Some(&OriginType::AwsKms));
    assert_eq!(m.key_manager(), Some(&KeyManagerType::Customer));
    assert_eq!(
        m.customer_master_key_spec(),
        Some(&CustomerMasterKeySpec::SymmetricDefault)
    );
    assert_eq!(m.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(
        m.encryption_algorithms(),
        &[EncryptionAlgorithmSpec::SymmetricDefault]
    );
    assert_eq!(m.multi_region(), Some(false));
    assert!(m.deletion_date().is_none(), "a new key has no DeletionDate");
    assert!(m.signing_algorithms().is_empty() && m.mac_algorithms().is_empty());
}

#[tokio::test]
async fn create_key_defaults_and_describe_matches() {
    let srv = Server::start();
    let c = srv.client().await;
    let out = ok(c.create_key().send().await);
    let m = out.key_metadata().expect("KeyMetadata").clone();
    // Defaults: SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT / AWS_KMS, Enabled, empty description.
    assert_eq!(m.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(m.origin(), Some(&OriginType::AwsKms));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert_eq!(
        m.description(),
        Some(""),
        "AWS returns an empty Description when none was given"
    );

    let d = ok(c.describe_key().key_id(m.key_id()).send().await);
    let dm = d.key_metadata().expect("KeyMetadata");
    assert_eq!(dm.key_id(), m.key_id());
    assert_eq!(dm.arn(), m.arn());
    assert_eq!(dm.creation_date(), m.creation_date());
    assert_eq!(dm.key_state(), m.key_state());
    assert_eq!(dm.encryption_algorithms(), m.encryption_algorithms());
    assert_eq!(dm.key_manager(), Some(&KeyManagerType::Customer));
    assert_eq!(dm.multi_region(), Some(false));
}

#[tokio::test]
async fn create_key_with_tags_lists_them() {
    let srv = Server::start();
    let c = srv.client().await;
    let out = ok(c
        .create_key()
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("crypto")
                .build()
                .unwrap(),
        )
        .tags(
            Tag::builder()
                .tag_key("empty")
                .tag_value("")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    let id = out.key_metadata().unwrap().key_id().to_string();
    let tags = ok(c.list_resource_tags().key_id(&id).send().await);
    let mut got: Vec<(String, String)> = tags
        .tags()
        .iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("empty".to_string(), String::new()),
            ("team".to_string(), "crypto".to_string())
        ]
    );
}

#[tokio::test]
async fn describe_key_by_every_identifier_form() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    ok(c.create_alias()
        .alias_name("alias/by-name")
        .target_key_id(&id)
        .send()
        .await);
    let arn = key_arn(REGION, &id);
    for ident in [
        id.clone(),
        arn.clone(),
        "alias/by-name".to_string(),
        alias_arn(REGION, "alias/by-name"),
    ] {
        let d = ok(c.describe_key().key_id(&ident).send().await);
        let m = d.key_metadata().expect("KeyMetadata");
        assert_eq!(
            m.key_id(),
            id,
            "DescribeKey({ident}) resolved the wrong key"
        );
        assert_eq!(m.arn(), Some(arn.as_str()));
    }
}

#[tokio::test]
async fn describe_unknown_key_is_not_found_with_aws_message() {
    let srv = Server::start();
    let c = srv.client().await;
    let missing = "8f3b7c1e-0d2a-4b5c-9e6f-112233445566";
    let e = assert_code(
        c.describe_key().key_id(missing).send().await,
        "NotFoundException",
    );
    assert_eq!(
        e.message.as_deref(),
        Some(format!("Key '{}' does not exist", key_arn(REGION, missing)).as_str())
    );
    let e = assert_code(
        c.describe_key()
            .key_id(key_arn(REGION, missing))
            .send()
            .await,
        "NotFoundException",
    );
    assert_eq!(
        e.message.as_deref(),
        Some(format!("Key '{}' does not exist", key_arn(REGION, missing)).as_str())
    );
    // A key id that is not even a UUID: AWS answers NotFoundException ("Invalid keyId ...").
    assert_code(
        c.describe_key().key_id("fake-key-id").send().await,
        "NotFoundException",
    );
    // Unknown alias.
    let e = assert_code(
        c.describe_key().key_id("alias/does-not-exist").send().await,
        "NotFoundException",
    );
    assert_eq!(
        e.message.as_deref(),
        Some(
            format!(
                "Alias {} is not found.",
                alias_arn(REGION, "alias/does-not-exist")
            )
            .as_str()
        )
    );
    // Other mutating operations on an unknown key.
    assert_code(
        c.enable_key().key_id(missing).send().await,
        "NotFoundException",
    );
    assert_code(
        c.disable_key().key_id(missing).send().await,
        "NotFoundException",
    );
    assert_code(
        c.update_key_description()
            .key_id(missing)
            .description("x")
            .send()
            .await,
        "NotFoundException",
    );
    assert_code(
        c.schedule_key_deletion().key_id(missing).send().await,
        "NotFoundException",
    );
    assert_code(
        c.cancel_key_deletion().key_id(missing).send().await,
        "NotFoundException",
    );
}

#[tokio::test]
async fn malformed_arn_and_empty_key_id_are_rejected() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    for bad in [
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:key"),
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:widget/{id}"),
        "arn:aws:kms".to_string(),
        format!("arn:aws:kms:{REGION}:notanaccount:key/{id}"),
    ] {
        let e = assert_code_in(
            c.describe_key().key_id(&bad).send().await,
            &["NotFoundException", "InvalidArnException"],
        );
        assert_eq!(e.status, Some(400), "{bad}: {e:?}");
    }
    // Empty KeyId violates the model constraint (min length 1).
    assert_code(
        c.describe_key().key_id("").send().await,
        "ValidationException",
    );
    assert_code(
        c.encrypt().key_id("").plaintext(blob(b"x")).send().await,
        "ValidationException",
    );
}

#[tokio::test]
async fn key_arn_of_another_region_or_account_does_not_resolve() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    // Same UUID, wrong region in the ARN.
    assert_code(
        c.describe_key()
            .key_id(key_arn("eu-west-1", &id))
            .send()
            .await,
        "NotFoundException",
    );
    // Same UUID, another account in the ARN.
    let foreign = format!("arn:aws:kms:{REGION}:444455556666:key/{id}");
    let e = expect_err(c.describe_key().key_id(&foreign).send().await);
    assert!(
        ["NotFoundException", "AccessDeniedException"].contains(&e.code.as_str()),
        "foreign-account ARN must not resolve to the local key: {e:?}"
    );
}

#[tokio::test]
async fn keys_are_isolated_per_region() {
    let srv = Server::start();
    let east = srv.client().await;
    let west = srv.client_in("eu-west-1").await;
    let id = create_key(&east).await;
    let ct = ok(east
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"region bound"))
        .send()
        .await);
    let ct = ct.ciphertext_blob().unwrap().clone();

    assert_code(
        west.describe_key().key_id(&id).send().await,
        "NotFoundException",
    );
    assert_code(
        west.encrypt()
            .key_id(&id)
            .plaintext(blob(b"x"))
            .send()
            .await,
        "NotFoundException",
    );
    let listed = ok(west.list_keys().send().await);
    assert!(
        listed
            .keys()
            .iter()
            .all(|k| k.key_id() != Some(id.as_str())),
        "eu-west-1 ListKeys must not show a us-east-1 key"
    );
    expect_err(west.decrypt().ciphertext_blob(ct).send().await);

    // A key created in eu-west-1 carries that region in its ARN and is invisible in us-east-1.
    let wid = create_key(&west).await;
    let d = ok(west.describe_key().key_id(&wid).send().await);
    assert_eq!(
        d.key_metadata().unwrap().arn(),
        Some(key_arn("eu-west-1", &wid).as_str())
    );
    assert_code(
        east.describe_key().key_id(&wid).send().await,
        "NotFoundException",
    );
}

#[tokio::test]
async fn list_keys_pages_with_limit_and_marker() {
    let srv = Server::start();
    let c = srv.client().await;
    let mut created = HashSet::new();
    for _ in 0..5 {
        created.insert(create_key(&c).await);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages <= 10, "ListKeys paging does not terminate");
        let mut req = c.list_keys().limit(2);
        if let Some(m) = &marker {
            req = req.marker(m);
        }
        let out = ok(req.send().await);
        assert!(
            out.keys().len() <= 2,
            "Limit 2 returned {} keys",
            out.keys().len()
        );
        for k in out.keys() {
            let kid = k.key_id().expect("KeyListEntry.KeyId").to_string();
            assert_eq!(k.key_arn(), Some(key_arn(REGION, &kid).as_str()));
            seen.push(kid);
        }
        if out.truncated() {
            let next = out
                .next_marker()
                .expect("Truncated=true must come with NextMarker");
            marker = Some(next.to_string());
        } else {
            assert!(
                out.next_marker().is_none(),
                "NextMarker only when Truncated"
            );
            break;
        }
    }
    assert!(
        pages >= 3,
        "5 keys with Limit 2 need at least 3 pages, got {pages}"
    );
    let uniq: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(uniq.len(), seen.len(), "a key was listed twice: {seen:?}");
    assert!(created.is_subset(&uniq), "not every created key was listed");

    // Without Limit everything fits in one page.
    let all = ok(c.list_keys().send().await);
    assert!(!all.truncated());
    assert_eq!(all.keys().len(), uniq.len());
}

#[tokio::test]
async fn list_keys_limit_out_of_range_is_validation_error() {
    let srv = Server::start();
    let c = srv.client().await;
    assert_code(c.list_keys().limit(0).send().await, "ValidationException");
    assert_code(
        c.list_keys().limit(1001).send().await,
        "ValidationException",
    );
    ok(c.list_keys().limit(1000).send().await);
}

#[tokio::test]
async fn disable_and_enable_key() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let arn = key_arn(REGION, &id);
    ok(c.disable_key().key_id(&id).send().await);
    let m = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::Disabled));
    assert!(!m.enabled(), "Enabled must be false");
    // Disabling twice is allowed.
    ok(c.disable_key().key_id(&arn).send().await);

    let e = assert_code(
        c.encrypt().key_id(&id).plaintext(blob(b"x")).send().await,
        "DisabledException",
    );
    assert_eq!(
        e.message.as_deref(),
        Some(format!("{arn} is disabled.").as_str())
    );

    ok(c.enable_key().key_id(&arn).send().await);
    let m = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert!(m.enabled(), "Enabled must be true");
    ok(c.enable_key().key_id(&id).send().await);
    ok(c.encrypt().key_id(&id).plaintext(blob(b"x")).send().await);
}

#[tokio::test]
async fn update_key_description() {
    let srv = Server::start();
    let c = srv.client().await;
    let out = ok(c.create_key().description("old").send().await);
    let id = out.key_metadata().unwrap().key_id().to_string();
    ok(c.update_key_description()
        .key_id(&id)
        .description("new description")
        .send()
        .await);
    let m = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.description(), Some("new description"));
    // By ARN, to the empty string.
    ok(c.update_key_description()
        .key_id(key_arn(REGION, &id))
        .description("")
        .send()
        .await);
    let m = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.description(), Some(""));
    // Allowed on a disabled key.
    ok(c.disable_key().key_id(&id).send().await);
    ok(c.update_key_description()
        .key_id(&id)
        .description("while disabled")
        .send()
        .await);
    let m = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.description(), Some("while disabled"));
}

#[tokio::test]
async fn description_length_limit() {
    let srv = Server::start();
    let c = srv.client().await;
    let max = "d".repeat(8192);
    let out = ok(c.create_key().description(&max).send().await);
    assert_eq!(
        out.key_metadata().unwrap().description(),
        Some(max.as_str())
    );
    let id = out.key_metadata().unwrap().key_id().to_string();
    let too_long = "d".repeat(8193);
    assert_code(
        c.create_key().description(&too_long).send().await,
        "ValidationException",
    );
    assert_code(
        c.update_key_description()
            .key_id(&id)
            .description(&too_long)
            .send()
            .await,
        "ValidationException",
    );
    let m = ok(c.describe_key().key_id(&id).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(
        m.description(),
        Some(max.as_str()),
        "a rejected update must not change the key"
    );
}

#[tokio::test]
async fn create_key_rejects_invalid_enums_and_usage() {
    let srv = Server::start();
    let c = srv.client().await;
    // Unknown enum values violate the model.
    assert_code(
        c.create_key()
            .key_spec(KeySpec::from("NOT_A_SPEC"))
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.create_key()
            .key_usage(KeyUsageType::from("RANDOM"))
            .send()
            .await,
        "ValidationException",
    );
    // A symmetric key cannot be a signing key.
    assert_code(
        c.create_key()
            .key_spec(KeySpec::SymmetricDefault)
            .key_usage(KeyUsageType::SignVerify)
            .send()
            .await,
        "ValidationException",
    );
    // A failed CreateKey creates nothing.
    let listed = ok(c.list_keys().send().await);
    assert!(
        listed.keys().is_empty(),
        "rejected CreateKey calls must not create keys"
    );
}
