//! [`BoundedMap`]: a concurrent map with a size bound and CLOCK (second-chance) eviction.

use hashbrown::HashTable;
use parking_lot::RwLock;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A map with a size bound, in entries ([`BoundedMap::new`]) or in bytes
/// ([`BoundedMap::with_bytes`]). When full, CLOCK eviction makes room: a hand sweeps the
/// entries, an entry read since the hand last passed gets a second chance (its bit is
/// cleared), and the first one not read is dropped. Hot entries stay while a scan of
/// cold ones passes through; reads take only the read lock (the bit is atomic).
///
/// Fills from storage go through [`BoundedMap::get_or_load`], which keeps a loaded value
/// only if no writer changed the map while it was being loaded: a fill that read the
/// store before a concurrent update (DisableKey, a revoked grant, a disabled user) can
/// never overwrite the updated entry with its stale copy.
#[derive(Debug)]
pub struct BoundedMap<K, V> {
    inner: RwLock<Inner<K, V>>,
    /// Most total weight held.
    budget: usize,
    /// An entry's weight (1, or the heap bytes its key and value own).
    weigh: fn(&K, &V) -> usize,
    /// Added to every entry's weight: the map's own memory per entry, in bytes mode.
    per_entry: usize,
    hasher: RandomState,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug)]
struct Slot<K, V> {
    key: K,
    value: V,
    weight: usize,
    hash: u64,
    /// Read since the hand last passed.
    referenced: AtomicBool,
}

#[derive(Debug)]
struct Inner<K, V> {
    /// Indexes into `slots`, by their key's hash.
    table: HashTable<usize>,
    slots: Vec<Option<Slot<K, V>>>,
    /// Empty places in `slots`.
    free: Vec<usize>,
    /// The CLOCK hand: the next place in `slots` to look at.
    hand: usize,
    /// Total weight held.
    weight: usize,
    /// Bumped by every write that is not a fill (insert, remove).
    generation: u64,
}

fn one<K, V>(_: &K, _: &V) -> usize {
    1
}

impl<K: Eq + Hash + Clone, V: Clone> BoundedMap<K, V> {
    /// A map holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self::build(capacity.max(1), one, 0)
    }

    /// A map holding at most `budget` bytes: what `weigh` says an entry's key and value
    /// own on the heap, plus the map's own memory for the entry (its slot, with the key
    /// and value inline, and its index).
    pub fn with_bytes(budget: usize, weigh: fn(&K, &V) -> usize) -> Self {
        let per_entry =
            std::mem::size_of::<Option<Slot<K, V>>>() + std::mem::size_of::<usize>() + 1;
        Self::build(budget, weigh, per_entry)
    }

    fn build(budget: usize, weigh: fn(&K, &V) -> usize, per_entry: usize) -> Self {
        Self {
            inner: RwLock::new(Inner {
                table: HashTable::new(),
                slots: Vec::new(),
                free: Vec::new(),
                hand: 0,
                weight: 0,
                generation: 0,
            }),
            budget,
            weigh,
            per_entry,
            hasher: RandomState::new(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// A clone of the value for `k`.
    pub fn get(&self, k: &K) -> Option<V> {
        let v = self.inner.read().get(self.hasher.hash_one(k), k);
        self.count(v.is_some());
        v
    }

    fn count(&self, hit: bool) {
        let c = if hit { &self.hits } else { &self.misses };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Lookups answered from the map and lookups that were not, since it was made.
    pub fn hits_misses(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The value for `k`, or the one `load` reads from storage. The loaded value is
    /// cached only when no writer touched the map during the load (else the next call
    /// loads again), so the cache never holds a state older than the last write.
    pub fn get_or_load<E>(
        &self,
        k: &K,
        load: impl FnOnce() -> Result<Option<V>, E>,
    ) -> Result<Option<V>, E> {
        let hash = self.hasher.hash_one(k);
        let generation = {
            let inner = self.inner.read();
            if let Some(v) = inner.get(hash, k) {
                drop(inner);
                self.count(true);
                return Ok(Some(v));
            }
            inner.generation
        };
        self.count(false);
        let Some(v) = load()? else {
            return Ok(None);
        };
        let mut inner = self.inner.write();
        if inner.generation == generation {
            self.put(&mut inner, hash, k.clone(), v.clone());
        }
        Ok(Some(v))
    }

    fn put(&self, inner: &mut Inner<K, V>, hash: u64, k: K, v: V) {
        let weight = (self.weigh)(&k, &v).saturating_add(self.per_entry);
        // Whatever was there is replaced (or, too heavy to keep, dropped).
        inner.remove(hash, &k);
        if weight > self.budget {
            return;
        }
        while inner.weight.saturating_add(weight) > self.budget {
            if !inner.evict_one() {
                break;
            }
        }
        let slot = Slot {
            key: k,
            value: v,
            weight,
            hash,
            referenced: AtomicBool::new(false),
        };
        let i = match inner.free.pop() {
            Some(i) => {
                if let Some(place) = inner.slots.get_mut(i) {
                    *place = Some(slot);
                }
                i
            }
            None => {
                inner.slots.push(Some(slot));
                inner.slots.len() - 1
            }
        };
        let Inner {
            table,
            slots,
            weight: total,
            ..
        } = &mut *inner;
        let slots: &[Option<Slot<K, V>>] = slots;
        table.insert_unique(hash, i, |&j| slot_hash(slots, j));
        *total += weight;
    }

    /// Inserts or replaces (a writer's update: loads in flight are not kept).
    pub fn insert(&self, k: K, v: V) {
        let hash = self.hasher.hash_one(&k);
        let mut inner = self.inner.write();
        inner.generation = inner.generation.wrapping_add(1);
        self.put(&mut inner, hash, k, v);
    }

    /// Removes `k` (loads in flight are not kept).
    pub fn remove(&self, k: &K) {
        let hash = self.hasher.hash_one(k);
        let mut inner = self.inner.write();
        inner.generation = inner.generation.wrapping_add(1);
        inner.remove(hash, k);
    }

    /// Removes every entry whose value matches (loads in flight are not kept).
    pub fn remove_where(&self, mut f: impl FnMut(&V) -> bool) {
        let mut inner = self.inner.write();
        inner.generation = inner.generation.wrapping_add(1);
        let doomed: Vec<usize> = inner
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().filter(|s| f(&s.value)).map(|_| i))
            .collect();
        for i in doomed {
            inner.remove_at(i);
        }
    }

    /// Removes everything (loads in flight are not kept).
    pub fn clear(&self) {
        let mut inner = self.inner.write();
        inner.generation = inner.generation.wrapping_add(1);
        inner.table.clear();
        inner.slots.clear();
        inner.free.clear();
        inner.hand = 0;
        inner.weight = 0;
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.inner.read().table.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total weight held (bytes for a map made by [`BoundedMap::with_bytes`]).
    pub fn weight(&self) -> usize {
        self.inner.read().weight
    }
}

fn slot_hash<K, V>(slots: &[Option<Slot<K, V>>], i: usize) -> u64 {
    slots
        .get(i)
        .and_then(Option::as_ref)
        .map(|s| s.hash)
        .unwrap_or(0)
}

impl<K: Eq + Clone, V: Clone> Inner<K, V> {
    fn find(&self, hash: u64, k: &K) -> Option<usize> {
        let slots = &self.slots;
        self.table
            .find(hash, |&i| {
                slots
                    .get(i)
                    .and_then(Option::as_ref)
                    .is_some_and(|s| s.key == *k)
            })
            .copied()
    }

    fn get(&self, hash: u64, k: &K) -> Option<V> {
        let slot = self
            .find(hash, k)
            .and_then(|i| self.slots.get(i))
            .and_then(Option::as_ref)?;
        // Written only when clear, so readers of a hot entry do not fight over its line.
        if !slot.referenced.load(Ordering::Relaxed) {
            slot.referenced.store(true, Ordering::Relaxed);
        }
        Some(slot.value.clone())
    }

    fn remove(&mut self, hash: u64, k: &K) {
        if let Some(i) = self.find(hash, k) {
            self.remove_at(i);
        }
    }

    /// Drops the entry at `slots[i]`.
    fn remove_at(&mut self, i: usize) {
        let Some(slot) = self.slots.get_mut(i).and_then(Option::take) else {
            return;
        };
        if let Ok(entry) = self.table.find_entry(slot.hash, |&j| j == i) {
            entry.remove();
        }
        self.weight = self.weight.saturating_sub(slot.weight);
        self.free.push(i);
    }

    /// Moves the hand to the first entry not read since its last pass (clearing the
    /// bits it passes) and drops it. False when the map is empty.
    fn evict_one(&mut self) -> bool {
        let n = self.slots.len();
        // Two sweeps at most: the first clears every bit.
        for _ in 0..=2 * n {
            if self.hand >= n {
                self.hand = 0;
            }
            let i = self.hand;
            self.hand += 1;
            let Some(slot) = self.slots.get(i).and_then(Option::as_ref) else {
                continue;
            };
            if slot.referenced.swap(false, Ordering::Relaxed) {
                continue;
            }
            self.remove_at(i);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bounded_map_never_exceeds_capacity() {
        let m = BoundedMap::new(3);
        for i in 0..10 {
            m.insert(i, i);
            assert!(m.len() <= 3);
        }
        assert_eq!(m.get(&9), Some(9));
        m.remove_where(|v| *v == 9);
        assert_eq!(m.get(&9), None);
        assert_eq!(m.len(), 2);
        m.clear();
        assert!(m.is_empty());
        assert_eq!(m.weight(), 0);
    }

    fn weigh(k: &String, v: &String) -> usize {
        k.capacity() + v.capacity()
    }

    #[test]
    fn the_byte_bound_holds() {
        let budget = 10_000;
        let m: BoundedMap<String, String> = BoundedMap::with_bytes(budget, weigh);
        for i in 0..2_000 {
            // Values of varying size, some replaced in place.
            let k = format!("key-{}", i % 700);
            m.insert(k, "v".repeat(i % 97));
            assert!(m.weight() <= budget, "{} > {budget}", m.weight());
        }
        assert!(m.len() > 10, "the budget holds many small entries");
        // The weights add up: emptying the map takes them all back.
        m.remove_where(|_| true);
        assert_eq!((m.len(), m.weight()), (0, 0));
        // An entry heavier than the whole budget is not kept, nor its old value.
        m.insert("big".into(), "small".into());
        m.insert("big".into(), "x".repeat(budget));
        assert_eq!(m.get(&"big".to_string()), None);
        assert_eq!(m.weight(), 0);
    }

    #[test]
    fn a_hot_key_survives_a_scan_of_cold_ones() {
        let m = BoundedMap::new(100);
        m.insert(u32::MAX, 0);
        // A scan of 10,000 cold keys through a map of 100; the hot key is read all along.
        for i in 0..10_000 {
            m.insert(i, i);
            if i % 10 == 0 {
                assert_eq!(m.get(&u32::MAX), Some(0), "evicted at cold key {i}");
            }
        }
        assert_eq!(m.get(&u32::MAX), Some(0));
        assert_eq!(m.len(), 100);
        // The cold keys that remain are the newest ones (CLOCK behaves as FIFO on them).
        assert_eq!(m.get(&9_999), Some(9_999));
        assert_eq!(m.get(&0), None);
        // Not read any more, the hot key goes like any other.
        for i in 10_000..10_300 {
            m.insert(i, i);
        }
        assert_eq!(m.get(&u32::MAX), None);
    }

    #[test]
    fn a_load_overtaken_by_a_write_is_not_kept() {
        let m: BoundedMap<&str, &str> = BoundedMap::new(10);
        // A reader misses and reads "enabled" from storage; before it inserts, a writer
        // stores "disabled" and updates the map.
        let loaded = m
            .get_or_load(&"key", || {
                m.insert("key", "disabled");
                Ok::<_, ()>(Some("enabled"))
            })
            .unwrap();
        assert_eq!(
            loaded,
            Some("enabled"),
            "the reader answers with what it read"
        );
        assert_eq!(m.get(&"key"), Some("disabled"), "the writer's state stays");
        // The same for an invalidation (the writer removed the entry).
        m.remove(&"key");
        m.get_or_load(&"key", || {
            m.remove(&"key");
            Ok::<_, ()>(Some("stale"))
        })
        .unwrap();
        assert_eq!(
            m.get(&"key"),
            None,
            "a removal is not undone by a stale load"
        );
        // Without a concurrent write, the load is kept.
        m.get_or_load(&"key", || Ok::<_, ()>(Some("fresh")))
            .unwrap();
        assert_eq!(m.get(&"key"), Some("fresh"));
        let again = m
            .get_or_load(&"key", || Ok::<_, ()>(Some("not read")))
            .unwrap();
        assert_eq!(again, Some("fresh"), "a hit does not load");
    }
}
