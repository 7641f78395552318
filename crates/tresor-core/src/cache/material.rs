//! Decrypted key material as the cache holds it: the versions of a key and, for a key in
//! a custom key store, the link to its store.

use crate::error::{KmsError, KmsResult};
use crate::model::KeySpec;
use std::fmt;
use std::sync::Arc;
use tresor_crypto::asymmetric::{HmacKey, PrivateKey};
use tresor_crypto::symmetric::SymmetricKey;

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

    /// What the material owns on the heap (provider key objects counted as a multiple
    /// of their encoding).
    fn heap_bytes(&self) -> usize {
        match self {
            KeyMaterial::Symmetric(k) => k.material().len(),
            KeyMaterial::Asymmetric(k) => std::mem::size_of::<PrivateKey>() + 4 * k.pkcs8().len(),
            KeyMaterial::Hmac(k) => std::mem::size_of::<HmacKey>() + k.material().len(),
        }
    }
}

/// A KeyMaterialId: the 32 bytes its 64 lowercase hex digits spell (every id this
/// service makes), else the text as stored. It reads back exactly as stored.
#[derive(Clone, PartialEq, Eq)]
pub enum MaterialId {
    /// The bytes of a 64-hex-digit id.
    Hex([u8; 32]),
    /// Any other id, as stored.
    Text(Box<str>),
}

impl MaterialId {
    /// What the id owns on the heap.
    pub fn heap_bytes(&self) -> usize {
        match self {
            MaterialId::Hex(_) => 0,
            MaterialId::Text(t) => t.len(),
        }
    }
}

impl From<&str> for MaterialId {
    fn from(s: &str) -> Self {
        let lower_hex = s
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
        let mut bytes = [0u8; 32];
        if s.len() == 64 && lower_hex && hex::decode_to_slice(s, &mut bytes).is_ok() {
            return MaterialId::Hex(bytes);
        }
        MaterialId::Text(s.into())
    }
}

impl fmt::Display for MaterialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaterialId::Hex(b) => {
                let mut buf = [0u8; 64];
                let text = hex::encode_to_slice(b, &mut buf)
                    .ok()
                    .and_then(|()| std::str::from_utf8(&buf).ok())
                    .ok_or(fmt::Error)?;
                f.write_str(text)
            }
            MaterialId::Text(t) => f.write_str(t),
        }
    }
}

impl fmt::Debug for MaterialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaterialId({self})")
    }
}

/// One decrypted material version of a key.
#[derive(Debug)]
pub struct Material {
    /// The public KeyMaterialId.
    pub material_id: MaterialId,
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

    /// What the versions own on the heap (see [`super::CachedKey::heap_bytes`]).
    pub(super) fn heap_bytes(&self) -> usize {
        let link = self.1.as_ref().map_or(0, |l| {
            std::mem::size_of::<StoreLink>()
                + l.store_id.capacity()
                + l.cloud_hsm_cluster_id.as_ref().map_or(0, String::capacity)
        });
        let versions = self
            .0
            .iter()
            .map(|(_, m)| m.material_id.heap_bytes() + m.key.heap_bytes())
            .sum::<usize>();
        std::mem::size_of::<Self>()
            + self.0.capacity() * std::mem::size_of::<(u32, Material)>()
            + versions
            + link
    }
}
