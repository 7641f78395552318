//! Symmetric KMS key material and the per-message key derivation used by ciphertext blobs.

use crate::{random, CryptoError, SecretBytes};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf;
use std::fmt;

/// Length of a symmetric KMS key's material (AES-256).
pub const MATERIAL_LEN: usize = 32;
/// Length of the AES-GCM tag appended to every ciphertext.
pub const TAG_LEN: usize = 16;
/// Length of the IV of [`SymmetricKey::seal_with_iv`] (the GCM nonce).
pub const IV_LEN: usize = NONCE_LEN;

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
        self.seal_nonce(salt, info, [0u8; NONCE_LEN], aad, plaintext)
    }

    /// AES-256-GCM with `iv` as the nonce, under the one-message key derived with `iv`
    /// as the HKDF salt (a fresh random `iv` per message gives a fresh key, so no
    /// per-key message limit applies); returns ciphertext ‖ tag. The XKS proxy's
    /// encryption, whose IV the caller keeps beside the ciphertext.
    pub fn seal_with_iv(
        &self,
        iv: [u8; NONCE_LEN],
        info: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal_nonce(&iv, info, iv, aad, plaintext)
    }

    /// Reverses [`SymmetricKey::seal_with_iv`].
    pub fn open_with_iv(
        &self,
        iv: [u8; NONCE_LEN],
        info: &[u8],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        self.open_nonce(&iv, info, iv, aad, sealed)
    }

    fn seal_nonce(
        &self,
        salt: &[u8],
        info: &[u8],
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let key = self.message_key(salt, info)?;
        let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
        out.extend_from_slice(plaintext);
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
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
        self.open_nonce(salt, info, [0u8; NONCE_LEN], aad, sealed)
    }

    fn open_nonce(
        &self,
        salt: &[u8],
        info: &[u8],
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let key = self.message_key(salt, info)?;
        let mut buf = SecretBytes::from_slice(sealed);
        let len = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn iv_sealing_round_trips_and_binds_iv_info_and_aad() {
        let k = SymmetricKey::generate().unwrap();
        let iv = [7u8; IV_LEN];
        let sealed = k.seal_with_iv(iv, b"info", b"aad", b"secret").unwrap();
        assert_eq!(sealed.len(), 6 + TAG_LEN);
        let opened = k.open_with_iv(iv, b"info", b"aad", &sealed).unwrap();
        assert_eq!(opened.expose(), b"secret");
        assert!(k
            .open_with_iv([8u8; IV_LEN], b"info", b"aad", &sealed)
            .is_err());
        assert!(k.open_with_iv(iv, b"other", b"aad", &sealed).is_err());
        assert!(k.open_with_iv(iv, b"info", b"AAD", &sealed).is_err());
        let other = SymmetricKey::generate().unwrap();
        assert!(other.open_with_iv(iv, b"info", b"aad", &sealed).is_err());
    }
}
