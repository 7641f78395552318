//! The deployment's seal in the database: every node of a shared database unseals the
//! same root key.
//!
//! The database keeps each revision of the seal file (`seal.json`: the sealed root key,
//! its check value, the sealer's configuration) in `seals`; the highest is current.
//! `tresor init` (or the first start of a data directory made before this) writes
//! revision 1 with a conditional insert; a rekey or root rotation adds the next
//! revision with a revision check. A node's own `seal.json` is a copy the sealers read:
//! made from the database when missing, replaced when it is an older revision, and
//! refused when it is no revision of this database's seal (another deployment's).
//! SQLite works the same way (its seal file is copied into the database on first
//! start), so a data directory and its database cannot drift apart unnoticed.

use std::path::Path;
use tresor_seal::{SealError, SealFile};
use tresor_store::{SealRecord, Store, StoreError, Write};

/// What [`sync`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synced {
    /// Neither the directory nor the database has a seal.
    Uninitialized,
    /// The directory's seal file is the database's current revision (`revision`).
    Current {
        /// The revision in use.
        revision: i64,
    },
}

/// Makes `dir/seal.json` the database's current seal: writes the directory's seal into
/// an empty database, writes the database's into a directory without one, replaces an
/// older revision, and refuses a seal file that is not this database's.
pub fn sync(dir: &Path, store: &dyn Store, now_ms: i64) -> Result<Synced, String> {
    // Twice at most: a node that loses the race for revision 1 then compares.
    for _ in 0..2 {
        let seals = store
            .seals()
            .map_err(|e| format!("reading the seal: {e}"))?;
        let local = match SealFile::read(dir) {
            Ok(f) => Some(f),
            Err(SealError::NotInitialized(_)) => None,
            Err(e) => return Err(e.to_string()),
        };
        let Some(current) = seals.last() else {
            let Some(local) = local else {
                return Ok(Synced::Uninitialized);
            };
            let record = SealRecord {
                revision: 1,
                document: local.to_json().map_err(|e| e.to_string())?,
                created_ms: now_ms,
            };
            match store.apply(vec![Write::InsertSeal(record)]) {
                Ok(()) => {
                    tracing::info!("the seal file is now the database's seal (revision 1)");
                    return Ok(Synced::Current { revision: 1 });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(format!("storing the seal: {e}")),
            }
        };
        let db = parse(current)?;
        match local {
            Some(f) if f == db => {}
            Some(f) if !seals.iter().any(|s| parse(s).is_ok_and(|old| old == f)) => {
                return Err(format!(
                    "{} is not this database's seal (a seal file from another deployment, or \
                     another database): remove it to use the database's seal, or give the \
                     --store this data directory was initialized with",
                    SealFile::path_in(dir).display()
                ));
            }
            Some(_) => {
                tracing::info!(
                    revision = current.revision,
                    "the seal file is an older revision of the database's seal; replacing it"
                );
                db.write(dir, true).map_err(|e| e.to_string())?;
            }
            None => {
                tracing::info!(
                    revision = current.revision,
                    "writing the database's seal into the data directory"
                );
                db.write(dir, false).map_err(|e| e.to_string())?;
            }
        }
        return Ok(Synced::Current {
            revision: current.revision,
        });
    }
    Err("the seal changed twice while starting; start again".into())
}

/// Makes `tmp/seal.json` (a new seal a rekey or root rotation wrote there) the
/// database's next revision after `revision`, then this directory's seal file. A
/// `Conflict` means another node changed the seal first; nothing was replaced.
pub fn publish(
    dir: &Path,
    tmp: &Path,
    store: &dyn Store,
    revision: i64,
    now_ms: i64,
) -> Result<i64, String> {
    let fresh = SealFile::read(tmp).map_err(|e| e.to_string())?;
    let next = revision + 1;
    let record = SealRecord {
        revision: next,
        document: fresh.to_json().map_err(|e| e.to_string())?,
        created_ms: now_ms,
    };
    store.apply(vec![Write::InsertSeal(record)]).map_err(|e| match e {
        StoreError::Conflict(_) => format!(
            "another node changed the seal first (revision {next} exists); restart this node to use it"
        ),
        other => format!("storing the seal: {other}"),
    })?;
    // The database has it: a crash from here leaves an older revision on disk, which
    // the next start replaces.
    std::fs::rename(SealFile::path_in(tmp), SealFile::path_in(dir))
        .and_then(|()| std::fs::File::open(dir)?.sync_all())
        .map_err(|e| format!("replacing {}: {e}", SealFile::path_in(dir).display()))?;
    Ok(next)
}

/// A fresh directory next to `dir/seal.json` holding a copy of it, for a sealer to
/// rewrite before [`publish`].
pub fn staging(dir: &Path) -> Result<std::path::PathBuf, String> {
    let tmp = dir.join(".seal-next");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::copy(SealFile::path_in(dir), SealFile::path_in(&tmp))
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    Ok(tmp)
}

fn parse(record: &SealRecord) -> Result<SealFile, String> {
    SealFile::parse(record.document.as_bytes())
        .map_err(|e| format!("the database's seal (revision {}): {e}", record.revision))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tresor_seal::shamir::{ShamirParams, ShamirSealer};
    use tresor_seal::Sealer;

    fn shamir_dir() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        ShamirSealer::new(ShamirParams::new(3, 2).unwrap())
            .init(d.path(), None)
            .unwrap();
        d
    }

    #[test]
    fn the_first_seal_is_stored_copied_replaced_and_a_foreign_one_refused() {
        let db = tempfile::tempdir().unwrap();
        let store = tresor_store::SqliteStore::open(&db.path().join("t.sqlite")).unwrap();
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            sync(empty.path(), &store, 1).unwrap(),
            Synced::Uninitialized
        );
        let a = shamir_dir();
        assert_eq!(
            sync(a.path(), &store, 1).unwrap(),
            Synced::Current { revision: 1 }
        );
        // A directory without a seal gets the database's.
        assert_eq!(
            sync(empty.path(), &store, 2).unwrap(),
            Synced::Current { revision: 1 }
        );
        assert_eq!(
            SealFile::read(empty.path()).unwrap(),
            SealFile::read(a.path()).unwrap()
        );
        // Another deployment's seal is refused, and left alone.
        let other = shamir_dir();
        let before = SealFile::read(other.path()).unwrap();
        let e = sync(other.path(), &store, 3).unwrap_err();
        assert!(e.contains("is not this database's seal"), "{e}");
        assert_eq!(SealFile::read(other.path()).unwrap(), before);
        // A new revision published from one directory replaces the older copy elsewhere.
        let tmp = staging(other.path()).unwrap();
        assert_eq!(publish(a.path(), &tmp, &store, 1, 4).unwrap(), 2);
        assert_eq!(SealFile::read(a.path()).unwrap(), before);
        assert_eq!(
            sync(empty.path(), &store, 5).unwrap(),
            Synced::Current { revision: 2 }
        );
        assert_eq!(SealFile::read(empty.path()).unwrap(), before);
        // Publishing on a stale revision is refused.
        let tmp = staging(a.path()).unwrap();
        let e = publish(a.path(), &tmp, &store, 1, 6).unwrap_err();
        assert!(e.contains("another node changed the seal first"), "{e}");
    }
}
