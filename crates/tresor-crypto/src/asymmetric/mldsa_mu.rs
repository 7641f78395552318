//! ML-DSA with an external μ (FIPS 204 §6.2, Algorithm 7 on a caller's μ) for
//! `MessageType EXTERNAL_MU`. aws-lc-rs signs and verifies only whole messages, so the
//! RustCrypto `ml-dsa` crate does these, from the same key material: the 32-byte seed ξ of
//! the PKCS#8 (which aws-lc writes) and the raw public key of the SPKI.
//!
//! μ = SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ len(ctx) ‖ ctx ‖ M, 64); a signature over μ is
//! the ML-DSA signature of M with an empty context, so it verifies with `RAW` too.
//! Signing is hedged: the 32 bytes `rnd` come from aws-lc's RNG.

use super::{der, AsymmetricSpec};
use crate::CryptoError;
use ml_dsa::{
    EncodedVerifyingKey, ExpandedSigningKey, MlDsa44, MlDsa65, MlDsa87, MlDsaParams, Signature,
    SigningKey, VerifyingKey,
};

/// The expanded signing key of one parameter set (boxed: tens of KiB).
pub(super) enum MuSigner {
    P44(Box<ExpandedSigningKey<MlDsa44>>),
    P65(Box<ExpandedSigningKey<MlDsa65>>),
    P87(Box<ExpandedSigningKey<MlDsa87>>),
}

/// The verifying key of one parameter set.
pub(super) enum MuVerifier {
    P44(Box<VerifyingKey<MlDsa44>>),
    P65(Box<VerifyingKey<MlDsa65>>),
    P87(Box<VerifyingKey<MlDsa87>>),
}

impl std::fmt::Debug for MuVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MuVerifier")
    }
}

fn invalid(why: &str) -> CryptoError {
    CryptoError::InvalidKey(format!("not a valid ML-DSA key: {why}"))
}

/// The 32-byte seed ξ of an ML-DSA PKCS#8 (`seed [0]` or `both` choice).
fn seed_of(spec: AsymmetricSpec, pkcs8: &[u8]) -> Result<[u8; 32], CryptoError> {
    let oid = spec
        .ml_dsa()
        .map(|(_, _, oid)| oid)
        .ok_or_else(|| invalid("not an ML-DSA key spec"))?;
    let info = der::parse_pkcs8(pkcs8).ok_or_else(|| invalid("not PKCS#8 DER"))?;
    if info.algorithm.oid != oid || info.algorithm.params.is_some() {
        return Err(invalid("the PKCS#8 algorithm identifier does not match"));
    }
    let mut r = der::Reader::new(info.private_key);
    let seed = match r.read_any() {
        Some((0x80, seed)) => seed,
        Some((der::TAG_SEQUENCE, both)) => {
            let mut b = der::Reader::new(both);
            b.read(der::TAG_OCTET_STRING)
                .ok_or_else(|| invalid("malformed private key"))?
        }
        // The expanded-only form has no seed; the ml-dsa crate's decoder of expanded keys
        // may panic on crafted input, so it is not used.
        Some((der::TAG_OCTET_STRING, _)) => return Err(CryptoError::Unsupported),
        _ => return Err(invalid("malformed private key")),
    };
    if !r.is_empty() {
        return Err(invalid("malformed private key"));
    }
    seed.try_into()
        .map_err(|_| invalid("the seed is not 32 bytes"))
}

impl MuSigner {
    /// The signer of an ML-DSA PKCS#8 key; `public` (the raw public key aws-lc derived)
    /// must be the one the seed expands to.
    pub(super) fn from_pkcs8(
        spec: AsymmetricSpec,
        pkcs8: &[u8],
        public: &[u8],
    ) -> Result<Self, CryptoError> {
        let mut seed = seed_of(spec, pkcs8)?;
        let signer = match spec {
            AsymmetricSpec::MlDsa44 => Self::P44(expand(&seed, public)?),
            AsymmetricSpec::MlDsa65 => Self::P65(expand(&seed, public)?),
            AsymmetricSpec::MlDsa87 => Self::P87(expand(&seed, public)?),
            _ => return Err(invalid("not an ML-DSA key spec")),
        };
        zeroize::Zeroize::zeroize(&mut seed);
        Ok(signer)
    }

    /// The signature (hedged) over μ.
    pub(super) fn sign(&self, mu: &[u8; 64]) -> Result<Vec<u8>, CryptoError> {
        let mu = (*mu).into();
        let mut rng = HedgeRng;
        let failed = |_| CryptoError::InvalidKey("ML-DSA signing failed".into());
        Ok(match self {
            Self::P44(k) => k
                .sign_mu_randomized(&mu, &mut rng)
                .map_err(failed)?
                .encode()
                .to_vec(),
            Self::P65(k) => k
                .sign_mu_randomized(&mu, &mut rng)
                .map_err(failed)?
                .encode()
                .to_vec(),
            Self::P87(k) => k
                .sign_mu_randomized(&mu, &mut rng)
                .map_err(failed)?
                .encode()
                .to_vec(),
        })
    }
}

fn expand<P: MlDsaParams>(
    seed: &[u8; 32],
    public: &[u8],
) -> Result<Box<ExpandedSigningKey<P>>, CryptoError> {
    let key = SigningKey::<P>::from_seed(&(*seed).into());
    if key.expanded_key().verifying_key().encode().as_slice() != public {
        return Err(invalid("the public key does not belong to the private key"));
    }
    Ok(Box::new(key.expanded_key().clone()))
}

impl MuVerifier {
    /// Parses a raw ML-DSA public key of `spec`.
    pub(super) fn new(spec: AsymmetricSpec, public: &[u8]) -> Result<Self, CryptoError> {
        Ok(match spec {
            AsymmetricSpec::MlDsa44 => Self::P44(decode(public)?),
            AsymmetricSpec::MlDsa65 => Self::P65(decode(public)?),
            AsymmetricSpec::MlDsa87 => Self::P87(decode(public)?),
            _ => return Err(invalid("not an ML-DSA key spec")),
        })
    }

    /// Whether `signature` is an ML-DSA signature over μ.
    pub(super) fn verify(&self, mu: &[u8; 64], signature: &[u8]) -> bool {
        let mu = (*mu).into();
        match self {
            Self::P44(k) => Signature::try_from(signature).is_ok_and(|s| k.verify_mu(&mu, &s)),
            Self::P65(k) => Signature::try_from(signature).is_ok_and(|s| k.verify_mu(&mu, &s)),
            Self::P87(k) => Signature::try_from(signature).is_ok_and(|s| k.verify_mu(&mu, &s)),
        }
    }
}

fn decode<P: MlDsaParams>(public: &[u8]) -> Result<Box<VerifyingKey<P>>, CryptoError> {
    let enc = EncodedVerifyingKey::<P>::try_from(public)
        .map_err(|_| invalid("the public key has the wrong length"))?;
    Ok(Box::new(VerifyingKey::<P>::decode(&enc)))
}

/// aws-lc's RNG for the 32 bytes of hedging randomness.
struct HedgeRng;

impl rand_core::TryRng for HedgeRng {
    type Error = CryptoError;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        crate::random::fill(dst)
    }
}

impl rand_core::TryCryptoRng for HedgeRng {}
