//! The KMS service: state shared by every request (store, root key, caches, clock).

use crate::audit::{AuditSink, LogAuditSink};
use crate::cache::{BoundedMap, CachedKey, KeyMaterial, Material, Materials};
use crate::caller::Credential;
use crate::clock::Clock;
use crate::error::{KmsError, KmsResult};
use crate::ids::CompactId;
use crate::quota::{RequestQuota, Unlimited};
use crate::seal::RootRing;
use parking_lot::Mutex;
use std::sync::Arc;
use tresor_crypto::{RootKey, SecretBytes, WrapPurpose};
use tresor_store::{AccessKeyRecord, KeyRecord, Store, Write};

mod coherence;
mod jobs;

/// How often a read-modify-write is tried again when another node changed the record.
const MAX_CONFLICT_RETRIES: u32 = 8;

/// Tunables of the service.
#[derive(Debug, Clone)]
pub struct KmsConfig {
    /// Most bytes of keys held decrypted in memory (a symmetric key takes about 1 KiB);
    /// the alias and grant caches get an eighth of it each.
    pub key_cache_bytes: usize,
}

impl Default for KmsConfig {
    fn default() -> Self {
        Self {
            key_cache_bytes: 256 << 20,
        }
    }
}

/// The service. Cheap to share (`Arc<Kms>`); every operation runs against it.
pub struct Kms {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) root_slot: crate::seal::RootSlot,
    clock: Arc<dyn Clock>,
    /// Keys by storage id (a UUID in 16 bytes).
    keys: BoundedMap<CompactId, Arc<CachedKey>>,
    aliases: BoundedMap<String, String>,
    credentials: BoundedMap<String, Arc<Credential>>,
    /// Access key ids known not to authenticate (unknown or inactive): answered
    /// without a store read. Cleared for an id whenever that access key is written.
    refused_keys: BoundedMap<String, ()>,
    /// Bumped on every access-key change, so derived caches (SigV4 signing keys) know
    /// to drop what they hold.
    credential_epoch: std::sync::atomic::AtomicU64,
    write_lock: Mutex<()>,
    identity_policies: BoundedMap<String, Arc<IdentityPolicies>>,
    key_policies: BoundedMap<String, Arc<crate::cache::KeyPolicy>>,
    grants: BoundedMap<String, Arc<Vec<tresor_store::GrantRecord>>>,
    pub(crate) audit: Arc<dyn AuditSink>,
    pub(crate) quota: Arc<dyn RequestQuota>,
    /// The last cryptographic use of each key (GetKeyLastUsage).
    pub(crate) last_uses: crate::usage::LastUses,
    /// Declared HSM clusters and live custom key store connections.
    pub(crate) cks: crate::custom_key_stores::Registry,
    /// Keys in a transient state (Creating, Updating) and when they settle.
    pub(crate) transitions: crate::transitions::Transitions,
}

impl std::fmt::Debug for Kms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kms")
            .field("cached_keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// A principal's identity policies, parsed.
#[derive(Debug, Default)]
pub struct IdentityPolicies {
    /// The policies.
    pub policies: Vec<tresor_policy::Policy>,
    /// Some policy tests the key's tags or aliases.
    pub mentions_resource_facts: bool,
    /// Some policy has conditions.
    pub has_conditions: bool,
}

fn alias_cache_key(account: &str, region: &str, name: &str) -> String {
    format!("{account}\u{0}{region}\u{0}{name}")
}

impl Kms {
    /// An unsealed service over `store`, with material wrapped under `root`.
    pub fn new(
        store: Arc<dyn Store>,
        root: RootKey,
        clock: Arc<dyn Clock>,
        config: KmsConfig,
    ) -> KmsResult<Self> {
        let kms = Self::new_sealed(store, clock, config);
        kms.unseal(root)?;
        Ok(kms)
    }

    /// A sealed service over `store`: it answers nothing until [`Kms::unseal`].
    pub fn new_sealed(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: KmsConfig) -> Self {
        Self {
            store,
            root_slot: crate::seal::RootSlot::sealed(),
            keys: BoundedMap::with_bytes(
                config.key_cache_bytes,
                |k: &CompactId, v: &Arc<CachedKey>| k.heap_bytes() + v.heap_bytes(),
            ),
            aliases: BoundedMap::with_bytes(
                config.key_cache_bytes / 8,
                |k: &String, v: &String| k.capacity() + v.capacity(),
            ),
            credentials: BoundedMap::new(10_000),
            refused_keys: BoundedMap::new(10_000),
            credential_epoch: std::sync::atomic::AtomicU64::new(0),
            write_lock: Mutex::new(()),
            identity_policies: BoundedMap::new(10_000),
            key_policies: BoundedMap::new(10_000),
            grants: BoundedMap::with_bytes(
                config.key_cache_bytes / 8,
                |k: &String, v: &Arc<Vec<tresor_store::GrantRecord>>| {
                    k.capacity() + crate::cache::grants_heap_bytes(v)
                },
            ),
            audit: Arc::new(LogAuditSink),
            quota: Arc::new(Unlimited),
            last_uses: crate::usage::LastUses::new(clock.now_ms()),
            cks: crate::custom_key_stores::Registry::default(),
            transitions: crate::transitions::Transitions::default(),
            clock,
        }
    }

    /// Replaces the audit sink.
    pub fn with_audit(mut self, audit: Arc<dyn AuditSink>) -> Self {
        self.audit = audit;
        self
    }

    /// Declares the HSM clusters `AWS_CLOUDHSM` custom key stores may use.
    pub fn with_hsm_clusters(
        mut self,
        clusters: Vec<crate::custom_key_stores::HsmCluster>,
    ) -> Self {
        self.cks = crate::custom_key_stores::Registry::new(clusters);
        self
    }

    /// Replaces the request-quota policy.
    pub fn with_quota(mut self, quota: Arc<dyn RequestQuota>) -> Self {
        self.quota = quota;
        self
    }

    /// The service clock, in ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Each cache by name: (hits, misses, entries, weight), for metrics. The weight is
    /// bytes for the key, alias and grant caches, entries for the others.
    pub fn cache_stats(&self) -> [(&'static str, u64, u64, usize, usize); 7] {
        fn s<K: Eq + std::hash::Hash + Clone, V: Clone>(
            name: &'static str,
            m: &BoundedMap<K, V>,
        ) -> (&'static str, u64, u64, usize, usize) {
            let (h, miss) = m.hits_misses();
            (name, h, miss, m.len(), m.weight())
        }
        [
            s("keys", &self.keys),
            s("aliases", &self.aliases),
            s("credentials", &self.credentials),
            s("refused_keys", &self.refused_keys),
            s("identity_policies", &self.identity_policies),
            s("key_policies", &self.key_policies),
            s("grants", &self.grants),
        ]
    }

    /// How many keys are stored (every account and state); reads the store, so it
    /// doubles as the storage health probe.
    pub fn key_count(&self) -> KmsResult<u64> {
        Ok(self.store.key_count()?)
    }

    /// Whether the audit sink can currently keep records.
    pub fn audit_health(&self) -> Result<(), crate::audit::AuditError> {
        self.audit.health()
    }

    /// The audit sink's queue depth and fsync counters.
    pub fn audit_stats(&self) -> crate::audit::AuditStats {
        self.audit.stats()
    }

    // ----- identities -------------------------------------------------------------

    /// Makes sure `access_key_id` exists with `secret` for `principal_arn` of `account`.
    pub fn ensure_access_key(
        &self,
        access_key_id: &str,
        secret: &SecretBytes,
        account: &str,
        principal_arn: &str,
        operator: bool,
    ) -> KmsResult<()> {
        if let Some(existing) = self.credential(access_key_id)? {
            if existing.secret == *secret
                && existing.account == account
                && existing.principal_arn == principal_arn
                && existing.operator == operator
            {
                return Ok(());
            }
        }
        let ring = self.ring()?;
        let record = self.access_key_record(
            &ring,
            access_key_id,
            secret,
            account,
            principal_arn,
            operator,
        )?;
        self.store.apply(vec![Write::PutAccessKey(record)])?;
        drop(ring);
        self.access_key_changed(access_key_id);
        Ok(())
    }

    /// Forgets everything cached about `access_key_id` after it was created, changed
    /// or deleted; requests that start afterwards read it anew.
    pub(crate) fn access_key_changed(&self, access_key_id: &str) {
        let id = access_key_id.to_string();
        // Bump before removing: a concurrent refusal fill either sees the new epoch
        // and takes its entry back, or was inserted before this removal.
        self.credential_epoch
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.credentials.remove(&id);
        self.refused_keys.remove(&id);
    }

    /// Changes whenever an access key is created, changed or deleted.
    pub fn credential_epoch(&self) -> u64 {
        self.credential_epoch
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The credential behind `access_key_id` if it is cached, without a store read.
    pub fn cached_credential(&self, access_key_id: &str) -> Option<Arc<Credential>> {
        self.credentials.get(&access_key_id.to_string())
    }

    /// A new access key record with its secret wrapped under the root key. Keep `ring`
    /// until the record is written (a root rotation waits for it).
    pub(crate) fn access_key_record(
        &self,
        ring: &RootRing,
        access_key_id: &str,
        secret: &SecretBytes,
        account: &str,
        principal_arn: &str,
        operator: bool,
    ) -> KmsResult<AccessKeyRecord> {
        let (wrapped, root_generation) =
            ring.wrap(WrapPurpose::AccessKeySecret { access_key_id }, secret)?;
        Ok(AccessKeyRecord {
            access_key_id: access_key_id.to_string(),
            account: account.to_string(),
            principal_arn: principal_arn.to_string(),
            wrapped_secret: wrapped,
            enabled: true,
            operator,
            xks_proxy: false,
            created_ms: self.now_ms(),
            root_generation,
        })
    }

    /// Forgets cached credentials of a principal (after its keys were disabled).
    pub(crate) fn forget_credentials_of(&self, principal_arn: &str) {
        self.credentials
            .remove_where(|c| c.principal_arn == principal_arn);
        self.credential_epoch
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// The credential behind an access key id, if it exists and is enabled.
    pub fn credential(&self, access_key_id: &str) -> KmsResult<Option<Arc<Credential>>> {
        let id = access_key_id.to_string();
        if let Some(c) = self.credentials.get(&id) {
            return Ok(Some(c));
        }
        if self.refused_keys.get(&id).is_some() {
            return Ok(None);
        }
        let epoch = self.credential_epoch();
        let found = self.credentials.get_or_load(&id, || {
            tracing::debug!(access_key_id, "reading an access key from the store");
            let ring = self.ring()?;
            let rec = self.store.access_key(access_key_id)?;
            let Some(rec) = rec.filter(|r| r.enabled) else {
                return Ok::<_, KmsError>(None);
            };
            let secret = self
                .unwrap_under(
                    &ring,
                    rec.root_generation,
                    WrapPurpose::AccessKeySecret { access_key_id },
                    &rec.wrapped_secret,
                )
                .map_err(|e| KmsError::internal(format!("access key {access_key_id}: {e}")))?;
            Ok(Some(Arc::new(Credential {
                access_key_id: rec.access_key_id,
                secret,
                account: rec.account,
                principal_arn: rec.principal_arn,
                operator: rec.operator,
                xks_proxy: rec.xks_proxy,
            })))
        })?;
        if found.is_none() {
            self.refused_keys.insert(id.clone(), ());
            if self.credential_epoch() != epoch {
                // The key changed while we read it: the refusal may be stale.
                self.refused_keys.remove(&id);
            }
        }
        Ok(found)
    }

    /// The parsed policy of a key record (its stored text, or the account's default),
    /// shared between keys with the same text.
    pub(crate) fn key_policy(&self, record: &KeyRecord) -> KmsResult<Arc<crate::cache::KeyPolicy>> {
        let text = match &record.policy {
            Some(t) => t.clone(),
            None => crate::policy::default_key_policy(&record.account),
        };
        if let Some(p) = self.key_policies.get(&text) {
            return Ok(p);
        }
        let parsed = Arc::new(crate::cache::KeyPolicy::parse(&text)?);
        self.key_policies.insert(text, parsed.clone());
        Ok(parsed)
    }

    /// The identity policies attached to a principal (cached).
    pub fn identity_policies(&self, principal_arn: &str) -> KmsResult<Arc<IdentityPolicies>> {
        let loaded = self
            .identity_policies
            .get_or_load(&principal_arn.to_string(), || {
                let mut out = IdentityPolicies::default();
                for rec in self.store.principal_policies(principal_arn)? {
                    out.mentions_resource_facts |=
                        crate::cache::mentions_resource_facts(&rec.document);
                    out.has_conditions |= crate::policy::has_conditions(&rec.document);
                    let policy =
                        crate::policy::parse_identity_policy(&rec.document).map_err(|e| {
                            KmsError::internal(format!(
                                "stored policy {} of {principal_arn}: {e}",
                                rec.name
                            ))
                        })?;
                    out.policies.push(policy);
                }
                Ok::<_, KmsError>(Some(Arc::new(out)))
            })?;
        Ok(loaded.unwrap_or_default())
    }

    /// Drops a principal's cached identity policies after they changed.
    pub(crate) fn forget_identity_policies(&self, principal_arn: &str) {
        self.identity_policies.remove(&principal_arn.to_string());
    }

    /// The grants of a key (cached).
    pub fn grants_for_key(&self, key_id: &str) -> KmsResult<Arc<Vec<tresor_store::GrantRecord>>> {
        let loaded = self.grants.get_or_load(&key_id.to_string(), || {
            Ok::<_, KmsError>(Some(Arc::new(self.store.grants_for_key(key_id)?)))
        })?;
        Ok(loaded.unwrap_or_default())
    }

    /// Drops a key's cached grants after they changed.
    pub(crate) fn forget_grants(&self, key_id: &str) {
        self.grants.remove(&key_id.to_string());
    }

    // ----- keys -------------------------------------------------------------------

    /// A key by UUID, from the cache or (once) from the store.
    pub fn key_by_id(&self, key_id: &str) -> KmsResult<Option<Arc<CachedKey>>> {
        self.keys.get_or_load(&CompactId::new(key_id), || {
            let Some(record) = self.store.key(key_id)? else {
                return Ok(None);
            };
            let materials = self.load_materials(&record)?;
            let policy = self.key_policy(&record)?;
            Ok(Some(Arc::new(CachedKey::new(record, materials, policy)?)))
        })
    }

    fn load_materials(&self, record: &KeyRecord) -> KmsResult<Arc<Materials>> {
        let arn = crate::ids::stored_key_arn(&record.region, &record.account, &record.key_id);
        let spec = crate::model::KeySpec::parse(&record.key_spec, "keySpec")?;
        let mut out = Vec::new();
        let ring = self.ring()?;
        for m in self.store.materials(&record.key_id)? {
            if !m.is_present() {
                // Deleted or expired imported material: nothing to decrypt with.
                continue;
            }
            let secret = self
                .unwrap_under(
                    &ring,
                    m.root_generation,
                    WrapPurpose::KeyMaterial {
                        key_arn: &arn,
                        version: m.version,
                    },
                    &m.wrapped,
                )
                .map_err(|e| {
                    KmsError::internal(format!("material {} v{}: {e}", record.key_id, m.version))
                })?;
            let key = KeyMaterial::from_secret(spec, secret)?;
            out.push((
                m.version,
                Material {
                    material_id: m.material_id.as_str().into(),
                    key,
                },
            ));
        }
        let materials = Materials::new(out);
        let Some(store_id) = &record.custom_key_store_id else {
            return Ok(Arc::new(materials));
        };
        let link = self.store_link(store_id)?;
        Ok(Arc::new(materials.in_custom_key_store(link)))
    }

    /// The key id an alias points at, if the alias exists.
    pub fn alias_target(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> KmsResult<Option<String>> {
        let ck = alias_cache_key(account, region, name);
        self.aliases.get_or_load(&ck, || {
            Ok(self
                .store
                .alias(account, region, name)?
                .map(|a| a.target_key_id))
        })
    }

    /// Wraps fresh material for a new key version; returns it with its root generation.
    /// Keep `ring` until the material is written (a root rotation waits for it).
    pub(crate) fn wrap_material(
        ring: &RootRing,
        key_arn: &str,
        version: u32,
        key: &KeyMaterial,
    ) -> KmsResult<(Vec<u8>, u32)> {
        ring.wrap(WrapPurpose::KeyMaterial { key_arn, version }, key.secret())
    }

    /// Runs a read-modify-write of one key under the service's write lock: `change`
    /// sees the authoritative stored record, may refuse (its error is returned), and
    /// returns extra writes to apply atomically with the updated record. The update is
    /// conditional on the record's revision; when another node changed the key first,
    /// `change` runs again on the new record (so of two racing nodes one wins and the
    /// other decides anew).
    pub(crate) fn update_key<T>(
        &self,
        key_id: &str,
        mut change: impl FnMut(&mut KeyRecord) -> KmsResult<(Vec<Write>, T)>,
    ) -> KmsResult<(Arc<CachedKey>, T)> {
        let _guard = self.write_lock.lock();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(current) = self.key_by_id(key_id)? else {
                return Err(KmsError::NotFound(crate::messages::key_not_found(key_id)));
            };
            let Some(mut record) = self.store.key(key_id)? else {
                self.keys.remove(&CompactId::new(key_id));
                return Err(KmsError::NotFound(crate::messages::key_not_found(
                    &current.arn,
                )));
            };
            // Another node changed the key since it was cached: its materials may have too.
            let materials = if current.revision == record.revision {
                current.materials.clone()
            } else {
                self.load_materials(&record)?
            };
            let (mut writes, out) = change(&mut record)?;
            record.revision += 1;
            writes.insert(0, Write::UpdateKey(record.clone()));
            match self.store.apply(writes) {
                Ok(()) => {}
                Err(tresor_store::StoreError::Conflict(_)) if attempt < MAX_CONFLICT_RETRIES => {
                    self.keys.remove(&CompactId::new(key_id));
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            let policy = self.key_policy(&record)?;
            let updated = Arc::new(CachedKey::new(record, materials, policy)?);
            self.keys.insert(CompactId::new(key_id), updated.clone());
            return Ok((updated, out));
        }
    }

    /// Applies writes that do not change a key record (aliases, tags, new keys) under
    /// the write lock; `check` runs first, under the lock, and may refuse.
    pub(crate) fn write<T>(
        &self,
        check: impl FnOnce() -> KmsResult<(Vec<Write>, T)>,
    ) -> KmsResult<T> {
        self.write_unique(check, |d| {
            KmsError::internal(format!("store: {d} already exists"))
        })
    }

    /// [`Kms::write`] where a unique constraint of the database may refuse the writes
    /// (another node made the same record first): `duplicate` makes that error.
    pub(crate) fn write_unique<T>(
        &self,
        check: impl FnOnce() -> KmsResult<(Vec<Write>, T)>,
        duplicate: impl FnOnce(String) -> KmsError,
    ) -> KmsResult<T> {
        let _guard = self.write_lock.lock();
        let (writes, out) = check()?;
        match self.store.apply(writes) {
            Ok(()) => Ok(out),
            Err(tresor_store::StoreError::Duplicate(d)) => Err(duplicate(d)),
            Err(e) => Err(e.into()),
        }
    }

    /// Empties every cache that holds decrypted material or derives from it.
    pub(crate) fn drop_decrypted_caches(&self) {
        self.keys.clear();
        self.credentials.clear();
        self.refused_keys.clear();
        self.aliases.clear();
        self.grants.clear();
        self.identity_policies.clear();
        self.key_policies.clear();
        self.credential_epoch
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Drops every cached key of custom key store `id` (its connection changed).
    pub(crate) fn invalidate_store_keys(&self, id: &str) {
        self.keys
            .remove_where(|k| k.rare().custom_key_store_id.as_deref() == Some(id));
    }

    /// Drops a key from the cache so the next use reloads it (after its material changed).
    pub(crate) fn invalidate_key(&self, key_id: &str) {
        self.keys.remove(&CompactId::new(key_id));
    }

    /// Records a new key in the cache after it was stored.
    pub(crate) fn cache_key(&self, key: Arc<CachedKey>) {
        self.keys.insert(CompactId::new(key.key_id()), key);
    }

    /// Updates the alias cache after an alias write.
    pub(crate) fn cache_alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
        target: Option<&str>,
    ) {
        let ck = alias_cache_key(account, region, name);
        match target {
            Some(t) => self.aliases.insert(ck, t.to_string()),
            None => self.aliases.remove(&ck),
        }
    }

    /// Adds a new material version to a symmetric key and makes it current for
    /// encryption; older versions keep decrypting. `check` sees the authoritative
    /// record under the write lock and may refuse or adjust it (schedule, counters).
    /// The conditional update on the record's revision is the job claim: of two nodes
    /// rotating the same key at once, one fails with a conflict.
    pub(crate) fn rotate_key(
        &self,
        key_id: &str,
        rotation_type: &str,
        mut check: impl FnMut(&mut KeyRecord) -> KmsResult<()>,
    ) -> KmsResult<Arc<CachedKey>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.rotate_key_once(key_id, rotation_type, &mut check)? {
                Some(key) => return Ok(key),
                None if attempt < MAX_CONFLICT_RETRIES => continue,
                None => {
                    return Err(KmsError::internal(format!(
                        "rotating {key_id}: {attempt} concurrent updates won"
                    )))
                }
            }
        }
    }

    /// One rotation attempt; `None` when another node changed the key first.
    fn rotate_key_once(
        &self,
        key_id: &str,
        rotation_type: &str,
        check: &mut impl FnMut(&mut KeyRecord) -> KmsResult<()>,
    ) -> KmsResult<Option<Arc<CachedKey>>> {
        let material = KeyMaterial::Symmetric(
            tresor_crypto::symmetric::SymmetricKey::generate().map_err(KmsError::internal)?,
        );
        let mut id_bytes = [0u8; 32];
        tresor_crypto::random::fill(&mut id_bytes).map_err(KmsError::internal)?;
        let ring = self.ring()?;
        let guard = self.write_lock.lock();
        let Some(mut record) = self.store.key(key_id)? else {
            return Err(KmsError::NotFound(crate::messages::key_not_found(key_id)));
        };
        check(&mut record)?;
        let version = self
            .store
            .materials(key_id)?
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0)
            + 1;
        record.current_version = version;
        record.revision += 1;
        // A multi-Region primary's rotation reaches every replica: the same material,
        // version and KeyMaterialId in each Region, wrapped under each Region's ARN.
        let mut records = vec![record.clone()];
        for mut other in crate::multi_region::related(self, &record)? {
            if other.key_id != record.key_id {
                crate::multi_region::copy_shared(&record, &mut other);
                other.current_version = version;
                other.revision += 1;
                records.push(other);
            }
        }
        let now = self.now_ms();
        let mut writes = Vec::new();
        for r in &records {
            let arn = crate::ids::stored_key_arn(&r.region, &r.account, &r.key_id);
            let (wrapped, root_generation) = Self::wrap_material(&ring, &arn, version, &material)?;
            writes.push(Write::UpdateKey(r.clone()));
            writes.push(Write::InsertMaterial(tresor_store::MaterialRecord {
                key_id: r.key_id.clone(),
                version,
                material_id: hex::encode(id_bytes),
                wrapped,
                created_ms: now,
                rotation_type: Some(rotation_type.to_string()),
                root_generation,
                description: None,
                valid_to_ms: None,
                expiration_model: None,
            }));
        }
        let written = self.store.apply(writes);
        for r in &records {
            self.keys.remove(&CompactId::new(&r.key_id));
        }
        match written {
            Ok(()) => {}
            Err(tresor_store::StoreError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        drop(guard);
        drop(ring);
        self.key_by_id(key_id)?
            .ok_or_else(|| KmsError::internal("rotated key vanished"))
            .map(Some)
    }
}
