//! The key-committing algorithm suites of message format version 2 and their key
//! derivation (HKDF-SHA512 of the data key, salted with the message id).

use crate::Error;
use aws_lc_rs::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use aws_lc_rs::hkdf::{KeyType, Salt, HKDF_SHA512};
use zeroize::Zeroizing;

/// Length of the data key, the derived encryption key and the commitment key.
pub const KEY_LEN: usize = 32;

/// An algorithm suite this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// 0x0478: AES-256-GCM, HKDF-SHA512 key derivation and key commitment, no signature.
    Aes256GcmHkdfSha512CommitKey,
    /// 0x0578 (the ESDK's default): as 0x0478, plus an ECDSA P-384 signature over the
    /// whole message.
    Aes256GcmHkdfSha512CommitKeyEcdsaP384,
}

impl Suite {
    /// Every implemented suite.
    pub const ALL: [Suite; 2] = [
        Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        Suite::Aes256GcmHkdfSha512CommitKey,
    ];

    /// The suite id in the header.
    pub const fn id(self) -> u16 {
        match self {
            Suite::Aes256GcmHkdfSha512CommitKey => 0x0478,
            Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384 => 0x0578,
        }
    }

    /// The ESDK's name of the suite.
    pub const fn name(self) -> &'static str {
        match self {
            Suite::Aes256GcmHkdfSha512CommitKey => "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
            Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384 => {
                "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384"
            }
        }
    }

    /// The suite with this header id.
    pub fn from_id(id: u16) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The suite with this ESDK name.
    pub fn from_name(name: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether messages of this suite end with an ECDSA signature.
    pub const fn signed(self) -> bool {
        matches!(self, Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384)
    }
}

/// HKDF output length as aws-lc-rs wants it.
struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// The message's AES-256-GCM key and its key commitment, derived from the data key.
pub(crate) struct DerivedKeys {
    pub(crate) encryption: LessSafeKey,
    pub(crate) commitment: Zeroizing<[u8; KEY_LEN]>,
}

/// Derives the encryption key (info: suite id ‖ "DERIVEKEY") and the commitment key
/// (info: "COMMITKEY") from `data_key`, both salted with the message id.
pub(crate) fn derive(
    suite: Suite,
    data_key: &[u8],
    message_id: &[u8; 32],
) -> Result<DerivedKeys, Error> {
    if data_key.len() != KEY_LEN {
        return Err(Error::Invalid(format!(
            "the data key must be {KEY_LEN} bytes, not {}",
            data_key.len()
        )));
    }
    let prk = Salt::new(HKDF_SHA512, message_id).extract(data_key);
    let id = suite.id().to_be_bytes();
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    prk.expand(&[&id, b"DERIVEKEY"], Len(KEY_LEN))
        .and_then(|okm| okm.fill(key.as_mut()))
        .map_err(|_| Error::Crypto("HKDF"))?;
    let mut commitment = Zeroizing::new([0u8; KEY_LEN]);
    prk.expand(&[b"COMMITKEY"], Len(KEY_LEN))
        .and_then(|okm| okm.fill(commitment.as_mut()))
        .map_err(|_| Error::Crypto("HKDF"))?;
    let unbound = UnboundKey::new(&AES_256_GCM, key.as_ref())
        .map_err(|_| Error::Crypto("AES-256-GCM key"))?;
    Ok(DerivedKeys {
        encryption: LessSafeKey::new(unbound),
        commitment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_round_trip() {
        for s in Suite::ALL {
            assert_eq!(Suite::from_id(s.id()), Some(s));
            assert_eq!(Suite::from_name(s.name()), Some(s));
        }
        assert_eq!(Suite::from_id(0x0378), None, "a non-committing suite");
        assert_eq!(Suite::from_id(0x0078), None);
    }

    #[test]
    fn derivation_depends_on_key_and_message_id() {
        let suite = Suite::Aes256GcmHkdfSha512CommitKeyEcdsaP384;
        let a = derive(suite, &[1; 32], &[2; 32]).map(|k| *k.commitment);
        let b = derive(suite, &[1; 32], &[3; 32]).map(|k| *k.commitment);
        let c = derive(suite, &[4; 32], &[2; 32]).map(|k| *k.commitment);
        assert!(a.is_ok());
        assert_ne!(a.as_ref().ok(), b.as_ref().ok());
        assert_ne!(a.as_ref().ok(), c.as_ref().ok());
        assert!(matches!(
            derive(suite, &[1; 16], &[2; 32]),
            Err(Error::Invalid(_))
        ));
    }
}
