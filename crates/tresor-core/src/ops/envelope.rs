//! Symmetric envelope encryption shared by Encrypt, Decrypt, ReEncrypt and the data-key
//! operations: sealing under a key's current material and opening any version.

use crate::cache::CachedKey;
use crate::error::{KmsError, KmsResult};
use crate::model::EncryptionAlgorithm;
use crate::pipeline::Call;
use crate::wire::{canonical_context, EncryptionContext};
use std::sync::Arc;
use tresor_crypto::{blob, SecretBytes};

/// The answer to every decryption failure (no oracle).
pub(crate) fn invalid_ciphertext() -> KmsError {
    KmsError::InvalidCiphertext(String::new())
}

/// Checks an `EncryptionAlgorithm` member against a symmetric key.
pub(crate) fn check_algorithm(key: &CachedKey, field: &str, alg: &Option<String>) -> KmsResult<()> {
    let Some(alg) = alg else { return Ok(()) };
    let alg = EncryptionAlgorithm::parse(alg, field)?;
    if alg != EncryptionAlgorithm::SymmetricDefault {
        return Err(KmsError::InvalidKeyUsage(format!(
            "The encryption algorithm {alg} is not valid for key {}; it supports SYMMETRIC_DEFAULT.",
            key.arn
        )));
    }
    Ok(())
}

/// Seals `plaintext` under the key's current material; returns the blob and the
/// KeyMaterialId used.
pub(crate) fn seal(
    key: &CachedKey,
    context: Option<&EncryptionContext>,
    plaintext: &[u8],
) -> KmsResult<(Vec<u8>, String)> {
    let (version, material) = key.current_material()?;
    let blob = blob::seal(
        &material.key,
        key.id_bytes()?,
        version,
        &canonical_context(context),
        plaintext,
    )
    .map_err(KmsError::internal)?;
    Ok((blob, material.material_id.clone()))
}

/// What opening a ciphertext yields.
pub(crate) struct Opened {
    pub key: Arc<CachedKey>,
    pub plaintext: SecretBytes,
    pub material_id: String,
}

/// Finds the key a ciphertext names, checks it against the caller's `key_id` (if any),
/// authorizes `action`, checks its state, and decrypts.
pub(crate) fn open(
    call: &mut Call<'_>,
    ciphertext: &[u8],
    context: Option<&EncryptionContext>,
    key_id: Option<&str>,
    action: &str,
    ignore_ciphertext: bool,
) -> KmsResult<Opened> {
    if ignore_ciphertext {
        // DryRun with IGNORE_CIPHERTEXT checks only the key and the caller's permission.
        let k = key_id.ok_or_else(|| {
            KmsError::Validation(
                "KeyId is required when DryRunModifiers contains IGNORE_CIPHERTEXT".into(),
            )
        })?;
        let key = call.key(k, action)?;
        crate::states::require_symmetric_encryption(&key)?;
        return Ok(Opened {
            key,
            plaintext: SecretBytes::default(),
            material_id: String::new(),
        });
    }
    let header = blob::parse_header(ciphertext).map_err(|_| invalid_ciphertext())?;
    let blob_key_id = uuid::Uuid::from_bytes(header.key_id).to_string();
    let key = match key_id {
        Some(k) => {
            let key = call.key(k, action)?;
            if key.record.key_id != blob_key_id {
                return Err(KmsError::IncorrectKey(
                    "The key ID in the request does not identify a CMK that can perform this operation.".into(),
                ));
            }
            key
        }
        None => call
            .key_from_ciphertext(&blob_key_id, action)?
            .ok_or_else(invalid_ciphertext)?,
    };
    crate::states::require_symmetric_encryption(&key)?;
    let material = key
        .materials
        .get(&header.version)
        .ok_or_else(invalid_ciphertext)?;
    let plaintext = blob::open(&material.key, ciphertext, &canonical_context(context))
        .map_err(|_| invalid_ciphertext())?;
    let material_id = material.material_id.clone();
    Ok(Opened {
        key,
        plaintext,
        material_id,
    })
}
