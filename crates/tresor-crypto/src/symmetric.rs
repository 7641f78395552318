//! Symmetric KMS key material and the per-message key derivation used by ciphertext blobs.

use crate::{random, CryptoError, SecretBytes};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf;
use std::fmt;

/// Length of a symmetric KMS key's material (AES-256).
pub const MATERIAL_LEN: usize = 32;
/// Length of the AES-GCM tag appended to every ciphertext.
pub const TAG_LEN: usize = 16;

/// The material of one version of a SYMMETRIC_DEFAULT key (256 bits, zeroized on drop).
#[derive(Clone)]
pub struct SymmetricKey {
    material: SecretBytes,
}

impl fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SymmetricKey(REDACTED)")
    }
}

struct Len32;
impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        MATERIAL_LEN
    }
}

impl SymmetricKey {
    /// Generates fresh random material.
    pub fn generate() -> Result<Self, CryptoError> {
        Self::from_material(random::secret(MATERIAL_LEN)?)
    }

    /// Wraps existing material (exactly 32 bytes).
    pub fn from_material(material: SecretBytes) -> Result<Self, CryptoError> {
        if material.len() != MATERIAL_LEN {
            return Err(CryptoError::BadKeyLength);
        }
        Ok(Self { material })
    }

    /// The raw material, for wrapping under the root key only.
    pub fn material(&self) -> &SecretBytes {
        &self.material
    }

    /// Derives the one-message AES-256-GCM key for `salt` and `info` (HKDF-SHA256).
    ///
    /// A fresh random salt per message means every message has its own key, so the
    /// fixed all-zero GCM nonce is never reused and no per-key message limit applies.
    fn message_key(&self, salt: &[u8], info: &[u8]) -> Result<LessSafeKey, CryptoError> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(self.material.expose());
        let info = [info];
        let okm = prk
            .expand(&info, Len32)
            .map_err(|_| CryptoError::BadKeyLength)?;
        let mut key = SecretBytes::new(vec![0u8; MATERIAL_LEN]);
        okm.fill(key.expose_mut())
            .map_err(|_| CryptoError::BadKeyLength)?;
        let unbound =
            UnboundKey::new(&AES_256_GCM, key.expose()).map_err(|_| CryptoError::BadKeyLength)?;
        Ok(LessSafeKey::new(unbound))
    }

    /// Encrypts `plaintext` with a key derived from `salt`/`info`; returns ciphertext ‖ tag.
    pub fn seal(
        &self,
        salt: &[u8],
        info: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let key = self.message_key(salt, info)?;
        let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
        out.extend_from_slice(plaintext);
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key([0u8; NONCE_LEN]),
            Aad::from(aad),
            &mut out,
        )
        .map_err(|_| CryptoError::Unauthentic)?;
        Ok(out)
    }

    /// Reverses [`SymmetricKey::seal`].
    pub fn open(
        &self,
        salt: &[u8],
        info: &[u8],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let key = self.message_key(salt, info)?;
        let mut buf = SecretBytes::from_slice(sealed);
        let len = key
            .open_in_place(
                Nonce::assume_unique_for_key([0u8; NONCE_LEN]),
                Aad::from(aad),
                buf.expose_mut(),
            )
            .map_err(|_| CryptoError::Unauthentic)?
            .len();
        Ok(SecretBytes::from_slice(
            buf.expose().get(..len).unwrap_or_default(),
        ))
    }
}
