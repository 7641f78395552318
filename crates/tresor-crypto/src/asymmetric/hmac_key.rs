//! HMAC keys (HMAC_224/256/384/512 key specs).

use crate::{random, CryptoError, SecretBytes};
use aws_lc_rs::hmac;

/// HMAC algorithms by output size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacAlgorithm {
    /// HMAC_SHA_224.
    Sha224,
    /// HMAC_SHA_256.
    Sha256,
    /// HMAC_SHA_384.
    Sha384,
    /// HMAC_SHA_512.
    Sha512,
}

impl HmacAlgorithm {
    fn provider(self) -> hmac::Algorithm {
        match self {
            Self::Sha224 => hmac::HMAC_SHA224,
            Self::Sha256 => hmac::HMAC_SHA256,
            Self::Sha384 => hmac::HMAC_SHA384,
            Self::Sha512 => hmac::HMAC_SHA512,
        }
    }

    /// Output (and generated key) size in bytes.
    fn output_len(self) -> usize {
        match self {
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// An HMAC key (HMAC_224/256/384/512 key specs).
pub struct HmacKey {
    alg: HmacAlgorithm,
    material: SecretBytes,
    /// The provider's key (keyed inner/outer state), built once.
    key: hmac::Key,
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HmacKey({:?}, REDACTED)", self.alg)
    }
}

impl HmacKey {
    /// Generates a key whose length equals the algorithm's output size (as KMS does).
    pub fn generate(alg: HmacAlgorithm) -> Result<Self, CryptoError> {
        Self::from_material(alg, random::secret(alg.output_len())?)
    }

    /// Wraps existing material.
    pub fn from_material(alg: HmacAlgorithm, material: SecretBytes) -> Result<Self, CryptoError> {
        let key = hmac::Key::new(alg.provider(), material.expose());
        Ok(Self { alg, material, key })
    }

    /// The raw key, for wrapping under the root key only.
    pub fn material(&self) -> &SecretBytes {
        &self.material
    }

    /// The MAC of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        hmac::sign(&self.key, message).as_ref().to_vec()
    }

    /// Constant-time check of `mac` over `message`.
    pub fn verify(&self, message: &[u8], mac: &[u8]) -> bool {
        hmac::verify(&self.key, message, mac).is_ok()
    }
}
