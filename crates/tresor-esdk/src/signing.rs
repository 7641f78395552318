//! The ECDSA P-384 message signature of suite 0x0578: a SHA-384 digest of every byte
//! before the footer, signed (DER `ECDSA-Sig-Value`) by a key made for the one message,
//! whose compressed public point travels base64 in the encryption context.

use crate::Error;
use aws_lc_rs::digest::{Context, Digest, SHA384};
use aws_lc_rs::encoding::{AsBigEndian, EcPublicKeyCompressedBin};
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P384_SHA384_ASN1,
    ECDSA_P384_SHA384_ASN1_SIGNING,
};
use base64::Engine;
use std::fmt;

/// A fresh per-message signing key.
pub struct Signer(EcdsaKeyPair);

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(ECDSA P-384, REDACTED)")
    }
}

impl Signer {
    /// Generates a key pair.
    pub fn generate() -> Result<Self, Error> {
        EcdsaKeyPair::generate(&ECDSA_P384_SHA384_ASN1_SIGNING)
            .map(Signer)
            .map_err(|_| Error::Crypto("generating an ECDSA P-384 key"))
    }

    /// The `aws-crypto-public-key` context value: base64 of the compressed point.
    pub fn public_key_base64(&self) -> Result<String, Error> {
        let point: EcPublicKeyCompressedBin<'static> = self
            .0
            .public_key()
            .as_be_bytes()
            .map_err(|_| Error::Crypto("encoding the ECDSA public key"))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(point.as_ref()))
    }

    pub(crate) fn sign(&self, digest: &Digest) -> Result<Vec<u8>, Error> {
        self.0
            .sign_digest(digest)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| Error::Crypto("ECDSA signing"))
    }
}

/// The running digest of a signed message.
pub(crate) fn digest() -> Context {
    Context::new(&SHA384)
}

/// Checks `signature` over `digest` with the context's base64 public key.
pub(crate) fn verify(public_key_b64: &str, digest: &Digest, signature: &[u8]) -> Result<(), Error> {
    let point = base64::engine::general_purpose::STANDARD
        .decode(public_key_b64)
        .map_err(|_| Error::Malformed("aws-crypto-public-key is not base64".into()))?;
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, point)
        .verify_digest(digest, signature)
        .map_err(|_| Error::Authentication("the message signature does not verify"))
}
