//! Contract tests for the conditional writes that keep many nodes correct: the seal's
//! revisions and the per-key limits, raced by several threads (each a connection of
//! its own on PostgreSQL, as two nodes would be).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use crate::contract::key;
use crate::*;

fn seal(revision: i64, text: &str) -> SealRecord {
    SealRecord {
        revision,
        document: text.into(),
        created_ms: revision,
    }
}

/// Runs `batch(i)` on `n` threads at once; the results in thread order.
fn race(
    s: &dyn Store,
    n: usize,
    batch: impl Fn(usize) -> Vec<Write> + Sync,
) -> Vec<StoreResult<()>> {
    let batch = &batch;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| scope.spawn(move || s.apply(batch(i))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

pub(crate) fn seal_revisions_are_conditional_and_kept(s: &dyn Store) {
    assert!(s.seals().unwrap().is_empty());
    // Not the next revision: refused.
    assert!(matches!(
        s.apply(vec![Write::InsertSeal(seal(2, "two"))]),
        Err(StoreError::Conflict(_))
    ));
    s.apply(vec![Write::InsertSeal(seal(1, "one"))]).unwrap();
    // The first seal is written once.
    assert!(matches!(
        s.apply(vec![Write::InsertSeal(seal(1, "other"))]),
        Err(StoreError::Conflict(_))
    ));
    // Racing writers of the next revision: one wins.
    let results = race(s, 8, |i| vec![Write::InsertSeal(seal(2, &format!("w{i}")))]);
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| matches!(e, StoreError::Conflict(_))));
    let all = s.seals().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].revision, all[0].document.as_str()), (1, "one"));
    assert_eq!(all[1].revision, 2);
    assert!(all[1].document.starts_with('w'));
}

fn grant_of(key_id: &str, i: usize) -> GrantRecord {
    GrantRecord {
        grant_id: format!("{key_id}-{i}"),
        key_id: key_id.into(),
        name: None,
        grantee: "arn:aws:iam::111122223333:user/g".into(),
        retiring: None,
        issuing_account: "111122223333".into(),
        operations: "[\"Encrypt\"]".into(),
        constraints: None,
        created_ms: 1,
    }
}

fn alias_of(key_id: &str, i: usize) -> AliasRecord {
    AliasRecord {
        account: "111122223333".into(),
        region: "us-east-1".into(),
        name: format!("alias/{key_id}-{i}"),
        target_key_id: key_id.into(),
        created_ms: 1,
        updated_ms: 1,
    }
}

pub(crate) fn limits_hold_when_writers_race(s: &dyn Store) {
    s.apply(vec![Write::InsertKey(key("a")), Write::InsertKey(key("b"))])
        .unwrap();
    for i in 0..2 {
        s.apply(vec![Write::InsertGrant(grant_of("a", i))]).unwrap();
        s.apply(vec![Write::InsertAlias(alias_of("a", i))]).unwrap();
    }
    let check = |counted: Counted| Write::CheckLimit {
        counted,
        limit: 5,
        refusal: "full".into(),
    };
    let grants = race(s, 8, |i| {
        vec![
            check(Counted::GrantsOfKey("a".into())),
            Write::InsertGrant(grant_of("a", 100 + i)),
        ]
    });
    let aliases = race(s, 8, |i| {
        vec![
            check(Counted::AliasesOfKey("a".into())),
            Write::InsertAlias(alias_of("a", 100 + i)),
        ]
    });
    for results in [&grants, &aliases] {
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            3,
            "{results:?}"
        );
        assert!(results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, StoreError::LimitExceeded(m) if m == "full")));
    }
    assert_eq!(s.grants_for_key("a").unwrap().len(), 5);
    assert_eq!(s.alias_count("a").unwrap(), 5);
    // Another key's count is its own; a refused batch wrote nothing.
    s.apply(vec![
        check(Counted::AliasesOfKey("b".into())),
        Write::InsertAlias(alias_of("b", 0)),
    ])
    .unwrap();
    assert!(matches!(
        s.apply(vec![
            check(Counted::GrantsOfKey("a".into())),
            Write::InsertAlias(alias_of("b", 1)),
        ]),
        Err(StoreError::LimitExceeded(_))
    ));
    assert_eq!(s.alias_count("b").unwrap(), 1);
}

pub(crate) fn a_failing_batch_among_concurrent_ones_undoes_only_itself(s: &dyn Store) {
    s.apply(vec![Write::InsertKey(key("base"))]).unwrap();
    // An update from revision 0 of a key at revision 1: a conflict, after the batch's
    // other writes.
    let stale = key("base");
    let results = race(s, 12, |i| {
        let id = format!("c{i}");
        let mut batch = vec![
            Write::InsertKey(key(&id)),
            Write::InsertAlias(alias_of(&id, 0)),
        ];
        if i % 3 == 0 {
            batch.push(Write::UpdateKey(stale.clone()));
        }
        batch
    });
    for (i, r) in results.iter().enumerate() {
        let id = format!("c{i}");
        let stored = s.key(&id).unwrap().is_some();
        if i % 3 == 0 {
            assert!(matches!(r, Err(StoreError::Conflict(_))), "{i}: {r:?}");
            assert!(!stored, "{i}: a failed batch left its key");
            assert_eq!(s.alias_count(&id).unwrap(), 0, "{i}: and its alias");
        } else {
            assert!(r.is_ok(), "{i}: {r:?}");
            assert!(stored, "{i}: a committed batch lost its key");
            assert_eq!(s.alias_count(&id).unwrap(), 1);
        }
    }
    assert_eq!(s.key("base").unwrap().unwrap().revision, 1);
}

fn generation(generation: u32) -> RootGenerationRecord {
    RootGenerationRecord {
        generation,
        check: vec![u8::try_from(generation).unwrap()],
        wrapped_fingerprint_seed: vec![2],
        wrapped_previous: None,
        created_ms: 3,
    }
}

fn material(key_id: &str, version: u32, root_generation: u32) -> MaterialRecord {
    MaterialRecord {
        key_id: key_id.into(),
        version,
        material_id: format!("{version:02}"),
        wrapped: vec![1],
        created_ms: 1,
        rotation_type: None,
        root_generation,
        description: None,
        valid_to_ms: None,
        expiration_model: None,
    }
}

/// A node that has not taken a rotated root key cannot store values under the old one
/// once the rotation retired it: a value wrapped under generation 1 after generation
/// 1's record is gone (and 2 exists) is refused, and nothing of its batch is written.
pub(crate) fn values_under_a_retired_root_generation_are_refused(s: &dyn Store) {
    // Without generation records (a store's own tests) nothing is refused.
    s.apply(vec![
        Write::InsertKey(key("a")),
        Write::InsertMaterial(material("a", 1, 1)),
    ])
    .unwrap();
    s.apply(vec![
        Write::PutRootGeneration(generation(1)),
        Write::PutRootGeneration(generation(2)),
    ])
    .unwrap();
    // During a rotation both generations are live.
    s.apply(vec![Write::InsertMaterial(material("a", 2, 1))])
        .unwrap();
    s.apply(vec![Write::InsertMaterial(material("a", 3, 2))])
        .unwrap();
    // The rotation retires generation 1.
    s.apply(vec![Write::DeleteRootGeneration { generation: 1 }])
        .unwrap();
    let refused = s.apply(vec![
        Write::InsertKey(key("b")),
        Write::InsertMaterial(material("b", 1, 1)),
    ]);
    assert!(
        matches!(refused, Err(StoreError::RootRetired(1))),
        "{refused:?}"
    );
    assert!(s.key("b").unwrap().is_none());
    assert!(matches!(
        s.apply(vec![Write::UpdateMaterial(material("a", 2, 1))]),
        Err(StoreError::RootRetired(1))
    ));
    // The current generation, and a rewrap into it, are accepted.
    s.apply(vec![
        Write::InsertKey(key("b")),
        Write::InsertMaterial(material("b", 1, 2)),
    ])
    .unwrap();
    s.apply(vec![Write::Rewrap {
        target: WrappedRef::Material {
            key_id: "a".into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            version: 2,
        },
        from_generation: 1,
        wrapped: vec![9],
        to_generation: 2,
    }])
    .unwrap();
    assert!(s
        .wrapped_under(1, 10)
        .unwrap()
        .iter()
        .all(|v| !matches!(&v.target, WrappedRef::Material { version: 2, .. })));
}
