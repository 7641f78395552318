//! The audit point: one record per request, success or failure.
//!
//! The pipeline builds one [`AuditRecord`] per request and hands it to the configured
//! [`AuditSink`]. Records carry identifiers, algorithms and encryption contexts, never
//! plaintexts, data keys, signatures' inputs, MACs or key material.

use crate::caller::Caller;

mod params;
pub use params::{loggable_json, LoggedJson};

/// What happened in one request.
#[derive(Debug)]
pub struct AuditRecord<'a> {
    /// The request's members as CloudTrail logs them (camelCase; secrets and blobs
    /// removed); `None` when the body was not a JSON object.
    pub request_parameters: Option<LoggedJson>,
    /// For successful mutations, the response's members logged the same way; `None`
    /// otherwise (CloudTrail logs `null` for cryptographic and read-only calls).
    pub response_elements: Option<LoggedJson>,
    /// CloudTrail's `additionalEventData`: what the record says beyond the request
    /// (e.g. how many refused requests an aggregated record stands for).
    pub additional_event_data: Option<serde_json::Value>,
    /// The KeyMaterialId of the material a cryptographic operation used, logged as
    /// `additionalEventData.keyMaterialId` (written straight into the record, no map).
    pub key_material_id: Option<String>,
    /// CloudTrail's `readOnly`: the request changed nothing.
    pub read_only: bool,
    /// Something the service did by itself (a scheduled deletion, an automatic rotation,
    /// an expiry): CloudTrail's `AwsServiceEvent`, invoked by "AWS Internal".
    pub service_event: bool,
    /// The operation (`Encrypt`, `CreateKey`, …).
    pub event_name: &'a str,
    /// Who called.
    pub caller: &'a Caller,
    /// ARNs of the keys the request touched.
    pub resources: &'a [String],
    /// The error's wire name, when it failed.
    pub error_code: Option<&'a str>,
    /// The error's message, when it failed.
    pub error_message: Option<String>,
    /// When, in ms since the epoch.
    pub event_time_ms: i64,
    /// The bytes [`AuditSink::admit`] reserved for this record; 0 when none were.
    pub admitted_bytes: usize,
    /// CloudTrail's `eventID` when the caller chose it (GetKeyLastUsage reports it);
    /// `None`: the sink makes one.
    pub event_id: Option<&'a str>,
}

/// What a cryptographic operation adds to its record beyond the body, as CloudTrail's
/// Encrypt / Decrypt records have it: the algorithm used (logged as
/// `requestParameters.encryptionAlgorithm` when the request gave none) and the key
/// material used (`additionalEventData.keyMaterialId`). Set by the operation from what
/// it already knows, so the body is not read again.
#[derive(Debug, Default)]
pub struct CryptoDetails {
    /// The encryption algorithm the operation used.
    pub encryption_algorithm: Option<&'static str>,
    /// The KeyMaterialId of the material the operation used.
    pub key_material_id: Option<String>,
}

/// Why a record could not be kept.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuditError(pub String);

/// Where audit records go.
pub trait AuditSink: Send + Sync {
    /// Called before a request runs: reserves room for a record of at most `bytes`, or
    /// refuses when no record could be kept now (the log cannot be written). A refused
    /// request must not run. Must be cheap: it is on every request's path.
    fn admit(&self, bytes: usize) -> Result<(), AuditError> {
        let _ = bytes;
        Ok(())
    }

    /// Records one request. For a mutation (`!record.read_only`) the record must be
    /// durable when this returns `Ok`; other records may be written with group commit.
    /// An error fails the request.
    fn record(&self, record: &AuditRecord<'_>) -> Result<(), AuditError>;

    /// Whether records can be kept now (`GET /health` answers 503 otherwise). Sinks
    /// that cannot fail short of a failed `record` keep this default.
    fn health(&self) -> Result<(), AuditError> {
        Ok(())
    }

    /// Counters for `/metrics`; sinks without a queue keep the default (zeros).
    fn stats(&self) -> AuditStats {
        AuditStats::default()
    }
}

/// What a sink reports for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AuditStats {
    /// Records handed to the sink and not yet durable.
    pub queued: u64,
    /// fsyncs of record batches so far.
    pub fsyncs: u64,
    /// Seconds those fsyncs took in all.
    pub fsync_seconds: f64,
}

/// An upper bound of the size of the record of a request with a `body_len`-byte body:
/// the request parameters are at most the body re-serialized, an error message quotes
/// at most the body, and the rest (identity, response elements of a mutation) fits in
/// 4 KiB besides the caller's user agent and ARN.
pub fn record_size_bound(body_len: usize, caller: &Caller) -> usize {
    4 * 1024 + body_len.saturating_mul(2) + caller.user_agent.len() + caller.principal_arn.len()
}

/// Writes each record as a structured log event with target `tresor::audit`.
#[derive(Debug, Default)]
pub struct LogAuditSink;

impl AuditSink for LogAuditSink {
    fn record(&self, r: &AuditRecord<'_>) -> Result<(), AuditError> {
        tracing::info!(
            target: "tresor::audit",
            event_name = r.event_name,
            request_id = %r.caller.request_id,
            principal = %r.caller.principal_arn,
            access_key_id = %r.caller.access_key_id,
            region = %r.caller.region,
            source_ip = %r.caller.source_ip,
            resources = ?r.resources,
            error_code = r.error_code.unwrap_or(""),
            event_time_ms = r.event_time_ms,
        );
        Ok(())
    }
}
