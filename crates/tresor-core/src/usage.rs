//! The last successful cryptographic use of each key, for GetKeyLastUsage.
//!
//! Kept in memory only, so the hot path writes no storage: tracking starts when the
//! process starts (`TrackingStartDate`), and a restart forgets earlier uses — exactly the
//! case AWS's answer describes as "no record since the tracking start date". Sharded
//! maps keep concurrent requests on different keys from contending on one lock.

use crate::ids::CompactId as Id;
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

/// A [`LastUse`] as kept: ids in 16 bytes (100,000 used keys take ~10 MB, not ~25).
#[derive(Debug)]
struct Stored {
    operation: &'static str,
    time_ms: i64,
    event_id: Id,
    request_id: Id,
}

impl From<&LastUse> for Stored {
    fn from(u: &LastUse) -> Self {
        Self {
            operation: u.operation,
            time_ms: u.time_ms,
            event_id: Id::new(&u.event_id),
            request_id: Id::new(&u.request_id),
        }
    }
}

/// Last uses by key id.
#[derive(Debug)]
pub struct LastUses {
    shards: Vec<Mutex<HashMap<Id, Stored>>>,
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

    fn shard(&self, key: &Id) -> Option<&Mutex<HashMap<Id, Stored>>> {
        let i = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        self.shards.get(i)
    }

    /// Records a use of `key_id`; a use older than the recorded one does not replace it.
    pub fn record(&self, key_id: &str, usage: LastUse) {
        let key = Id::new(key_id);
        let Some(shard) = self.shard(&key) else {
            return;
        };
        let mut map = shard.lock();
        if let Some(old) = map.get_mut(&key) {
            if old.time_ms <= usage.time_ms {
                *old = Stored::from(&usage);
            }
            return;
        }
        if map.len() >= PER_SHARD {
            if let Some(victim) = map.keys().next().cloned() {
                map.remove(&victim);
            }
        }
        map.insert(key, Stored::from(&usage));
    }

    /// The last use of `key_id`, if any since tracking started.
    pub fn get(&self, key_id: &str) -> Option<LastUse> {
        let key = Id::new(key_id);
        let map = self.shard(&key)?.lock();
        let s = map.get(&key)?;
        Some(LastUse {
            operation: s.operation,
            time_ms: s.time_ms,
            event_id: s.event_id.text(),
            request_id: s.request_id.text(),
        })
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

    #[test]
    fn uuids_are_kept_compact_and_given_back_as_they_came() {
        let u = LastUses::new(0);
        let key = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let event = uuid::Uuid::new_v4().to_string();
        let upper = "1234ABCD-12AB-34CD-56EF-1234567890AB";
        let used = LastUse {
            operation: "Encrypt",
            time_ms: 1,
            event_id: event.clone(),
            request_id: upper.into(),
        };
        u.record(key, used.clone());
        assert_eq!(u.get(key), Some(used));
        assert!(matches!(Id::new(&event), Id::Uuid(_)));
        // Not lowercase-hyphenated: kept as text, so it reads back unchanged.
        assert!(matches!(Id::new(upper), Id::Text(_)));
        assert_eq!(u.get(upper), None, "another key");
        let mrk = "mrk-1234abcd12ab34cd56ef1234567890ab";
        u.record(mrk, at(3, "Sign"));
        assert_eq!(u.get(mrk), Some(at(3, "Sign")));
    }
}
