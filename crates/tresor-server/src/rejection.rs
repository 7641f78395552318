//! Cheap rejection of requests that fail authentication.
//!
//! Each source address (an IPv4 address, or an IPv6 /64) has a token bucket that only
//! failed authentications drain. A source with an empty bucket is answered
//! `ThrottlingException` before its access key is looked up, unless that key is already
//! cached as valid (so a good client behind the same address keeps working).
//!
//! Audit records of refused requests are bounded per source: the first few of each
//! window are written one by one; the rest are counted and written as one aggregated
//! record when the window ends (by [`Rejections::due`], polled once per window).

use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tresor_core::Caller;

/// Tunables of [`Rejections`].
#[derive(Debug, Clone, Copy)]
pub struct RejectionConfig {
    /// Failed authentications per second a source may sustain.
    pub rate: f64,
    /// How many failures a source may have in a burst.
    pub burst: f64,
    /// Refusals per source and window written as individual audit records.
    pub records_per_window: u32,
    /// The aggregation window.
    pub window: Duration,
}

impl Default for RejectionConfig {
    fn default() -> Self {
        Self {
            rate: 20.0,
            burst: 50.0,
            records_per_window: 5,
            window: Duration::from_secs(1),
        }
    }
}

/// Sources tracked at most; beyond, idle ones are dropped and new ones share a bucket.
const MAX_SOURCES: usize = 100_000;

/// Refused requests of one source in one window whose records were suppressed.
#[derive(Debug, Clone)]
pub struct Suppressed {
    /// The first suppressed request's caller (source, user agent, key, request id).
    pub caller: Caller,
    /// Its operation.
    pub event_name: String,
    /// Its error's wire name.
    pub error_code: &'static str,
    /// Its error's message.
    pub error_message: String,
    /// How many requests this stands for.
    pub count: u64,
    /// Their count by error code.
    pub by_error: BTreeMap<&'static str, u64>,
    /// When the first one arrived (ms since the epoch).
    pub first_ms: i64,
}

impl Suppressed {
    /// The aggregated record's `additionalEventData`.
    pub fn summary(&self, last_ms: i64) -> serde_json::Value {
        serde_json::json!({
            "aggregatedRejections": {
                "count": self.count,
                "errorCodes": self.by_error,
                "firstEventTime": tresor_core::wire::Timestamp(self.first_ms),
                "lastEventTime": tresor_core::wire::Timestamp(last_ms),
            }
        })
    }
}

/// What to do with a refused request's audit record.
#[derive(Debug)]
pub struct Refusal {
    /// Write this request's own record.
    pub record: bool,
    /// The source's previous window ended with suppressed records: write this first.
    pub flushed: Option<Suppressed>,
}

#[derive(Debug)]
struct Source {
    tokens: f64,
    refilled: Instant,
    window_start: Instant,
    written: u32,
    suppressed: Option<Suppressed>,
}

/// Per-source failure buckets and audit aggregation.
#[derive(Debug, Default)]
pub struct Rejections {
    config: RejectionConfig,
    sources: Mutex<HashMap<IpAddr, Source>>,
    /// `sources.len()`, readable without the lock: the common case (no source has
    /// failed lately) costs every request one atomic load.
    tracked: AtomicUsize,
}

impl Rejections {
    /// With `config`.
    pub fn new(config: RejectionConfig) -> Self {
        Self {
            config,
            sources: Mutex::new(HashMap::new()),
            tracked: AtomicUsize::new(0),
        }
    }

    /// The aggregation window.
    pub fn window(&self) -> Duration {
        self.config.window
    }

    /// Whether `ip` may still fail an authentication now (its bucket holds a token).
    pub fn admit(&self, ip: IpAddr, now: Instant) -> bool {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return true;
        }
        let mut sources = self.sources.lock();
        match sources.get_mut(&bucket_of(ip)) {
            Some(s) => {
                refill(s, &self.config, now);
                s.tokens >= 1.0
            }
            None => true,
        }
    }

    /// Notes a request from `ip` refused with `error_code` before any operation: takes
    /// a token and says whether its audit record is written or counted. `describe` is
    /// called only for the first counted request of a window.
    pub fn refused(
        &self,
        ip: IpAddr,
        now: Instant,
        error_code: &'static str,
        describe: impl FnOnce() -> Suppressed,
    ) -> Refusal {
        let cfg = self.config;
        let mut sources = self.sources.lock();
        let key = self.slot(&mut sources, bucket_of(ip), now);
        let s = sources.entry(key).or_insert_with(|| Source {
            tokens: cfg.burst,
            refilled: now,
            window_start: now,
            written: 0,
            suppressed: None,
        });
        refill(s, &cfg, now);
        s.tokens = (s.tokens - 1.0).max(0.0);
        self.tracked.store(sources.len(), Ordering::Relaxed);
        let Some(s) = sources.get_mut(&key) else {
            return Refusal {
                record: true,
                flushed: None,
            };
        };
        let mut flushed = None;
        if now.duration_since(s.window_start) >= cfg.window {
            flushed = s.suppressed.take();
            s.window_start = now;
            s.written = 0;
        }
        if s.written < cfg.records_per_window {
            s.written += 1;
            return Refusal {
                record: true,
                flushed,
            };
        }
        match &mut s.suppressed {
            Some(p) => {
                p.count += 1;
                *p.by_error.entry(error_code).or_insert(0) += 1;
            }
            None => {
                let mut p = describe();
                p.count = 1;
                p.by_error = BTreeMap::from([(error_code, 1)]);
                s.suppressed = Some(p);
            }
        }
        Refusal {
            record: false,
            flushed,
        }
    }

    /// Aggregates of windows that have ended; drops sources with nothing left to track.
    pub fn due(&self, now: Instant) -> Vec<Suppressed> {
        let cfg = self.config;
        let mut out = Vec::new();
        let mut sources = self.sources.lock();
        sources.retain(|_, s| {
            refill(s, &cfg, now);
            let ended = now.duration_since(s.window_start) >= cfg.window;
            if ended {
                out.extend(s.suppressed.take());
            }
            !(ended && s.tokens >= cfg.burst)
        });
        self.tracked.store(sources.len(), Ordering::Relaxed);
        out
    }

    /// The key `ip`'s state lives under: its own, or a shared one when the table is
    /// full of active sources.
    fn slot(&self, sources: &mut HashMap<IpAddr, Source>, ip: IpAddr, now: Instant) -> IpAddr {
        if sources.len() < MAX_SOURCES || sources.contains_key(&ip) {
            return ip;
        }
        let cfg = self.config;
        sources.retain(|_, s| {
            refill(s, &cfg, now);
            s.suppressed.is_some() || s.tokens < cfg.burst
        });
        if sources.len() < MAX_SOURCES {
            ip
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        }
    }
}

fn refill(s: &mut Source, cfg: &RejectionConfig, now: Instant) {
    let elapsed = now.duration_since(s.refilled).as_secs_f64();
    s.tokens = (s.tokens + elapsed * cfg.rate).min(cfg.burst);
    s.refilled = now;
}

/// IPv4 addresses are their own source; IPv6 ones count per /64 (what one host gets).
fn bucket_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn suppressed(code: &'static str) -> Suppressed {
        Suppressed {
            caller: Caller {
                account: String::new(),
                principal_arn: String::new(),
                access_key_id: "AKIABOGUS".into(),
                region: "us-east-1".into(),
                operator: false,
                source_ip: "192.0.2.1".into(),
                user_agent: String::new(),
                request_id: "r".into(),
                secure_transport: false,
            },
            event_name: "ListKeys".into(),
            error_code: code,
            error_message: String::new(),
            count: 0,
            by_error: BTreeMap::new(),
            first_ms: 0,
        }
    }

    #[test]
    fn bucket_empties_and_refills() {
        let r = Rejections::new(RejectionConfig {
            rate: 10.0,
            burst: 3.0,
            ..Default::default()
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(r.admit(ip, t0));
            r.refused(ip, t0, "UnrecognizedClientException", || {
                suppressed("UnrecognizedClientException")
            });
        }
        assert!(!r.admit(ip, t0));
        assert!(r.admit(other, t0), "other sources are not affected");
        assert!(r.admit(ip, t0 + Duration::from_millis(100)));
    }

    #[test]
    fn records_beyond_the_window_quota_are_aggregated() {
        let r = Rejections::new(RejectionConfig::default());
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let same_host: IpAddr = "2001:db8::2".parse().unwrap();
        let t0 = Instant::now();
        let mut written = 0;
        for i in 0..100 {
            let from = if i % 2 == 0 { ip } else { same_host };
            let code = if i < 50 {
                "UnrecognizedClientException"
            } else {
                "ThrottlingException"
            };
            let v = r.refused(from, t0, code, || suppressed(code));
            assert!(v.flushed.is_none());
            written += usize::from(v.record);
        }
        assert_eq!(written, 5);
        assert!(r.due(t0).is_empty(), "the window has not ended");
        let due = r.due(t0 + Duration::from_secs(1));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].count, 95);
        assert_eq!(due[0].by_error["ThrottlingException"], 50);
        assert_eq!(due[0].by_error["UnrecognizedClientException"], 45);
        // A new window writes records again.
        let v = r.refused(
            ip,
            t0 + Duration::from_secs(2),
            "UnrecognizedClientException",
            || suppressed("UnrecognizedClientException"),
        );
        assert!(v.record);
    }
}
