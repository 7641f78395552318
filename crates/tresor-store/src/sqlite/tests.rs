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

/// Waits until `n` batches are queued for the (held) writer.
fn wait_queued(s: &SqliteStore, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.writer.queue.lock().0.len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{n} batches never queued"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
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

#[test]
fn gathered_batches_commit_together_and_fail_alone() {
    let (dir, s) = open();
    s.apply(vec![Write::InsertKey(key("base"))]).unwrap();
    let mut updated = key("a");
    updated.revision = 2;
    updated.description = "second".into();
    let limit = |n| Write::CheckLimit {
        counted: Counted::AliasesOfKey("a".into()),
        limit: n,
        refusal: "full".into(),
    };
    // In queue order: each sees the ones before it; the failing ones undo only themselves.
    let batches: Vec<Vec<Write>> = vec![
        vec![Write::InsertKey(key("a"))],
        // Sees the insert gathered before it.
        vec![Write::UpdateKey(updated.clone())],
        // Writes, then conflicts (revision 2 is taken): its insert of x is undone.
        vec![
            Write::InsertKey(key("x")),
            Write::UpdateKey(updated.clone()),
        ],
        vec![Write::InsertKey(key("x"))],
        vec![
            Write::InsertAlias(alias("alias/one", "a")),
            Write::InsertAlias(alias("alias/two", "a")),
        ],
        // Counts the two aliases gathered before it.
        vec![limit(2), Write::InsertAlias(alias("alias/three", "a"))],
        vec![Write::InsertKey(key("base"))],
        vec![limit(3), Write::InsertAlias(alias("alias/four", "a"))],
    ];
    let n = batches.len();
    let before = s.writer.commits.load(std::sync::atomic::Ordering::SeqCst);
    let held = s.writer.gate.lock();
    let results: Vec<StoreResult<()>> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (i, batch) in batches.into_iter().enumerate() {
            let s = &s;
            handles.push(scope.spawn(move || s.apply(batch)));
            wait_queued(s, i + 1);
        }
        drop(held);
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.len(), n);
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    assert!(
        matches!(results[2], Err(StoreError::Conflict(_))),
        "{results:?}"
    );
    assert!(results[3].is_ok() && results[4].is_ok(), "{results:?}");
    assert!(
        matches!(&results[5], Err(StoreError::LimitExceeded(m)) if m == "full"),
        "{results:?}"
    );
    assert!(
        matches!(results[6], Err(StoreError::Duplicate(_))),
        "{results:?}"
    );
    assert!(results[7].is_ok(), "{results:?}");
    // All of it in one transaction.
    assert_eq!(
        s.writer.commits.load(std::sync::atomic::Ordering::SeqCst) - before,
        1
    );
    let a = s.key("a").unwrap().unwrap();
    assert_eq!((a.revision, a.description.as_str()), (2, "second"));
    assert!(s.key("x").unwrap().is_some());
    assert_eq!(s.alias_count("a").unwrap(), 3);
    assert!(s
        .alias("111122223333", "us-east-1", "alias/three")
        .unwrap()
        .is_none());
    // Durable: a fresh connection reads the same.
    let path = dir.path().join("t.sqlite");
    drop(s);
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.alias_count("a").unwrap(), 3);
    assert_eq!(reopened.key("a").unwrap().unwrap().revision, 2);
}

#[test]
fn the_wal_is_checkpointed_and_reused_under_steady_commits() {
    let (dir, s) = open();
    let db = dir.path().join("t.sqlite");
    let wal = dir.path().join("t.sqlite-wal");
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let before = size(&db);
    // Each commit writes a few pages: well past one checkpoint's worth in all.
    let bound = u64::try_from(WAL_CHECKPOINT_PAGES).unwrap() * 4096;
    let batch = |i: usize| {
        (0..8)
            .map(|j| Write::InsertKey(key(&format!("k{i}-{j}"))))
            .collect()
    };
    let mut i = 0;
    while size(&db) <= before || i < 2 * usize::try_from(WAL_CHECKPOINT_PAGES).unwrap() / 8 {
        s.apply(batch(i)).unwrap();
        i += 1;
        assert!(i < 20_000, "never checkpointed");
    }
    // The WAL starts over after a checkpoint rather than growing with every commit.
    assert!(
        size(&wal) <= bound + bound / 4,
        "WAL of {} bytes",
        size(&wal)
    );
    drop(s);
    let conn = Connection::open(&db).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, i64::try_from(i * 8).unwrap());
}
