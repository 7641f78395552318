//! `TRESOR_TEST_STORE=postgres`: dev servers of the black-box suite, and production
//! ones on directories the harness initialized, run on PostgreSQL
//! (`TRESOR_TEST_POSTGRES`), each data directory with a fresh database of its own, so
//! a server restarted on the same directory finds its records again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use tresor_store::testing::TestDatabase;

/// The database of each data directory started so far (kept until the directory's
/// owning server is dropped, or the process exits; see
/// [`TestDatabase::create_for_process`]).
fn databases() -> &'static Mutex<HashMap<PathBuf, Arc<TestDatabase>>> {
    static DATABASES: OnceLock<Mutex<HashMap<PathBuf, Arc<TestDatabase>>>> = OnceLock::new();
    DATABASES.get_or_init(Default::default)
}

/// True when the suite runs its servers on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TRESOR_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// The `--store` URL a server on `dir` gets, when the suite runs on PostgreSQL and
/// `flags` leave it to the harness (no `--store` of their own): a `--dev` start gets
/// the directory's database (made on first use); a production start gets the one
/// its directory was initialized on ([`production_store_url`]), if any.
pub fn store_url_for(dir: &Path, flags: &[&str]) -> Option<String> {
    if !on_postgres() || flags.contains(&"--store") {
        return None;
    }
    if flags.contains(&"--dev") {
        return Some(database_of(dir));
    }
    let all = databases().lock().unwrap();
    all.get(dir).map(|db| db.url().to_string())
}

/// The `--store` URL `tresor init` on `dir` gets: the directory's database (made now)
/// when the suite runs on PostgreSQL, else `None` (SQLite in the directory).
pub fn production_store_url(dir: &Path) -> Option<String> {
    on_postgres().then(|| database_of(dir))
}

fn database_of(dir: &Path) -> String {
    let mut all = databases().lock().unwrap();
    let db =
        all.entry(dir.to_path_buf()).or_insert_with(|| {
            Arc::new(TestDatabase::create_for_process().expect(
                "TRESOR_TEST_STORE=postgres needs a PostgreSQL server (TRESOR_TEST_POSTGRES)",
            ))
        });
    db.url().to_string()
}

/// Drops the database of `dir` (its directory is gone with its server).
pub fn forget(dir: &Path) {
    if let Ok(mut all) = databases().lock() {
        all.remove(dir);
    }
}
