//! The contract every [`Store`] keeps, as one suite run against each backend: SQLite
//! always, PostgreSQL when a server is there (see [`crate::testing`]; CI sets
//! `TRESOR_TEST_POSTGRES` so that there it must be).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use crate::*;
// Tests kept in their own file (this one is long); `super::NAME` finds them here.
use crate::contract_races::*;
use crate::contract_usage::*;

pub(crate) fn key(id: &str) -> KeyRecord {
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

/// Runs `$test` once per backend, as `sqlite::$test` and `postgres::$test`.
macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $test() {
                    let dir = tempfile::tempdir().unwrap();
                    let s = crate::SqliteStore::open(&dir.path().join("t.sqlite")).unwrap();
                    super::$test(&s);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $test() {
                    let Some(db) = crate::testing::TestDatabase::create() else { return };
                    let s = crate::PostgresStore::open(db.url()).unwrap();
                    super::$test(&s);
                    drop(s);
                    drop(db);
                }
            )*
        }
    };
}

contract!(
    key_crud_with_revision_checks,
    batch_is_atomic,
    delete_key_cascades,
    concurrent_batches_commit_independently,
    paging_orders_by_id,
    paging_compares_bytes,
    access_keys_of_a_principal_and_deletion,
    rewrap_moves_values_between_root_generations,
    aliases_are_unique_and_update_only_existing,
    named_grants_are_unique_per_parameters,
    racing_updates_of_one_key_make_one_winner,
    optional_fields_round_trip,
    multi_region_keys_are_the_records_of_one_mrk_id_only,
    keys_in_transition_are_those_creating_or_updating,
    custom_key_stores_unique_names_revisions_keys_and_rewrap,
    seal_revisions_are_conditional_and_kept,
    limits_hold_when_writers_race,
    values_under_a_retired_root_generation_are_refused,
    key_usage_keeps_the_latest_use_of_each_key,
    racing_usage_flushes_keep_the_latest,
    usage_tracking_keeps_the_earliest_start,
    a_failing_batch_among_concurrent_ones_undoes_only_itself,
);

pub(crate) fn key_crud_with_revision_checks(s: &dyn Store) {
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

pub(crate) fn batch_is_atomic(s: &dyn Store) {
    s.apply(vec![Write::InsertKey(key("a"))]).unwrap();
    let r = s.apply(vec![Write::InsertKey(key("b")), Write::InsertKey(key("a"))]);
    assert!(r.is_err());
    assert!(s.key("b").unwrap().is_none());
}

pub(crate) fn delete_key_cascades(s: &dyn Store) {
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

pub(crate) fn concurrent_batches_commit_independently(s: &dyn Store) {
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                scope.spawn(move || {
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
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 13);
    assert_eq!(
        s.list_keys("111122223333", "us-east-1", None, 100)
            .unwrap()
            .len(),
        13
    );
}

pub(crate) fn paging_orders_by_id(s: &dyn Store) {
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

pub(crate) fn access_keys_of_a_principal_and_deletion(s: &dyn Store) {
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

pub(crate) fn rewrap_moves_values_between_root_generations(s: &dyn Store) {
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

pub(crate) fn paging_compares_bytes(s: &dyn Store) {
    // Bytewise order, as the API pages: uppercase before lowercase, '-' before digits.
    for id in ["b", "B", "a-1", "a1"] {
        s.apply(vec![Write::InsertKey(key(id))]).unwrap();
    }
    let ids: Vec<String> = s
        .list_keys("111122223333", "us-east-1", None, 10)
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(ids, ["B", "a-1", "a1", "b"]);
    let after: Vec<String> = s
        .list_keys("111122223333", "us-east-1", Some("B"), 10)
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(after, ["a-1", "a1", "b"]);
}

fn alias(name: &str, target: &str) -> AliasRecord {
    AliasRecord {
        account: "111122223333".into(),
        region: "us-east-1".into(),
        name: name.into(),
        target_key_id: target.into(),
        created_ms: 1,
        updated_ms: 1,
    }
}

pub(crate) fn aliases_are_unique_and_update_only_existing(s: &dyn Store) {
    s.apply(vec![Write::InsertKey(key("a")), Write::InsertKey(key("b"))])
        .unwrap();
    s.apply(vec![Write::InsertAlias(alias("alias/x", "a"))])
        .unwrap();
    // The check-then-write of CreateAlias is the unique constraint: a second insert of
    // the same name fails, whoever makes it.
    assert!(matches!(
        s.apply(vec![Write::InsertAlias(alias("alias/x", "b"))]),
        Err(StoreError::Duplicate(_))
    ));
    assert_eq!(
        s.alias("111122223333", "us-east-1", "alias/x")
            .unwrap()
            .unwrap()
            .target_key_id,
        "a"
    );
    // Re-pointing a deleted alias is a conflict, not a silent re-creation.
    assert!(matches!(
        s.apply(vec![Write::UpdateAlias(alias("alias/gone", "b"))]),
        Err(StoreError::Conflict(_))
    ));
    s.apply(vec![Write::UpdateAlias(AliasRecord {
        updated_ms: 2,
        ..alias("alias/x", "b")
    })])
    .unwrap();
    let listed = s
        .list_aliases("111122223333", "us-east-1", Some("b"), None, 10)
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].updated_ms, 2);
    assert!(s
        .list_aliases("111122223333", "us-east-1", Some("a"), None, 10)
        .unwrap()
        .is_empty());
    assert_eq!(
        s.list_aliases("111122223333", "us-east-1", None, None, 10)
            .unwrap()
            .len(),
        1
    );
}

fn grant(id: &str, name: Option<&str>, operations: &str) -> GrantRecord {
    GrantRecord {
        grant_id: id.into(),
        key_id: "a".into(),
        name: name.map(str::to_string),
        grantee: "arn:aws:iam::111122223333:user/g".into(),
        retiring: None,
        issuing_account: "111122223333".into(),
        operations: operations.into(),
        constraints: None,
        created_ms: 1,
    }
}

pub(crate) fn named_grants_are_unique_per_parameters(s: &dyn Store) {
    s.apply(vec![Write::InsertKey(key("a"))]).unwrap();
    s.apply(vec![Write::InsertGrant(grant(
        "g1",
        Some("n"),
        "[\"Encrypt\"]",
    ))])
    .unwrap();
    // The same name and parameters again (another node's idempotent retry): refused.
    assert!(matches!(
        s.apply(vec![Write::InsertGrant(grant(
            "g2",
            Some("n"),
            "[\"Encrypt\"]"
        ))]),
        Err(StoreError::Duplicate(_))
    ));
    // Other parameters under the same name, or no name: new grants.
    s.apply(vec![Write::InsertGrant(grant(
        "g3",
        Some("n"),
        "[\"Decrypt\"]",
    ))])
    .unwrap();
    s.apply(vec![
        Write::InsertGrant(grant("g4", None, "[\"Encrypt\"]")),
        Write::InsertGrant(grant("g5", None, "[\"Encrypt\"]")),
    ])
    .unwrap();
    let ids: Vec<String> = s
        .grants_for_key("a")
        .unwrap()
        .into_iter()
        .map(|g| g.grant_id)
        .collect();
    assert_eq!(ids, ["g1", "g3", "g4", "g5"]);
    s.apply(vec![Write::DeleteGrant {
        grant_id: "g1".into(),
    }])
    .unwrap();
    assert!(s.grant("g1").unwrap().is_none());
    assert_eq!(s.grant("g3").unwrap().unwrap().operations, "[\"Decrypt\"]");
}

pub(crate) fn racing_updates_of_one_key_make_one_winner(s: &dyn Store) {
    s.apply(vec![Write::InsertKey(key("a"))]).unwrap();
    let read = s.key("a").unwrap().unwrap();
    let results: Vec<StoreResult<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let mut k = read.clone();
                scope.spawn(move || {
                    k.description = format!("writer {i}");
                    k.revision += 1;
                    s.apply(vec![Write::UpdateKey(k)])
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| matches!(e, StoreError::Conflict(_))));
    assert_eq!(s.key("a").unwrap().unwrap().revision, 2);
}

pub(crate) fn optional_fields_round_trip(s: &dyn Store) {
    let full = KeyRecord {
        description: "d\u{e9}".into(),
        deletion_ms: Some(i64::MAX),
        pending_window_days: Some(7),
        current_version: u32::MAX,
        policy: Some("{}".into()),
        public_key: Some(vec![0, 255]),
        rotation_enabled: true,
        rotation_period_days: Some(90),
        next_rotation_ms: Some(-1),
        on_demand_rotations: 3,
        valid_to_ms: Some(5),
        expiration_model: Some("KEY_MATERIAL_EXPIRES".into()),
        imported_material_id: Some("ab".into()),
        primary_region: Some("eu-west-1".into()),
        custom_key_store_id: Some("cks-0123456789abcdef0".into()),
        xks_key_id: Some("xks-\u{e9}".into()),
        ..key("full")
    };
    let material = MaterialRecord {
        key_id: "full".into(),
        version: 1,
        material_id: "ff".into(),
        wrapped: vec![0, 255],
        created_ms: -3,
        rotation_type: Some("ON_DEMAND".into()),
        root_generation: u32::MAX,
        description: Some("m\u{e9}".into()),
        valid_to_ms: Some(7),
        expiration_model: Some("KEY_MATERIAL_EXPIRES".into()),
    };
    let xks = AccessKeyRecord {
        access_key_id: "AKIAXKS".into(),
        account: "111122223333".into(),
        principal_arn: "arn:aws:iam::111122223333:user/u".into(),
        wrapped_secret: vec![4],
        enabled: true,
        operator: false,
        xks_proxy: true,
        created_ms: 1,
        root_generation: 1,
    };
    s.apply(vec![
        Write::InsertKey(full.clone()),
        Write::InsertMaterial(material.clone()),
        Write::PutAccessKey(xks.clone()),
        Write::PutImportToken(ImportTokenRecord {
            token_id: "t".into(),
            key_id: "full".into(),
            wrapping_algorithm: "RSAES_OAEP_SHA_256".into(),
            wrapping_key_spec: "RSA_2048".into(),
            wrapped_private_key: vec![1, 2],
            expires_ms: 10,
            root_generation: 3,
        }),
        Write::PutPrincipal(PrincipalRecord {
            arn: "arn:aws:iam::111122223333:user/u".into(),
            account: "111122223333".into(),
            name: "u".into(),
            enabled: true,
            created_ms: 1,
        }),
        Write::PutPrincipalPolicy(PrincipalPolicyRecord {
            principal_arn: "arn:aws:iam::111122223333:user/u".into(),
            name: "p".into(),
            document: "{}".into(),
        }),
    ])
    .unwrap();
    assert_eq!(s.key("full").unwrap().unwrap(), full);
    assert_eq!(s.materials("full").unwrap(), vec![material.clone()]);
    assert_eq!(s.access_key("AKIAXKS").unwrap().unwrap(), xks);
    assert_eq!(s.access_keys_of(&xks.principal_arn).unwrap(), vec![xks]);
    // A primary_region change is kept; the key's store and XKS key id never change.
    let moved = KeyRecord {
        primary_region: Some("us-east-1".into()),
        revision: 2,
        ..full.clone()
    };
    s.apply(vec![Write::UpdateKey(moved.clone())]).unwrap();
    assert_eq!(s.key("full").unwrap().unwrap(), moved);
    // Expired material: due while present, not once its bytes are gone.
    assert_eq!(s.keys_with_expired_material(6).unwrap().len(), 0);
    assert_eq!(s.keys_with_expired_material(7).unwrap().len(), 1);
    assert_eq!(s.wrapped_under(u32::MAX, 10).unwrap().len(), 1);
    let gone = MaterialRecord {
        wrapped: Vec::new(),
        description: None,
        valid_to_ms: None,
        expiration_model: None,
        ..material.clone()
    };
    s.apply(vec![Write::UpdateMaterial(gone.clone())]).unwrap();
    assert_eq!(s.materials("full").unwrap(), vec![gone]);
    let expired = MaterialRecord {
        wrapped: Vec::new(),
        ..material.clone()
    };
    s.apply(vec![Write::UpdateMaterial(expired)]).unwrap();
    assert!(s.keys_with_expired_material(i64::MAX).unwrap().is_empty());
    assert!(s.wrapped_under(u32::MAX, 10).unwrap().is_empty());
    // UpdateMaterial replaces only an existing version.
    let absent = s.apply(vec![Write::UpdateMaterial(MaterialRecord {
        version: 2,
        ..material
    })]);
    assert!(matches!(absent, Err(StoreError::Conflict(_))), "{absent:?}");
    assert_eq!(s.key_count().unwrap(), 1);
    assert_eq!(s.import_token("t").unwrap().unwrap().root_generation, 3);
    assert_eq!(s.keys_due_for_deletion(i64::MAX).unwrap().len(), 0);
    assert_eq!(s.keys_due_for_rotation(0).unwrap().len(), 1);
    assert!(s.keys_due_for_rotation(-2).unwrap().is_empty());
    assert_eq!(s.list_principals("111122223333").unwrap().len(), 1);
    assert_eq!(
        s.principal_policies("arn:aws:iam::111122223333:user/u")
            .unwrap()
            .len(),
        1
    );
    s.apply(vec![Write::PutPrincipal(PrincipalRecord {
        arn: "arn:aws:iam::111122223333:user/u".into(),
        account: "111122223333".into(),
        name: "u".into(),
        enabled: false,
        created_ms: 9,
    })])
    .unwrap();
    assert!(
        !s.principal("arn:aws:iam::111122223333:user/u")
            .unwrap()
            .unwrap()
            .enabled
    );
    s.apply(vec![Write::DeletePrincipalPolicy {
        principal_arn: "arn:aws:iam::111122223333:user/u".into(),
        name: "p".into(),
    }])
    .unwrap();
    assert!(s
        .principal_policies("arn:aws:iam::111122223333:user/u")
        .unwrap()
        .is_empty());
}

pub(crate) fn keys_in_transition_are_those_creating_or_updating(s: &dyn Store) {
    let batch = [
        "Creating",
        "Enabled",
        "Updating",
        "PendingImport",
        "Disabled",
    ]
    .iter()
    .map(|state| {
        let mut k = key(state);
        k.key_state = (*state).into();
        Write::InsertKey(k)
    })
    .collect();
    s.apply(batch).unwrap();
    let mut ids: Vec<String> = s
        .keys_in_transition()
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["Creating", "Updating"]);
}

pub(crate) fn multi_region_keys_are_the_records_of_one_mrk_id_only(s: &dyn Store) {
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
    assert_eq!(got, ["eu-west-1", "us-east-1"]);
    assert_eq!(
        s.key(&format!("{mrk}@eu-west-1"))
            .unwrap()
            .unwrap()
            .primary_region
            .as_deref(),
        Some("us-east-1")
    );
}

fn custom_key_store(id: &str, name: &str, cluster: &str) -> CustomKeyStoreRecord {
    CustomKeyStoreRecord {
        id: id.into(),
        account: "111122223333".into(),
        region: "us-east-1".into(),
        name: name.into(),
        store_type: "AWS_CLOUDHSM".into(),
        connection_state: "DISCONNECTED".into(),
        connection_error_code: None,
        created_ms: 1,
        cloud_hsm_cluster_id: Some(cluster.into()),
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

fn duplicate_of(r: StoreResult<()>) -> String {
    match r {
        Err(StoreError::Duplicate(what)) => what,
        other => panic!("expected Duplicate, got {other:?}"),
    }
}

pub(crate) fn custom_key_stores_unique_names_revisions_keys_and_rewrap(s: &dyn Store) {
    let insert = |c: CustomKeyStoreRecord| s.apply(vec![Write::InsertCustomKeyStore(c)]);
    insert(custom_key_store("cks-1", "a", "cluster-1")).unwrap();
    let name = insert(custom_key_store("cks-2", "a", "cluster-2"));
    assert_eq!(duplicate_of(name), DUPLICATE_STORE_NAME);
    let cluster = insert(custom_key_store("cks-2", "b", "cluster-1"));
    assert_eq!(duplicate_of(cluster), DUPLICATE_CLUSTER);
    // The same name in another Region is another store's.
    let mut elsewhere = custom_key_store("cks-3", "a", "cluster-3");
    elsewhere.region = "eu-west-1".into();
    insert(elsewhere).unwrap();
    let mut xks = custom_key_store("cks-2", "b", "unused");
    xks.store_type = "EXTERNAL_KEY_STORE".into();
    xks.cloud_hsm_cluster_id = None;
    xks.trust_anchor_certificate = None;
    xks.xks_proxy_uri_endpoint = Some("https://xks.example".into());
    xks.xks_proxy_uri_path = Some("/kms/xks/v1".into());
    xks.xks_proxy_connectivity = Some("PUBLIC_ENDPOINT".into());
    xks.xks_access_key_id = Some("AKIAXKS".into());
    insert(xks.clone()).unwrap();
    assert_eq!(s.custom_key_store("cks-2").unwrap().unwrap(), xks);
    let mut c = s.custom_key_store("cks-1").unwrap().unwrap();
    c.name = "b".into();
    c.revision = 2;
    let taken = s.apply(vec![Write::UpdateCustomKeyStore(c.clone())]);
    assert_eq!(duplicate_of(taken), DUPLICATE_STORE_NAME);
    c.name = "c".into();
    c.connection_state = "CONNECTED".into();
    s.apply(vec![Write::UpdateCustomKeyStore(c.clone())])
        .unwrap();
    assert_eq!(s.custom_key_store("cks-1").unwrap().unwrap(), c);
    let stale = s.apply(vec![Write::UpdateCustomKeyStore(c.clone())]);
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let listed = s.custom_key_stores("111122223333", "us-east-1").unwrap();
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["c", "b"]
    );
    assert_eq!(
        s.custom_key_stores("111122223333", "eu-west-1")
            .unwrap()
            .len(),
        1
    );
    assert!(s
        .custom_key_stores("444455556666", "us-east-1")
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
    assert_eq!(under.len(), 3);
    s.apply(vec![Write::Rewrap {
        target: WrappedRef::CustomKeyStore { id: "cks-1".into() },
        from_generation: 1,
        wrapped: vec![9],
        to_generation: 2,
    }])
    .unwrap();
    let c = s.custom_key_store("cks-1").unwrap().unwrap();
    assert_eq!((c.wrapped_secret, c.root_generation), (vec![9], 2));
    // A rewrap from a generation the value is no longer under changes nothing.
    s.apply(vec![Write::Rewrap {
        target: WrappedRef::CustomKeyStore { id: "cks-1".into() },
        from_generation: 1,
        wrapped: vec![8],
        to_generation: 3,
    }])
    .unwrap();
    assert_eq!(
        s.custom_key_store("cks-1")
            .unwrap()
            .unwrap()
            .root_generation,
        2
    );
    s.apply(vec![Write::DeleteCustomKeyStore { id: "cks-2".into() }])
        .unwrap();
    assert!(s.custom_key_store("cks-2").unwrap().is_none());
}
