//! The bounded in-memory view of keys and aliases that keeps storage off the hot path.
//!
//! Entries are immutable snapshots behind `Arc`; a mutation writes the store first and
//! then replaces the snapshot, so readers never see a state the store does not have.

use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, KeyState, KeyUsage, Origin};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tresor_crypto::asymmetric::{HmacKey, PrivateKey, PublicKey};
use tresor_crypto::symmetric::SymmetricKey;
use tresor_store::KeyRecord;

/// Decrypted key material, by kind of key.
#[derive(Debug)]
pub enum KeyMaterial {
    /// SYMMETRIC_DEFAULT.
    Symmetric(SymmetricKey),
    /// An asymmetric private key (parsed, ready to use).
    Asymmetric(Box<PrivateKey>),
    /// An HMAC key.
    Hmac(Box<HmacKey>),
}

impl KeyMaterial {
    /// The plaintext bytes to wrap under the root key (PKCS#8 for private keys).
    pub fn secret(&self) -> &tresor_crypto::SecretBytes {
        match self {
            KeyMaterial::Symmetric(k) => k.material(),
            KeyMaterial::Asymmetric(k) => k.pkcs8(),
            KeyMaterial::Hmac(k) => k.material(),
        }
    }

    /// Rebuilds material of key spec `spec` from its unwrapped bytes.
    pub fn from_secret(spec: KeySpec, secret: tresor_crypto::SecretBytes) -> KmsResult<Self> {
        if spec == KeySpec::SymmetricDefault {
            return Ok(KeyMaterial::Symmetric(
                SymmetricKey::from_material(secret).map_err(KmsError::internal)?,
            ));
        }
        if let Some((alg, _)) = spec.hmac() {
            return Ok(KeyMaterial::Hmac(Box::new(
                HmacKey::from_material(alg, secret).map_err(KmsError::internal)?,
            )));
        }
        let asym = spec
            .asymmetric()
            .ok_or_else(|| KmsError::internal(format!("no material kind for {spec}")))?;
        Ok(KeyMaterial::Asymmetric(Box::new(
            PrivateKey::from_pkcs8(asym, &secret).map_err(KmsError::internal)?,
        )))
    }
}

/// One decrypted material version of a key.
#[derive(Debug)]
pub struct Material {
    /// The public KeyMaterialId (64 hex digits).
    pub material_id: String,
    /// The material itself.
    pub key: KeyMaterial,
}

/// A key's material versions, ascending. Most keys have one or a few, so a sorted,
/// exactly-sized vector (not a tree with its wide nodes) keeps 100,000 cached keys small.
/// A key in a custom key store also has its store's link.
#[derive(Debug, Default)]
pub struct Materials(Vec<(u32, Material)>, Option<Box<StoreLink>>);

/// Where the material of a key in a custom key store is.
#[derive(Debug)]
pub struct StoreLink {
    /// CustomKeyStoreId.
    pub store_id: String,
    /// The store's CloudHsmClusterId (DescribeKey shows it).
    pub cloud_hsm_cluster_id: Option<String>,
    /// The live connection of an `AWS_CLOUDHSM` store; `None` while not connected.
    pub hsm: Option<Arc<crate::custom_key_stores::HsmConnection>>,
    /// The proxy of a CONNECTED `EXTERNAL_KEY_STORE`; `None` while not connected.
    pub xks: Option<Arc<crate::custom_key_stores::XksConnection>>,
}

impl StoreLink {
    /// True while the store's connection is usable.
    pub fn is_connected(&self) -> bool {
        self.hsm.as_ref().is_some_and(|c| c.is_open())
            || self.xks.as_ref().is_some_and(|c| c.is_open())
    }
}

impl Materials {
    /// Builds from versions in any order.
    pub fn new(mut versions: Vec<(u32, Material)>) -> Self {
        versions.sort_by_key(|(v, _)| *v);
        versions.shrink_to_fit();
        Self(versions, None)
    }

    /// The same versions for a key in custom key store `store_id`.
    pub fn in_custom_key_store(self, link: StoreLink) -> Self {
        Self(self.0, Some(Box::new(link)))
    }

    /// The material of `version`.
    pub fn get(&self, version: &u32) -> Option<&Material> {
        self.0
            .binary_search_by_key(version, |(v, _)| *v)
            .ok()
            .and_then(|i| self.0.get(i))
            .map(|(_, m)| m)
    }

    /// Every version, ascending.
    pub fn iter(&self) -> impl Iterator<Item = &(u32, Material)> {
        self.0.iter()
    }

    /// True when the key has no material (EXTERNAL keys before import).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The custom key store link of a key in one.
    pub fn store(&self) -> Option<&StoreLink> {
        self.1.as_deref()
    }
}

/// A key as the operations see it: metadata plus decrypted material versions.
#[derive(Debug, Clone)]
pub struct CachedKey {
    /// The stored record.
    pub record: KeyRecord,
    /// The key ARN.
    pub arn: String,
    /// Parsed KeySpec.
    pub spec: KeySpec,
    /// Parsed KeyUsage.
    pub usage: KeyUsage,
    /// Parsed KeyState.
    pub state: KeyState,
    /// Parsed Origin.
    pub origin: Origin,
    /// Material versions by version number.
    pub materials: Arc<Materials>,
    /// The public key of an asymmetric key.
    pub public: Option<PublicKey>,
    /// The key policy (the stored one, or AWS's default for keys without one), shared
    /// by every key with the same policy text.
    pub policy: Arc<KeyPolicy>,
}

/// A parsed key policy and what authorization needs to know about it.
#[derive(Debug)]
pub struct KeyPolicy {
    /// The policy.
    pub parsed: tresor_policy::Policy,
    /// It tests `aws:ResourceTag/*` or `kms:ResourceAliases`, so authorization must look
    /// the key's tags and aliases up.
    pub mentions_resource_facts: bool,
    /// It has conditions, so authorization needs the request's facts.
    pub has_conditions: bool,
}

impl KeyPolicy {
    /// Parses a stored policy document.
    pub fn parse(text: &str) -> KmsResult<Self> {
        let parsed = crate::policy::parse_key_policy(text)
            .map_err(|e| KmsError::internal(format!("stored key policy does not parse: {e}")))?;
        Ok(Self {
            parsed,
            mentions_resource_facts: mentions_resource_facts(text),
            has_conditions: crate::policy::has_conditions(text),
        })
    }
}

impl CachedKey {
    /// The same key after its record changed in ways that keep the policy (state
    /// checks inside read-modify-write closures).
    pub fn with_record(&self, record: KeyRecord) -> KmsResult<Self> {
        Self::new(record, self.materials.clone(), self.policy.clone())
    }

    /// Builds the view of `record` with its already-decrypted `materials` and its
    /// parsed `policy`.
    pub fn new(
        record: KeyRecord,
        materials: Arc<Materials>,
        policy: Arc<KeyPolicy>,
    ) -> KmsResult<Self> {
        let spec = KeySpec::parse(&record.key_spec, "keySpec")?;
        let public = match (spec.asymmetric(), &record.public_key) {
            (Some(asym), Some(der)) => {
                Some(PublicKey::from_spki(asym, der).map_err(KmsError::internal)?)
            }
            _ => None,
        };
        let mut state = KeyState::parse(&record.key_state, "keyState")?;
        // A key in a custom key store that is not connected is Unavailable.
        let connected = materials.store().map(StoreLink::is_connected);
        if connected == Some(false) && matches!(state, KeyState::Enabled | KeyState::Disabled) {
            state = KeyState::Unavailable;
        }
        Ok(Self {
            policy,
            public,
            arn: crate::ids::stored_key_arn(&record.region, &record.account, &record.key_id),
            spec,
            usage: KeyUsage::parse(&record.key_usage, "keyUsage")?,
            state,
            origin: Origin::parse(&record.origin, "origin")?,
            record,
            materials,
        })
    }

    /// The material new encryptions use.
    pub fn current_material(&self) -> KmsResult<(u32, &Material)> {
        let v = self.record.current_version;
        self.materials.get(&v).map(|m| (v, m)).ok_or_else(|| {
            KmsError::internal(format!(
                "key {} lacks its current material v{v}",
                self.record.key_id
            ))
        })
    }

    /// The current material as an asymmetric private key.
    pub fn private_key(&self) -> KmsResult<&PrivateKey> {
        match &self.current_material()?.1.key {
            KeyMaterial::Asymmetric(k) => Ok(k),
            _ => Err(KmsError::internal(format!(
                "key {} has no private key",
                self.record.key_id
            ))),
        }
    }

    /// The public key of an asymmetric key.
    pub fn public_key(&self) -> KmsResult<&PublicKey> {
        self.public.as_ref().ok_or_else(|| {
            KmsError::internal(format!("key {} has no public key", self.record.key_id))
        })
    }

    /// The KeyId clients see (the record's id without the Region of a multi-Region key).
    pub fn id(&self) -> &str {
        crate::ids::public_id(&self.record.key_id)
    }

    /// True for a multi-Region key (primary or replica).
    pub fn is_multi_region(&self) -> bool {
        self.record.primary_region.is_some()
    }

    /// True for a multi-Region replica key.
    pub fn is_replica(&self) -> bool {
        self.record
            .primary_region
            .as_ref()
            .is_some_and(|p| *p != self.record.region)
    }

    /// The key id as 16 bytes, for ciphertext headers: a UUID's bytes, or the 16 bytes
    /// the hex digits of an `mrk-` id spell.
    pub fn id_bytes(&self) -> KmsResult<[u8; 16]> {
        match self.id().strip_prefix("mrk-") {
            Some(hex_digits) => {
                let mut out = [0u8; 16];
                hex::decode_to_slice(hex_digits, &mut out)
                    .map_err(|_| KmsError::internal(format!("bad key id {}", self.id())))?;
                Ok(out)
            }
            None => uuid_bytes(self.id()),
        }
    }
}

/// True when a policy document tests the key's tags or aliases.
pub fn mentions_resource_facts(doc: &str) -> bool {
    let lower = doc.to_ascii_lowercase();
    lower.contains("aws:resourcetag") || lower.contains("kms:resourcealiases")
}

/// Parses a canonical UUID string into its 16 bytes.
pub fn uuid_bytes(id: &str) -> KmsResult<[u8; 16]> {
    uuid::Uuid::parse_str(id)
        .map(|u| *u.as_bytes())
        .map_err(|_| KmsError::internal(format!("key id {id} is not a UUID")))
}

/// A map with a size bound: when full, an arbitrary entry makes room.
///
/// Fills from storage go through [`BoundedMap::get_or_load`], which keeps a loaded value
/// only if no writer changed the map while it was being loaded: a fill that read the
/// store before a concurrent update (DisableKey, a revoked grant, a disabled user) can
/// never overwrite the updated entry with its stale copy.
#[derive(Debug)]
pub struct BoundedMap<K, V> {
    inner: RwLock<Inner<K, V>>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug)]
struct Inner<K, V> {
    map: HashMap<K, V>,
    /// Bumped by every write that is not a fill (insert, remove).
    generation: u64,
}

impl<K: Eq + Hash + Clone, V: Clone> BoundedMap<K, V> {
    /// A map holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: RwLock::new(Inner {
                map: HashMap::new(),
                generation: 0,
            }),
            capacity: capacity.max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// A clone of the value for `k`.
    pub fn get(&self, k: &K) -> Option<V> {
        let v = self.inner.read().map.get(k).cloned();
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
        let generation = {
            let inner = self.inner.read();
            if let Some(v) = inner.map.get(k) {
                let v = v.clone();
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
            Self::put(&mut inner.map, self.capacity, k.clone(), v.clone());
        }
        Ok(Some(v))
    }

    fn put(map: &mut HashMap<K, V>, capacity: usize, k: K, v: V) {
        if map.len() >= capacity && !map.contains_key(&k) {
            if let Some(victim) = map.keys().next().cloned() {
                map.remove(&victim);
            }
        }
        map.insert(k, v);
    }

    /// Inserts or replaces (a writer's update: loads in flight are not kept).
    pub fn insert(&self, k: K, v: V) {
        let mut inner = self.inner.write();
        inner.generation = inner.generation.wrapping_add(1);
        Self::put(&mut inner.map, self.capacity, k, v);
    }

    /// Removes `k` (loads in flight are not kept).
    pub fn remove(&self, k: &K) {
        let mut inner = self.inner.write();
        inner.generation = inner.generation.wrapping_add(1);
        inner.map.remove(k);
    }

    /// Removes every entry whose value matches (loads in flight are not kept).
    pub fn remove_where(&self, mut f: impl FnMut(&V) -> bool) {
        let mut inner = self.inner.write();
        inner.generation = inner.generation.wrapping_add(1);
        inner.map.retain(|_, v| !f(v));
    }

    /// Removes everything (loads in flight are not kept).
    pub fn clear(&self) {
        let mut inner = self.inner.write();
        inner.generation = inner.generation.wrapping_add(1);
        inner.map.clear();
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.inner.read().map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
