//! Unit tests of the SQLite store.
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
fn key_crud_with_revision_checks() {
    let (_d, s) = open();
    s.apply(vec![Write::InsertKey(key("a"))]).unwrap();
    assert!(matches!(
        s.apply(vec![Write::InsertKey(key("a"))]),
        Err(StoreError::Duplicate(_))
    ));
    let mut k = s.key("a").unwrap().unwrap();
    k.description = "d".into();
    k.revision += 1;
    s.apply(vec![Write::UpdateKey(k.clone())]).unwrap();
    assert_eq!(s.key("a").unwrap().unwrap().description, "d");
    // Same revision again: somebody else's update already happened.
    assert!(matches!(
        s.apply(vec![Write::UpdateKey(k)]),
        Err(StoreError::Conflict(_))
    ));
}

#[test]
fn batch_is_atomic() {
    let (_d, s) = open();
    s.apply(vec![Write::InsertKey(key("a"))]).unwrap();
    let r = s.apply(vec![Write::InsertKey(key("b")), Write::InsertKey(key("a"))]);
    assert!(r.is_err());
    assert!(s.key("b").unwrap().is_none());
}

#[test]
fn delete_key_cascades() {
    let (_d, s) = open();
    s.apply(vec![
        Write::InsertKey(key("a")),
        Write::InsertMaterial(MaterialRecord {
            key_id: "a".into(),
            version: 1,
            material_id: "00".into(),
            wrapped: vec![1],
            created_ms: 1,
            rotation_type: None,
            root_generation: 1,
            description: None,
            valid_to_ms: None,
            expiration_model: None,
        }),
        Write::InsertAlias(AliasRecord {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            name: "alias/x".into(),
            target_key_id: "a".into(),
            created_ms: 1,
            updated_ms: 1,
        }),
        Write::SetTags {
            key_id: "a".into(),
            tags: vec![TagRecord {
                key: "k".into(),
                value: "v".into(),
            }],
        },
    ])
    .unwrap();
    assert_eq!(s.alias_count("a").unwrap(), 1);
    s.apply(vec![Write::DeleteKey { key_id: "a".into() }])
        .unwrap();
    assert!(s.materials("a").unwrap().is_empty());
    assert!(s
        .alias("111122223333", "us-east-1", "alias/x")
        .unwrap()
        .is_none());
    assert!(s.tags("a").unwrap().is_empty());
}

#[test]
fn concurrent_batches_commit_independently() {
    let (_d, s) = open();
    let s = Arc::new(s);
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || {
                // Every fourth batch collides with the first key and must fail alone.
                let id = if i % 4 == 0 {
                    "dup".to_string()
                } else {
                    format!("k{i}")
                };
                s.apply(vec![Write::InsertKey(key(&id))])
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 13);
    assert_eq!(
        s.list_keys("111122223333", "us-east-1", None, 100)
            .unwrap()
            .len(),
        13
    );
}

#[test]
fn paging_orders_by_id() {
    let (_d, s) = open();
    for id in ["c", "a", "b"] {
        s.apply(vec![Write::InsertKey(key(id))]).unwrap();
    }
    let page = s.list_keys("111122223333", "us-east-1", None, 2).unwrap();
    assert_eq!(
        page.iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let page = s
        .list_keys("111122223333", "us-east-1", Some("b"), 2)
        .unwrap();
    assert_eq!(page.len(), 1);
    assert!(s
        .list_keys("111122223333", "eu-west-1", None, 10)
        .unwrap()
        .is_empty());
}

#[test]
fn access_keys_of_a_principal_and_deletion() {
    let (_d, s) = open();
    let rec = |id: &str, arn: &str, created_ms: i64| AccessKeyRecord {
        access_key_id: id.into(),
        account: "111122223333".into(),
        principal_arn: arn.into(),
        wrapped_secret: vec![1, 2, 3],
        enabled: true,
        operator: false,
        xks_proxy: false,
        created_ms,
        root_generation: 1,
    };
    let alice = "arn:aws:iam::111122223333:user/alice";
    s.apply(vec![
        Write::PutAccessKey(rec("AKIAB", alice, 2)),
        Write::PutAccessKey(rec("AKIAA", alice, 1)),
        Write::PutAccessKey(rec("AKIAC", "arn:aws:iam::111122223333:user/bob", 1)),
    ])
    .unwrap();
    let ids = |arn: &str| -> Vec<String> {
        s.access_keys_of(arn)
            .unwrap()
            .into_iter()
            .map(|r| r.access_key_id)
            .collect()
    };
    assert_eq!(ids(alice), ["AKIAA", "AKIAB"]);
    s.apply(vec![Write::DeleteAccessKey {
        access_key_id: "AKIAA".into(),
    }])
    .unwrap();
    assert_eq!(ids(alice), ["AKIAB"]);
    assert!(s.access_key("AKIAA").unwrap().is_none());
    assert!(s.access_key("AKIAC").unwrap().is_some());
}

#[test]
fn rewrap_moves_values_between_root_generations() {
    let (_d, s) = open();
    let ak = |wrapped: Vec<u8>, root_generation: u32| AccessKeyRecord {
        access_key_id: "AKIAA".into(),
        account: "111122223333".into(),
        principal_arn: "arn:aws:iam::111122223333:root".into(),
        wrapped_secret: wrapped,
        enabled: true,
        operator: false,
        xks_proxy: false,
        created_ms: 1,
        root_generation,
    };
    s.apply(vec![
        Write::InsertKey(key("a")),
        Write::InsertMaterial(MaterialRecord {
            key_id: "a".into(),
            version: 1,
            material_id: "00".into(),
            wrapped: vec![1],
            created_ms: 1,
            rotation_type: None,
            root_generation: 1,
            description: None,
            valid_to_ms: None,
            expiration_model: None,
        }),
        Write::PutAccessKey(ak(vec![2], 1)),
    ])
    .unwrap();
    let under1 = s.wrapped_under(1, 100).unwrap();
    assert_eq!(under1.len(), 2);
    let writes = under1
        .into_iter()
        .map(|v| Write::Rewrap {
            target: v.target,
            from_generation: 1,
            wrapped: vec![9],
            to_generation: 2,
        })
        .collect();
    s.apply(writes).unwrap();
    assert!(s.wrapped_under(1, 100).unwrap().is_empty());
    assert_eq!(s.wrapped_under(2, 100).unwrap().len(), 2);
    assert_eq!(s.materials("a").unwrap()[0].root_generation, 2);
    // A record read before the rotation and written back after it keeps the new wrap.
    s.apply(vec![Write::PutAccessKey(AccessKeyRecord {
        enabled: false,
        ..ak(vec![2], 1)
    })])
    .unwrap();
    let rec = s.access_key("AKIAA").unwrap().unwrap();
    assert_eq!(
        (rec.wrapped_secret, rec.root_generation, rec.enabled),
        (vec![9], 2, false)
    );
    // Generation records round-trip.
    let g = RootGenerationRecord {
        generation: 1,
        check: vec![1],
        wrapped_fingerprint_seed: vec![2],
        wrapped_previous: None,
        created_ms: 3,
    };
    s.apply(vec![Write::PutRootGeneration(g.clone())]).unwrap();
    assert_eq!(s.root_generations().unwrap(), vec![g]);
    s.apply(vec![Write::DeleteRootGeneration { generation: 1 }])
        .unwrap();
    assert!(s.root_generations().unwrap().is_empty());
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
