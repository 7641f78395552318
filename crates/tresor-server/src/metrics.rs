//! `GET /metrics`: Prometheus text exposition (prometheus-client).
//!
//! Requests are counted and timed on the request path (one labelled counter and one
//! histogram, keyed by static strings: no allocation; each worker thread keeps the
//! handles of the operations it served, so a successful call takes no lock of the
//! label maps); cache, key count and seal state are read from the service at scrape
//! time.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tresor_core::Kms;

/// The outcome of one request, carried in the response's extensions: `"ok"` or the
/// error's `__type`.
#[derive(Debug, Clone, Copy)]
pub struct Outcome(pub &'static str);

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: &'static str,
}

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    calls: Calls,
}

/// The request counter and latency histogram families.
struct Calls {
    /// Tells this instance's handles from another's in the per-thread cache.
    id: u64,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabel, Histogram>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Most operations a thread keeps handles for (more than the API has).
const MAX_CACHED: usize = 256;

/// A thread's cached handle: (instance, operation name's address and length), then its
/// `ok` counter and its latency histogram.
type Cached = ((u64, usize, usize), Counter, Histogram);

thread_local! {
    static HANDLES: RefCell<Vec<Cached>> = const { RefCell::new(Vec::new()) };
}

impl Calls {
    fn new() -> Self {
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            requests: Family::default(),
            latency: Family::new_with_constructor(
                (|| Histogram::new(exponential_buckets(0.000_1, 2.0, 16))) as fn() -> Histogram,
            ),
        }
    }

    fn observe(&self, operation: &'static str, outcome: &'static str, took: Duration) {
        let seconds = took.as_secs_f64();
        if outcome != "ok" {
            self.requests
                .get_or_create(&RequestLabels { operation, outcome })
                .inc();
            self.latency
                .get_or_create(&OperationLabel { operation })
                .observe(seconds);
            return;
        }
        let key = (self.id, operation.as_ptr() as usize, operation.len());
        let hit = HANDLES.with_borrow(|h| {
            h.iter().find(|(k, _, _)| *k == key).map(|(_, c, l)| {
                c.inc();
                l.observe(seconds);
            })
        });
        if hit.is_some() {
            return;
        }
        let count = self
            .requests
            .get_or_create(&RequestLabels { operation, outcome })
            .clone();
        let latency = self
            .latency
            .get_or_create(&OperationLabel { operation })
            .clone();
        count.inc();
        latency.observe(seconds);
        HANDLES.with_borrow_mut(|h| {
            if h.len() >= MAX_CACHED {
                // Handles of instances gone (tests start many servers) go with them.
                h.clear();
            }
            h.push((key, count, latency));
        });
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Metrics for `kms`.
    pub fn new(kms: Arc<Kms>) -> Self {
        let mut registry = Registry::with_prefix("tresor");
        let calls = Calls::new();
        registry.register(
            "requests",
            "API requests by operation and outcome (ok or the error's __type)",
            calls.requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from request received to response ready, by operation",
            calls.latency.clone(),
        );
        registry.register_collector(Box::new(ServiceCollector { kms }));
        Self { registry, calls }
    }

    /// Counts one request.
    pub fn observe(&self, operation: &'static str, outcome: &'static str, took: Duration) {
        self.calls.observe(operation, outcome, took);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("encoding metrics failed");
        }
        out
    }
}

/// Values read from the service at scrape time.
struct ServiceCollector {
    kms: Arc<Kms>,
}

impl std::fmt::Debug for ServiceCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceCollector")
    }
}

impl Collector for ServiceCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.kms.cache_stats();
        for (name, help, pick) in [
            ("cache_hits", "Cache lookups answered from memory", 0usize),
            ("cache_misses", "Cache lookups that went to storage", 1),
        ] {
            let mut d = encoder.encode_descriptor(
                name,
                help,
                None,
                ConstCounter::new(0u64).metric_type(),
            )?;
            for (cache, hits, misses, _, _) in stats {
                let v = if pick == 0 { hits } else { misses };
                ConstCounter::new(v).encode(d.encode_family(&[("cache", cache)])?)?;
            }
        }
        let mut d = encoder.encode_descriptor(
            "cache_entries",
            "Entries held by each cache",
            None,
            ConstGauge::new(0i64).metric_type(),
        )?;
        for (cache, _, _, len, _) in stats {
            let n = i64::try_from(len).unwrap_or(i64::MAX);
            ConstGauge::new(n).encode(d.encode_family(&[("cache", cache)])?)?;
        }
        let mut d = encoder.encode_descriptor(
            "cache_bytes",
            "Approximate bytes held by the byte-bounded caches (keys, aliases, grants)",
            None,
            ConstGauge::new(0i64).metric_type(),
        )?;
        for (cache, _, _, _, weight) in stats {
            if matches!(cache, "keys" | "aliases" | "grants") {
                let n = i64::try_from(weight).unwrap_or(i64::MAX);
                ConstGauge::new(n).encode(d.encode_family(&[("cache", cache)])?)?;
            }
        }
        // Storage unreachable: no sample, so an alert on absence fires.
        if let Ok(n) = self.kms.key_count() {
            let g = ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX));
            g.encode(encoder.encode_descriptor(
                "keys",
                "Keys stored, in every account and state",
                None,
                g.metric_type(),
            )?)?;
        }
        let sealed = ConstGauge::new(i64::from(self.kms.is_sealed()));
        sealed.encode(encoder.encode_descriptor(
            "sealed",
            "1 while the service is sealed, 0 while it serves",
            None,
            sealed.metric_type(),
        )?)?;
        let audit = ConstGauge::new(i64::from(self.kms.audit_health().is_ok()));
        audit.encode(encoder.encode_descriptor(
            "audit_ok",
            "1 while the audit log accepts records",
            None,
            audit.metric_type(),
        )?)?;
        let stats = self.kms.audit_stats();
        let queued = ConstGauge::new(i64::try_from(stats.queued).unwrap_or(i64::MAX));
        queued.encode(encoder.encode_descriptor(
            "audit_queue_depth",
            "Audit records handed to the writer and not yet durable",
            None,
            queued.metric_type(),
        )?)?;
        let fsyncs = ConstCounter::new(stats.fsyncs);
        fsyncs.encode(encoder.encode_descriptor(
            "audit_fsyncs",
            "fsyncs of audit record batches",
            None,
            fsyncs.metric_type(),
        )?)?;
        let seconds = ConstCounter::new(stats.fsync_seconds);
        seconds.encode(encoder.encode_descriptor(
            "audit_fsync_seconds",
            "Seconds spent in fsyncs of audit record batches (divide by tresor_audit_fsyncs_total for the mean latency)",
            None,
            seconds.metric_type(),
        )?)?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn count(c: &Calls, operation: &'static str, outcome: &'static str) -> u64 {
        c.requests
            .get_or_create(&RequestLabels { operation, outcome })
            .get()
    }

    #[test]
    fn each_instance_counts_its_own_calls_through_the_thread_cache() {
        let (a, b) = (Calls::new(), Calls::new());
        let ms = Duration::from_millis(1);
        for _ in 0..3 {
            a.observe("Encrypt", "ok", ms);
        }
        b.observe("Encrypt", "ok", ms);
        a.observe("Encrypt", "NotFoundException", ms);
        a.observe("Decrypt", "ok", ms);
        assert_eq!(count(&a, "Encrypt", "ok"), 3);
        assert_eq!(count(&b, "Encrypt", "ok"), 1);
        assert_eq!(count(&a, "Encrypt", "NotFoundException"), 1);
        assert_eq!(count(&a, "Decrypt", "ok"), 1);
        assert_eq!(count(&b, "Decrypt", "ok"), 0);
        let mut text = String::new();
        let mut registry = Registry::default();
        registry.register("d", "", a.latency.clone());
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains("d_count{operation=\"Encrypt\"} 4"), "{text}");
        // Another thread has its own cache and the same counters.
        std::thread::scope(|s| {
            s.spawn(|| a.observe("Encrypt", "ok", ms));
        });
        assert_eq!(count(&a, "Encrypt", "ok"), 4);
    }
}
