//! The compact cached key: its weight, and that it gives back the record it was built from.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use tresor_crypto::symmetric::SymmetricKey;

const MATERIAL_ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn symmetric_record() -> KeyRecord {
    KeyRecord {
        key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
        account: "111122223333".into(),
        region: "us-east-1".into(),
        created_ms: 1_700_000_000_000,
        description: String::new(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        origin: "AWS_KMS".into(),
        key_state: "Enabled".into(),
        deletion_ms: None,
        pending_window_days: None,
        current_version: 1,
        policy: None,
        public_key: None,
        rotation_enabled: false,
        rotation_period_days: None,
        next_rotation_ms: None,
        on_demand_rotations: 0,
        valid_to_ms: None,
        expiration_model: None,
        imported_material_id: None,
        primary_region: None,
        custom_key_store_id: None,
        xks_key_id: None,
        revision: 3,
    }
}

fn one_version() -> Arc<Materials> {
    Arc::new(Materials::new(vec![(
        1,
        Material {
            material_id: MATERIAL_ID.into(),
            key: KeyMaterial::Symmetric(SymmetricKey::generate().unwrap()),
        },
    )]))
}

fn policy_of(account: &str) -> Arc<KeyPolicy> {
    Arc::new(KeyPolicy::parse(&crate::policy::default_key_policy(account)).unwrap())
}

fn cached(record: KeyRecord) -> CachedKey {
    let policy = policy_of(&record.account);
    CachedKey::new(record, one_version(), policy).unwrap()
}

#[test]
fn a_typical_symmetric_key_weighs_under_360_bytes() {
    let key = cached(symmetric_record());
    let weight = key.heap_bytes();
    // Was ~1,000 bytes with the whole record, its strings and a hex material id.
    assert!(
        weight <= 360,
        "a cached symmetric key weighs {weight} bytes"
    );
    assert!(key.rare.is_none(), "a plain key has no rare fields");
    assert!(std::mem::size_of::<CachedKey>() <= 128);
}

#[test]
fn names_read_from_the_arn() {
    let key = cached(symmetric_record());
    assert_eq!(
        key.arn,
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    );
    assert_eq!(key.region(), "us-east-1");
    assert_eq!(key.account(), "111122223333");
    assert_eq!(key.id(), "1234abcd-12ab-34cd-56ef-1234567890ab");
    assert_eq!(key.key_id(), key.id());
    assert_eq!(key.id_bytes().unwrap()[..2], [0x12, 0x34]);
}

#[test]
fn a_plain_key_gives_back_its_record() {
    let record = symmetric_record();
    assert_eq!(cached(record.clone()).to_record(), record);
}

#[test]
fn a_key_with_every_rare_field_gives_back_its_record() {
    let mut r = symmetric_record();
    r.key_id = "mrk-1234abcd12ab34cd56ef1234567890ab@eu-west-1".into();
    r.region = "eu-west-1".into();
    r.description = "the description".into();
    r.origin = "EXTERNAL".into();
    r.key_state = "PendingDeletion".into();
    r.deletion_ms = Some(5);
    r.pending_window_days = Some(7);
    r.rotation_enabled = true;
    r.rotation_period_days = Some(90);
    r.next_rotation_ms = Some(6);
    r.on_demand_rotations = 2;
    r.valid_to_ms = Some(8);
    r.expiration_model = Some("KEY_MATERIAL_EXPIRES".into());
    r.imported_material_id = Some("ff".into());
    r.primary_region = Some("us-east-1".into());
    r.custom_key_store_id = Some("cks-1234567890abcdef0".into());
    r.xks_key_id = Some("xks-key".into());
    r.policy = Some(crate::policy::default_key_policy(&r.account));
    let key = cached(r.clone());
    assert_eq!(key.to_record(), r);
    assert_eq!(key.id(), "mrk-1234abcd12ab34cd56ef1234567890ab");
    assert_eq!(key.key_id(), r.key_id);
    assert_eq!(key.region(), "eu-west-1");
    assert!(key.is_multi_region() && key.is_replica());
    assert_eq!(key.description(), "the description");
    // The policy text is the shared policy's, not a copy of its own.
    assert!(key.rare().policy.is_none());
    let plain = cached(symmetric_record()).heap_bytes();
    assert!(key.heap_bytes() > plain + std::mem::size_of::<Rare>());
}

#[test]
fn a_policy_other_than_the_shared_one_is_kept() {
    let mut r = symmetric_record();
    r.policy = Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into());
    // As `with_record` does: the record changed, the shared policy did not.
    let key = CachedKey::new(r.clone(), one_version(), policy_of(&r.account)).unwrap();
    assert_eq!(key.to_record(), r);
    assert_eq!(key.policy_document(), r.policy.as_deref().unwrap());
}

#[test]
fn material_ids_read_back_as_stored() {
    for id in [MATERIAL_ID, "ff", &MATERIAL_ID.to_uppercase(), ""] {
        let m = MaterialId::from(id);
        assert_eq!(m.to_string(), id);
        assert_eq!(m, MaterialId::from(m.to_string().as_str()));
    }
    assert!(matches!(MaterialId::from(MATERIAL_ID), MaterialId::Hex(_)));
    assert_eq!(MaterialId::from(MATERIAL_ID).heap_bytes(), 0);
    assert!(matches!(
        MaterialId::from(MATERIAL_ID.to_uppercase().as_str()),
        MaterialId::Text(_)
    ));
}
