//! Public keys: verification, RSA-OAEP encryption, ML-KEM encapsulation.

use super::*;
use aws_lc_rs::kem;
use aws_lc_rs::signature::ParsedPublicKey;

/// A parsed public key.
#[derive(Debug, Clone)]
pub struct PublicKey {
    spec: AsymmetricSpec,
    spki: Vec<u8>,
    inner: PubInner,
}

#[derive(Debug, Clone)]
enum PubInner {
    Rsa {
        oaep: Arc<rsa::OaepPublicEncryptingKey>,
        /// One parsed verifier per algorithm of [`RSA_ALGORITHMS`], built on first use.
        verifiers: Arc<[OnceLock<ParsedPublicKey>; 6]>,
    },
    /// ECDSA and Ed25519 keys: a single verifier (Ed25519ph checks the raw key itself).
    Verifier(ParsedPublicKey),
    MlDsa {
        verifier: ParsedPublicKey,
        /// The external-μ verifier, built on first use.
        mu: Arc<OnceLock<mldsa_mu::MuVerifier>>,
    },
    MlKem(Arc<kem::EncapsulationKey>),
}

impl PublicKey {
    /// Parses a DER SubjectPublicKeyInfo of `spec`.
    pub fn from_spki(spec: AsymmetricSpec, spki: &[u8]) -> Result<Self, CryptoError> {
        let parsed = spec.check_spki(spki, "the public key")?;
        let inner = if let Some(bits) = spec.rsa_bits() {
            let key = rsa::PublicEncryptingKey::from_der(spki).map_err(|e| rejected(spec, e))?;
            let actual = key.key_size_bits();
            if actual != bits {
                return Err(CryptoError::InvalidKey(format!(
                    "the RSA key has {actual} bits, key spec {} needs {bits}",
                    spec.kms_name()
                )));
            }
            let oaep =
                rsa::OaepPublicEncryptingKey::new(key).map_err(|_| provider_failure("parse"))?;
            // Parse one verifier now so that a malformed key fails here, not at Verify.
            let verifiers: [OnceLock<ParsedPublicKey>; 6] = Default::default();
            let first = ParsedPublicKey::new(&signature::RSA_PSS_2048_8192_SHA256, spki)
                .map_err(|e| rejected(spec, e))?;
            if let Some(slot) = verifiers.first() {
                let _ = slot.set(first);
            }
            PubInner::Rsa {
                oaep: Arc::new(oaep),
                verifiers: Arc::new(verifiers),
            }
        } else if let Some(ec) = spec.ec() {
            PubInner::Verifier(
                ParsedPublicKey::new(ec.verification, spki).map_err(|e| rejected(spec, e))?,
            )
        } else if let Some((_, alg, _)) = spec.ml_dsa() {
            PubInner::MlDsa {
                verifier: ParsedPublicKey::new(alg, spki).map_err(|e| rejected(spec, e))?,
                mu: Arc::new(OnceLock::new()),
            }
        } else if let Some(params) = mlkem::params(spec) {
            PubInner::MlKem(Arc::new(mlkem::encapsulation_key(params, parsed.key)?))
        } else {
            PubInner::Verifier(
                ParsedPublicKey::new(&signature::ED25519, spki).map_err(|e| rejected(spec, e))?,
            )
        };
        Ok(Self {
            spec,
            spki: spki.to_vec(),
            inner,
        })
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// The parsed RSA verifier for `alg`.
    fn rsa_verifier(&self, alg: SigningAlgorithm) -> Result<&ParsedPublicKey, CryptoError> {
        let PubInner::Rsa { verifiers, .. } = &self.inner else {
            return Err(wrong_operation(self.spec, alg.kms_name()));
        };
        let index = RSA_ALGORITHMS.iter().position(|a| *a == alg);
        let (Some(slot), Some(params)) =
            (index.and_then(|i| verifiers.get(i)), alg.rsa_parameters())
        else {
            return Err(wrong_operation(self.spec, alg.kms_name()));
        };
        if let Some(parsed) = slot.get() {
            return Ok(parsed);
        }
        let parsed =
            ParsedPublicKey::new(params, &self.spki).map_err(|e| rejected(self.spec, e))?;
        Ok(slot.get_or_init(|| parsed))
    }

    /// Checks a signature; `Ok(false)` when it does not verify.
    pub fn verify(
        &self,
        alg: SigningAlgorithm,
        kind: MessageKind,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        let message = prepare(self.spec, alg, kind, data)?;
        let verifier = match &self.inner {
            PubInner::Rsa { .. } => self.rsa_verifier(alg)?,
            PubInner::Verifier(parsed)
            | PubInner::MlDsa {
                verifier: parsed, ..
            } => parsed,
            PubInner::MlKem(_) => return Err(wrong_operation(self.spec, alg.kms_name())),
        };
        Ok(match message {
            Message::Raw(m) => verifier.verify_sig(m, signature).is_ok(),
            Message::Digest(d) => verifier.verify_digest_sig(&d, signature).is_ok(),
            Message::Ed25519Ph(m) => ed25519ph::verify(self.raw_key()?, m, signature),
            Message::Mu(mu) => {
                let PubInner::MlDsa { mu: cache, .. } = &self.inner else {
                    return Err(wrong_operation(self.spec, alg.kms_name()));
                };
                let verifier = match cache.get() {
                    Some(v) => v,
                    None => {
                        let parsed = mldsa_mu::MuVerifier::new(self.spec, self.raw_key()?)?;
                        cache.get_or_init(|| parsed)
                    }
                };
                verifier.verify(mu, signature)
            }
        })
    }

    /// The subject public key of the SPKI (the raw key for Ed25519 and ML-DSA).
    pub(super) fn raw_key(&self) -> Result<&[u8], CryptoError> {
        der::parse_spki(&self.spki)
            .map(|s| s.key)
            .ok_or_else(|| rejected(self.spec, "malformed SubjectPublicKeyInfo"))
    }

    /// RSA-OAEP encryption.
    pub fn encrypt(&self, hash: OaepHash, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let PubInner::Rsa { oaep, .. } = &self.inner else {
            return Err(wrong_operation(self.spec, "encryption"));
        };
        let (alg, hash_len, name) = oaep_algorithm(hash);
        // k - 2·hLen - 2 (RFC 8017): 214/342/470 bytes for SHA-1, 190/318/446 for SHA-256.
        let max = oaep
            .key_size_bytes()
            .saturating_sub(2 * hash_len)
            .saturating_sub(2);
        if plaintext.len() > max {
            return Err(CryptoError::InvalidInput(format!(
                "plaintext of {} bytes exceeds the maximum of {max} bytes for {name} with key spec {}",
                plaintext.len(),
                self.spec.kms_name()
            )));
        }
        let mut out = vec![0u8; oaep.ciphertext_size()];
        let len = oaep
            .encrypt(alg, plaintext, &mut out, None)
            .map_err(|_| provider_failure("encrypt"))?
            .len();
        out.truncate(len);
        Ok(out)
    }

    /// ML-KEM encapsulation: (ciphertext, shared secret).
    pub fn encapsulate(&self) -> Result<(Vec<u8>, SecretBytes), CryptoError> {
        let PubInner::MlKem(key) = &self.inner else {
            return Err(wrong_operation(self.spec, "encapsulation"));
        };
        let (ciphertext, secret) = key
            .encapsulate()
            .map_err(|_| provider_failure("encapsulate"))?;
        Ok((
            ciphertext.as_ref().to_vec(),
            SecretBytes::from_slice(secret.as_ref()),
        ))
    }
}
