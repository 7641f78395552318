//! The embedded SQLite store: WAL journal, `synchronous=FULL`, versioned migrations.

use crate::*;
use parking_lot::{Condvar, Mutex};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use std::path::Path;
use std::sync::{mpsc, Arc};

mod apply;
mod backup;
mod custom_key_stores;
mod migrations;
pub use backup::{backup_database, check_database};
use migrations::MIGRATIONS;

/// A [`Store`] in one SQLite database file.
///
/// Reads share one connection; writes go to a dedicated writer thread that commits
/// every batch waiting at that moment in one transaction (group commit: one fsync for
/// many concurrent mutations), each batch inside its own savepoint so that one failing
/// batch does not affect the others. [`Store::apply`] returns once its batch is durable.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    writer: Arc<Writer>,
}

struct Pending {
    batch: Vec<Write>,
    done: mpsc::SyncSender<StoreResult<()>>,
}

#[derive(Default)]
struct Writer {
    queue: Mutex<(Vec<Pending>, bool)>,
    wake: Condvar,
    /// Held by a test to keep the writer from taking the queue, so batches gather.
    #[cfg(test)]
    gate: Mutex<()>,
    /// Transactions committed (tests).
    #[cfg(test)]
    commits: std::sync::atomic::AtomicU64,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.writer.queue.lock().1 = true;
        self.writer.wake.notify_all();
    }
}

/// See [`SqliteStore::open`]: at most about 16 MiB of WAL (4 KiB pages).
const WAL_CHECKPOINT_PAGES: i64 = 4000;

fn open_connection(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Room for every statement the store runs, so none is parsed twice.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// The writer thread: takes everything queued and commits it in one transaction (one
/// fsync), each caller's batch in its own savepoint. A batch sees the batches before it
/// in the round (revision checks, limits); a failing batch rolls back only its own
/// writes and its error goes only to its caller; nobody hears `Ok` before the COMMIT
/// returned. If the round's transaction itself fails, every batch of it fails.
fn write_loop(mut conn: Connection, writer: Arc<Writer>) {
    loop {
        {
            let mut q = writer.queue.lock();
            while q.0.is_empty() && !q.1 {
                writer.wake.wait(&mut q);
            }
            if q.0.is_empty() {
                return;
            }
        }
        #[cfg(test)]
        let held = writer.gate.lock();
        let pending = std::mem::take(&mut writer.queue.lock().0);
        #[cfg(test)]
        drop(held);
        let outcome = commit_round(&mut conn, &pending);
        #[cfg(test)]
        if outcome.is_ok() {
            writer
                .commits
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        match outcome {
            Ok(results) => {
                for (p, r) in pending.into_iter().zip(results) {
                    let _ = p.done.send(r);
                }
            }
            Err(e) => {
                for p in pending {
                    let _ = p.done.send(Err(e.clone()));
                }
            }
        }
    }
}

/// One round of [`write_loop`]: every batch's own result, once the COMMIT is durable.
fn commit_round(conn: &mut Connection, pending: &[Pending]) -> StoreResult<Vec<StoreResult<()>>> {
    let mut results = Vec::with_capacity(pending.len());
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Each batch in a savepoint of its own, whose three statements are prepared once
    // (rusqlite's `Savepoint` parses them anew for every batch).
    let step = |sql: &str| tx.prepare_cached(sql).and_then(|mut s| s.execute([]));
    for p in pending {
        step("SAVEPOINT batch")?;
        let r = apply::check_generations(&tx, &p.batch)
            .and_then(|()| p.batch.iter().try_for_each(|w| apply::apply_one(&tx, w)));
        if r.is_err() {
            step("ROLLBACK TO batch")?;
        }
        // RELEASE: keeps what the batch wrote, or nothing after the rollback.
        step("RELEASE batch")?;
        if r.is_err() {
            // Some errors (I/O, a full disk) make SQLite roll the whole transaction
            // back: the batches before this one are gone, so the round fails.
            if tx.is_autocommit() {
                return Err(StoreError::Backend(format!(
                    "the write transaction was rolled back: {}",
                    r.err().map(|e| e.to_string()).unwrap_or_default()
                )));
            }
        }
        results.push(r);
    }
    tx.commit()?;
    Ok(results)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let writer = Arc::new(Writer::default());
        let store = Self {
            conn: Mutex::new(open_connection(path)?),
            writer: writer.clone(),
        };
        store.migrate()?;
        let write_conn = open_connection(path)?;
        // The writer checkpoints the WAL inside the COMMIT that crosses this many pages
        // (SQLite's default is 1,000): a busy writer rewrites the same index pages again
        // and again, and each checkpoint copies them once however often they were
        // written, while commits wait behind it.
        write_conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)?;
        std::thread::Builder::new()
            .name("tresor-sqlite-writer".into())
            .spawn(move || write_loop(write_conn, writer))
            .map_err(|e| StoreError::Backend(format!("starting the writer thread: {e}")))?;
        Ok(store)
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> StoreResult<usize> {
        let conn = self.conn.lock();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok(usize::try_from(v).unwrap_or(0))
    }

    fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let current = usize::try_from(current).unwrap_or(0);
        if current > MIGRATIONS.len() {
            return Err(StoreError::Backend(format!(
                "database schema version {current} is newer than this tresor ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
            tx.execute_batch(sql)?;
            tx.pragma_update(
                None,
                "user_version",
                i64::try_from(i + 1).unwrap_or(i64::MAX),
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

const KEY_COLUMNS: &str =
    "key_id, account, region, created_ms, description, key_spec, key_usage, origin, \
     key_state, deletion_ms, pending_window_days, current_version, policy, revision, public_key, rotation_enabled, rotation_period_days, \
     next_rotation_ms, on_demand_rotations, valid_to_ms, expiration_model, imported_material_id, \
     primary_region, custom_key_store_id, xks_key_id";

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        key_id: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        created_ms: r.get(3)?,
        description: r.get(4)?,
        key_spec: r.get(5)?,
        key_usage: r.get(6)?,
        origin: r.get(7)?,
        key_state: r.get(8)?,
        deletion_ms: r.get(9)?,
        pending_window_days: r.get(10)?,
        current_version: r.get(11)?,
        policy: r.get(12)?,
        revision: r.get(13)?,
        public_key: r.get(14)?,
        rotation_enabled: r.get(15)?,
        rotation_period_days: r.get(16)?,
        next_rotation_ms: r.get(17)?,
        on_demand_rotations: r.get(18)?,
        valid_to_ms: r.get(19)?,
        expiration_model: r.get(20)?,
        imported_material_id: r.get(21)?,
        primary_region: r.get(22)?,
        custom_key_store_id: r.get(23)?,
        xks_key_id: r.get(24)?,
    })
}

fn alias_from_row(r: &Row<'_>) -> rusqlite::Result<AliasRecord> {
    Ok(AliasRecord {
        account: r.get(0)?,
        region: r.get(1)?,
        name: r.get(2)?,
        target_key_id: r.get(3)?,
        created_ms: r.get(4)?,
        updated_ms: r.get(5)?,
    })
}

fn principal_from_row(r: &Row<'_>) -> rusqlite::Result<PrincipalRecord> {
    Ok(PrincipalRecord {
        arn: r.get(0)?,
        account: r.get(1)?,
        name: r.get(2)?,
        enabled: r.get(3)?,
        created_ms: r.get(4)?,
    })
}

impl SqliteStore {
    fn grants_where(&self, condition: &str, value: &str) -> StoreResult<Vec<GrantRecord>> {
        let conn = self.conn.lock();
        let sql = format!(
            "SELECT grant_id, key_id, name, grantee, retiring, issuing_account, operations, constraints, created_ms \
             FROM grants WHERE {condition} ORDER BY created_ms, grant_id"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([value], |r| {
            Ok(GrantRecord {
                grant_id: r.get(0)?,
                key_id: r.get(1)?,
                name: r.get(2)?,
                grantee: r.get(3)?,
                retiring: r.get(4)?,
                issuing_account: r.get(5)?,
                operations: r.get(6)?,
                constraints: r.get(7)?,
                created_ms: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Builds the [`WrappedRef`] of a row from its id.
type RefOf = fn(String) -> WrappedRef;

fn limit_i64(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl Store for SqliteStore {
    fn key(&self, key_id: &str) -> StoreResult<Option<KeyRecord>> {
        let conn = self.conn.lock();
        let sql = format!("SELECT {KEY_COLUMNS} FROM keys WHERE key_id = ?1");
        Ok(conn.query_row(&sql, [key_id], key_from_row).optional()?)
    }

    fn multi_region_keys(&self, mrk_id: &str) -> StoreResult<Vec<KeyRecord>> {
        let conn = self.conn.lock();
        // Every Region's record is stored as `mrk_id@REGION`: a range of the primary key.
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE key_id > ?1 AND key_id < ?2 ORDER BY region"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![format!("{mrk_id}@"), format!("{mrk_id}A")],
            key_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn list_keys(
        &self,
        account: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<KeyRecord>> {
        let conn = self.conn.lock();
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE account = ?1 AND region = ?2 AND key_id > ?3 ORDER BY key_id LIMIT ?4"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![account, region, after.unwrap_or(""), limit_i64(limit)],
            key_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn keys_due_for_deletion(&self, now_ms: i64) -> StoreResult<Vec<KeyRecord>> {
        let conn = self.conn.lock();
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE deletion_ms IS NOT NULL AND deletion_ms <= ?1 AND key_state = 'PendingDeletion'"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([now_ms], key_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn keys_due_for_rotation(&self, now_ms: i64) -> StoreResult<Vec<KeyRecord>> {
        let conn = self.conn.lock();
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE rotation_enabled = 1 AND next_rotation_ms <= ?1 AND key_state = 'Enabled'"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([now_ms], key_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn keys_in_transition(&self) -> StoreResult<Vec<KeyRecord>> {
        let conn = self.conn.lock();
        let sql =
            format!("SELECT {KEY_COLUMNS} FROM keys WHERE key_state IN ('Creating', 'Updating')");
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], key_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn keys_with_expired_material(&self, now_ms: i64) -> StoreResult<Vec<KeyRecord>> {
        let conn = self.conn.lock();
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE EXISTS (SELECT 1 FROM materials m \
             WHERE m.key_id = keys.key_id AND m.valid_to_ms IS NOT NULL AND m.valid_to_ms <= ?1 \
             AND length(m.wrapped) > 0)"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([now_ms], key_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn import_token(&self, token_id: &str) -> StoreResult<Option<ImportTokenRecord>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                "SELECT token_id, key_id, wrapping_algorithm, wrapping_key_spec, wrapped_private_key, expires_ms, root_generation \
                 FROM import_tokens WHERE token_id = ?1",
                [token_id],
                |r| {
                    Ok(ImportTokenRecord {
                        token_id: r.get(0)?,
                        key_id: r.get(1)?,
                        wrapping_algorithm: r.get(2)?,
                        wrapping_key_spec: r.get(3)?,
                        wrapped_private_key: r.get(4)?,
                        expires_ms: r.get(5)?,
                        root_generation: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }

    fn materials(&self, key_id: &str) -> StoreResult<Vec<MaterialRecord>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT key_id, version, material_id, wrapped, created_ms, rotation_type, root_generation, \
             description, valid_to_ms, expiration_model FROM materials WHERE key_id = ?1 ORDER BY version",
        )?;
        let rows = stmt.query_map([key_id], |r| {
            Ok(MaterialRecord {
                key_id: r.get(0)?,
                version: r.get(1)?,
                material_id: r.get(2)?,
                wrapped: r.get(3)?,
                created_ms: r.get(4)?,
                rotation_type: r.get(5)?,
                root_generation: r.get(6)?,
                description: r.get(7)?,
                valid_to_ms: r.get(8)?,
                expiration_model: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn alias(&self, account: &str, region: &str, name: &str) -> StoreResult<Option<AliasRecord>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                "SELECT account, region, name, target_key_id, created_ms, updated_ms FROM aliases \
                 WHERE account = ?1 AND region = ?2 AND name = ?3",
                [account, region, name],
                alias_from_row,
            )
            .optional()?)
    }

    fn list_aliases(
        &self,
        account: &str,
        region: &str,
        target_key_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AliasRecord>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT account, region, name, target_key_id, created_ms, updated_ms FROM aliases \
             WHERE account = ?1 AND region = ?2 AND (?3 IS NULL OR target_key_id = ?3) AND name > ?4 \
             ORDER BY name LIMIT ?5",
        )?;
        let rows = stmt.query_map(
            params![
                account,
                region,
                target_key_id,
                after.unwrap_or(""),
                limit_i64(limit)
            ],
            alias_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn key_count(&self) -> StoreResult<u64> {
        let conn = self.conn.lock();
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM keys", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn alias_count(&self, key_id: &str) -> StoreResult<usize> {
        let conn = self.conn.lock();
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM aliases WHERE target_key_id = ?1",
            [key_id],
            |r| r.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn tags(&self, key_id: &str) -> StoreResult<Vec<TagRecord>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT tag_key, tag_value FROM tags WHERE key_id = ?1 ORDER BY tag_key",
        )?;
        let rows = stmt.query_map([key_id], |r| {
            Ok(TagRecord {
                key: r.get(0)?,
                value: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                "SELECT access_key_id, account, principal_arn, wrapped_secret, enabled, created_ms, operator, root_generation, xks_proxy \
                 FROM access_keys WHERE access_key_id = ?1",
                [access_key_id],
                access_key_from_row,
            )
            .optional()?)
    }

    fn access_keys_of(&self, principal_arn: &str) -> StoreResult<Vec<AccessKeyRecord>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT access_key_id, account, principal_arn, wrapped_secret, enabled, created_ms, operator, root_generation, xks_proxy \
             FROM access_keys WHERE principal_arn = ?1 ORDER BY created_ms, access_key_id",
        )?;
        let rows = stmt.query_map([principal_arn], access_key_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn principal(&self, arn: &str) -> StoreResult<Option<PrincipalRecord>> {
        let conn = self.conn.lock();
        Ok(conn
            .query_row(
                "SELECT arn, account, name, enabled, created_ms FROM principals WHERE arn = ?1",
                [arn],
                principal_from_row,
            )
            .optional()?)
    }

    fn list_principals(&self, account: &str) -> StoreResult<Vec<PrincipalRecord>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT arn, account, name, enabled, created_ms FROM principals WHERE account = ?1 ORDER BY name",
        )?;
        let rows = stmt.query_map([account], principal_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn principal_policies(&self, principal_arn: &str) -> StoreResult<Vec<PrincipalPolicyRecord>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT principal_arn, name, document FROM principal_policies WHERE principal_arn = ?1 ORDER BY name",
        )?;
        let rows = stmt.query_map([principal_arn], |r| {
            Ok(PrincipalPolicyRecord {
                principal_arn: r.get(0)?,
                name: r.get(1)?,
                document: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn grants_for_key(&self, key_id: &str) -> StoreResult<Vec<GrantRecord>> {
        self.grants_where("key_id = ?1", key_id)
    }

    fn grants_retirable_by(&self, principal_arn: &str) -> StoreResult<Vec<GrantRecord>> {
        self.grants_where("retiring = ?1", principal_arn)
    }

    fn grant(&self, grant_id: &str) -> StoreResult<Option<GrantRecord>> {
        Ok(self
            .grants_where("grant_id = ?1", grant_id)?
            .into_iter()
            .next())
    }

    fn root_generations(&self) -> StoreResult<Vec<RootGenerationRecord>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT generation, check_value, wrapped_fingerprint_seed, wrapped_previous, created_ms \
             FROM root_generations ORDER BY generation",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RootGenerationRecord {
                generation: r.get(0)?,
                check: r.get(1)?,
                wrapped_fingerprint_seed: r.get(2)?,
                wrapped_previous: r.get(3)?,
                created_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn seals(&self) -> StoreResult<Vec<SealRecord>> {
        let conn = self.conn.lock();
        let mut stmt = conn
            .prepare_cached("SELECT revision, document, created_ms FROM seals ORDER BY revision")?;
        let rows = stmt.query_map([], |r| {
            Ok(SealRecord {
                revision: r.get(0)?,
                document: r.get(1)?,
                created_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn key_usage(&self, key_id: &str) -> StoreResult<Option<KeyUsageRecord>> {
        let conn = self.conn.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT key_id, operation, time_ms, event_id, request_id FROM key_usage WHERE key_id = ?1",
        )?;
        Ok(stmt
            .query_row([key_id], |r| {
                Ok(KeyUsageRecord {
                    key_id: r.get(0)?,
                    operation: r.get(1)?,
                    time_ms: r.get(2)?,
                    event_id: r.get(3)?,
                    request_id: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn usage_tracking_start(&self) -> StoreResult<Option<i64>> {
        let conn = self.conn.lock();
        let mut stmt =
            conn.prepare_cached("SELECT started_ms FROM key_usage_tracking WHERE id = 1")?;
        Ok(stmt.query_row([], |r| r.get(0)).optional()?)
    }

    fn wrapped_under(&self, generation: u32, limit: usize) -> StoreResult<Vec<WrappedValue>> {
        let conn = self.conn.lock();
        let limit = limit_i64(limit);
        let mut out = Vec::new();
        let mut stmt = conn.prepare_cached(
            "SELECT m.key_id, k.account, k.region, m.version, m.wrapped FROM materials m \
             JOIN keys k ON k.key_id = m.key_id WHERE m.root_generation = ?1 AND length(m.wrapped) > 0 LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![generation, limit], |r| {
            Ok(WrappedValue {
                target: WrappedRef::Material {
                    key_id: r.get(0)?,
                    account: r.get(1)?,
                    region: r.get(2)?,
                    version: r.get(3)?,
                },
                wrapped: r.get(4)?,
                root_generation: generation,
            })
        })?;
        for row in rows {
            out.push(row?);
        }
        let tables: [(&str, RefOf); 3] = [
            ("SELECT access_key_id, wrapped_secret FROM access_keys WHERE root_generation = ?1 LIMIT ?2",
             |access_key_id| WrappedRef::AccessKey { access_key_id }),
            ("SELECT token_id, wrapped_private_key FROM import_tokens WHERE root_generation = ?1 LIMIT ?2",
             |token_id| WrappedRef::ImportToken { token_id }),
            ("SELECT id, wrapped_secret FROM custom_key_stores WHERE root_generation = ?1 LIMIT ?2",
             |id| WrappedRef::CustomKeyStore { id }),
        ];
        for (sql, target) in tables {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map(params![generation, limit], |r| {
                let id: String = r.get(0)?;
                Ok(WrappedValue {
                    target: target(id),
                    wrapped: r.get(1)?,
                    root_generation: generation,
                })
            })?;
            for row in rows {
                out.push(row?);
            }
        }
        Ok(out)
    }

    fn custom_key_store(&self, id: &str) -> StoreResult<Option<CustomKeyStoreRecord>> {
        custom_key_stores::get(&self.conn.lock(), id)
    }

    fn custom_key_stores(
        &self,
        account: &str,
        region: &str,
    ) -> StoreResult<Vec<CustomKeyStoreRecord>> {
        custom_key_stores::list(&self.conn.lock(), account, region)
    }

    fn custom_key_store_key_count(&self, id: &str) -> StoreResult<u64> {
        custom_key_stores::key_count(&self.conn.lock(), id)
    }

    fn apply(&self, batch: Vec<Write>) -> StoreResult<()> {
        let (done, result) = mpsc::sync_channel(1);
        {
            let mut q = self.writer.queue.lock();
            q.0.push(Pending { batch, done });
        }
        self.writer.wake.notify_one();
        result
            .recv()
            .map_err(|_| StoreError::Backend("the writer thread stopped".into()))?
    }
}

pub(super) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn access_key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccessKeyRecord> {
    Ok(AccessKeyRecord {
        access_key_id: r.get(0)?,
        account: r.get(1)?,
        principal_arn: r.get(2)?,
        wrapped_secret: r.get(3)?,
        enabled: r.get(4)?,
        created_ms: r.get(5)?,
        operator: r.get(6)?,
        root_generation: r.get(7)?,
        xks_proxy: r.get(8)?,
    })
}

#[cfg(test)]
mod tests;
