//! Encryption shared by Encrypt, Decrypt, ReEncrypt and the data-key operations:
//! symmetric keys seal Tresor ciphertext blobs (any material version opens), RSA keys
//! use RSA-OAEP and need the caller to name the key and the algorithm.

use crate::cache::{CachedKey, KeyMaterial};
use crate::error::{KmsError, KmsResult};
use crate::model::{EncryptionAlgorithm, KeySpec, KeyUsage};
use crate::pipeline::Call;
use crate::policy::Facts;
use crate::wire::{canonical_context, EncryptionContext};
use std::sync::Arc;
use tresor_crypto::asymmetric::OaepHash;
use tresor_crypto::{blob, SecretBytes};

/// The answer to every decryption failure (no oracle).
pub(crate) fn invalid_ciphertext() -> KmsError {
    KmsError::InvalidCiphertext(crate::messages::NONE)
}

/// The key must be an ENCRYPT_DECRYPT key in a usable state.
fn require_encryption_key(key: &CachedKey, operation: &str) -> KmsResult<()> {
    crate::states::require_usable(key)?;
    if key.usage != KeyUsage::EncryptDecrypt {
        return Err(crate::states::wrong_usage(key, operation));
    }
    Ok(())
}

/// Resolves the `EncryptionAlgorithm` member for `key`: SYMMETRIC_DEFAULT (the default)
/// for symmetric keys, a required RSAES_OAEP_* for RSA keys.
fn algorithm_for(
    key: &CachedKey,
    field: &str,
    alg: &Option<String>,
) -> KmsResult<EncryptionAlgorithm> {
    let alg = alg
        .as_deref()
        .map(|a| EncryptionAlgorithm::parse(a, field))
        .transpose()?;
    let alg = alg.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    if !key.spec.encryption_algorithms().contains(&alg) {
        return Err(KmsError::InvalidKeyUsage(format!(
            "The encryption algorithm {alg} is not valid for key {} ({}).",
            key.arn, key.spec
        )));
    }
    Ok(alg)
}

/// The largest RSA-OAEP plaintext (RFC 8017: k - 2·hLen - 2): 214/342/470 bytes with
/// SHA-1, 190/318/446 with SHA-256 for RSA_2048/3072/4096.
fn oaep_max_plaintext(spec: KeySpec, alg: EncryptionAlgorithm) -> Option<usize> {
    let k = match spec {
        KeySpec::Rsa2048 => 256,
        KeySpec::Rsa3072 => 384,
        KeySpec::Rsa4096 => 512,
        _ => return None,
    };
    let h = match alg {
        EncryptionAlgorithm::RsaesOaepSha1 => 20,
        EncryptionAlgorithm::RsaesOaepSha256 => 32,
        _ => return None,
    };
    Some(k - 2 * h - 2)
}

fn oaep(alg: EncryptionAlgorithm) -> KmsResult<OaepHash> {
    match alg {
        EncryptionAlgorithm::RsaesOaepSha1 => Ok(OaepHash::Sha1),
        EncryptionAlgorithm::RsaesOaepSha256 => Ok(OaepHash::Sha256),
        other => Err(KmsError::UnsupportedOperation(format!(
            "Encryption algorithm {other} is not supported"
        ))),
    }
}

fn no_context_for_asymmetric(
    key: &CachedKey,
    context: Option<&EncryptionContext>,
) -> KmsResult<()> {
    if key.spec != KeySpec::SymmetricDefault && context.is_some_and(|c| !c.is_empty()) {
        return Err(KmsError::Validation(format!(
            "EncryptionContext is not supported with asymmetric key {}; it applies to symmetric keys only.",
            key.arn
        )));
    }
    Ok(())
}

/// A sealed ciphertext.
pub(crate) struct Sealed {
    pub ciphertext: Vec<u8>,
    pub material_id: Option<String>,
    pub algorithm: EncryptionAlgorithm,
}

/// Checks that `key` can encrypt with `alg` under `context` (everything but the work).
pub(crate) fn check_seal(
    key: &CachedKey,
    operation: &str,
    field: &str,
    alg: &Option<String>,
    context: Option<&EncryptionContext>,
) -> KmsResult<EncryptionAlgorithm> {
    require_encryption_key(key, operation)?;
    let algorithm = algorithm_for(key, field, alg)?;
    no_context_for_asymmetric(key, context)?;
    Ok(algorithm)
}

/// Encrypts with a key already checked by [`check_seal`].
pub(crate) fn seal_checked(
    call: &Call<'_>,
    key: &CachedKey,
    algorithm: EncryptionAlgorithm,
    context: Option<&EncryptionContext>,
    plaintext: &[u8],
) -> KmsResult<Sealed> {
    if algorithm == EncryptionAlgorithm::SymmetricDefault {
        let (ciphertext, material_id) = seal(call, key, context, plaintext)?;
        return Ok(Sealed {
            ciphertext,
            material_id,
            algorithm,
        });
    }
    if let Some(max) = oaep_max_plaintext(key.spec, algorithm) {
        if plaintext.len() > max {
            return Err(KmsError::Validation(
                crate::messages::rsa_plaintext_too_large(algorithm, key.spec, max),
            ));
        }
    }
    let ciphertext = key.public_key()?.encrypt(oaep(algorithm)?, plaintext)?;
    Ok(Sealed {
        ciphertext,
        material_id: None,
        algorithm,
    })
}

/// Seals `plaintext` under a symmetric key's current material; returns the blob and the
/// KeyMaterialId used.
pub(crate) fn seal(
    call: &Call<'_>,
    key: &CachedKey,
    context: Option<&EncryptionContext>,
    plaintext: &[u8],
) -> KmsResult<(Vec<u8>, Option<String>)> {
    if let Some(xks) = key.materials.store().and_then(|l| l.xks.as_ref()) {
        return super::envelope_xks::seal(call, key, xks, context, plaintext);
    }
    if let Some(link) = key.materials.store() {
        let hsm = link
            .hsm
            .as_ref()
            .ok_or_else(|| crate::states::state_error(key))?;
        let blob = hsm.seal(
            &key.arn,
            key.key_id(),
            key.id_bytes()?,
            &canonical_context(context),
            plaintext,
        )?;
        return Ok((blob, None));
    }
    let (version, material) = key.current_material()?;
    let KeyMaterial::Symmetric(sym) = &material.key else {
        return Err(KmsError::internal(format!(
            "key {} has no symmetric material",
            key.arn
        )));
    };
    let blob = blob::seal_as(
        sym,
        key.id_bytes()?,
        key.is_multi_region(),
        version,
        &canonical_context(context),
        plaintext,
    )
    .map_err(KmsError::internal)?;
    Ok((blob, Some(material.material_id.to_string())))
}

/// What opening a ciphertext yields.
pub(crate) struct Opened {
    pub key: Arc<CachedKey>,
    pub plaintext: SecretBytes,
    pub material_id: Option<String>,
    pub algorithm: EncryptionAlgorithm,
}

/// The members of a decryption request.
pub(crate) struct OpenRequest<'a> {
    pub ciphertext: &'a [u8],
    pub context: Option<&'a EncryptionContext>,
    pub key_id: Option<&'a str>,
    pub algorithm: &'a Option<String>,
    pub algorithm_field: &'a str,
    pub action: &'a str,
    /// What policies may test for `action` (the members that go with it).
    pub facts: Facts<'a>,
    pub ignore_ciphertext: bool,
}

/// Finds the key (named by the caller, or by the symmetric blob itself), authorizes
/// `action`, checks the key's state and usage, and decrypts. A dry run does all of this
/// too (so it fails where the real call would), except with IGNORE_CIPHERTEXT, which
/// skips the ciphertext.
pub(crate) fn open(call: &mut Call<'_>, r: &OpenRequest<'_>) -> KmsResult<Opened> {
    if let Some(k) = r.key_id {
        let key = call.key(k, r.action, r.facts)?;
        require_encryption_key(&key, call.operation)?;
        // A symmetric ciphertext (it names its key; no algorithm or SYMMETRIC_DEFAULT)
        // cannot be an asymmetric key's: AWS answers IncorrectKeyException, after the
        // key's state.
        if key.spec != KeySpec::SymmetricDefault
            && r.algorithm
                .as_deref()
                .is_none_or(|a| a == "SYMMETRIC_DEFAULT")
            && blob::parse_header(r.ciphertext).is_ok()
        {
            return Err(KmsError::IncorrectKey(
                crate::messages::INCORRECT_KEY.into(),
            ));
        }
        let algorithm = algorithm_for(&key, r.algorithm_field, r.algorithm)?;
        no_context_for_asymmetric(&key, r.context)?;
        if r.ignore_ciphertext {
            return Ok(Opened {
                key,
                plaintext: SecretBytes::default(),
                material_id: None,
                algorithm,
            });
        }
        if algorithm != EncryptionAlgorithm::SymmetricDefault {
            let plaintext = key
                .private_key()?
                .decrypt(oaep(algorithm)?, r.ciphertext)
                .map_err(|_| invalid_ciphertext())?;
            return Ok(Opened {
                key,
                plaintext,
                material_id: None,
                algorithm,
            });
        }
        check_blob_key(&key, r.ciphertext)?;
        let (plaintext, material_id) = open_blob(call, &key, r.ciphertext, r.context)?;
        return Ok(Opened {
            key,
            plaintext,
            material_id,
            algorithm,
        });
    }
    if r.ignore_ciphertext {
        return Err(KmsError::Validation(
            "KeyId is required when DryRunModifiers contains IGNORE_CIPHERTEXT".into(),
        ));
    }
    let header = blob::parse_header(r.ciphertext).map_err(|_| invalid_ciphertext())?;
    let blob_key_id = blob_key_id(&header);
    let key = call
        .key_from_ciphertext(&blob_key_id, r.action, r.facts)?
        .ok_or_else(invalid_ciphertext)?;
    require_encryption_key(&key, call.operation)?;
    let algorithm = algorithm_for(&key, r.algorithm_field, r.algorithm)?;
    let (plaintext, material_id) = open_blob(call, &key, r.ciphertext, r.context)?;
    Ok(Opened {
        key,
        plaintext,
        material_id,
        algorithm,
    })
}

/// The KeyId a blob header names: a UUID, or (format 2) a multi-Region `mrk-` id, which
/// resolves in the caller's Region, so any replica opens what another one sealed.
fn blob_key_id(header: &blob::BlobHeader) -> String {
    if header.multi_region {
        format!("mrk-{}", hex::encode(header.key_id))
    } else {
        uuid::Uuid::from_bytes(header.key_id).to_string()
    }
}

fn check_blob_key(key: &CachedKey, ciphertext: &[u8]) -> KmsResult<()> {
    let header = blob::parse_header(ciphertext).map_err(|_| invalid_ciphertext())?;
    if blob_key_id(&header) != key.id() {
        return Err(KmsError::IncorrectKey(
            crate::messages::INCORRECT_KEY.into(),
        ));
    }
    Ok(())
}

fn open_blob(
    call: &Call<'_>,
    key: &CachedKey,
    ciphertext: &[u8],
    context: Option<&EncryptionContext>,
) -> KmsResult<(SecretBytes, Option<String>)> {
    let header = blob::parse_header(ciphertext).map_err(|_| invalid_ciphertext())?;
    if let Some(xks) = key.materials.store().and_then(|l| l.xks.as_ref()) {
        return super::envelope_xks::open(call, key, xks, header.version, ciphertext, context);
    }
    if let Some(link) = key.materials.store() {
        let hsm = link
            .hsm
            .as_ref()
            .ok_or_else(|| crate::states::state_error(key))?;
        if header.version != crate::custom_key_stores::HSM_VERSION {
            return Err(invalid_ciphertext());
        }
        let plaintext = hsm.open(
            &key.arn,
            key.key_id(),
            key.id_bytes()?,
            ciphertext,
            &canonical_context(context),
        )?;
        return Ok((plaintext, None));
    }
    let material = key
        .materials
        .get(&header.version)
        .ok_or_else(invalid_ciphertext)?;
    let KeyMaterial::Symmetric(sym) = &material.key else {
        return Err(invalid_ciphertext());
    };
    let plaintext = blob::open(sym, ciphertext, &canonical_context(context))
        .map_err(|_| invalid_ciphertext())?;
    Ok((plaintext, Some(material.material_id.to_string())))
}
