//! The bounded in-memory view of keys and aliases that keeps storage off the hot path.
//!
//! Entries are immutable snapshots behind `Arc`; a mutation writes the store first and
//! then replaces the snapshot, so readers never see a state the store does not have.
//! A cached key is compact (100,000 of them fit the memory target): the common fields
//! parsed, the names in the ARN's one string, the rare fields in one optional box; the
//! store's full [`KeyRecord`] is rebuilt when an operation needs one
//! ([`CachedKey::to_record`]).

use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, KeyState, KeyUsage, Origin};
use std::sync::Arc;
use tresor_crypto::asymmetric::{PrivateKey, PublicKey};
use tresor_store::KeyRecord;

mod bounded;
mod material;
mod rare;
#[cfg(test)]
mod tests;
pub use bounded::BoundedMap;
pub use material::{KeyMaterial, Material, MaterialId, Materials, StoreLink};
pub use rare::Rare;

const ARN_PREFIX: &str = "arn:aws:kms:";
const KEY_INFIX: &str = ":key/";

/// A key as the operations see it: metadata plus decrypted material versions.
#[derive(Debug, Clone)]
pub struct CachedKey {
    /// The key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`; the Region, account and id
    /// are read from it).
    pub arn: String,
    /// Where the Region ends in `arn`.
    region_end: u16,
    /// Where the account ends in `arn`.
    account_end: u16,
    /// Parsed KeySpec.
    pub spec: KeySpec,
    /// Parsed KeyUsage.
    pub usage: KeyUsage,
    /// Parsed KeyState, as operations see it (Unavailable while the key's custom key
    /// store is not connected).
    pub state: KeyState,
    /// The stored KeyState.
    stored_state: KeyState,
    /// Parsed Origin.
    pub origin: Origin,
    /// The record has a policy of its own (else the account's default applies).
    policy_stored: bool,
    /// The material version used for new encryptions.
    pub current_version: u32,
    /// Creation time.
    pub created_ms: i64,
    /// The stored record's revision.
    pub revision: i64,
    /// The description, when not empty.
    description: Option<Box<str>>,
    /// The fields most keys leave unset.
    rare: Option<Box<Rare>>,
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
    /// The policy document.
    pub text: Box<str>,
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
            text: text.into(),
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
        let stored_state = KeyState::parse(&record.key_state, "keyState")?;
        let mut state = stored_state;
        // A key in a custom key store that is not connected is Unavailable.
        let connected = materials.store().map(StoreLink::is_connected);
        if connected == Some(false) && matches!(state, KeyState::Enabled | KeyState::Disabled) {
            state = KeyState::Unavailable;
        }
        let public_id = crate::ids::public_id(&record.key_id);
        let arn = crate::ids::key_arn(&record.region, &record.account, public_id);
        let too_long = || KmsError::internal(format!("key id {} is too long", record.key_id));
        let region_end = ARN_PREFIX.len() + record.region.len();
        let account_end = region_end + 1 + record.account.len();
        let shared_policy = record.policy.as_deref() == Some(&*policy.text);
        Ok(Self {
            region_end: u16::try_from(region_end).map_err(|_| too_long())?,
            account_end: u16::try_from(account_end).map_err(|_| too_long())?,
            arn: {
                let mut arn = arn;
                arn.shrink_to_fit();
                arn
            },
            spec,
            usage: KeyUsage::parse(&record.key_usage, "keyUsage")?,
            state,
            stored_state,
            origin: Origin::parse(&record.origin, "origin")?,
            policy_stored: record.policy.is_some(),
            current_version: record.current_version,
            created_ms: record.created_ms,
            revision: record.revision,
            description: (!record.description.is_empty())
                .then(|| record.description.as_str().into()),
            rare: Rare::of(&record, public.is_some(), shared_policy),
            materials,
            public,
            policy,
        })
    }

    fn arn_part(&self, from: usize, to: usize) -> &str {
        self.arn.get(from..to).unwrap_or_default()
    }

    /// The key's Region.
    pub fn region(&self) -> &str {
        self.arn_part(ARN_PREFIX.len(), usize::from(self.region_end))
    }

    /// The owning account.
    pub fn account(&self) -> &str {
        self.arn_part(
            usize::from(self.region_end) + 1,
            usize::from(self.account_end),
        )
    }

    /// The KeyId clients see (the stored id without the Region of a multi-Region key).
    pub fn id(&self) -> &str {
        self.arn_part(
            usize::from(self.account_end) + KEY_INFIX.len(),
            self.arn.len(),
        )
    }

    /// The stored id (the store's and the cache's key: `mrk-…@REGION` for multi-Region
    /// keys, else [`CachedKey::id`]).
    pub fn key_id(&self) -> &str {
        self.rare()
            .stored_id
            .as_deref()
            .unwrap_or_else(|| self.id())
    }

    /// The description (may be empty).
    pub fn description(&self) -> &str {
        self.description.as_deref().unwrap_or_default()
    }

    /// The key policy document (the account's default for a key without its own).
    pub fn policy_document(&self) -> &str {
        self.rare().policy.as_deref().unwrap_or(&self.policy.text)
    }

    /// The fields most keys leave unset (all unset when the key has none).
    pub fn rare(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&rare::NONE)
    }

    /// The stored record this key was built from, rebuilt (for the operations and
    /// helpers that take a whole record; writes read the store's own).
    pub fn to_record(&self) -> KeyRecord {
        let mut r = KeyRecord {
            key_id: self.id().to_string(),
            account: self.account().to_string(),
            region: self.region().to_string(),
            created_ms: self.created_ms,
            description: self.description().to_string(),
            key_spec: self.spec.as_str().to_string(),
            key_usage: self.usage.as_str().to_string(),
            origin: self.origin.as_str().to_string(),
            key_state: self.stored_state.as_str().to_string(),
            deletion_ms: None,
            pending_window_days: None,
            current_version: self.current_version,
            policy: self.policy_stored.then(|| self.policy.text.to_string()),
            public_key: self.public.as_ref().map(|p| p.spki().to_vec()),
            rotation_enabled: false,
            rotation_period_days: None,
            next_rotation_ms: None,
            on_demand_rotations: 0,
            valid_to_ms: None,
            expiration_model: None,
            imported_material_id: None,
            primary_region: None,
            custom_key_store_id: None,
            xks_key_id: None,
            revision: self.revision,
        };
        self.rare().fill(&mut r);
        r
    }

    /// The material new encryptions use.
    pub fn current_material(&self) -> KmsResult<(u32, &Material)> {
        let v = self.current_version;
        self.materials.get(&v).map(|m| (v, m)).ok_or_else(|| {
            KmsError::internal(format!(
                "key {} lacks its current material v{v}",
                self.key_id()
            ))
        })
    }

    /// The current material as an asymmetric private key.
    pub fn private_key(&self) -> KmsResult<&PrivateKey> {
        match &self.current_material()?.1.key {
            KeyMaterial::Asymmetric(k) => Ok(k),
            _ => Err(KmsError::internal(format!(
                "key {} has no private key",
                self.key_id()
            ))),
        }
    }

    /// The public key of an asymmetric key.
    pub fn public_key(&self) -> KmsResult<&PublicKey> {
        self.public
            .as_deref()
            .ok_or_else(|| KmsError::internal(format!("key {} has no public key", self.key_id())))
    }

    /// True for a multi-Region key (primary or replica).
    pub fn is_multi_region(&self) -> bool {
        self.rare().primary_region.is_some()
    }

    /// True for a multi-Region replica key.
    pub fn is_replica(&self) -> bool {
        self.rare()
            .primary_region
            .as_deref()
            .is_some_and(|p| p != self.region())
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

    /// How many bytes the cache holds for this key: its `Arc` allocation and what the
    /// key owns on the heap (the ARN, description, rare fields, public key, material
    /// versions), without the key policy, which keys with the same policy share.
    /// Provider key objects (parsed asymmetric keys) are counted as a multiple of their
    /// encoding.
    pub fn heap_bytes(&self) -> usize {
        const ARC: usize = 2 * std::mem::size_of::<usize>();
        let public = self
            .public
            .as_ref()
            .map_or(0, |p| std::mem::size_of::<PublicKey>() + 2 * p.spki().len());
        ARC + std::mem::size_of::<Self>()
            + self.arn.capacity()
            + self.description.as_ref().map_or(0, |d| d.len())
            + self.rare.as_ref().map_or(0, |r| r.heap_bytes())
            + public
            + ARC
            + self.materials.heap_bytes()
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
