//! Ed25519ph (RFC 8032 §5.1: HashEdDSA over SHA-512, empty context) for
//! `ED25519_PH_SHA_512`. aws-lc-rs has no Ed25519ph, so ed25519-dalek signs and verifies it,
//! with the same key material as `ED25519_SHA_512`: the 32-byte seed inside the PKCS#8 and
//! the 32-byte public key inside the SPKI.
//!
//! KMS accepts `ED25519_PH_SHA_512` with `MessageType DIGEST` only and still applies the
//! SHA-512 prehash (FIPS 186-5 §7.8.1 step 1) to the 64 bytes it is given, so the value
//! signed is Ed25519ph(M = the caller's digest): the caller's message is hashed twice.

use super::der;
use crate::CryptoError;
use ed25519_dalek::{Digest as _, Sha512, Signature, SigningKey, VerifyingKey};

/// An Ed25519 signing key for Ed25519ph (zeroized on drop by ed25519-dalek).
pub(super) struct PhSigner(Box<SigningKey>);

impl PhSigner {
    /// Reads the seed of an Ed25519 PKCS#8 key; `public` (the 32-byte key aws-lc derived)
    /// must match, so both providers sign with the same key.
    pub(super) fn from_pkcs8(pkcs8: &[u8], public: &[u8]) -> Result<Self, CryptoError> {
        let invalid =
            |why: &str| CryptoError::InvalidKey(format!("not a valid Ed25519 key: {why}"));
        let info = der::parse_pkcs8(pkcs8).ok_or_else(|| invalid("not PKCS#8 DER"))?;
        if info.algorithm.oid != der::oid::ED25519 || info.algorithm.params.is_some() {
            return Err(invalid("the PKCS#8 algorithm identifier does not match"));
        }
        let seed: &[u8; 32] = der::single(info.private_key, der::TAG_OCTET_STRING)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| invalid("the private key is not a 32-byte seed"))?;
        let key = SigningKey::from_bytes(seed);
        if key.verifying_key().as_bytes().as_slice() != public {
            return Err(invalid("the public key does not belong to the private key"));
        }
        Ok(Self(Box::new(key)))
    }

    /// Ed25519ph signature (64 bytes) of `message`.
    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let sig = self
            .0
            .sign_prehashed(Sha512::new_with_prefix(message), None)
            .map_err(|_| CryptoError::InvalidKey("Ed25519ph signing failed".into()))?;
        Ok(sig.to_bytes().to_vec())
    }
}

/// Checks an Ed25519ph signature of `message` under the raw 32-byte public key (strict:
/// non-canonical and small-order encodings are refused).
pub(super) fn verify(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (Ok(public), Ok(signature)) = (
        <&[u8; 32]>::try_from(public),
        <&[u8; 64]>::try_from(signature),
    ) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(public) else {
        return false;
    };
    key.verify_prehashed_strict(
        Sha512::new_with_prefix(message),
        None,
        &Signature::from_bytes(signature),
    )
    .is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// PKCS#8 v1 of an Ed25519 seed, as aws-lc writes it.
    fn pkcs8(seed: &[u8]) -> Vec<u8> {
        let alg = der::sequence(&[&der::tlv(der::TAG_OID, der::oid::ED25519)]);
        der::sequence(&[
            &[der::TAG_INTEGER, 1, 0],
            &alg,
            &der::tlv(
                der::TAG_OCTET_STRING,
                &der::tlv(der::TAG_OCTET_STRING, seed),
            ),
        ])
    }

    /// RFC 8032 §7.3, test "abc" (Ed25519ph, empty context).
    #[test]
    fn rfc8032_section_7_3_vector() {
        let seed = hex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
        let public = hex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf");
        let expected = hex(
            "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41
             31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
        );
        let signer = PhSigner::from_pkcs8(&pkcs8(&seed), &public).unwrap();
        let sig = signer.sign(b"abc").unwrap();
        assert_eq!(sig, expected);
        assert!(verify(&public, b"abc", &sig));
        assert!(!verify(&public, b"abd", &sig));
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(!verify(&public, b"abc", &bad));
        assert!(!verify(&public, b"abc", &sig[..63]));
        assert!(!verify(&public[..31], b"abc", &sig));
    }

    #[test]
    fn a_public_key_of_another_seed_is_refused() {
        let seed = [7u8; 32];
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert!(matches!(
            PhSigner::from_pkcs8(&pkcs8(&seed), other.as_bytes()),
            Err(CryptoError::InvalidKey(_))
        ));
        assert!(PhSigner::from_pkcs8(&pkcs8(&seed[..31]), other.as_bytes()).is_err());
    }
}
