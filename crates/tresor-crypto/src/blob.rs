//! The ciphertext blob: Tresor's self-describing output of Encrypt and GenerateDataKey.
//!
//! Layout of format 1 (all integers big-endian; see `docs/formats.md`):
//!
//! | offset | len | field |
//! |---|---|---|
//! | 0 | 1 | format, `0x01` (key id is a UUID) or `0x02` (a multi-Region `mrk-` id) |
//! | 1 | 16 | KMS key id (UUID bytes, or the 32 hex digits after `mrk-` as bytes) |
//! | 17 | 4 | key material version |
//! | 21 | 16 | random salt (per-message key derivation) |
//! | 37 | n | AES-256-GCM ciphertext |
//! | 37+n | 16 | GCM tag |
//!
//! The AAD is the 37-byte header followed by the canonical encryption context, so the
//! header cannot be altered and the context must match exactly.

use crate::symmetric::{SymmetricKey, TAG_LEN};
use crate::{random, CryptoError, SecretBytes};

/// The format byte of a blob under a single-Region key (UUID key id).
pub const FORMAT_V1: u8 = 1;
/// The format byte of a blob under a multi-Region key: the same layout, the key id
/// field holding the 16 bytes an `mrk-` id spells in hex.
pub const FORMAT_V2_MULTI_REGION: u8 = 2;
/// Length of the authenticated header.
pub const HEADER_LEN: usize = 37;
const SALT_LEN: usize = 16;

/// The cleartext header of a blob: which key and material version made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobHeader {
    /// The KMS key's UUID, as 16 bytes.
    pub key_id: [u8; 16],
    /// The material version that encrypted the blob.
    pub version: u32,
    /// The key id is a multi-Region `mrk-` id (format 2), not a UUID (format 1).
    pub multi_region: bool,
    salt: [u8; SALT_LEN],
}

impl BlobHeader {
    fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        let (format, rest) = h.split_at_mut(1);
        let (id, rest) = rest.split_at_mut(16);
        let (version, salt) = rest.split_at_mut(4);
        format.copy_from_slice(&[if self.multi_region {
            FORMAT_V2_MULTI_REGION
        } else {
            FORMAT_V1
        }]);
        id.copy_from_slice(&self.key_id);
        version.copy_from_slice(&self.version.to_be_bytes());
        salt.copy_from_slice(&self.salt);
        h
    }
}

/// Reads the header of `blob` without decrypting anything.
pub fn parse_header(blob: &[u8]) -> Result<BlobHeader, CryptoError> {
    if blob.len() < HEADER_LEN + TAG_LEN {
        return Err(CryptoError::Unauthentic);
    }
    let (header, _) = blob.split_at(HEADER_LEN);
    let (format, rest) = header.split_at(1);
    let multi_region = match format {
        [FORMAT_V1] => false,
        [FORMAT_V2_MULTI_REGION] => true,
        _ => return Err(CryptoError::Unauthentic),
    };
    let (id, rest) = rest.split_at(16);
    let (version, salt) = rest.split_at(4);
    let mut h = BlobHeader {
        key_id: [0; 16],
        version: 0,
        multi_region,
        salt: [0; SALT_LEN],
    };
    h.key_id.copy_from_slice(id);
    let mut v = [0u8; 4];
    v.copy_from_slice(version);
    h.version = u32::from_be_bytes(v);
    h.salt.copy_from_slice(salt);
    Ok(h)
}

/// Encrypts `plaintext` under `key` (version `version` of key `key_id`), binding the
/// canonical encryption `context` (see [`canonical_context`]).
pub fn seal(
    key: &SymmetricKey,
    key_id: [u8; 16],
    version: u32,
    context: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    seal_as(key, key_id, false, version, context, plaintext)
}

/// [`seal`] naming either a UUID key id or (`multi_region`) an `mrk-` id.
pub fn seal_as(
    key: &SymmetricKey,
    key_id: [u8; 16],
    multi_region: bool,
    version: u32,
    context: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut salt = [0u8; SALT_LEN];
    random::fill_public(&mut salt)?;
    let header = BlobHeader {
        key_id,
        version,
        multi_region,
        salt,
    }
    .to_bytes();
    let aad = [&header[..], context].concat();
    let body = key.seal(&salt, &header, &aad, plaintext)?;
    Ok([&header[..], &body].concat())
}

/// Decrypts a blob produced by [`seal`]; any mismatch is [`CryptoError::Unauthentic`].
pub fn open(key: &SymmetricKey, blob: &[u8], context: &[u8]) -> Result<SecretBytes, CryptoError> {
    let h = parse_header(blob)?;
    let (header, body) = blob.split_at(HEADER_LEN);
    let aad = [header, context].concat();
    key.open(&h.salt, header, &aad, body)
}

/// The canonical encoding of an encryption context: pairs sorted by key (the caller
/// passes them sorted, as a `BTreeMap` yields them), each as
/// `u32 len ‖ key ‖ u32 len ‖ value`, preceded by the pair count.
pub fn canonical_context<'a>(pairs: impl ExactSizeIterator<Item = (&'a str, &'a str)>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&u32::try_from(pairs.len()).unwrap_or(u32::MAX).to_be_bytes());
    for (k, v) in pairs {
        for s in [k, v] {
            out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> Vec<u8> {
        canonical_context(pairs.iter().copied())
    }

    #[test]
    fn round_trip_and_header() {
        let key = SymmetricKey::generate().unwrap();
        let c = ctx(&[("a", "1")]);
        let blob = seal(&key, [9; 16], 3, &c, b"hello").unwrap();
        assert_eq!(blob.len(), HEADER_LEN + 5 + TAG_LEN);
        let h = parse_header(&blob).unwrap();
        assert_eq!((h.key_id, h.version), ([9; 16], 3));
        assert_eq!(open(&key, &blob, &c).unwrap().expose(), b"hello");
    }

    #[test]
    fn every_alteration_fails() {
        let key = SymmetricKey::generate().unwrap();
        let c = ctx(&[("a", "1")]);
        let blob = seal(&key, [9; 16], 3, &c, b"hello").unwrap();
        for i in 0..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 0x80;
            assert!(open(&key, &t, &c).is_err(), "byte {i}");
        }
        assert!(open(&key, &blob, &ctx(&[("a", "2")])).is_err());
        assert!(open(&key, &blob, &ctx(&[])).is_err());
        assert!(open(&key, &blob[..blob.len() - 1], &c).is_err());
        let other = SymmetricKey::generate().unwrap();
        assert!(open(&other, &blob, &c).is_err());
    }

    #[test]
    fn multi_region_blobs_say_so_and_the_flag_is_authenticated() {
        let key = SymmetricKey::generate().unwrap();
        let blob = seal_as(&key, [9; 16], true, 2, &[], b"hi").unwrap();
        assert_eq!(blob[0], FORMAT_V2_MULTI_REGION);
        let h = parse_header(&blob).unwrap();
        assert!(h.multi_region);
        assert!(
            !parse_header(&seal(&key, [9; 16], 2, &[], b"hi").unwrap())
                .unwrap()
                .multi_region
        );
        // Relabelling a multi-Region blob as a UUID one (or back) breaks the tag.
        let mut t = blob.clone();
        t[0] = FORMAT_V1;
        assert!(open(&key, &t, &[]).is_err());
        assert_eq!(open(&key, &blob, &[]).unwrap().expose(), b"hi");
    }

    #[test]
    fn context_encoding_is_unambiguous() {
        assert_ne!(ctx(&[("ab", "c")]), ctx(&[("a", "bc")]));
        assert_ne!(ctx(&[]), ctx(&[("", "")]));
    }

    #[test]
    fn same_plaintext_gives_different_blobs() {
        let key = SymmetricKey::generate().unwrap();
        let a = seal(&key, [1; 16], 1, &[], b"x").unwrap();
        let b = seal(&key, [1; 16], 1, &[], b"x").unwrap();
        assert_ne!(a, b);
    }
}
