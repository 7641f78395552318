//! Per-worker recorders (a latency histogram, counts and errors by type), merged into a
//! per-operation summary.

use crate::cpu::CpuUse;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The largest latency tracked exactly (longer ones are clamped): 60 s, in microseconds.
const MAX_MICROS: u64 = 60_000_000;

/// What one or more workers measured for one operation.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// `None` only if the histogram could not be created (it cannot with these constant
    /// bounds; the constructor is fallible in general).
    hist: Option<Histogram<u64>>,
    ok: u64,
    errors: BTreeMap<String, u64>,
    /// Time from the start of the measured window to the last completion.
    elapsed: Duration,
    /// CPU spent in the window (see [`crate::measure`]).
    cpu: CpuUse,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder: 1 µs to 60 s at 3 significant digits.
    pub fn new() -> Self {
        let hist = Histogram::new_with_bounds(1, MAX_MICROS, 3).ok();
        Self {
            hist,
            ok: 0,
            errors: BTreeMap::new(),
            elapsed: Duration::ZERO,
            cpu: CpuUse::default(),
        }
    }

    /// A successful request that took `latency`.
    pub fn success(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(MAX_MICROS)
            .clamp(1, MAX_MICROS);
        if let Some(h) = &mut self.hist {
            h.saturating_record(us);
        }
        self.ok += 1;
    }

    /// A failed request, by error type (`__type` of the response, or a transport error).
    pub fn error(&mut self, kind: &str) {
        match self.errors.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                self.errors.insert(kind.to_string(), 1);
            }
        }
    }

    /// Notes that a request completed `since_start` after the window began.
    pub fn completed_at(&mut self, since_start: Duration) {
        self.elapsed = self.elapsed.max(since_start);
    }

    /// Adds `other`'s measurements (another worker's) to these.
    pub fn merge(&mut self, other: &Recorder) {
        // Both histograms have the same bounds; `add` only fails when a value does not fit.
        if let (Some(h), Some(o)) = (&mut self.hist, &other.hist) {
            let _ = h.add(o);
        }
        self.ok += other.ok;
        for (k, n) in &other.errors {
            match self.errors.get_mut(k) {
                Some(m) => *m += n,
                None => {
                    self.errors.insert(k.clone(), *n);
                }
            }
        }
        self.elapsed = self.elapsed.max(other.elapsed);
    }

    /// Records the CPU time spent over the window.
    pub fn set_cpu(&mut self, cpu: CpuUse) {
        self.cpu = cpu;
    }

    /// Successful requests.
    pub fn ok_count(&self) -> u64 {
        self.ok
    }

    /// Failed requests.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The summary over a window of at least `window` (the measured duration; the actual
    /// elapsed time is used when longer, since requests in flight at the end complete late).
    pub fn summary(&self, window: Duration) -> Summary {
        let secs = self.elapsed.max(window).as_secs_f64();
        let rps = if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        };
        let ms = |us: u64| us as f64 / 1000.0;
        let served = self.ok + self.error_count();
        let per_request = |cpu: Option<Duration>| {
            cpu.filter(|_| served > 0)
                .map(|c| c.as_secs_f64() * 1e6 / served as f64)
        };
        let hist = self.hist.as_ref().filter(|h| !h.is_empty());
        let q = |quantile: f64| hist.map_or(0.0, |h| ms(h.value_at_quantile(quantile)));
        Summary {
            requests: self.ok,
            errors: self.error_count(),
            error_types: self.errors.clone(),
            seconds: secs,
            rps,
            latency_ms: Latency {
                mean: hist.map_or(0.0, |h| h.mean() / 1000.0),
                p50: q(0.50),
                p90: q(0.90),
                p99: q(0.99),
                p999: q(0.999),
                max: hist.map_or(0.0, |h| ms(h.max())),
            },
            server_cpu_us: per_request(self.cpu.server),
            client_cpu_us: per_request(self.cpu.client),
        }
    }
}

/// Latency percentiles of successful requests, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest.
    pub max: f64,
}

/// Throughput, latency and errors of one operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Successful requests in the window.
    pub requests: u64,
    /// Failed requests in the window.
    pub errors: u64,
    /// Failed requests by error type.
    pub error_types: BTreeMap<String, u64>,
    /// Length of the window, in seconds.
    pub seconds: f64,
    /// Successful requests per second.
    pub rps: f64,
    /// Latency of successful requests.
    pub latency_ms: Latency,
    /// The server's CPU time per request (successful or not) in the window, in µs, when
    /// its process was known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_cpu_us: Option<f64>,
    /// The load generator's CPU time per request in the window, in µs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cpu_us: Option<f64>,
}

/// `value / base`, or `None` when there is no base to compare with.
pub fn ratio(value: f64, base: f64) -> Option<f64> {
    (base > 0.0 && value.is_finite()).then(|| value / base)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut r = Recorder::new();
        // 1..=1000 ms, one each.
        for i in 1..=1000 {
            r.success(ms(i));
        }
        let s = r.summary(Duration::from_secs(10));
        assert_eq!(s.requests, 1000);
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.001 + 0.001;
        assert!(close(s.latency_ms.p50, 500.0), "{:?}", s.latency_ms);
        assert!(close(s.latency_ms.p90, 900.0), "{:?}", s.latency_ms);
        assert!(close(s.latency_ms.p99, 990.0), "{:?}", s.latency_ms);
        assert!(close(s.latency_ms.p999, 999.0), "{:?}", s.latency_ms);
        assert!(close(s.latency_ms.max, 1000.0), "{:?}", s.latency_ms);
        assert!(close(s.latency_ms.mean, 500.5), "{:?}", s.latency_ms);
        assert!(close(s.rps, 100.0));
    }

    #[test]
    fn merge_adds_counts_errors_and_histograms() {
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        for _ in 0..90 {
            a.success(ms(1));
        }
        for _ in 0..10 {
            b.success(ms(100));
        }
        a.error("ThrottlingException");
        b.error("ThrottlingException");
        b.error("TransportError");
        a.completed_at(Duration::from_millis(1500));
        b.completed_at(Duration::from_millis(2000));
        a.merge(&b);
        let s = a.summary(Duration::from_secs(1));
        assert_eq!(s.requests, 100);
        assert_eq!(s.errors, 3);
        assert_eq!(s.error_types.get("ThrottlingException"), Some(&2));
        assert_eq!(s.error_types.get("TransportError"), Some(&1));
        // The window is the longer of the nominal one and the last completion.
        assert!((s.seconds - 2.0).abs() < 1e-9);
        assert!((s.rps - 50.0).abs() < 1e-9);
        assert!((s.latency_ms.p50 - 1.0).abs() < 0.01);
        assert!((s.latency_ms.p90 - 1.0).abs() < 0.01);
        assert!((s.latency_ms.p99 - 100.0).abs() < 0.1);
    }

    #[test]
    fn empty_and_extreme_values() {
        let r = Recorder::new();
        let s = r.summary(Duration::from_secs(1));
        assert_eq!(s.requests, 0);
        assert_eq!(s.rps, 0.0);
        assert_eq!(s.latency_ms, Latency::default());
        let mut r = Recorder::new();
        r.success(Duration::ZERO);
        r.success(Duration::from_secs(3600));
        let s = r.summary(Duration::ZERO);
        assert_eq!(s.requests, 2);
        // Clamped to the histogram's range, not dropped.
        assert!(s.latency_ms.max >= 59_000.0);
        // No window and no completions: no rate rather than a division by zero.
        assert_eq!(s.rps, 0.0);
    }

    #[test]
    fn ratios() {
        assert_eq!(ratio(50.0, 100.0), Some(0.5));
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(f64::NAN, 1.0), None);
    }
}
