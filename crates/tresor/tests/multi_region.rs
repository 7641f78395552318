//! Multi-Region keys through aws-sdk-kms, with two clients signing for two Regions on one
//! server: CreateKey MultiRegion, ReplicateKey, UpdatePrimaryRegion, shared material
//! (ciphertexts, signatures and MACs cross Regions), per-Region policy / state / tags /
//! aliases, rotation reaching replicas, deletion of a primary that has replicas, imported
//! material, and the attacks next to each use.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::{
    KeySpec, KeyState, KeyUsageType, MacAlgorithmSpec, MessageType, MultiRegionKeyType,
    SigningAlgorithmSpec, Tag,
};
use common::multi_region::*;
use common::*;
use serde_json::json;

#[tokio::test]
async fn replicas_share_material_and_show_their_configuration_in_every_region() {
    let srv = Server::start();
    let east = srv.client().await;
    let west = srv.client_in(WEST).await;
    let created = ok(east.create_key().multi_region(true).send().await)
        .key_metadata
        .unwrap();
    let id = created.key_id().to_string();
    assert!(id.starts_with("mrk-") && id.len() == 36, "{id}");
    assert!(id[4..]
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(created.multi_region(), Some(true));
    let cfg = created.multi_region_configuration().unwrap();
    assert_eq!(
        cfg.multi_region_key_type(),
        Some(&MultiRegionKeyType::Primary)
    );
    assert!(cfg.replica_keys().is_empty());

    let out = ok(east
        .replicate_key()
        .key_id(&id)
        .replica_region(WEST)
        .description("the west copy")
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("blue")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    let md = out.replica_key_metadata.unwrap();
    assert_eq!(md.key_id(), id);
    assert_eq!(md.arn(), Some(key_arn(WEST, &id).as_str()));
    // As in AWS: the replica is Creating (not yet enabled) when the call returns, and
    // Enabled shortly after by itself.
    assert_eq!(md.key_state(), Some(&KeyState::Creating));
    assert!(!md.enabled());
    let now = settled(&west, &id).await;
    assert_eq!(now.key_state(), Some(&KeyState::Enabled));
    assert!(now.enabled());
    assert_eq!(md.description(), Some("the west copy"));
    let rc = md.multi_region_configuration().unwrap();
    assert_eq!(
        rc.multi_region_key_type(),
        Some(&MultiRegionKeyType::Replica)
    );
    assert_eq!(rc.primary_key().unwrap().region(), Some(REGION));
    assert_eq!(
        rc.primary_key().unwrap().arn(),
        Some(key_arn(REGION, &id).as_str())
    );
    // No Policy given: the default key policy.
    let policy: serde_json::Value =
        serde_json::from_str(out.replica_policy.as_deref().unwrap()).unwrap();
    assert_eq!(
        policy["Statement"][0]["Principal"]["AWS"],
        json!(format!("arn:aws:iam::{ACCOUNT}:root"))
    );
    assert_eq!(out.replica_tags.unwrap()[0].tag_value(), "blue");

    // DescribeKey from each Region.
    for (c, region, kind) in [
        (&east, REGION, MultiRegionKeyType::Primary),
        (&west, WEST, MultiRegionKeyType::Replica),
    ] {
        let d = describe_key_metadata(c, &id).await;
        assert_eq!(d.arn(), Some(key_arn(region, &id).as_str()));
        let cfg = d.multi_region_configuration().unwrap();
        assert_eq!(cfg.multi_region_key_type(), Some(&kind));
        assert_eq!(cfg.primary_key().unwrap().region(), Some(REGION));
        let replicas: Vec<_> = cfg
            .replica_keys()
            .iter()
            .map(|r| r.region().unwrap().to_string())
            .collect();
        assert_eq!(replicas, vec![WEST.to_string()]);
    }
    // Same current material in both Regions.
    assert_eq!(
        describe_key_metadata(&east, &id)
            .await
            .current_key_material_id,
        describe_key_metadata(&west, &id)
            .await
            .current_key_material_id
    );

    // A ciphertext from either Region decrypts in the other, with or without KeyId.
    let from_east = encrypt(&east, &id, b"made in the east").await;
    assert_eq!(decrypt(&west, &from_east).await, b"made in the east");
    let from_west = encrypt(&west, &key_arn(WEST, &id), b"made in the west").await;
    assert_eq!(decrypt(&east, &from_west).await, b"made in the west");
    let with_id = ok(west
        .decrypt()
        .key_id(key_arn(WEST, &id))
        .ciphertext_blob(blob(&from_east))
        .send()
        .await);
    assert_eq!(with_id.key_id(), Some(key_arn(WEST, &id).as_str()));
    let dk = ok(west
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(32)
        .send()
        .await);
    assert_eq!(
        decrypt(&east, dk.ciphertext_blob.as_ref().unwrap().as_ref()).await,
        dk.plaintext.unwrap().as_ref()
    );
    // Attack: the other Region's ARN names no key here; a storage-style id is no KeyId.
    assert_code(
        west.decrypt()
            .key_id(key_arn(REGION, &id))
            .ciphertext_blob(blob(&from_east))
            .send()
            .await,
        "NotFoundException",
    );
    assert_code(
        west.describe_key()
            .key_id(format!("{id}@{REGION}"))
            .send()
            .await,
        "NotFoundException",
    );
    // ListKeys in each Region lists the key under its public id.
    for c in [&east, &west] {
        let keys = ok(c.list_keys().send().await);
        assert!(keys.keys().iter().any(|k| k.key_id() == Some(id.as_str())));
        assert!(keys
            .keys()
            .iter()
            .all(|k| !k.key_id().unwrap().contains('@')));
    }
    // A single-Region key's ciphertext still does not cross Regions.
    let single = create_key(&east).await;
    let ct = encrypt(&east, &single, b"x").await;
    assert_code(
        west.decrypt().ciphertext_blob(blob(&ct)).send().await,
        "InvalidCiphertextException",
    );

    // The ReplicateKey audit record is for the Region the request was signed for and
    // names both keys.
    let recs = records(&audit_dir(&srv));
    let rec = recs
        .iter()
        .find(|r| r["eventName"] == "ReplicateKey")
        .expect("ReplicateKey audited");
    assert_eq!(rec["awsRegion"], json!(REGION));
    let arns: Vec<&str> = rec["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["ARN"].as_str())
        .collect();
    assert!(
        arns.contains(&key_arn(REGION, &id).as_str())
            && arns.contains(&key_arn(WEST, &id).as_str()),
        "{arns:?}"
    );
    let decrypts: Vec<&serde_json::Value> = recs
        .iter()
        .filter(|r| r["eventName"] == "Decrypt" && r["awsRegion"] == json!(WEST))
        .collect();
    assert!(
        !decrypts.is_empty(),
        "a Decrypt in {WEST} is audited with its Region"
    );
}

#[tokio::test]
async fn replicate_key_refusals() {
    let srv = Server::start();
    let east = srv.client().await;
    let west = srv.client_in(WEST).await;
    let id = mrk(&east).await;
    replicate(&east, &id, WEST).await;

    // A single-Region key cannot be replicated.
    let single = create_key(&east).await;
    assert_code(
        east.replicate_key()
            .key_id(&single)
            .replica_region(WEST)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    // Nor can a replica.
    let e = assert_code(
        west.replicate_key()
            .key_id(&id)
            .replica_region("ap-south-1")
            .send()
            .await,
        "UnsupportedOperationException",
    );
    assert_eq!(
        e.message.as_deref(),
        Some(format!("{} is not a multi-region primary key.", key_arn(WEST, &id)).as_str())
    );
    // One replica per Region, and none in the primary's own Region.
    assert_code(
        east.replicate_key()
            .key_id(&id)
            .replica_region(WEST)
            .send()
            .await,
        "AlreadyExistsException",
    );
    assert_code(
        east.replicate_key()
            .key_id(&id)
            .replica_region(REGION)
            .send()
            .await,
        "AlreadyExistsException",
    );
    // The Region must look like one.
    assert_code(
        east.replicate_key()
            .key_id(&id)
            .replica_region("Mars")
            .send()
            .await,
        "ValidationException",
    );
    // A disabled primary is not replicated.
    ok(east.disable_key().key_id(&id).send().await);
    assert_code(
        east.replicate_key()
            .key_id(&id)
            .replica_region("ap-south-1")
            .send()
            .await,
        "DisabledException",
    );
    // Custom key stores hold no multi-Region keys.
    assert_code(
        east.create_key()
            .multi_region(true)
            .custom_key_store_id("cks-1234567890abcdef0")
            .send()
            .await,
        "UnsupportedOperationException",
    );
}

#[tokio::test]
async fn another_account_cannot_replicate_even_when_the_key_policy_allows_it() {
    let srv = Server::start();
    let east = srv.client().await;
    let other = "444455556666";
    let mallory = create_user(&srv, other, "mallory");
    put_policy(
        &srv,
        other,
        "mallory",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}),
    );
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Other", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{other}:root")}, "Action": "kms:*", "Resource": "*"}
    ]});
    let id = ok(east
        .create_key()
        .multi_region(true)
        .policy(policy.to_string())
        .send()
        .await)
    .key_metadata
    .unwrap()
    .key_id()
    .to_string();
    let m = client_for(&srv, &mallory).await;
    // The use: cross-account Encrypt works with this policy…
    encrypt(&m, &key_arn(REGION, &id), b"ok").await;
    // …the attack: ReplicateKey is not an operation AWS allows across accounts.
    assert_code(
        m.replicate_key()
            .key_id(key_arn(REGION, &id))
            .replica_region(WEST)
            .send()
            .await,
        "AccessDeniedException",
    );
    assert_code(
        m.update_primary_region()
            .key_id(key_arn(REGION, &id))
            .primary_region(WEST)
            .send()
            .await,
        "AccessDeniedException",
    );
    // Nothing was created in the West.
    let west = srv.client_in(WEST).await;
    assert_code(
        west.describe_key().key_id(&id).send().await,
        "NotFoundException",
    );
}

#[tokio::test]
async fn each_region_keeps_its_own_policy_state_tags_aliases_and_description() {
    let srv = Server::start();
    let east = srv.client().await;
    let west = srv.client_in(WEST).await;
    let id = mrk(&east).await;
    let strict = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "NoEncrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*"}
    ]});
    // A policy that would lock the caller out needs the bypass, as at CreateKey.
    let lockout = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:Decrypt", "Resource": "*"}
    ]});
    assert_code(
        east.replicate_key()
            .key_id(&id)
            .replica_region(WEST)
            .policy(lockout.to_string())
            .send()
            .await,
        "MalformedPolicyDocumentException",
    );
    let out = ok(east
        .replicate_key()
        .key_id(&id)
        .replica_region(WEST)
        .policy(strict.to_string())
        .send()
        .await);
    assert_eq!(
        out.replica_policy.as_deref(),
        Some(strict.to_string().as_str())
    );
    settled(&west, &id).await;
    let east_policy = ok(east.get_key_policy().key_id(&id).send().await)
        .policy
        .unwrap();
    let west_policy = ok(west.get_key_policy().key_id(&id).send().await)
        .policy
        .unwrap();
    assert_ne!(east_policy, west_policy);
    // The replica's policy decides in the replica's Region only.
    assert_code(
        west.encrypt()
            .key_id(&id)
            .plaintext(blob(b"x"))
            .send()
            .await,
        "AccessDeniedException",
    );
    let ct = encrypt(&east, &id, b"east may").await;
    assert_eq!(decrypt(&west, &ct).await, b"east may");

    // Disabling the replica leaves the primary working.
    ok(west
        .put_key_policy()
        .key_id(&id)
        .policy(east_policy.clone())
        .send()
        .await);
    ok(west.disable_key().key_id(&id).send().await);
    assert_code(
        west.encrypt()
            .key_id(&id)
            .plaintext(blob(b"x"))
            .send()
            .await,
        "DisabledException",
    );
    assert_code(
        west.decrypt().ciphertext_blob(blob(&ct)).send().await,
        "DisabledException",
    );
    assert_eq!(decrypt(&east, &ct).await, b"east may");
    assert_eq!(
        describe_key_metadata(&east, &id).await.key_state(),
        Some(&KeyState::Enabled)
    );
    ok(west.enable_key().key_id(&id).send().await);

    // Tags, aliases and descriptions are per Region.
    ok(west
        .tag_resource()
        .key_id(&id)
        .tags(
            Tag::builder()
                .tag_key("where")
                .tag_value("west")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    assert!(ok(east.list_resource_tags().key_id(&id).send().await)
        .tags()
        .is_empty());
    assert_eq!(
        ok(west.list_resource_tags().key_id(&id).send().await)
            .tags()
            .len(),
        1
    );
    ok(east
        .create_alias()
        .alias_name("alias/shared")
        .target_key_id(&id)
        .send()
        .await);
    ok(west
        .create_alias()
        .alias_name("alias/shared")
        .target_key_id(&id)
        .send()
        .await);
    for (c, region) in [(&east, REGION), (&west, WEST)] {
        let aliases = ok(c.list_aliases().key_id(&id).send().await);
        assert_eq!(aliases.aliases().len(), 1);
        assert_eq!(aliases.aliases()[0].target_key_id(), Some(id.as_str()));
        assert_eq!(
            describe_key_metadata(c, "alias/shared").await.arn(),
            Some(key_arn(region, &id).as_str())
        );
    }
    let via_alias = encrypt(&west, "alias/shared", b"by alias").await;
    assert_eq!(decrypt(&east, &via_alias).await, b"by alias");
    ok(west.delete_alias().alias_name("alias/shared").send().await);
    ok(east
        .update_key_description()
        .key_id(&id)
        .description("east only")
        .send()
        .await);
    assert_eq!(
        describe_key_metadata(&west, &id).await.description(),
        Some("")
    );
    // Grants are per Region too.
    ok(west
        .create_grant()
        .key_id(&id)
        .grantee_principal(format!("arn:aws:iam::{ACCOUNT}:user/grantee"))
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .send()
        .await);
    assert_eq!(
        ok(west.list_grants().key_id(&id).send().await)
            .grants()
            .len(),
        1
    );
    assert!(ok(east.list_grants().key_id(&id).send().await)
        .grants()
        .is_empty());
}

#[tokio::test]
async fn signatures_and_macs_verify_in_another_region() {
    let srv = Server::start();
    let east = srv.client().await;
    let west = srv.client_in(WEST).await;
    let sign_key = mrk_spec(&east, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let mac_key = mrk_spec(&east, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let rsa_key = mrk_spec(&east, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    for k in [&sign_key, &mac_key, &rsa_key] {
        replicate(&east, k, WEST).await;
    }
    assert_eq!(
        public_key_der(&east, &sign_key).await,
        public_key_der(&west, &sign_key).await
    );
    let sig = ok(east
        .sign()
        .key_id(&sign_key)
        .message(blob(b"signed east"))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await)
    .signature
    .unwrap();
    let v = ok(west
        .verify()
        .key_id(&sign_key)
        .message(blob(b"signed east"))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .signature(sig.clone())
        .send()
        .await);
    assert!(v.signature_valid());
    assert_code(
        west.verify()
            .key_id(&sign_key)
            .message(blob(b"tampered"))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .signature(sig)
            .send()
            .await,
        "KMSInvalidSignatureException",
    );
    let mac = ok(west
        .generate_mac()
        .key_id(&mac_key)
        .message(blob(b"mac west"))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await)
    .mac
    .unwrap();
    let vm = ok(east
        .verify_mac()
        .key_id(&mac_key)
        .message(blob(b"mac west"))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .mac(mac)
        .send()
        .await);
    assert!(vm.mac_valid());
    let ct = ok(west
        .encrypt()
        .key_id(&rsa_key)
        .plaintext(blob(b"rsa west"))
        .encryption_algorithm(aws_sdk_kms::types::EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await)
    .ciphertext_blob
    .unwrap();
    let pt = ok(east
        .decrypt()
        .key_id(&rsa_key)
        .ciphertext_blob(ct)
        .encryption_algorithm(aws_sdk_kms::types::EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await)
    .plaintext
    .unwrap();
    assert_eq!(pt.as_ref(), b"rsa west");
}
