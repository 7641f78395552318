//! The bounded in-memory view of keys and aliases that keeps storage off the hot path.
//!
//! Entries are immutable snapshots behind `Arc`; a mutation writes the store first and
//! then replaces the snapshot, so readers never see a state the store does not have.

use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, KeyState, KeyUsage, Origin};
use std::sync::Arc;
use tresor_crypto::asymmetric::{HmacKey, PrivateKey, PublicKey};
use tresor_crypto::symmetric::SymmetricKey;
use tresor_store::KeyRecord;

mod bounded;
pub use bounded::BoundedMap;

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
    /// The stored record (boxed: the `Arc` then fits a small allocation class and the
    /// record an exact one, ~50 bytes less per cached key).
    pub record: Box<KeyRecord>,
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
    /// The public key of an asymmetric key (boxed: most keys have none, and the
    /// parsed key is large).
    pub public: Option<Box<PublicKey>>,
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
            (Some(asym), Some(der)) => Some(Box::new(
                PublicKey::from_spki(asym, der).map_err(KmsError::internal)?,
            )),
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
            record: Box::new(record),
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
        self.public.as_deref().ok_or_else(|| {
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

impl CachedKey {
    /// About how many bytes the cache holds for this key: its `Arc` allocation and what
    /// the key owns on the heap (record strings, ARN, material versions), without the
    /// key policy, which keys with the same policy share. Provider key objects (parsed
    /// asymmetric keys) are counted as a multiple of their encoding.
    pub fn heap_bytes(&self) -> usize {
        const ARC: usize = 2 * std::mem::size_of::<usize>();
        let r = &self.record;
        let strings = [
            &r.key_id,
            &r.account,
            &r.region,
            &r.description,
            &r.key_spec,
            &r.key_usage,
            &r.origin,
            &r.key_state,
            &self.arn,
        ]
        .iter()
        .map(|s| s.capacity())
        .sum::<usize>();
        let optional = [
            &r.policy,
            &r.expiration_model,
            &r.imported_material_id,
            &r.primary_region,
            &r.custom_key_store_id,
            &r.xks_key_id,
        ]
        .iter()
        .map(|s| capacity(s))
        .sum::<usize>();
        let public = r.public_key.as_ref().map_or(0, Vec::capacity)
            + self
                .public
                .as_ref()
                .map_or(0, |p| std::mem::size_of::<PublicKey>() + 2 * p.spki().len());
        ARC + std::mem::size_of::<Self>()
            + std::mem::size_of::<KeyRecord>()
            + strings
            + optional
            + public
            + ARC
            + self.materials.heap_bytes()
    }
}

impl Materials {
    /// What the versions own on the heap (see [`CachedKey::heap_bytes`]).
    fn heap_bytes(&self) -> usize {
        let link = self.1.as_ref().map_or(0, |l| {
            std::mem::size_of::<StoreLink>()
                + l.store_id.capacity()
                + l.cloud_hsm_cluster_id.as_ref().map_or(0, String::capacity)
        });
        let versions = self
            .0
            .iter()
            .map(|(_, m)| {
                m.material_id.capacity()
                    + match &m.key {
                        KeyMaterial::Symmetric(k) => k.material().len(),
                        KeyMaterial::Asymmetric(k) => {
                            std::mem::size_of::<PrivateKey>() + 4 * k.pkcs8().len()
                        }
                        KeyMaterial::Hmac(k) => std::mem::size_of::<HmacKey>() + k.material().len(),
                    }
            })
            .sum::<usize>();
        std::mem::size_of::<Self>()
            + self.0.capacity() * std::mem::size_of::<(u32, Material)>()
            + versions
            + link
    }
}

fn capacity(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, String::capacity)
}

/// What a key's cached grants own on the heap, for the grant cache's byte bound.
pub fn grants_heap_bytes(grants: &Arc<Vec<tresor_store::GrantRecord>>) -> usize {
    let each = grants
        .iter()
        .map(|g| {
            g.grant_id.capacity()
                + g.key_id.capacity()
                + g.grantee.capacity()
                + g.issuing_account.capacity()
                + g.operations.capacity()
                + [&g.name, &g.retiring, &g.constraints]
                    .iter()
                    .map(|s| capacity(s))
                    .sum::<usize>()
        })
        .sum::<usize>();
    2 * std::mem::size_of::<usize>()
        + std::mem::size_of::<Vec<tresor_store::GrantRecord>>()
        + grants.capacity() * std::mem::size_of::<tresor_store::GrantRecord>()
        + each
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
