//! `TRESOR_TEST_STORE=postgres`: dev servers of the black-box suite run on PostgreSQL
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

/// The `--store` URL a dev server on `dir` gets, when the suite runs on PostgreSQL
/// and `flags` (a `--dev` start without its own `--store`) leave it to the harness.
pub fn store_url_for(dir: &Path, flags: &[&str]) -> Option<String> {
    if !on_postgres() || !flags.contains(&"--dev") || flags.contains(&"--store") {
        return None;
    }
    let mut all = databases().lock().unwrap();
    let db =
        all.entry(dir.to_path_buf()).or_insert_with(|| {
            Arc::new(TestDatabase::create_for_process().expect(
                "TRESOR_TEST_STORE=postgres needs a PostgreSQL server (TRESOR_TEST_POSTGRES)",
            ))
        });
    Some(db.url().to_string())
}

/// Drops the database of `dir` (its directory is gone with its server).
pub fn forget(dir: &Path) {
    if let Ok(mut all) = databases().lock() {
        all.remove(dir);
    }
}
