//! The contract every [`Store`] keeps, as one suite run against each backend: SQLite
//! always, PostgreSQL when a server is there (see [`crate::testing`]; CI sets
//! `TRESOR_TEST_POSTGRES` so that there it must be).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use crate::*;

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
        ..key("full")
    };
    s.apply(vec![
        Write::InsertKey(full.clone()),
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
    assert_eq!(s.key_count().unwrap(), 1);
    assert_eq!(s.import_token("t").unwrap().unwrap().root_generation, 3);
    assert_eq!(s.keys_due_for_deletion(i64::MAX).unwrap().len(), 0);
    assert_eq!(s.keys_due_for_rotation(0).unwrap().len(), 1);
    assert!(s.keys_due_for_rotation(-2).unwrap().is_empty());
    assert_eq!(s.keys_with_expired_material(10).unwrap().len(), 0);
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
