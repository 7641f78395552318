//! The audit point: one record per request, success or failure.
//!
//! The sink writes a structured `tresor::audit` log line today; the tamper-evident
//! CloudTrail-format files replace it behind the same trait. Records carry identifiers,
//! never plaintexts, data keys or key material.

use crate::caller::Caller;

/// What happened in one request.
#[derive(Debug)]
pub struct AuditRecord<'a> {
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
}

/// Where audit records go.
pub trait AuditSink: Send + Sync {
    /// Records one request. Must not fail the request when it returns.
    fn record(&self, record: &AuditRecord<'_>);
}

/// Writes each record as a structured log event with target `tresor::audit`.
#[derive(Debug, Default)]
pub struct LogAuditSink;

impl AuditSink for LogAuditSink {
    fn record(&self, r: &AuditRecord<'_>) {
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
    }
}
