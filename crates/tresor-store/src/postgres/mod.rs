//! The PostgreSQL store: many stateless Tresor nodes share one database.
//!
//! The [`Store`] trait is synchronous and is called from blocking threads and, at
//! start-up, from async code. The store therefore owns a small tokio runtime of its
//! own that drives tokio-postgres connections from a deadpool pool (and the LISTEN
//! connection); a call sends its future there and waits on a std channel, which works
//! from any thread. Every call is bounded by a timeout so an unreachable database is
//! [`StoreError::Unavailable`] within a known time, never a hang.

use crate::changes::{ChangeSink, SharedSink};
use crate::*;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::Row;

mod apply;
mod listen;
mod migrations;
mod reads;
mod tls;
pub use listen::{POLL, POLL_TIMEOUT};
use migrations::MIGRATIONS;
use tls::{split_url, MakeRustls};

/// The advisory lock nodes take while migrating ("tresor" in ASCII).
const MIGRATION_LOCK: i64 = 0x7472_6573_6f72;
/// The advisory lock nodes hold while bootstrapping shared state at start-up.
const STARTUP_LOCK: i64 = 0x7472_6573_6f73;
/// The notification channel carrying cache invalidations.
const CHANNEL: &str = "tresor_changes";

/// How long one storage call may take before it is reported unavailable.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for a connection (from the pool or a new one).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

type Param = Box<dyn ToSql + Sync + Send>;

/// A [`Store`] in a PostgreSQL database.
pub struct PostgresStore {
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    pool: Pool,
    config: tokio_postgres::Config,
    tls: MakeRustls,
    node_id: String,
    sink: Arc<Mutex<Option<SharedSink>>>,
    listening: Mutex<bool>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Allowed from any context, async or not.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn pg_err(e: tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::Duplicate(
            e.as_db_error()
                .and_then(|d| d.constraint())
                .unwrap_or("record")
                .to_string(),
        ),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => {
            StoreError::Conflict("a concurrent transaction".into())
        }
        Some(c)
            if *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || *c == SqlState::TOO_MANY_CONNECTIONS =>
        {
            StoreError::Unavailable(e.to_string())
        }
        Some(_) => StoreError::Backend(e.to_string()),
        // No SQLSTATE: the connection failed or closed; the causes say why (a TLS
        // refusal, a refused connection).
        None => StoreError::Unavailable(with_causes(&e)),
    }
}

/// `e` and the errors under it, `: `-separated.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_err(e),
        other => StoreError::Unavailable(format!("no database connection: {other}")),
    }
}

/// Column `i` of `row` as `T`.
fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> StoreResult<T> {
    row.try_get(i)
        .map_err(|e| StoreError::Backend(format!("column {i}: {e}")))
}

/// An unsigned 32-bit column (stored as BIGINT).
fn get_u32(row: &Row, i: usize) -> StoreResult<u32> {
    let v: i64 = get(row, i)?;
    u32::try_from(v).map_err(|_| StoreError::Backend(format!("column {i} out of range: {v}")))
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`, with
    /// libpq's `sslmode` and `sslrootcert` parameters: see `postgres/tls.rs`) and migrates it
    /// under an advisory lock.
    pub fn open(url: &str) -> StoreResult<Self> {
        let (url, tls_options) = split_url(url)?;
        let (ssl_mode, connector) = tls::connector(&tls_options)?;
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Backend(format!("invalid PostgreSQL URL: {}", with_causes(&e)))
        })?;
        config.ssl_mode(ssl_mode);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.keepalives_idle(Duration::from_secs(10));
        if config.get_application_name().is_none() {
            config.application_name("tresor");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tresor-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("starting the PostgreSQL runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let manager = Manager::from_config(
            config.clone(),
            connector.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(32)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Backend(format!("building the connection pool: {e}")))?;
        let store = Self {
            runtime: Some(runtime),
            handle,
            pool,
            config,
            tls: connector,
            node_id: uuid::Uuid::new_v4().simple().to_string(),
            sink: Arc::new(Mutex::new(None)),
            listening: Mutex::new(false),
        };
        store.migrate()?;
        Ok(store)
    }

    /// This process's id in the change notifications it sends (its own are ignored).
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Runs `fut` on the store's runtime and waits for it, at most [`CALL_TIMEOUT`].
    fn run<T, F>(&self, fut: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: Future<Output = StoreResult<T>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let r = match tokio::time::timeout(CALL_TIMEOUT, fut).await {
                Ok(r) => r,
                Err(_) => Err(StoreError::Unavailable(format!(
                    "PostgreSQL did not answer within {} s",
                    CALL_TIMEOUT.as_secs()
                ))),
            };
            let _ = tx.send(r);
        });
        rx.recv()
            .map_err(|_| StoreError::Unavailable("the PostgreSQL runtime stopped".into()))?
    }

    /// Rows of a read. A read that fails because its pooled connection had died is
    /// tried once more on a fresh one.
    fn query(&self, sql: &'static str, params: Vec<Param>) -> StoreResult<Vec<Row>> {
        let pool = self.pool.clone();
        self.run(async move {
            let mut last = None;
            for _ in 0..2 {
                let client = pool.get().await.map_err(pool_err)?;
                let stmt = match client.prepare_cached(sql).await {
                    Ok(s) => s,
                    Err(e) => {
                        let e = pg_err(e);
                        if matches!(e, StoreError::Unavailable(_)) {
                            last = Some(e);
                            continue;
                        }
                        return Err(e);
                    }
                };
                let refs: Vec<&(dyn ToSql + Sync)> = params
                    .iter()
                    .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                    .collect();
                match client.query(&stmt, &refs).await {
                    Ok(rows) => return Ok(rows),
                    Err(e) => {
                        let e = pg_err(e);
                        if !matches!(e, StoreError::Unavailable(_)) {
                            return Err(e);
                        }
                        last = Some(e);
                    }
                }
            }
            Err(last.unwrap_or_else(|| StoreError::Unavailable("no connection".into())))
        })
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> StoreResult<usize> {
        let rows = self.query("SELECT version FROM tresor_schema", Vec::new())?;
        let v: i64 = match rows.first() {
            Some(r) => get(r, 0)?,
            None => 0,
        };
        Ok(usize::try_from(v).unwrap_or(0))
    }

    fn migrate(&self) -> StoreResult<()> {
        let pool = self.pool.clone();
        self.run(async move {
            let mut client = pool.get().await.map_err(pool_err)?;
            let tx = client.transaction().await.map_err(pg_err)?;
            // Held until commit: nodes starting together migrate one after another.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await
                .map_err(pg_err)?;
            tx.batch_execute("CREATE TABLE IF NOT EXISTS tresor_schema (version BIGINT NOT NULL)")
                .await
                .map_err(pg_err)?;
            let current: i64 = match tx
                .query_opt("SELECT version FROM tresor_schema", &[])
                .await
                .map_err(pg_err)?
            {
                Some(r) => get(&r, 0)?,
                None => {
                    tx.execute("INSERT INTO tresor_schema (version) VALUES (0)", &[])
                        .await
                        .map_err(pg_err)?;
                    0
                }
            };
            let current = usize::try_from(current).unwrap_or(0);
            if current > MIGRATIONS.len() {
                return Err(StoreError::Backend(format!(
                    "database schema version {current} is newer than this tresor ({})",
                    MIGRATIONS.len()
                )));
            }
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
                tx.batch_execute(sql).await.map_err(pg_err)?;
                let v = i64::try_from(i + 1).unwrap_or(i64::MAX);
                tx.execute("UPDATE tresor_schema SET version = $1", &[&v])
                    .await
                    .map_err(pg_err)?;
            }
            tx.commit().await.map_err(pg_err)?;
            Ok(())
        })
    }

    /// Runs `f` holding the cluster-wide start-up lock (a session advisory lock on a
    /// connection of its own), so that nodes starting together bootstrap shared state
    /// (the first root generation, the dev account) one after another.
    pub fn with_startup_lock<T>(&self, f: impl FnOnce() -> T) -> StoreResult<T> {
        let pool = self.pool.clone();
        let client = self.run(async move {
            let client = pool.get().await.map_err(pool_err)?;
            client
                .execute("SELECT pg_advisory_lock($1)", &[&STARTUP_LOCK])
                .await
                .map_err(pg_err)?;
            Ok(client)
        })?;
        let out = f();
        self.run(async move {
            client
                .execute("SELECT pg_advisory_unlock($1)", &[&STARTUP_LOCK])
                .await
                .map_err(pg_err)?;
            Ok(())
        })?;
        Ok(out)
    }

    /// The value shared by every node under `name`: the one stored, or else `value`,
    /// stored now. Of nodes racing to store one, the first wins and all get its value.
    pub fn shared_value_or_insert(
        &self,
        name: &str,
        value: Vec<u8>,
        now_ms: i64,
    ) -> StoreResult<Vec<u8>> {
        let pool = self.pool.clone();
        let name = name.to_string();
        self.run(async move {
            let client = pool.get().await.map_err(pool_err)?;
            client
                .execute(
                    "INSERT INTO shared_values (name, value, created_ms) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO NOTHING",
                    &[&name, &value, &now_ms],
                )
                .await
                .map_err(pg_err)?;
            let row = client
                .query_one("SELECT value FROM shared_values WHERE name = $1", &[&name])
                .await
                .map_err(pg_err)?;
            get(&row, 0)
        })
    }

    /// The value shared under `name`, if one was stored.
    pub fn shared_value(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        let rows = self.query(
            "SELECT value FROM shared_values WHERE name = $1",
            vec![Box::new(name.to_string())],
        )?;
        rows.first().map(|r| get(r, 0)).transpose()
    }
}

impl ChangeSink for Mutex<Option<SharedSink>> {
    fn changed(&self, changes: &[crate::Change]) {
        let sink = self.lock().clone();
        if let Some(s) = sink {
            s.changed(changes);
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;
