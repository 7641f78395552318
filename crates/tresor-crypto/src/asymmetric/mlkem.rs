//! ML-KEM keys. aws-lc-rs exposes them only as raw FIPS 203 byte strings and cannot make
//! a key from a seed, so the PKCS#8 and SubjectPublicKeyInfo encodings (RFC 9935,
//! draft-ietf-lamps-kyber-certificates) are done here and the RustCrypto `ml-kem` crate
//! expands seeds (ML-KEM.KeyGen_internal(d, z)); aws-lc does the rest.
//!
//! PKCS#8: `PrivateKeyInfo { version 0, AlgorithmIdentifier { id-alg-ml-kem-* },
//! privateKey OCTET STRING { ML-KEM-PrivateKey } }` where `ML-KEM-PrivateKey` is the
//! `seed [0] IMPLICIT OCTET STRING (SIZE (64))` (d ‖ z) that keys are generated in, as AWS
//! returns them from GenerateDataKeyPair. The `expandedKey` choice (the decapsulation key)
//! and `both` (whose expanded key must be the seed's) import too.

use super::{der, provider_failure, AsymmetricSpec};
use crate::{CryptoError, SecretBytes};
use aws_lc_rs::{digest, kem};

/// Static parameters of one ML-KEM parameter set.
pub(super) struct Params {
    name: &'static str,
    alg: &'static kem::Algorithm,
    pub(super) oid: &'static [u8],
    /// The module rank k.
    k: usize,
    ciphertext_len: usize,
}

static ML_KEM_512: Params = Params {
    name: "ML_KEM_512",
    alg: &kem::ML_KEM_512,
    oid: der::oid::ML_KEM_512,
    k: 2,
    ciphertext_len: 768,
};
static ML_KEM_768: Params = Params {
    name: "ML_KEM_768",
    alg: &kem::ML_KEM_768,
    oid: der::oid::ML_KEM_768,
    k: 3,
    ciphertext_len: 1088,
};
static ML_KEM_1024: Params = Params {
    name: "ML_KEM_1024",
    alg: &kem::ML_KEM_1024,
    oid: der::oid::ML_KEM_1024,
    k: 4,
    ciphertext_len: 1568,
};

/// The parameters of `spec`, if it is an ML-KEM spec.
pub(super) fn params(spec: AsymmetricSpec) -> Option<&'static Params> {
    match spec {
        AsymmetricSpec::MlKem512 => Some(&ML_KEM_512),
        AsymmetricSpec::MlKem768 => Some(&ML_KEM_768),
        AsymmetricSpec::MlKem1024 => Some(&ML_KEM_1024),
        _ => None,
    }
}

/// Length of the shared secret.
#[cfg(test)]
pub(super) const SHARED_SECRET_LEN: usize = 32;

impl Params {
    /// FIPS 203 decapsulation key: dk_PKE (384k) ‖ ek (384k + 32) ‖ H(ek) (32) ‖ z (32).
    fn dk_len(&self) -> usize {
        768 * self.k + 96
    }

    /// FIPS 203 encapsulation key: 384k + 32.
    fn ek_len(&self) -> usize {
        384 * self.k + 32
    }

    fn invalid(&self, why: &str) -> CryptoError {
        CryptoError::InvalidKey(format!("not a valid {} key: {why}", self.name))
    }
}

/// A parsed ML-KEM key pair.
pub(super) struct KeyPair {
    params: &'static Params,
    dk: kem::DecapsulationKey,
    ek: kem::EncapsulationKey,
}

impl KeyPair {
    /// Generates a key pair from a fresh 64-byte seed; returns it with its (seed-only)
    /// PKCS#8 encoding.
    pub(super) fn generate(params: &'static Params) -> Result<(Self, SecretBytes), CryptoError> {
        let seed = crate::random::secret(SEED_LEN)?;
        let pkcs8 = encode_pkcs8(params, seed.expose());
        // Parse back: the stored encoding is then known to round-trip.
        let pair = Self::from_pkcs8(params, pkcs8.expose())?;
        Ok((pair, pkcs8))
    }

    /// Parses the PKCS#8 encoding described in the module documentation.
    pub(super) fn from_pkcs8(params: &'static Params, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let info = der::parse_pkcs8(pkcs8).ok_or_else(|| params.invalid("not PKCS#8 DER"))?;
        if info.algorithm.oid != params.oid || info.algorithm.params.is_some() {
            return Err(params.invalid("the PKCS#8 algorithm identifier does not match"));
        }
        let mut r = der::Reader::new(info.private_key);
        let element = r.read_any();
        if !r.is_empty() {
            return Err(params.invalid("malformed private key"));
        }
        match element {
            Some((der::TAG_OCTET_STRING, expanded)) => Self::from_expanded(params, expanded),
            Some((TAG_SEED, seed)) => Self::from_expanded(params, expand(params, seed)?.expose()),
            Some((der::TAG_SEQUENCE, both)) => {
                let mut b = der::Reader::new(both);
                let seed = b.read(der::TAG_OCTET_STRING);
                let expanded = b.read(der::TAG_OCTET_STRING);
                let (Some(seed), Some(expanded), true) = (seed, expanded, b.is_empty()) else {
                    return Err(params.invalid("malformed private key"));
                };
                let from_seed = expand(params, seed)?;
                if aws_lc_rs::constant_time::verify_slices_are_equal(from_seed.expose(), expanded)
                    .is_err()
                {
                    return Err(params.invalid("the expanded key is not the seed's"));
                }
                Self::from_expanded(params, expanded)
            }
            _ => Err(params.invalid("malformed private key")),
        }
    }

    /// Builds the pair from a FIPS 203 decapsulation key, checking its embedded H(ek).
    fn from_expanded(params: &'static Params, dk: &[u8]) -> Result<Self, CryptoError> {
        if dk.len() != params.dk_len() {
            return Err(params.invalid("the decapsulation key has the wrong length"));
        }
        let ek_start = 384 * params.k;
        let ek_end = ek_start + params.ek_len();
        let (Some(ek), Some(h)) = (dk.get(ek_start..ek_end), dk.get(ek_end..ek_end + 32)) else {
            return Err(params.invalid("the decapsulation key has the wrong length"));
        };
        if digest::digest(&digest::SHA3_256, ek).as_ref() != h {
            return Err(params.invalid("the decapsulation key fails its hash check"));
        }
        let ek = encapsulation_key(params, ek)?;
        let dk = kem::DecapsulationKey::new(params.alg, dk)
            .map_err(|e| params.invalid(&e.to_string()))?;
        Ok(Self { params, dk, ek })
    }

    /// The DER SubjectPublicKeyInfo of the encapsulation key.
    pub(super) fn spki(&self) -> Result<Vec<u8>, CryptoError> {
        let raw = self
            .ek
            .key_bytes()
            .map_err(|_| provider_failure("encode the public key"))?;
        Ok(encode_spki(self.params, raw.as_ref()))
    }

    /// Decapsulation with implicit rejection.
    pub(super) fn decapsulate(&self, ciphertext: &[u8]) -> Result<SecretBytes, CryptoError> {
        if ciphertext.len() != self.params.ciphertext_len {
            return Err(CryptoError::InvalidInput(format!(
                "an {} ciphertext must be {} bytes, got {}",
                self.params.name,
                self.params.ciphertext_len,
                ciphertext.len()
            )));
        }
        let secret = self
            .dk
            .decapsulate(kem::Ciphertext::from(ciphertext))
            .map_err(|_| provider_failure("decapsulate"))?;
        Ok(SecretBytes::from_slice(secret.as_ref()))
    }
}

/// Parses a raw encapsulation key (the SPKI's subject public key).
pub(super) fn encapsulation_key(
    params: &'static Params,
    raw: &[u8],
) -> Result<kem::EncapsulationKey, CryptoError> {
    if raw.len() != params.ek_len() {
        return Err(params.invalid("the encapsulation key has the wrong length"));
    }
    kem::EncapsulationKey::new(params.alg, raw).map_err(|e| params.invalid(&e.to_string()))
}

fn encode_spki(params: &Params, ek: &[u8]) -> Vec<u8> {
    let alg = der::sequence(&[&der::tlv(der::TAG_OID, params.oid)]);
    let mut bits = Vec::with_capacity(ek.len() + 1);
    bits.push(0);
    bits.extend_from_slice(ek);
    der::sequence(&[&alg, &der::tlv(der::TAG_BIT_STRING, &bits)])
}

/// Length of an ML-KEM seed (d ‖ z).
const SEED_LEN: usize = 64;
/// `[0] IMPLICIT OCTET STRING`: the seed choice of `ML-KEM-PrivateKey`.
const TAG_SEED: u8 = 0x80;

/// The FIPS 203 decapsulation key that a 64-byte seed d ‖ z expands to.
fn expand(params: &Params, seed: &[u8]) -> Result<SecretBytes, CryptoError> {
    let seed: [u8; SEED_LEN] = seed
        .try_into()
        .map_err(|_| params.invalid("the seed is not 64 bytes"))?;
    let seed = ml_kem::Seed::from(seed);
    // The expanded form is what aws-lc-rs takes (deprecated in ml-kem for storage only).
    macro_rules! expanded {
        ($p:ty) => {{
            #[allow(deprecated)]
            let mut bytes = {
                use ml_kem::ExpandedKeyEncoding as _;
                ml_kem::DecapsulationKey::<$p>::from_seed(seed).to_expanded_bytes()
            };
            let out = SecretBytes::from_slice(bytes.as_slice());
            zeroize::Zeroize::zeroize(bytes.as_mut_slice());
            out
        }};
    }
    Ok(match params.k {
        2 => expanded!(ml_kem::MlKem512),
        3 => expanded!(ml_kem::MlKem768),
        _ => expanded!(ml_kem::MlKem1024),
    })
}

/// Encodes the PKCS#8 (seed form) directly into one exactly-sized buffer, so no
/// unzeroized copy of the key is left behind by reallocation.
fn encode_pkcs8(params: &Params, seed: &[u8]) -> SecretBytes {
    let dk = seed;
    let inner = der::header_len(dk.len()) + dk.len();
    let private_key = der::header_len(inner) + inner;
    let oid = der::header_len(params.oid.len()) + params.oid.len();
    let alg = der::header_len(oid) + oid;
    let version = 3;
    let body = version + alg + private_key;
    let mut out = Vec::with_capacity(der::header_len(body) + body);
    der::push_header(&mut out, der::TAG_SEQUENCE, body);
    out.extend_from_slice(&[der::TAG_INTEGER, 1, 0]);
    der::push_header(&mut out, der::TAG_SEQUENCE, oid);
    der::push_header(&mut out, der::TAG_OID, params.oid.len());
    out.extend_from_slice(params.oid);
    der::push_header(&mut out, der::TAG_OCTET_STRING, inner);
    der::push_header(&mut out, TAG_SEED, dk.len());
    out.extend_from_slice(dk);
    SecretBytes::new(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn raw_layout_matches_fips_203() {
        for p in [&ML_KEM_512, &ML_KEM_768, &ML_KEM_1024] {
            let dk = kem::DecapsulationKey::generate(p.alg).unwrap();
            let raw_dk = dk.key_bytes().unwrap();
            let raw_ek = dk.encapsulation_key().unwrap().key_bytes().unwrap();
            assert_eq!(raw_dk.as_ref().len(), p.dk_len(), "{}", p.name);
            assert_eq!(raw_ek.as_ref().len(), p.ek_len(), "{}", p.name);
            let start = 384 * p.k;
            assert_eq!(
                &raw_dk.as_ref()[start..start + p.ek_len()],
                raw_ek.as_ref(),
                "{}: ek is embedded in dk",
                p.name
            );
            // The rebuilt pair decapsulates what the original encapsulation key produced.
            let pair = KeyPair::from_expanded(p, raw_dk.as_ref()).unwrap();
            let (ct, ss) = dk.encapsulation_key().unwrap().encapsulate().unwrap();
            assert_eq!(ct.as_ref().len(), p.ciphertext_len);
            assert_eq!(ss.as_ref().len(), SHARED_SECRET_LEN);
            assert_eq!(pair.decapsulate(ct.as_ref()).unwrap().expose(), ss.as_ref());
        }
    }

    /// PKCS#8 with `private_key` (an `ML-KEM-PrivateKey` element) for ML-KEM-512.
    fn doc(private_key: &[u8]) -> Vec<u8> {
        let alg = der::sequence(&[&der::tlv(der::TAG_OID, der::oid::ML_KEM_512)]);
        der::sequence(&[
            &[der::TAG_INTEGER, 1, 0],
            &alg,
            &der::tlv(der::TAG_OCTET_STRING, private_key),
        ])
    }

    #[test]
    fn pkcs8_is_the_seed_form() {
        let (_, pkcs8) = KeyPair::generate(&ML_KEM_768).unwrap();
        let der = pkcs8.expose();
        // SEQUENCE { INTEGER 0, SEQUENCE { OID }, OCTET STRING { [0] (64) } }
        let info = der::parse_pkcs8(der).unwrap();
        assert_eq!(info.algorithm.oid, der::oid::ML_KEM_768);
        assert!(info.algorithm.params.is_none());
        let seed = der::single(info.private_key, TAG_SEED).unwrap();
        assert_eq!(seed.len(), SEED_LEN);
    }

    #[test]
    fn the_three_private_key_forms_import() {
        let seed = [7u8; 64];
        let expanded = expand(&ML_KEM_512, &seed).unwrap();
        let from_seed = KeyPair::from_pkcs8(&ML_KEM_512, &doc(&der::tlv(TAG_SEED, &seed))).unwrap();
        let from_expanded = KeyPair::from_pkcs8(
            &ML_KEM_512,
            &doc(&der::tlv(der::TAG_OCTET_STRING, expanded.expose())),
        )
        .unwrap();
        let both = der::sequence(&[
            &der::tlv(der::TAG_OCTET_STRING, &seed),
            &der::tlv(der::TAG_OCTET_STRING, expanded.expose()),
        ]);
        let from_both = KeyPair::from_pkcs8(&ML_KEM_512, &doc(&both)).unwrap();
        assert_eq!(from_seed.spki().unwrap(), from_expanded.spki().unwrap());
        assert_eq!(from_seed.spki().unwrap(), from_both.spki().unwrap());
        // `both` whose expanded key is not the seed's is refused.
        let other = expand(&ML_KEM_512, &[8u8; 64]).unwrap();
        let mismatched = der::sequence(&[
            &der::tlv(der::TAG_OCTET_STRING, &seed),
            &der::tlv(der::TAG_OCTET_STRING, other.expose()),
        ]);
        assert!(matches!(
            KeyPair::from_pkcs8(&ML_KEM_512, &doc(&mismatched)),
            Err(CryptoError::InvalidKey(_))
        ));
    }

    #[test]
    fn rejects_bad_private_keys() {
        let (_, pkcs8) = KeyPair::generate(&ML_KEM_512).unwrap();
        // Wrong parameter set.
        assert!(KeyPair::from_pkcs8(&ML_KEM_768, pkcs8.expose()).is_err());
        // Corrupted H(ek) in an expanded key.
        let mut expanded = expand(&ML_KEM_512, &[7u8; 64]).unwrap().expose().to_vec();
        let n = expanded.len();
        expanded[n - 40] ^= 1;
        assert!(matches!(
            KeyPair::from_pkcs8(
                &ML_KEM_512,
                &doc(&der::tlv(der::TAG_OCTET_STRING, &expanded))
            ),
            Err(CryptoError::InvalidKey(_))
        ));
        // Seeds of the wrong length, trailing data, unknown tags.
        for bad in [
            der::tlv(TAG_SEED, &[7u8; 63]),
            der::tlv(TAG_SEED, &[7u8; 65]),
            [der::tlv(TAG_SEED, &[7u8; 64]), vec![0x05, 0x00]].concat(),
            der::tlv(0x81, &[7u8; 64]),
        ] {
            assert!(matches!(
                KeyPair::from_pkcs8(&ML_KEM_512, &doc(&bad)),
                Err(CryptoError::InvalidKey(_))
            ));
        }
    }
}
