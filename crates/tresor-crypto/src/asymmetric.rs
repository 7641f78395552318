//! Asymmetric key pairs (RSA, NIST/SECG ECC, Ed25519, ML-DSA, ML-KEM) and the operations
//! KMS performs with them: signing, public-key encryption, key agreement, encapsulation.
//!
//! Private keys travel only as PKCS#8 inside [`SecretBytes`]; public keys as DER
//! SubjectPublicKeyInfo. Parsed key objects are kept in [`PrivateKey`] / [`PublicKey`] so
//! hot-path operations do not re-parse DER.
//!
//! Encodings:
//! - RSA, ECC, Ed25519: PKCS#8 v1 as produced by aws-lc; any PKCS#8 aws-lc accepts imports.
//! - ML-DSA: PKCS#8 v1 as produced by aws-lc (the 32-byte seed form of
//!   draft-ietf-lamps-dilithium-certificates); the expanded and "both" forms import too.
//! - ML-KEM: aws-lc-rs exposes ML-KEM keys only as raw FIPS 203 bytes, so Tresor encodes
//!   them itself: PKCS#8 v1 with `id-alg-ml-kem-*` (no parameters) and the `expandedKey`
//!   choice of `ML-KEM-PrivateKey` (an OCTET STRING holding the 1632/2400/3168-byte
//!   decapsulation key), and an SPKI whose BIT STRING is the raw encapsulation key.
//!   The `both` choice imports (its expanded key is used); the seed-only choice cannot,
//!   because aws-lc-rs cannot expand a seed.
//!
//! aws-lc-rs 1.19 has no Ed25519ph and no external-μ ML-DSA: `ED25519_PH_SHA_512` is
//! done by ed25519-dalek ([`ed25519ph`]) and ML-DSA with [`MessageKind::ExternalMu`] by the
//! RustCrypto `ml-dsa` crate ([`mldsa_mu`]), each with the same stored key material.

mod der;
mod ed25519ph;
mod hmac_key;
mod mldsa_mu;
mod mlkem;
mod public;
#[cfg(test)]
mod tests;

pub use hmac_key::{HmacAlgorithm, HmacKey};
pub use public::PublicKey;

use crate::{CryptoError, SecretBytes};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, Ed25519KeyPair, KeyPair as _,
    PqdsaKeyPair, PqdsaSigningAlgorithm, PqdsaVerificationAlgorithm, RsaEncoding, RsaKeyPair,
    RsaParameters,
};
use aws_lc_rs::{agreement, digest, rsa, signature};
use std::sync::{Arc, OnceLock};

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

// ---------------------------------------------------------------------------------------
// Static parameters per spec / algorithm.
// ---------------------------------------------------------------------------------------

impl AsymmetricSpec {
    fn kms_name(self) -> &'static str {
        match self {
            Self::Rsa2048 => "RSA_2048",
            Self::Rsa3072 => "RSA_3072",
            Self::Rsa4096 => "RSA_4096",
            Self::EccNistP256 => "ECC_NIST_P256",
            Self::EccNistP384 => "ECC_NIST_P384",
            Self::EccNistP521 => "ECC_NIST_P521",
            Self::EccSecgP256k1 => "ECC_SECG_P256K1",
            Self::Ed25519 => "ECC_NIST_EDWARDS25519",
            Self::MlDsa44 => "ML_DSA_44",
            Self::MlDsa65 => "ML_DSA_65",
            Self::MlDsa87 => "ML_DSA_87",
            Self::MlKem512 => "ML_KEM_512",
            Self::MlKem768 => "ML_KEM_768",
            Self::MlKem1024 => "ML_KEM_1024",
        }
    }

    /// Modulus size in bits for RSA specs.
    fn rsa_bits(self) -> Option<usize> {
        match self {
            Self::Rsa2048 => Some(2048),
            Self::Rsa3072 => Some(3072),
            Self::Rsa4096 => Some(4096),
            _ => None,
        }
    }

    fn ec(self) -> Option<&'static EcParams> {
        match self {
            Self::EccNistP256 => Some(&EC_P256),
            Self::EccNistP384 => Some(&EC_P384),
            Self::EccNistP521 => Some(&EC_P521),
            Self::EccSecgP256k1 => Some(&EC_K256),
            _ => None,
        }
    }

    fn ml_dsa(self) -> Option<MlDsaParams> {
        Some(match self {
            Self::MlDsa44 => (
                &signature::ML_DSA_44_SIGNING,
                &signature::ML_DSA_44,
                der::oid::ML_DSA_44,
            ),
            Self::MlDsa65 => (
                &signature::ML_DSA_65_SIGNING,
                &signature::ML_DSA_65,
                der::oid::ML_DSA_65,
            ),
            Self::MlDsa87 => (
                &signature::ML_DSA_87_SIGNING,
                &signature::ML_DSA_87,
                der::oid::ML_DSA_87,
            ),
            _ => return None,
        })
    }

    /// Checks that `spki`'s AlgorithmIdentifier is the one of this spec; returns the parsed SPKI.
    fn check_spki<'a>(self, spki: &'a [u8], what: &str) -> Result<der::Spki<'a>, CryptoError> {
        let bad = || {
            CryptoError::InvalidKey(format!(
                "{what} is not a DER SubjectPublicKeyInfo of key spec {}",
                self.kms_name()
            ))
        };
        let parsed = der::parse_spki(spki).ok_or_else(bad)?;
        let alg = &parsed.algorithm;
        let ok = if self.rsa_bits().is_some() {
            alg.oid == der::oid::RSA_ENCRYPTION
                && matches!(alg.params, None | Some((der::TAG_NULL, [])))
        } else if let Some(ec) = self.ec() {
            alg.oid == der::oid::EC_PUBLIC_KEY && alg.params == Some((der::TAG_OID, ec.curve_oid))
        } else if let Some((_, _, oid)) = self.ml_dsa() {
            alg.oid == oid && alg.params.is_none()
        } else if let Some(p) = mlkem::params(self) {
            alg.oid == p.oid && alg.params.is_none()
        } else {
            alg.oid == der::oid::ED25519 && alg.params.is_none()
        };
        if ok {
            Ok(parsed)
        } else {
            Err(bad())
        }
    }
}

/// ML-DSA: signing algorithm, verification algorithm, OID.
type MlDsaParams = (
    &'static PqdsaSigningAlgorithm,
    &'static PqdsaVerificationAlgorithm,
    &'static [u8],
);

struct EcParams {
    signing: &'static EcdsaSigningAlgorithm,
    verification: &'static EcdsaVerificationAlgorithm,
    curve_oid: &'static [u8],
    /// The only signing algorithm KMS allows for the curve.
    algorithm: SigningAlgorithm,
    /// ECDH, for the NIST curves.
    ecdh: Option<&'static agreement::Algorithm>,
}

static EC_P256: EcParams = EcParams {
    signing: &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
    verification: &signature::ECDSA_P256_SHA256_ASN1,
    curve_oid: der::oid::P256,
    algorithm: SigningAlgorithm::EcdsaSha256,
    ecdh: Some(&agreement::ECDH_P256),
};
static EC_P384: EcParams = EcParams {
    signing: &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
    verification: &signature::ECDSA_P384_SHA384_ASN1,
    curve_oid: der::oid::P384,
    algorithm: SigningAlgorithm::EcdsaSha384,
    ecdh: Some(&agreement::ECDH_P384),
};
static EC_P521: EcParams = EcParams {
    signing: &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
    verification: &signature::ECDSA_P521_SHA512_ASN1,
    curve_oid: der::oid::P521,
    algorithm: SigningAlgorithm::EcdsaSha512,
    ecdh: Some(&agreement::ECDH_P521),
};
static EC_K256: EcParams = EcParams {
    signing: &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
    verification: &signature::ECDSA_P256K1_SHA256_ASN1,
    curve_oid: der::oid::SECP256K1,
    algorithm: SigningAlgorithm::EcdsaSha256,
    ecdh: None,
};

/// The RSA signing algorithms, in the order of [`PubInner::Rsa`]'s verifier cache.
const RSA_ALGORITHMS: [SigningAlgorithm; 6] = [
    SigningAlgorithm::RsassaPssSha256,
    SigningAlgorithm::RsassaPssSha384,
    SigningAlgorithm::RsassaPssSha512,
    SigningAlgorithm::RsassaPkcs1V15Sha256,
    SigningAlgorithm::RsassaPkcs1V15Sha384,
    SigningAlgorithm::RsassaPkcs1V15Sha512,
];

impl SigningAlgorithm {
    fn kms_name(self) -> &'static str {
        match self {
            Self::RsassaPssSha256 => "RSASSA_PSS_SHA_256",
            Self::RsassaPssSha384 => "RSASSA_PSS_SHA_384",
            Self::RsassaPssSha512 => "RSASSA_PSS_SHA_512",
            Self::RsassaPkcs1V15Sha256 => "RSASSA_PKCS1_V1_5_SHA_256",
            Self::RsassaPkcs1V15Sha384 => "RSASSA_PKCS1_V1_5_SHA_384",
            Self::RsassaPkcs1V15Sha512 => "RSASSA_PKCS1_V1_5_SHA_512",
            Self::EcdsaSha256 => "ECDSA_SHA_256",
            Self::EcdsaSha384 => "ECDSA_SHA_384",
            Self::EcdsaSha512 => "ECDSA_SHA_512",
            Self::Ed25519Sha512 => "ED25519_SHA_512",
            Self::Ed25519PhSha512 => "ED25519_PH_SHA_512",
            Self::MlDsaShake256 => "ML_DSA_SHAKE_256",
        }
    }

    /// The hash a DIGEST message must have been computed with.
    fn hash(self) -> Option<&'static digest::Algorithm> {
        match self {
            Self::RsassaPssSha256 | Self::RsassaPkcs1V15Sha256 | Self::EcdsaSha256 => {
                Some(&digest::SHA256)
            }
            Self::RsassaPssSha384 | Self::RsassaPkcs1V15Sha384 | Self::EcdsaSha384 => {
                Some(&digest::SHA384)
            }
            Self::RsassaPssSha512
            | Self::RsassaPkcs1V15Sha512
            | Self::EcdsaSha512
            | Self::Ed25519PhSha512 => Some(&digest::SHA512),
            Self::Ed25519Sha512 | Self::MlDsaShake256 => None,
        }
    }

    fn rsa_encoding(self) -> Option<&'static dyn RsaEncoding> {
        Some(match self {
            Self::RsassaPssSha256 => &signature::RSA_PSS_SHA256,
            Self::RsassaPssSha384 => &signature::RSA_PSS_SHA384,
            Self::RsassaPssSha512 => &signature::RSA_PSS_SHA512,
            Self::RsassaPkcs1V15Sha256 => &signature::RSA_PKCS1_SHA256,
            Self::RsassaPkcs1V15Sha384 => &signature::RSA_PKCS1_SHA384,
            Self::RsassaPkcs1V15Sha512 => &signature::RSA_PKCS1_SHA512,
            _ => return None,
        })
    }

    fn rsa_parameters(self) -> Option<&'static RsaParameters> {
        Some(match self {
            Self::RsassaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
            Self::RsassaPssSha384 => &signature::RSA_PSS_2048_8192_SHA384,
            Self::RsassaPssSha512 => &signature::RSA_PSS_2048_8192_SHA512,
            Self::RsassaPkcs1V15Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Self::RsassaPkcs1V15Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Self::RsassaPkcs1V15Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            _ => return None,
        })
    }

    /// Whether KMS allows this algorithm with keys of `spec`.
    fn allowed_for(self, spec: AsymmetricSpec) -> bool {
        use AsymmetricSpec as S;
        match spec {
            S::Rsa2048 | S::Rsa3072 | S::Rsa4096 => self.rsa_encoding().is_some(),
            S::EccNistP256 | S::EccNistP384 | S::EccNistP521 | S::EccSecgP256k1 => {
                spec.ec().is_some_and(|ec| ec.algorithm == self)
            }
            S::Ed25519 => matches!(self, Self::Ed25519Sha512 | Self::Ed25519PhSha512),
            S::MlDsa44 | S::MlDsa65 | S::MlDsa87 => self == Self::MlDsaShake256,
            S::MlKem512 | S::MlKem768 | S::MlKem1024 => false,
        }
    }
}

/// The validated input of a sign/verify call.
enum Message<'a> {
    Raw(&'a [u8]),
    Digest(digest::Digest),
    /// Ed25519ph: the bytes KMS prehashes (the caller's 64-byte digest).
    Ed25519Ph(&'a [u8]),
    /// ML-DSA's 64-byte μ.
    Mu(&'a [u8; 64]),
}

/// Checks the (spec, algorithm, message kind, input length) combination as KMS does and
/// prepares the message. Invalid combinations are `InvalidInput`.
fn prepare(
    spec: AsymmetricSpec,
    alg: SigningAlgorithm,
    kind: MessageKind,
    data: &[u8],
) -> Result<Message<'_>, CryptoError> {
    if !alg.allowed_for(spec) {
        return Err(CryptoError::InvalidInput(format!(
            "signing algorithm {} is not valid for key spec {}",
            alg.kms_name(),
            spec.kms_name()
        )));
    }
    let bad_kind = || {
        CryptoError::InvalidInput(format!(
            "message type {} is not valid with signing algorithm {}",
            match kind {
                MessageKind::Raw => "RAW",
                MessageKind::Digest => "DIGEST",
                MessageKind::ExternalMu => "EXTERNAL_MU",
            },
            alg.kms_name()
        ))
    };
    let check_len = |expected: usize, what: &str| {
        if data.len() == expected {
            Ok(())
        } else {
            Err(CryptoError::InvalidInput(format!(
                "{what} for {} must be exactly {expected} bytes, got {}",
                alg.kms_name(),
                data.len()
            )))
        }
    };
    match (alg, kind) {
        (SigningAlgorithm::Ed25519PhSha512, MessageKind::Digest) => {
            check_len(digest::SHA512_OUTPUT_LEN, "the digest")?;
            Ok(Message::Ed25519Ph(data))
        }
        (SigningAlgorithm::Ed25519PhSha512, _) => Err(bad_kind()),
        (SigningAlgorithm::Ed25519Sha512, MessageKind::Raw) => Ok(Message::Raw(data)),
        (SigningAlgorithm::Ed25519Sha512, _) => Err(bad_kind()),
        (SigningAlgorithm::MlDsaShake256, MessageKind::Raw) => Ok(Message::Raw(data)),
        (SigningAlgorithm::MlDsaShake256, MessageKind::ExternalMu) => {
            check_len(64, "μ")?;
            let mu = <&[u8; 64]>::try_from(data)
                .map_err(|_| CryptoError::InvalidInput("μ must be 64 bytes".into()))?;
            Ok(Message::Mu(mu))
        }
        (SigningAlgorithm::MlDsaShake256, MessageKind::Digest) => Err(bad_kind()),
        (_, MessageKind::Raw) => Ok(Message::Raw(data)),
        (_, MessageKind::Digest) => {
            let hash = alg.hash().ok_or_else(bad_kind)?;
            check_len(hash.output_len(), "the digest")?;
            let d = digest::Digest::import_less_safe(data, hash)
                .map_err(|_| CryptoError::InvalidInput("invalid digest".into()))?;
            Ok(Message::Digest(d))
        }
        (_, MessageKind::ExternalMu) => Err(bad_kind()),
    }
}

fn wrong_operation(spec: AsymmetricSpec, op: &str) -> CryptoError {
    CryptoError::InvalidInput(format!(
        "key spec {} does not support {op}",
        spec.kms_name()
    ))
}

fn rejected(spec: AsymmetricSpec, e: impl std::fmt::Display) -> CryptoError {
    CryptoError::InvalidKey(format!("not a valid {} key: {e}", spec.kms_name()))
}

/// A failure of the provider with a key that parsed fine.
fn provider_failure(op: &str) -> CryptoError {
    CryptoError::InvalidKey(format!("the crypto provider failed to {op} with this key"))
}

fn oaep_algorithm(hash: OaepHash) -> (&'static rsa::OaepAlgorithm, usize, &'static str) {
    match hash {
        OaepHash::Sha1 => (
            &rsa::OAEP_SHA1_MGF1SHA1,
            digest::SHA1_OUTPUT_LEN,
            "RSAES_OAEP_SHA_1",
        ),
        OaepHash::Sha256 => (
            &rsa::OAEP_SHA256_MGF1SHA256,
            digest::SHA256_OUTPUT_LEN,
            "RSAES_OAEP_SHA_256",
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Private keys.
// ---------------------------------------------------------------------------------------

/// A parsed private key.
pub struct PrivateKey {
    spec: AsymmetricSpec,
    pkcs8: SecretBytes,
    inner: PrivInner,
    public: OnceLock<PublicKey>,
}

enum PrivInner {
    Rsa {
        pair: RsaKeyPair,
        /// Parsed on first decryption (the same key is rarely used for both).
        oaep: OnceLock<rsa::OaepPrivateDecryptingKey>,
    },
    Ec {
        pair: EcdsaKeyPair,
        /// Parsed on first key agreement.
        ecdh: OnceLock<agreement::PrivateKey>,
    },
    Ed25519 {
        pair: Ed25519KeyPair,
        /// The Ed25519ph signer, built on first use.
        ph: OnceLock<ed25519ph::PhSigner>,
    },
    MlDsa {
        pair: PqdsaKeyPair,
        /// The external-μ signer, built on first use.
        mu: OnceLock<mldsa_mu::MuSigner>,
    },
    MlKem(mlkem::KeyPair),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({:?}, REDACTED)", self.spec)
    }
}

impl PrivateKey {
    /// Generates a new key pair inside the provider.
    pub fn generate(spec: AsymmetricSpec) -> Result<Self, CryptoError> {
        let gen_failed = |_| CryptoError::Rng;
        let (inner, pkcs8) = if let Some(bits) = spec.rsa_bits() {
            let size = match bits {
                2048 => rsa::KeySize::Rsa2048,
                3072 => rsa::KeySize::Rsa3072,
                _ => rsa::KeySize::Rsa4096,
            };
            let pair = RsaKeyPair::generate(size).map_err(gen_failed)?;
            let pkcs8 = SecretBytes::from_slice(
                pair.as_der()
                    .map_err(|_| provider_failure("encode"))?
                    .as_ref(),
            );
            let oaep = OnceLock::new();
            (PrivInner::Rsa { pair, oaep }, pkcs8)
        } else if let Some(ec) = spec.ec() {
            let pair = EcdsaKeyPair::generate(ec.signing).map_err(gen_failed)?;
            let pkcs8 = SecretBytes::from_slice(
                pair.to_pkcs8v1()
                    .map_err(|_| provider_failure("encode"))?
                    .as_ref(),
            );
            let ecdh = OnceLock::new();
            (PrivInner::Ec { pair, ecdh }, pkcs8)
        } else if let Some((alg, _, _)) = spec.ml_dsa() {
            let pair = PqdsaKeyPair::generate(alg).map_err(gen_failed)?;
            let pkcs8 = SecretBytes::from_slice(
                pair.to_pkcs8v1()
                    .map_err(|_| provider_failure("encode"))?
                    .as_ref(),
            );
            (
                PrivInner::MlDsa {
                    pair,
                    mu: OnceLock::new(),
                },
                pkcs8,
            )
        } else if let Some(params) = mlkem::params(spec) {
            let (pair, pkcs8) = mlkem::KeyPair::generate(params)?;
            (PrivInner::MlKem(pair), pkcs8)
        } else {
            let pair = Ed25519KeyPair::generate().map_err(gen_failed)?;
            let pkcs8 = SecretBytes::from_slice(
                pair.to_pkcs8v1()
                    .map_err(|_| provider_failure("encode"))?
                    .as_ref(),
            );
            (
                PrivInner::Ed25519 {
                    pair,
                    ph: OnceLock::new(),
                },
                pkcs8,
            )
        };
        Ok(Self {
            spec,
            pkcs8,
            inner,
            public: OnceLock::new(),
        })
    }

    /// Parses a PKCS#8 private key of `spec`.
    pub fn from_pkcs8(spec: AsymmetricSpec, pkcs8: &SecretBytes) -> Result<Self, CryptoError> {
        let der = pkcs8.expose();
        let inner = if let Some(bits) = spec.rsa_bits() {
            let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| rejected(spec, e))?;
            let actual = pair.public_modulus_len().saturating_mul(8);
            if actual != bits {
                return Err(CryptoError::InvalidKey(format!(
                    "the RSA key has {actual} bits, key spec {} needs {bits}",
                    spec.kms_name()
                )));
            }
            PrivInner::Rsa {
                pair,
                oaep: OnceLock::new(),
            }
        } else if let Some(ec) = spec.ec() {
            let pair = EcdsaKeyPair::from_pkcs8(ec.signing, der).map_err(|e| rejected(spec, e))?;
            PrivInner::Ec {
                pair,
                ecdh: OnceLock::new(),
            }
        } else if let Some((alg, _, _)) = spec.ml_dsa() {
            PrivInner::MlDsa {
                pair: PqdsaKeyPair::from_pkcs8(alg, der).map_err(|e| rejected(spec, e))?,
                mu: OnceLock::new(),
            }
        } else if let Some(params) = mlkem::params(spec) {
            PrivInner::MlKem(mlkem::KeyPair::from_pkcs8(params, der)?)
        } else {
            PrivInner::Ed25519 {
                pair: Ed25519KeyPair::from_pkcs8(der).map_err(|e| rejected(spec, e))?,
                ph: OnceLock::new(),
            }
        };
        Ok(Self {
            spec,
            pkcs8: pkcs8.clone(),
            inner,
            public: OnceLock::new(),
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
        if let Some(public) = self.public.get() {
            return Ok(public.clone());
        }
        let encode_failed = |_| provider_failure("encode the public key");
        let spki: Vec<u8> = match &self.inner {
            PrivInner::Rsa { pair, .. } => pair
                .public_key()
                .as_der()
                .map_err(encode_failed)?
                .as_ref()
                .to_vec(),
            PrivInner::Ec { pair, .. } => pair
                .public_key()
                .as_der()
                .map_err(encode_failed)?
                .as_ref()
                .to_vec(),
            PrivInner::Ed25519 { pair, .. } => pair
                .public_key()
                .as_der()
                .map_err(encode_failed)?
                .as_ref()
                .to_vec(),
            PrivInner::MlDsa { pair, .. } => pair
                .public_key()
                .as_der()
                .map_err(encode_failed)?
                .as_ref()
                .to_vec(),
            PrivInner::MlKem(pair) => pair.spki()?,
        };
        let public = PublicKey::from_spki(self.spec, &spki)?;
        Ok(self.public.get_or_init(|| public).clone())
    }

    /// Signs `data` (see [`MessageKind`]); ECDSA signatures are DER.
    pub fn sign(
        &self,
        alg: SigningAlgorithm,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let message = prepare(self.spec, alg, kind, data)?;
        let failed = |_| provider_failure("sign");
        match (&self.inner, message) {
            (PrivInner::Rsa { pair, .. }, message) => {
                let encoding = alg
                    .rsa_encoding()
                    .ok_or_else(|| wrong_operation(self.spec, alg.kms_name()))?;
                let mut sig = vec![0u8; pair.public_modulus_len()];
                match message {
                    Message::Raw(m) => {
                        pair.sign(encoding, &aws_lc_rs::rand::SystemRandom::new(), m, &mut sig)
                    }
                    Message::Digest(d) => pair.sign_digest(encoding, &d, &mut sig),
                    Message::Ed25519Ph(_) | Message::Mu(_) => {
                        return Err(wrong_operation(self.spec, alg.kms_name()))
                    }
                }
                .map_err(failed)?;
                Ok(sig)
            }
            (PrivInner::Ec { pair, .. }, message) => {
                let sig = match message {
                    Message::Raw(m) => pair.sign(&aws_lc_rs::rand::SystemRandom::new(), m),
                    Message::Digest(d) => pair.sign_digest(&d),
                    Message::Ed25519Ph(_) | Message::Mu(_) => {
                        return Err(wrong_operation(self.spec, alg.kms_name()))
                    }
                }
                .map_err(failed)?;
                Ok(sig.as_ref().to_vec())
            }
            (PrivInner::Ed25519 { pair, .. }, Message::Raw(m)) => {
                Ok(pair.try_sign(m).map_err(failed)?.as_ref().to_vec())
            }
            (PrivInner::Ed25519 { pair, ph }, Message::Ed25519Ph(m)) => {
                let signer = match ph.get() {
                    Some(signer) => signer,
                    None => {
                        let signer = ed25519ph::PhSigner::from_pkcs8(
                            self.pkcs8.expose(),
                            pair.public_key().as_ref(),
                        )?;
                        ph.get_or_init(|| signer)
                    }
                };
                signer.sign(m)
            }
            (PrivInner::MlDsa { mu: signer, .. }, Message::Mu(mu)) => {
                let signer = match signer.get() {
                    Some(signer) => signer,
                    None => {
                        let public = self.public_key()?;
                        let parsed = mldsa_mu::MuSigner::from_pkcs8(
                            self.spec,
                            self.pkcs8.expose(),
                            public.raw_key()?,
                        )?;
                        signer.get_or_init(|| parsed)
                    }
                };
                signer.sign(mu)
            }
            (PrivInner::MlDsa { pair, .. }, Message::Raw(m)) => {
                let mut sig = vec![0u8; pair.algorithm().signature_len()];
                let len = pair.sign(m, &mut sig).map_err(failed)?;
                sig.truncate(len);
                Ok(sig)
            }
            _ => Err(wrong_operation(self.spec, alg.kms_name())),
        }
    }

    /// RSA-OAEP decryption.
    pub fn decrypt(&self, hash: OaepHash, ciphertext: &[u8]) -> Result<SecretBytes, CryptoError> {
        let PrivInner::Rsa { oaep, .. } = &self.inner else {
            return Err(wrong_operation(self.spec, "decryption"));
        };
        let key = match oaep.get() {
            Some(key) => key,
            None => {
                let parsed = rsa::PrivateDecryptingKey::from_pkcs8(self.pkcs8.expose())
                    .map_err(|e| rejected(self.spec, e))?;
                let key = rsa::OaepPrivateDecryptingKey::new(parsed)
                    .map_err(|_| provider_failure("decrypt"))?;
                oaep.get_or_init(|| key)
            }
        };
        let (alg, _, _) = oaep_algorithm(hash);
        let mut buf = SecretBytes::new(vec![0u8; key.min_output_size()]);
        let len = key
            .decrypt(alg, ciphertext, buf.expose_mut(), None)
            .map_err(|_| CryptoError::Unauthentic)?
            .len();
        Ok(SecretBytes::from_slice(
            buf.expose().get(..len).unwrap_or_default(),
        ))
    }

    /// ECDH with a peer's public key (DER SubjectPublicKeyInfo); the raw shared secret.
    pub fn agree(&self, peer_spki: &[u8]) -> Result<SecretBytes, CryptoError> {
        let (PrivInner::Ec { ecdh, .. }, Some(alg)) =
            (&self.inner, self.spec.ec().and_then(|ec| ec.ecdh))
        else {
            return Err(wrong_operation(self.spec, "key agreement"));
        };
        self.spec.check_spki(peer_spki, "the peer public key")?;
        let key = match ecdh.get() {
            Some(key) => key,
            None => {
                let parsed = agreement::PrivateKey::from_private_key_der(alg, self.pkcs8.expose())
                    .map_err(|e| rejected(self.spec, e))?;
                ecdh.get_or_init(|| parsed)
            }
        };
        agreement::agree(
            key,
            agreement::UnparsedPublicKey::new(alg, peer_spki),
            CryptoError::InvalidKey(format!(
                "the peer public key is not a valid {} point",
                self.spec.kms_name()
            )),
            |secret| Ok(SecretBytes::from_slice(secret)),
        )
    }

    /// ML-KEM decapsulation (implicit rejection: a bad ciphertext yields a pseudo-random secret).
    pub fn decapsulate(&self, ciphertext: &[u8]) -> Result<SecretBytes, CryptoError> {
        match &self.inner {
            PrivInner::MlKem(pair) => pair.decapsulate(ciphertext),
            _ => Err(wrong_operation(self.spec, "decapsulation")),
        }
    }
}
