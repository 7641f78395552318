//! Online, consistent copies of a live database with SQLite's backup API.

use crate::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Copies the database at `src` (in use by a running server) to a new file `dst`.
///
/// The copy is one backup step over all pages, inside one read transaction of a
/// connection of its own: in WAL mode writers keep committing meanwhile, and the copy is
/// the database as of one commit. `dst` must not exist; it is created 0600 and synced.
pub fn backup_database(src: &Path, dst: &Path) -> StoreResult<()> {
    let source = Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(std::time::Duration::from_secs(5))?;
    create_private(dst)?;
    let mut target = Connection::open(dst)?;
    {
        let backup = rusqlite::backup::Backup::new(&source, &mut target)?;
        // -1: every page in one step, so no writer can force a restart midway.
        match backup.step(-1)? {
            rusqlite::backup::StepResult::Done => {}
            other => {
                return Err(StoreError::Backend(format!(
                    "backup did not complete in one step: {other:?}"
                )))
            }
        }
    }
    // A self-contained file: no WAL beside it.
    target.pragma_update(None, "journal_mode", "DELETE")?;
    drop(target);
    std::fs::File::open(dst)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::Backend(format!("syncing {}: {e}", dst.display())))
}

/// Checks that `path` is a readable Tresor database (integrity check) and returns its
/// schema version.
pub fn check_database(path: &Path) -> StoreResult<i64> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(StoreError::Backend(format!(
            "integrity check failed: {verdict}"
        )));
    }
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

fn create_private(path: &Path) -> StoreResult<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .map_err(|e| StoreError::Backend(format!("creating {}: {e}", path.display())))
}
