//! Tresor's audit log.
//!
//! * [`event`]: one API request as a CloudTrail event (JSON).
//! * [`FileAuditSink`]: an [`AuditSink`](tresor_core::audit::AuditSink) that appends events
//!   to JSON-lines files, chains each record to the previous one by SHA-256, rotates files
//!   by size and age, and writes a digest signed with the service's ECDSA P-384 key at
//!   every rotation (digests chain too). Mutations are durable before `record` returns;
//!   read-only records are written with group commit.
//! * [`verify()`](verify::verify), [`query`]: read a log directory offline.
//!
//! The on-disk format is described in `docs/audit-log.md`.
#![deny(missing_docs)]

pub mod event;
pub mod files;
pub mod query;
mod queue;
pub mod retention;
pub mod signing;
mod sink;
mod space;
pub mod verify;
mod writer;

pub use retention::Retention;
pub use sink::{valid_node_id, FileAuditSink, FileSinkConfig, NullAuditSink};
pub use verify::{verify, VerifyReport};
