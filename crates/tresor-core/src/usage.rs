//! The last successful cryptographic use of each key, for GetKeyLastUsage.
//!
//! Kept in memory only, so the hot path writes no storage: tracking starts when the
//! process starts (`TrackingStartDate`), and a restart forgets earlier uses — exactly the
//! case AWS's answer describes as "no record since the tracking start date". Sharded
//! maps keep concurrent requests on different keys from contending on one lock.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

/// The operations GetKeyLastUsage reports (the model's KeyLastUsageTrackingOperation).
pub const TRACKED: &[&str] = &[
    "Decrypt",
    "DeriveSharedSecret",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "ReEncrypt",
    "Sign",
    "Verify",
    "VerifyMac",
    "Encapsulate",
    "Decapsulate",
];

/// One use of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUse {
    /// The operation (one of [`TRACKED`]).
    pub operation: &'static str,
    /// When, in epoch milliseconds.
    pub time_ms: i64,
    /// The audit record's `eventID`.
    pub event_id: String,
    /// The request id (`x-amzn-RequestId`).
    pub request_id: String,
}

const SHARDS: usize = 16;
/// Keys remembered per shard; past it an arbitrary entry makes room.
const PER_SHARD: usize = 1 << 16;

/// Last uses by key id.
#[derive(Debug)]
pub struct LastUses {
    shards: Vec<Mutex<HashMap<String, LastUse>>>,
    hasher: RandomState,
    /// When tracking started (the service's start), epoch milliseconds.
    pub tracking_start_ms: i64,
}

impl LastUses {
    /// An empty tracker that started at `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            tracking_start_ms: now_ms,
        }
    }

    fn shard(&self, key_id: &str) -> Option<&Mutex<HashMap<String, LastUse>>> {
        let i = usize::try_from(self.hasher.hash_one(key_id) % SHARDS as u64).unwrap_or(0);
        self.shards.get(i)
    }

    /// Records a use of `key_id`; a use older than the recorded one does not replace it.
    pub fn record(&self, key_id: &str, usage: LastUse) {
        let Some(shard) = self.shard(key_id) else {
            return;
        };
        let mut map = shard.lock();
        if let Some(old) = map.get_mut(key_id) {
            if old.time_ms <= usage.time_ms {
                *old = usage;
            }
            return;
        }
        if map.len() >= PER_SHARD {
            if let Some(victim) = map.keys().next().cloned() {
                map.remove(&victim);
            }
        }
        map.insert(key_id.to_string(), usage);
    }

    /// The last use of `key_id`, if any since tracking started.
    pub fn get(&self, key_id: &str) -> Option<LastUse> {
        self.shard(key_id)?.lock().get(key_id).cloned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(t: i64, op: &'static str) -> LastUse {
        LastUse {
            operation: op,
            time_ms: t,
            event_id: format!("e{t}"),
            request_id: format!("r{t}"),
        }
    }

    #[test]
    fn the_latest_use_wins() {
        let u = LastUses::new(0);
        assert_eq!(u.get("k"), None);
        u.record("k", at(10, "Encrypt"));
        u.record("k", at(5, "Decrypt"));
        assert_eq!(u.get("k").unwrap().operation, "Encrypt");
        u.record("k", at(20, "Sign"));
        assert_eq!(u.get("k").unwrap(), at(20, "Sign"));
        assert_eq!(u.get("other"), None);
    }
}
