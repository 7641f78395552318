//! Retention: the oldest record files go once a signed digest covers them and they are
//! older than the retention period, or while the log is over its size limit.
//!
//! Only a prefix of the files is ever removed (the oldest first, stopping at the first
//! file that must stay), never a file not yet covered by a digest, never the newest
//! file. Digests whose files are all gone are removed too, except the newest, which the
//! writer continues the chain from. `verify` then proves the retained suffix from the
//! first digest that covers it.

use crate::files::{self, Digest};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// What to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Remove files last written longer ago than this.
    pub max_age: Option<Duration>,
    /// Remove the oldest files while all files together are larger than this.
    pub max_bytes: Option<u64>,
}

impl Retention {
    /// True when nothing is ever removed.
    pub fn keeps_everything(&self) -> bool {
        self.max_age.is_none() && self.max_bytes.is_none()
    }

    /// Removes what this retention lets go from `dir`; `open` names the files no digest
    /// covers yet (the current file and closed ones awaiting a digest). Errors are
    /// logged: retention is retried later.
    pub fn apply(&self, dir: &Path, open: &[&str]) {
        if self.keeps_everything() {
            return;
        }
        let Ok(logs) = files::list_log_files(dir) else {
            return;
        };
        let facts: Vec<(String, u64, SystemTime)> = logs
            .iter()
            .filter_map(|(_, p)| {
                let m = std::fs::metadata(p).ok()?;
                let name = p.file_name()?.to_string_lossy().into_owned();
                Some((name, m.len(), m.modified().ok()?))
            })
            .collect();
        let mut total: u64 = facts.iter().map(|f| f.1).sum();
        let cutoff = self
            .max_age
            .and_then(|age| SystemTime::now().checked_sub(age));
        let mut removed = 0usize;
        let last = facts.len().saturating_sub(1);
        for (i, (name, bytes, modified)) in facts.iter().enumerate() {
            if i >= last || open.contains(&name.as_str()) {
                break;
            }
            let too_old = cutoff.is_some_and(|c| *modified < c);
            let too_big = self.max_bytes.is_some_and(|m| total > m);
            if !(too_old || too_big) {
                break;
            }
            if let Err(e) = std::fs::remove_file(dir.join(name)) {
                tracing::warn!(file = %name, "audit retention: cannot remove: {e}");
                break;
            }
            tracing::info!(file = %name, "audit retention: removed a record file covered by a signed digest");
            total = total.saturating_sub(*bytes);
            removed += 1;
        }
        if removed > 0 {
            let _ = crate::signing::sync_dir(dir);
            prune_digests(dir);
        }
    }
}

/// Removes the oldest digests whose files are all gone (never the newest digest).
fn prune_digests(dir: &Path) {
    let Ok(digests) = files::list_digests(dir) else {
        return;
    };
    let last = digests.len().saturating_sub(1);
    for (i, (_, path)) in digests.iter().enumerate() {
        if i >= last {
            break;
        }
        let Some(d) = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Digest>(&b).ok())
        else {
            break;
        };
        if d.log_files.iter().any(|f| dir.join(&f.file_name).exists()) {
            break;
        }
        // The digest first: a signature without its digest is cleaned up at start-up.
        if std::fs::remove_file(path).is_err() {
            break;
        }
        let _ = std::fs::remove_file(path.with_extension("sig"));
    }
    let _ = crate::signing::sync_dir(&dir.join(files::DIGEST_DIR));
}
