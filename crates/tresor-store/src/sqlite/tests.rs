//! Tests of what only the SQLite store has (its file, migrations and backups); the
//! storage contract itself is `crate::contract`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

fn key(id: &str) -> KeyRecord {
    KeyRecord {
        key_id: id.into(),
        account: "111122223333".into(),
        region: "us-east-1".into(),
        created_ms: 1,
        description: String::new(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        origin: "AWS_KMS".into(),
        key_state: "Enabled".into(),
        deletion_ms: None,
        pending_window_days: None,
        current_version: 1,
        policy: None,
        revision: 1,
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
    }
}

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.sqlite")).unwrap();
    (dir, s)
}

#[test]
fn migrations_are_versioned_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
    drop(s);
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
}

#[test]
fn backup_copies_a_live_database_into_a_private_self_contained_file() {
    let (dir, s) = open();
    s.apply(vec![Write::InsertKey(key("a"))]).unwrap();
    let copy = dir.path().join("copy.sqlite");
    backup_database(&dir.path().join("t.sqlite"), &copy).unwrap();
    // The live store keeps writing; the copy has what was committed before.
    s.apply(vec![Write::InsertKey(key("b"))]).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!dir.path().join("copy.sqlite-wal").exists());
    assert_eq!(
        check_database(&copy).unwrap(),
        i64::try_from(s.schema_version().unwrap()).unwrap()
    );
    let restored = SqliteStore::open(&copy).unwrap();
    assert!(restored.key("a").unwrap().is_some());
    assert!(restored.key("b").unwrap().is_none());
    // An existing file is never overwritten.
    assert!(backup_database(&dir.path().join("t.sqlite"), &copy).is_err());
}

#[test]
fn multi_region_keys_are_the_records_of_one_mrk_id_only() {
    let (_d, s) = open();
    let mrk = "mrk-0123456789abcdef0123456789abcdef";
    let mut batch = Vec::new();
    for region in ["us-east-1", "eu-west-1"] {
        let mut k = key(&format!("{mrk}@{region}"));
        k.region = region.into();
        k.primary_region = Some("us-east-1".into());
        batch.push(Write::InsertKey(k));
    }
    // Ids that share a prefix but are other keys.
    batch.push(Write::InsertKey(key(
        "mrk-0123456789abcdef0123456789abcdee@us-east-1",
    )));
    batch.push(Write::InsertKey(key(
        "mrk-0123456789abcdef0123456789abcdefA",
    )));
    batch.push(Write::InsertKey(key(mrk)));
    s.apply(batch).unwrap();
    let got: Vec<String> = s
        .multi_region_keys(mrk)
        .unwrap()
        .into_iter()
        .map(|k| k.region)
        .collect();
    assert_eq!(got, vec!["eu-west-1".to_string(), "us-east-1".to_string()]);
    assert_eq!(
        s.key(&format!("{mrk}@eu-west-1"))
            .unwrap()
            .unwrap()
            .primary_region
            .as_deref(),
        Some("us-east-1")
    );
}

fn custom_key_store(id: &str, name: &str) -> CustomKeyStoreRecord {
    CustomKeyStoreRecord {
        id: id.into(),
        account: "111122223333".into(),
        region: "us-east-1".into(),
        name: name.into(),
        store_type: "AWS_CLOUDHSM".into(),
        connection_state: "DISCONNECTED".into(),
        connection_error_code: None,
        created_ms: 1,
        cloud_hsm_cluster_id: Some("cluster-abcdefghijk".into()),
        trust_anchor_certificate: Some("PEM".into()),
        xks_proxy_uri_endpoint: None,
        xks_proxy_uri_path: None,
        xks_proxy_vpc_endpoint_service_name: None,
        xks_proxy_connectivity: None,
        xks_access_key_id: None,
        wrapped_secret: vec![1, 2, 3],
        root_generation: 1,
        revision: 1,
    }
}

#[test]
fn custom_key_stores_unique_names_revisions_keys_and_rewrap() {
    let (_d, s) = open();
    s.apply(vec![Write::InsertCustomKeyStore(custom_key_store(
        "cks-1", "a",
    ))])
    .unwrap();
    let dup = s.apply(vec![Write::InsertCustomKeyStore(custom_key_store(
        "cks-2", "a",
    ))]);
    assert!(matches!(dup, Err(StoreError::Duplicate(_))), "{dup:?}");
    s.apply(vec![Write::InsertCustomKeyStore(custom_key_store(
        "cks-2", "b",
    ))])
    .unwrap();
    let mut c = s.custom_key_store("cks-1").unwrap().unwrap();
    c.name = "b".into();
    c.revision = 2;
    let taken = s.apply(vec![Write::UpdateCustomKeyStore(c.clone())]);
    assert!(matches!(taken, Err(StoreError::Duplicate(_))), "{taken:?}");
    c.name = "c".into();
    c.connection_state = "CONNECTED".into();
    s.apply(vec![Write::UpdateCustomKeyStore(c.clone())])
        .unwrap();
    let stale = s.apply(vec![Write::UpdateCustomKeyStore(c.clone())]);
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let listed = s.custom_key_stores("111122223333", "us-east-1").unwrap();
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["c", "b"]
    );
    assert!(s
        .custom_key_stores("111122223333", "eu-west-1")
        .unwrap()
        .is_empty());
    let mut k = key("k1");
    k.custom_key_store_id = Some("cks-1".into());
    s.apply(vec![Write::InsertKey(k)]).unwrap();
    assert_eq!(s.custom_key_store_key_count("cks-1").unwrap(), 1);
    assert_eq!(s.custom_key_store_key_count("cks-2").unwrap(), 0);
    assert_eq!(
        s.key("k1").unwrap().unwrap().custom_key_store_id.as_deref(),
        Some("cks-1")
    );
    let under: Vec<_> = s
        .wrapped_under(1, 100)
        .unwrap()
        .into_iter()
        .filter(|w| matches!(w.target, WrappedRef::CustomKeyStore { .. }))
        .collect();
    assert_eq!(under.len(), 2);
    s.apply(vec![Write::Rewrap {
        target: WrappedRef::CustomKeyStore { id: "cks-1".into() },
        from_generation: 1,
        wrapped: vec![9],
        to_generation: 2,
    }])
    .unwrap();
    let c = s.custom_key_store("cks-1").unwrap().unwrap();
    assert_eq!((c.wrapped_secret, c.root_generation), (vec![9], 2));
    s.apply(vec![Write::DeleteCustomKeyStore { id: "cks-2".into() }])
        .unwrap();
    assert!(s.custom_key_store("cks-2").unwrap().is_none());
}
