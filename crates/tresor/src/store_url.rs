//! `--store URL`: which database holds the records.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use tresor_core::SecretBytes;
use tresor_crypto::RootKey;
use tresor_store::{PostgresStore, SqliteStore, Store};

/// The database a `--store` URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite file (one node).
    Sqlite(PathBuf),
    /// A PostgreSQL database (any number of nodes).
    Postgres(String),
}

/// The SQLite file in a data directory.
pub const SQLITE_FILE: &str = "tresor.sqlite";

impl StoreUrl {
    /// Parses `--store` (`None`: the data directory's SQLite file).
    pub fn parse(url: Option<&str>, data_dir: &Path) -> Result<Self, String> {
        let Some(url) = url.filter(|u| !u.is_empty()) else {
            return Ok(StoreUrl::Sqlite(data_dir.join(SQLITE_FILE)));
        };
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("--store sqlite:PATH needs a path".into());
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(url.to_string()));
        }
        Err(format!(
            "--store must be sqlite:PATH or postgres://USER@HOST:PORT/DB (got {})",
            redacted(url)
        ))
    }
}

/// `url` without a password, for messages.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = url.get(scheme + 3..at).unwrap_or("");
            match userinfo.split_once(':') {
                Some((user, _)) => format!(
                    "{}{user}:***{}",
                    url.get(..scheme + 3).unwrap_or(""),
                    url.get(at..).unwrap_or("")
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// An open store, and the PostgreSQL one again when it is that (for what only a
/// shared database does).
pub struct OpenStore {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The same store when it is PostgreSQL.
    pub postgres: Option<Arc<PostgresStore>>,
}

/// Opens (and migrates) the store `url` names.
pub fn open(url: &StoreUrl) -> Result<OpenStore, String> {
    match url {
        StoreUrl::Sqlite(path) => Ok(OpenStore {
            store: Arc::new(SqliteStore::open(path).map_err(|e| e.to_string())?),
            postgres: None,
        }),
        StoreUrl::Postgres(u) => {
            let pg = Arc::new(
                PostgresStore::open(u).map_err(|e| format!("opening {}: {e}", redacted(u)))?,
            );
            Ok(OpenStore {
                store: pg.clone(),
                postgres: Some(pg),
            })
        }
    }
}

/// The dev root key of a shared database: stored in it by the first dev node, used
/// by every other. Development only (it is stored as it is, like the dev root key
/// file); production keeps only sealed roots.
pub fn dev_root_in_database(pg: &PostgresStore, now_ms: i64) -> Result<RootKey, String> {
    let fresh = tresor_crypto::random::secret(32).map_err(|e| e.to_string())?;
    let stored = pg
        .shared_value_or_insert("dev-root-key", fresh.expose().to_vec(), now_ms)
        .map_err(|e| format!("the dev root key in the database: {e}"))?;
    RootKey::from_material(&SecretBytes::new(stored)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_both_kinds_and_refuses_others() {
        let dir = Path::new("/d");
        assert_eq!(
            StoreUrl::parse(None, dir).unwrap(),
            StoreUrl::Sqlite(PathBuf::from("/d/tresor.sqlite"))
        );
        assert_eq!(
            StoreUrl::parse(Some("sqlite:/x/y.db"), dir).unwrap(),
            StoreUrl::Sqlite(PathBuf::from("/x/y.db"))
        );
        assert_eq!(
            StoreUrl::parse(Some("postgres://u@h:5432/db"), dir).unwrap(),
            StoreUrl::Postgres("postgres://u@h:5432/db".into())
        );
        assert!(StoreUrl::parse(Some("sqlite:"), dir).is_err());
        let e = StoreUrl::parse(Some("mysql://u:secret@h/db"), dir).unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }
}
