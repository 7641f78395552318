//! What only the shared PostgreSQL store does: concurrent migration, shared values,
//! and change notifications between nodes.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::contract::key;
use crate::testing::TestDatabase;
use std::time::Instant;

#[test]
fn nodes_starting_together_migrate_once() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let url = db.url().to_string();
    let stores: Vec<StoreResult<PostgresStore>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| PostgresStore::open(&url)))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for st in &stores {
        assert_eq!(
            st.as_ref().unwrap().schema_version().unwrap(),
            MIGRATIONS.len()
        );
    }
}

#[test]
fn the_first_shared_value_wins() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let a = PostgresStore::open(db.url()).unwrap();
    let b = PostgresStore::open(db.url()).unwrap();
    assert_eq!(a.shared_value("v").unwrap(), None);
    assert_eq!(a.shared_value_or_insert("v", vec![1], 1).unwrap(), vec![1]);
    assert_eq!(b.shared_value_or_insert("v", vec![2], 2).unwrap(), vec![1]);
    assert_eq!(b.shared_value("v").unwrap(), Some(vec![1]));
}

pub(super) struct Collect(pub(super) Mutex<Vec<Change>>);

impl ChangeSink for Collect {
    fn changed(&self, changes: &[Change]) {
        self.0.lock().extend_from_slice(changes);
    }
}

pub(super) fn wait_for(sink: &Collect, want: &Change) -> Duration {
    let t = Instant::now();
    while !sink.0.lock().contains(want) {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "no {want:?} within 5 s"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    t.elapsed()
}

#[test]
fn other_nodes_hear_what_changed_and_the_writer_does_not() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let a = PostgresStore::open(db.url()).unwrap();
    let b = PostgresStore::open(db.url()).unwrap();
    let heard_a = Arc::new(Collect(Mutex::new(Vec::new())));
    let heard_b = Arc::new(Collect(Mutex::new(Vec::new())));
    a.subscribe(heard_a.clone());
    b.subscribe(heard_b.clone());
    // Both listeners are up once their connect-time flush arrived.
    wait_for(&heard_a, &Change::All);
    wait_for(&heard_b, &Change::All);
    heard_a.0.lock().clear();
    heard_b.0.lock().clear();
    a.apply(vec![Write::InsertKey(key("k1"))]).unwrap();
    wait_for(&heard_b, &Change::Key("k1".into()));
    a.apply(vec![Write::InsertGrant(GrantRecord {
        grant_id: "g".into(),
        key_id: "k1".into(),
        name: None,
        grantee: "x".into(),
        retiring: None,
        issuing_account: "1".into(),
        operations: "[]".into(),
        constraints: None,
        created_ms: 1,
    })])
    .unwrap();
    wait_for(&heard_b, &Change::Grants("k1".into()));
    heard_b.0.lock().clear();
    // A revoked grant names its key, not "everything".
    a.apply(vec![Write::DeleteGrant {
        grant_id: "g".into(),
    }])
    .unwrap();
    wait_for(&heard_b, &Change::Grants("k1".into()));
    assert!(!heard_b.0.lock().contains(&Change::All));
    // The writer's own caches were updated by the writer itself.
    std::thread::sleep(Duration::from_millis(100));
    assert!(!heard_a.0.lock().contains(&Change::Key("k1".into())));
    // A lost connection is a flush: nothing heard meanwhile can be trusted.
    heard_b.0.lock().clear();
    db.terminate_connections().unwrap();
    wait_for(&heard_b, &Change::All);
}
