//! The last successful cryptographic use of each key, for GetKeyLastUsage.
//!
//! The hot path only records in memory (it never touches storage); a background flush
//! ([`Kms::flush_key_usage`], every `--key-usage-flush-interval` seconds and at graceful
//! shutdown) writes the uses recorded since the last flush to the store, where a
//! monotonic upsert keeps each key's latest use whichever node flushes first. Flushed
//! entries leave memory, so memory holds only what is not yet stored, and a read
//! merges the two ([`Kms::last_use`]). A crash loses at most the uses of the last
//! flush interval. Sharded maps keep concurrent requests on different keys from
//! contending on one lock; an entry holds its ids compactly (a UUID as its 16 bytes),
//! ~100 bytes a key with no heap allocation, as every key may be used in one interval.

use crate::error::KmsResult;
use crate::ids::CompactId;
use crate::service::Kms;
use parking_lot::Mutex;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use tresor_store::{KeyUsageRecord, Write};

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
/// Unflushed keys remembered per shard; past it an arbitrary entry makes room (and is
/// counted as dropped).
const PER_SHARD: usize = 1 << 14;
/// Most uses written in one batch.
const FLUSH_BATCH: usize = 500;

/// A [`LastUse`] as the map holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    operation: &'static str,
    time_ms: i64,
    event_id: CompactId,
    request_id: CompactId,
}

impl Entry {
    fn of(u: &LastUse) -> Self {
        Self {
            operation: u.operation,
            time_ms: u.time_ms,
            event_id: CompactId::new(&u.event_id),
            request_id: CompactId::new(&u.request_id),
        }
    }

    fn to_use(&self) -> LastUse {
        LastUse {
            operation: self.operation,
            time_ms: self.time_ms,
            event_id: self.event_id.text(),
            request_id: self.request_id.text(),
        }
    }
}

type Shard = Mutex<HashMap<CompactId, Entry>>;

/// Uses not yet flushed, by store key id.
#[derive(Debug)]
pub struct LastUses {
    shards: Vec<Shard>,
    hasher: RandomState,
    /// When tracking started, epoch milliseconds: this process's start until the
    /// store's (the earliest any node wrote) is known.
    tracking_start_ms: AtomicI64,
    /// The tracking start is in the store.
    tracking_stored: AtomicBool,
    /// Unflushed uses evicted to keep the bound, since the last flush.
    dropped: AtomicU64,
}

impl LastUses {
    /// An empty tracker that started at `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            tracking_start_ms: AtomicI64::new(now_ms),
            tracking_stored: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
        }
    }

    fn shard(&self, key_id: &CompactId) -> Option<&Shard> {
        let i = usize::try_from(self.hasher.hash_one(key_id) % SHARDS as u64).unwrap_or(0);
        self.shards.get(i)
    }

    /// Records a use of `key_id`; a use older than the recorded one does not replace it.
    pub fn record(&self, key_id: &str, usage: LastUse) {
        self.insert(CompactId::new(key_id), Entry::of(&usage));
    }

    /// [`LastUses::record`] for ids already in their compact form (the request path,
    /// which holds its event id as a UUID and reads its request id once).
    pub fn record_compact(
        &self,
        key_id: &str,
        operation: &'static str,
        time_ms: i64,
        event_id: &CompactId,
        request_id: &CompactId,
    ) {
        let usage = Entry {
            operation,
            time_ms,
            event_id: event_id.clone(),
            request_id: request_id.clone(),
        };
        self.insert(CompactId::new(key_id), usage);
    }

    fn insert(&self, key_id: CompactId, usage: Entry) {
        let Some(shard) = self.shard(&key_id) else {
            return;
        };
        let mut map = shard.lock();
        if let Some(old) = map.get_mut(&key_id) {
            if old.time_ms <= usage.time_ms {
                *old = usage;
            }
            return;
        }
        if map.len() >= PER_SHARD {
            if let Some(victim) = map.keys().next().cloned() {
                map.remove(&victim);
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        map.insert(key_id, usage);
    }

    /// The unflushed use of `key_id`, if any.
    pub fn get(&self, key_id: &str) -> Option<LastUse> {
        let key_id = CompactId::new(key_id);
        self.shard(&key_id)?.lock().get(&key_id).map(Entry::to_use)
    }

    /// Every unflushed use (a copy).
    fn unflushed(&self) -> Vec<(CompactId, Entry)> {
        let mut out = Vec::new();
        for shard in &self.shards {
            out.extend(shard.lock().iter().map(|(k, u)| (k.clone(), u.clone())));
        }
        out
    }

    /// Forgets the `flushed` uses that are still the recorded ones (a use recorded
    /// since the copy stays, for the next flush).
    fn forget(&self, flushed: &[(CompactId, Entry)]) {
        for (key_id, usage) in flushed {
            if let Some(shard) = self.shard(key_id) {
                let mut map = shard.lock();
                if map.get(key_id) == Some(usage) {
                    map.remove(key_id);
                }
            }
        }
    }

    /// When tracking started (epoch ms).
    pub fn tracking_start_ms(&self) -> i64 {
        self.tracking_start_ms.load(Ordering::Relaxed)
    }
}

impl Kms {
    /// Writes this process's tracking start to the store (which keeps the earliest of
    /// every node's) and takes the store's.
    pub fn start_usage_tracking(&self) -> KmsResult<()> {
        let mine = self.last_uses.tracking_start_ms();
        self.store
            .apply(vec![Write::StartUsageTracking { started_ms: mine }])?;
        if let Some(stored) = self.store.usage_tracking_start()? {
            self.last_uses
                .tracking_start_ms
                .fetch_min(stored, Ordering::Relaxed);
        }
        self.last_uses
            .tracking_stored
            .store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Writes the uses recorded since the last flush to the store and forgets them
    /// here. Returns how many were written. On failure the rest stay for next time.
    pub fn flush_key_usage(&self) -> KmsResult<usize> {
        if !self.last_uses.tracking_stored.load(Ordering::Relaxed) {
            self.start_usage_tracking()?;
        }
        let dropped = self.last_uses.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                target: "tresor::usage",
                dropped,
                "key last-usage entries dropped before a flush (too many keys used in one interval)"
            );
        }
        let pending = self.last_uses.unflushed();
        for chunk in pending.chunks(FLUSH_BATCH) {
            let writes = chunk
                .iter()
                .map(|(key_id, u)| {
                    Write::PutKeyUsage(KeyUsageRecord {
                        key_id: key_id.text(),
                        operation: u.operation.to_string(),
                        time_ms: u.time_ms,
                        event_id: u.event_id.text(),
                        request_id: u.request_id.text(),
                    })
                })
                .collect();
            self.store.apply(writes)?;
            self.last_uses.forget(chunk);
        }
        // A node that wrote its start before an earlier-started node wrote its own
        // learns the deployment's start here.
        if let Some(stored) = self.store.usage_tracking_start()? {
            self.last_uses
                .tracking_start_ms
                .fetch_min(stored, Ordering::Relaxed);
        }
        Ok(pending.len())
    }

    /// The last use of stored key `key_id`: this node's unflushed one or the store's
    /// (any node's), whichever is later.
    pub fn last_use(&self, key_id: &str) -> KmsResult<Option<LastUse>> {
        let here = self.last_uses.get(key_id);
        let stored = self.store.key_usage(key_id)?.and_then(|r| {
            let operation = TRACKED.iter().copied().find(|o| *o == r.operation)?;
            Some(LastUse {
                operation,
                time_ms: r.time_ms,
                event_id: r.event_id,
                request_id: r.request_id,
            })
        });
        Ok(match (here, stored) {
            (Some(h), Some(s)) => Some(if s.time_ms > h.time_ms { s } else { h }),
            (h, s) => h.or(s),
        })
    }
}

/// The store id of the key `arn` names (`arn:aws:kms:REGION:ACCOUNT:key/ID`): a
/// multi-Region key's record in that Region.
pub(crate) fn store_id_of_arn(arn: &str) -> Option<Cow<'_, str>> {
    let id = arn.rsplit_once(":key/")?.1;
    if !id.starts_with("mrk-") {
        return Some(Cow::Borrowed(id));
    }
    let region = arn.split(':').nth(3)?;
    Some(Cow::Owned(crate::ids::storage_id(id, region)))
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
    fn a_flush_forgets_only_what_it_wrote() {
        let u = LastUses::new(0);
        u.record("a", at(1, "Encrypt"));
        u.record("b", at(2, "Encrypt"));
        let copy = u.unflushed();
        assert_eq!(copy.len(), 2);
        // A use of `b` recorded while the copy was being written stays.
        u.record("b", at(3, "Decrypt"));
        u.forget(&copy);
        assert_eq!(u.get("a"), None);
        assert_eq!(u.get("b"), Some(at(3, "Decrypt")));
        assert_eq!(u.unflushed().len(), 1);
    }

    #[test]
    fn uuid_ids_are_held_as_bytes_and_read_back() {
        let u = LastUses::new(0);
        let usage = LastUse {
            operation: "Decrypt",
            time_ms: 7,
            event_id: uuid::Uuid::new_v4().to_string(),
            request_id: uuid::Uuid::new_v4().to_string(),
        };
        let key = "1234abcd-12ab-34cd-56ef-1234567890ab";
        u.record(key, usage.clone());
        assert_eq!(u.get(key), Some(usage));
        let held = u.unflushed();
        let (k, e) = held.first().unwrap();
        assert!(matches!(k, CompactId::Uuid(_)));
        assert!(matches!(e.event_id, CompactId::Uuid(_)));
        assert!(matches!(e.request_id, CompactId::Uuid(_)));
        assert!(std::mem::size_of::<(CompactId, Entry)>() <= 96);
    }

    #[test]
    fn a_compact_use_reads_back_as_its_ids() {
        let u = LastUses::new(0);
        let event = uuid::Uuid::new_v4();
        let request = uuid::Uuid::new_v4().to_string();
        let key = "1234abcd-12ab-34cd-56ef-1234567890ab";
        u.record_compact(
            key,
            "Encrypt",
            9,
            &CompactId::of_uuid(event),
            &CompactId::new(&request),
        );
        let want = LastUse {
            operation: "Encrypt",
            time_ms: 9,
            event_id: event.to_string(),
            request_id: request,
        };
        assert_eq!(u.get(key), Some(want.clone()));
        // An older use, compact or not, does not replace it.
        u.record(key, at(3, "Decrypt"));
        assert_eq!(u.get(key), Some(want));
    }

    #[test]
    fn memory_is_bounded() {
        let u = LastUses::new(0);
        let n = SHARDS * PER_SHARD + 1000;
        for i in 0..n {
            u.record(&format!("k{i}"), at(1, "Encrypt"));
        }
        let kept = u.unflushed().len();
        assert!(kept <= SHARDS * PER_SHARD, "{kept}");
        assert_eq!(
            u.dropped.load(Ordering::Relaxed),
            u64::try_from(n - kept).unwrap()
        );
    }

    #[test]
    fn arns_name_store_ids() {
        assert_eq!(
            store_id_of_arn(
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            )
            .unwrap(),
            "1234abcd-12ab-34cd-56ef-1234567890ab"
        );
        assert_eq!(
            store_id_of_arn(
                "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
            )
            .unwrap(),
            "mrk-1234abcd12ab34cd56ef1234567890ab@eu-west-1"
        );
        assert_eq!(store_id_of_arn("nonsense"), None);
    }
}
