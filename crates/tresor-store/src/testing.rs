//! Test support: a fresh PostgreSQL database per test, dropped afterwards.
//!
//! The server to use is `TRESOR_TEST_POSTGRES` (a URL of an existing database the
//! user may create databases from, e.g. `postgres://postgres@127.0.0.1:5432/test`).
//! When it is set, an unreachable server fails the test (CI sets it). When it is not
//! set, the machine's default (`postgres://postgres@127.0.0.1:5432/test`) is tried and
//! the test is skipped, with a message, if nothing answers there.

use std::time::Duration;

/// The database tests use when `TRESOR_TEST_POSTGRES` is not set.
pub const DEFAULT_TEST_SERVER: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database made for one test; dropped (connections and all) when this is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL of the new database.
    pub url: String,
    admin_url: String,
    name: String,
}

/// Runs `sql` on `url` from a thread of its own (tests may call from async code).
fn run_sql(url: &str, sql: String) -> Result<(), String> {
    let url = url.to_string();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(admin(&url, &sql))
    })
    .join()
    .map_err(|_| "the admin thread failed".to_string())?
}

async fn admin(url: &str, sql: &str) -> Result<(), String> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
    config.connect_timeout(Duration::from_secs(3));
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    let driver = tokio::spawn(conn);
    let r = client.batch_execute(sql).await.map_err(|e| e.to_string());
    drop(client);
    let _ = driver.await;
    r
}

/// The first column of every row `sql` returns on `url`.
fn query_names(url: &str, sql: &'static str) -> Result<Vec<String>, String> {
    let url = url.to_string();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(async move {
                let mut config: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
                config.connect_timeout(Duration::from_secs(3));
                let (client, conn) = config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(|e| format!("connecting to {url}: {e}"))?;
                let driver = tokio::spawn(conn);
                let rows = client.simple_query(sql).await.map_err(|e| e.to_string());
                drop(client);
                let _ = driver.await;
                Ok(rows?
                    .iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                        _ => None,
                    })
                    .collect())
            })
    })
    .join()
    .map_err(|_| "the admin thread failed".to_string())?
}

/// Where `.ci/run` writes the certificate authority of the test server's TLS.
pub const DEFAULT_TEST_CA: &str = "/var/lib/postgresql/tresor-tls/ca.crt";

/// The CA (PEM) that signed the test server's TLS certificate (for `localhost` and
/// `127.0.0.1`): `TRESOR_TEST_POSTGRES_CA`, else [`DEFAULT_TEST_CA`] when it exists;
/// `None` (after saying so) when the server's TLS is not set up.
pub fn test_server_ca() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("TRESOR_TEST_POSTGRES_CA") {
        return Some(p.into());
    }
    let default = std::path::Path::new(DEFAULT_TEST_CA);
    if default.exists() {
        return Some(default.to_path_buf());
    }
    eprintln!(
        "SKIPPED: no TLS on the test PostgreSQL ({DEFAULT_TEST_CA} is missing; .ci/run sets it up)"
    );
    None
}

/// Prefix of the databases [`TestDatabase::create_for_process`] makes.
const PROCESS_PREFIX: &str = "tresor_proc_";

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (url, String::new()),
    };
    let base = match head.rsplit_once('/') {
        Some((b, _)) if b.contains("://") && b.len() > b.find("://").unwrap_or(0) + 3 => b,
        _ => head,
    };
    format!("{base}/{name}{query}")
}

impl TestDatabase {
    /// A new empty database, or `None` (after saying why) when no server is
    /// configured and none answers at the default address.
    ///
    /// # Panics
    /// When `TRESOR_TEST_POSTGRES` is set and the database cannot be made.
    #[allow(clippy::panic)]
    pub fn create() -> Option<Self> {
        Self::create_named(format!("tresor_test_{}", uuid::Uuid::new_v4().simple()))
    }

    /// Like [`TestDatabase::create`], for a database that may outlive this value's
    /// drop being run (a test harness keeping it in a static until the process
    /// exits): its name carries this process's id, and each call first drops such
    /// databases of processes no longer running, so none are left behind for long.
    pub fn create_for_process() -> Option<Self> {
        let admin_url = std::env::var("TRESOR_TEST_POSTGRES")
            .unwrap_or_else(|_| DEFAULT_TEST_SERVER.to_string());
        let names = query_names(
            &admin_url,
            "SELECT datname FROM pg_database WHERE datname LIKE 'tresor\\_proc\\_%'",
        )
        .unwrap_or_default();
        for name in names {
            let pid = name
                .strip_prefix(PROCESS_PREFIX)
                .and_then(|rest| rest.split('_').next())
                .and_then(|p| p.parse::<u32>().ok());
            let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
            if !alive {
                let _ = run_sql(
                    &admin_url,
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
            }
        }
        Self::create_named(format!(
            "{PROCESS_PREFIX}{}_{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ))
    }

    #[allow(clippy::panic)]
    fn create_named(name: String) -> Option<Self> {
        let configured = std::env::var("TRESOR_TEST_POSTGRES").ok();
        let admin_url = configured
            .clone()
            .unwrap_or_else(|| DEFAULT_TEST_SERVER.to_string());
        let made = run_sql(&admin_url, format!("CREATE DATABASE {name}"));
        match made {
            Ok(()) => Some(Self {
                url: with_database(&admin_url, &name),
                admin_url,
                name,
            }),
            Err(e) if configured.is_some() => {
                panic!("TRESOR_TEST_POSTGRES is set but no test database could be made: {e}")
            }
            Err(e) => {
                eprintln!(
                    "SKIPPED: no PostgreSQL at {admin_url} ({e}); set TRESOR_TEST_POSTGRES to run the PostgreSQL tests"
                );
                None
            }
        }
    }

    /// The store URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `sql` (one or more statements) in this database, e.g. to fill it quickly.
    pub fn execute(&self, sql: &str) -> Result<(), String> {
        run_sql(&self.url, sql.to_string())
    }

    /// Ends every connection to this database (as a failing server would).
    pub fn terminate_connections(&self) -> Result<(), String> {
        let sql = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
            self.name
        );
        run_sql(&self.admin_url, sql)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = run_sql(&self.admin_url, sql) {
            eprintln!("dropping test database {}: {e}", self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
