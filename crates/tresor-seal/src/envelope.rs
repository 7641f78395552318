//! Software envelope used by the Shamir sealer: keys derived from the reassembled secret,
//! the encrypted root key and the check value.

use crate::{RootMaterial, SealError};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::{hkdf, hmac};
use std::fmt;
use tresor_crypto::{random, SecretBytes};
use zeroize::Zeroizing;

const INFO_ENCRYPT: &[u8] = b"tresor-seal:v1:root-encryption-key";
const INFO_CHECK: &[u8] = b"tresor-seal:v1:check-key";
const CHECK_LABEL: &[u8] = b"tresor-seal:v1:check";

/// Keys derived (HKDF-SHA256, salt = the share-set id) from the secret the shares
/// reassemble: one encrypts the root key, the other computes the check value.
pub(crate) struct DerivedKeys {
    encrypt: LessSafeKey,
    check: hmac::Key,
}

impl fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivedKeys(REDACTED)")
    }
}

impl DerivedKeys {
    pub(crate) fn derive(secret: &[u8], set_id: &str) -> Result<Self, SealError> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, set_id.as_bytes()).extract(secret);
        let expand = |info: &[u8]| -> Result<Zeroizing<[u8; 32]>, SealError> {
            let mut out = Zeroizing::new([0u8; 32]);
            prk.expand(&[info], hkdf::HKDF_SHA256)
                .and_then(|okm| okm.fill(out.as_mut()))
                .map_err(|_| tresor_crypto::CryptoError::BadKeyLength)?;
            Ok(out)
        };
        let enc = expand(INFO_ENCRYPT)?;
        let chk = expand(INFO_CHECK)?;
        let unbound = UnboundKey::new(&AES_256_GCM, enc.as_ref())
            .map_err(|_| tresor_crypto::CryptoError::BadKeyLength)?;
        Ok(Self {
            encrypt: LessSafeKey::new(unbound),
            check: hmac::Key::new(hmac::HMAC_SHA256, chk.as_ref()),
        })
    }

    /// HMAC-SHA256 of a fixed label and the set id under the check key: equal only for
    /// the right secret, and useless for learning anything about it.
    pub(crate) fn check_value(&self, set_id: &str) -> Vec<u8> {
        hmac::sign(&self.check, &check_input(set_id))
            .as_ref()
            .to_vec()
    }

    /// Constant-time comparison of a stored check value against this secret's.
    pub(crate) fn verify_check(&self, set_id: &str, stored: &[u8]) -> bool {
        hmac::verify(&self.check, &check_input(set_id), stored).is_ok()
    }

    /// `nonce (12) ‖ ciphertext ‖ tag (16)` of the root key, bound to `aad`.
    pub(crate) fn seal_root(&self, root: &RootMaterial, aad: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        random::fill(&mut nonce)?;
        let mut body = Zeroizing::new(root.expose().to_vec());
        self.encrypt
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut *body,
            )
            .map_err(|_| tresor_crypto::CryptoError::Unauthentic)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Reverses [`DerivedKeys::seal_root`]; any change to the blob or the AAD fails.
    pub(crate) fn open_root(&self, sealed: &[u8], aad: &[u8]) -> Result<RootMaterial, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError::Tampered);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Tampered)?;
        let mut plain = Zeroizing::new(body.to_vec());
        let len = self
            .encrypt
            .open_in_place(nonce, Aad::from(aad), &mut plain)
            .map_err(|_| SealError::Tampered)?
            .len();
        let material = SecretBytes::from_slice(plain.get(..len).unwrap_or_default());
        RootMaterial::from_secret(material).map_err(|_| SealError::Tampered)
    }
}

fn check_input(set_id: &str) -> Vec<u8> {
    let mut input = CHECK_LABEL.to_vec();
    input.push(0);
    input.extend_from_slice(set_id.as_bytes());
    input
}
