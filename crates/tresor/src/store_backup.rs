//! `TresorOperator.Backup` on a PostgreSQL store: refused, with what to do instead.
//!
//! The backup file (docs/formats.md) is an SQLite database and its seal file. A
//! PostgreSQL database is shared by every node and holds the sealed root key and its
//! check value itself, so PostgreSQL's own tools back it up whole; a Tresor copy of one
//! node's view would be neither consistent across nodes nor restorable as a cluster.

use serde_json::Value;
use std::sync::Arc;
use tresor_core::KmsError;
use tresor_server::operator::SealControl;

/// What a Backup call on a PostgreSQL store answers (`UnsupportedOperationException`).
pub const REFUSAL: &str = "TresorOperator.Backup copies an SQLite store; this server's store is \
PostgreSQL, shared by every node: back up the database with PostgreSQL's tools (pg_dump, or a \
base backup with WAL archiving), which include the sealed root key. See docs/many-nodes.md.";

/// `seal` as the server's seal control: on a PostgreSQL store, Backup is refused.
pub fn seal_control(seal: Arc<dyn SealControl>, postgres: bool) -> Arc<dyn SealControl> {
    if postgres {
        Arc::new(SharedStoreSeal(seal))
    } else {
        seal
    }
}

/// Everything as the inner seal does, but Backup.
struct SharedStoreSeal(Arc<dyn SealControl>);

impl SealControl for SharedStoreSeal {
    fn status(&self) -> Value {
        self.0.status()
    }
    fn unseal(&self, share: &str) -> Result<Value, KmsError> {
        self.0.unseal(share)
    }
    fn reset(&self) -> Value {
        self.0.reset()
    }
    fn seal(&self) -> Result<Value, KmsError> {
        self.0.seal()
    }
    fn rekey(&self, request: &Value) -> Result<Value, KmsError> {
        self.0.rekey(request)
    }
    fn rotate_root(&self) -> Result<Value, KmsError> {
        self.0.rotate_root()
    }
    fn backup(&self) -> Result<Value, KmsError> {
        Err(KmsError::UnsupportedOperation(REFUSAL.into()))
    }
}
