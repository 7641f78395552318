//! Asymmetric key pairs (RSA, NIST/SECG ECC, Ed25519, ML-DSA, ML-KEM) and the operations
//! KMS performs with them: signing, public-key encryption, key agreement, encapsulation.
//!
//! Private keys travel only as PKCS#8 inside [`SecretBytes`]; public keys as DER
//! SubjectPublicKeyInfo. Parsed key objects are kept in [`PrivateKey`] / [`PublicKey`] so
//! hot-path operations do not re-parse DER.

use crate::{CryptoError, SecretBytes};

/// The asymmetric key specs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum AsymmetricSpec {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EccNistP256,
    EccNistP384,
    EccNistP521,
    EccSecgP256k1,
    Ed25519,
    MlDsa44,
    MlDsa65,
    MlDsa87,
    MlKem512,
    MlKem768,
    MlKem1024,
}

/// Signing algorithms (KMS `SigningAlgorithmSpec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum SigningAlgorithm {
    RsassaPssSha256,
    RsassaPssSha384,
    RsassaPssSha512,
    RsassaPkcs1V15Sha256,
    RsassaPkcs1V15Sha384,
    RsassaPkcs1V15Sha512,
    EcdsaSha256,
    EcdsaSha384,
    EcdsaSha512,
    Ed25519Sha512,
    Ed25519PhSha512,
    MlDsaShake256,
}

/// What the `data` given to sign/verify is (KMS `MessageType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// The message itself; the algorithm hashes it.
    Raw,
    /// A digest computed by the caller with the algorithm's hash (exact length).
    Digest,
    /// ML-DSA's 64-byte μ, computed by the caller.
    ExternalMu,
}

/// RSA-OAEP variants (MGF1 with the same hash, empty label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OaepHash {
    /// RSAES_OAEP_SHA_1.
    Sha1,
    /// RSAES_OAEP_SHA_256.
    Sha256,
}

/// A parsed private key.
pub struct PrivateKey {
    spec: AsymmetricSpec,
    pkcs8: SecretBytes,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({:?}, REDACTED)", self.spec)
    }
}

/// A parsed public key.
#[derive(Debug, Clone)]
pub struct PublicKey {
    spec: AsymmetricSpec,
    spki: Vec<u8>,
}

impl PrivateKey {
    /// Generates a new key pair inside the provider.
    pub fn generate(spec: AsymmetricSpec) -> Result<Self, CryptoError> {
        let _ = spec;
        Err(CryptoError::Unsupported)
    }

    /// Parses a PKCS#8 private key of `spec`.
    pub fn from_pkcs8(spec: AsymmetricSpec, pkcs8: &SecretBytes) -> Result<Self, CryptoError> {
        Ok(Self {
            spec,
            pkcs8: pkcs8.clone(),
        })
    }

    /// The key spec.
    pub fn spec(&self) -> AsymmetricSpec {
        self.spec
    }

    /// The private key as PKCS#8 DER.
    pub fn pkcs8(&self) -> &SecretBytes {
        &self.pkcs8
    }

    /// The public half.
    pub fn public_key(&self) -> Result<PublicKey, CryptoError> {
        Err(CryptoError::Unsupported)
    }

    /// Signs `data` (see [`MessageKind`]); ECDSA signatures are DER.
    pub fn sign(
        &self,
        alg: SigningAlgorithm,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let _ = (alg, kind, data);
        Err(CryptoError::Unsupported)
    }

    /// RSA-OAEP decryption.
    pub fn decrypt(&self, hash: OaepHash, ciphertext: &[u8]) -> Result<SecretBytes, CryptoError> {
        let _ = (hash, ciphertext);
        Err(CryptoError::Unsupported)
    }

    /// ECDH with a peer's public key (DER SubjectPublicKeyInfo); the raw shared secret.
    pub fn agree(&self, peer_spki: &[u8]) -> Result<SecretBytes, CryptoError> {
        let _ = peer_spki;
        Err(CryptoError::Unsupported)
    }

    /// ML-KEM decapsulation (implicit rejection: a bad ciphertext yields a pseudo-random secret).
    pub fn decapsulate(&self, ciphertext: &[u8]) -> Result<SecretBytes, CryptoError> {
        let _ = ciphertext;
        Err(CryptoError::Unsupported)
    }
}

impl PublicKey {
    /// Parses a DER SubjectPublicKeyInfo of `spec`.
    pub fn from_spki(spec: AsymmetricSpec, spki: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self {
            spec,
            spki: spki.to_vec(),
        })
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// Checks a signature; `Ok(false)` when it does not verify.
    pub fn verify(
        &self,
        alg: SigningAlgorithm,
        kind: MessageKind,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        let _ = (alg, kind, data, signature);
        Err(CryptoError::Unsupported)
    }

    /// RSA-OAEP encryption.
    pub fn encrypt(&self, hash: OaepHash, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let _ = (hash, plaintext);
        Err(CryptoError::Unsupported)
    }

    /// ML-KEM encapsulation: (ciphertext, shared secret).
    pub fn encapsulate(&self) -> Result<(Vec<u8>, SecretBytes), CryptoError> {
        Err(CryptoError::Unsupported)
    }
}

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

/// An HMAC key (HMAC_224/256/384/512 key specs).
pub struct HmacKey {
    alg: HmacAlgorithm,
    material: SecretBytes,
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HmacKey({:?}, REDACTED)", self.alg)
    }
}

impl HmacKey {
    /// Generates a key whose length equals the algorithm's output size (as KMS does).
    pub fn generate(alg: HmacAlgorithm) -> Result<Self, CryptoError> {
        let _ = alg;
        Err(CryptoError::Unsupported)
    }

    /// Wraps existing material.
    pub fn from_material(alg: HmacAlgorithm, material: SecretBytes) -> Result<Self, CryptoError> {
        Ok(Self { alg, material })
    }

    /// The raw key, for wrapping under the root key only.
    pub fn material(&self) -> &SecretBytes {
        &self.material
    }

    /// The MAC of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let _ = message;
        Vec::new()
    }

    /// Constant-time check of `mac` over `message`.
    pub fn verify(&self, message: &[u8], mac: &[u8]) -> bool {
        let _ = (message, mac);
        false
    }
}
