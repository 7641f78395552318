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
