//! Tresor as an XKS proxy: the four calls of the AWS KMS External Key Store (XKS) proxy
//! API v1 (GetHealthStatus, GetKeyMetadata, Encrypt, Decrypt), so that an AWS KMS
//! external key store keeps its keys in Tresor.
//!
//! The server routes `POST {prefix}/kms/xks/v1/…`, authenticates the SigV4 signature
//! (service `kms-xks-proxy`) with an XKS credential (see
//! [`crate::admin::xks_credentials`]) and hands the body, with the path's
//! `externalKeyId` added as a member, to [`crate::Kms::handle`]: quota, decoding,
//! authorization and the audit record are those of every Tresor request. The audit
//! record's `requestParameters` carry the caller's `requestMetadata` (`kmsOperation`,
//! `kmsRequestId`, `awsPrincipalArn`, `kmsKeyArn`, …); the blobs are never logged.
//!
//! An `externalKeyId` is the key id of a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT Tresor key of
//! the credential's account, with material held by Tresor (origin AWS_KMS or EXTERNAL);
//! anything else is `KeyNotFoundException`. Each call is authorized for the credential's
//! principal like the KMS call it stands for: GetKeyMetadata as `kms:DescribeKey`,
//! Encrypt as `kms:Encrypt`, Decrypt as `kms:Decrypt`, so identity policies and key
//! policies limit which keys a credential may use.
//!
//! Encryption: AES-256-GCM, a fresh random 12-byte IV per call as the GCM nonce, under
//! a one-message key derived by HKDF-SHA256 from the key's material with the IV as the
//! salt (so no per-key message limit applies), and as GCM AAD the specification's
//! `len16(aad) ‖ aad ‖ len8(metadata) ‖ metadata`. The 5-byte `ciphertextMetadata` is a
//! format byte and the material version (big-endian), so ciphertexts made before a
//! rotation still decrypt. The IV, ciphertext and tag go back as the specification's
//! members; the ciphertext data integrity value is SHA-256 over
//! `aad ‖ metadata ‖ iv ‖ ciphertext ‖ tag`.

use crate::cache::{CachedKey, KeyMaterial};
use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, KeyUsage, Origin};
use crate::pipeline::{unmodeled_entry as entry, Call, OperationEntry};
use crate::policy::Facts;
use crate::validate::Validator;
use serde::Deserialize;
use std::sync::Arc;
use tresor_crypto::symmetric::SymmetricKey;

pub mod decrypt;
pub mod encrypt;
pub mod get_health_status;
pub mod get_key_metadata;

/// Every XKS proxy call, by its audit event name.
pub static ALL: &[OperationEntry] = &[
    entry::<get_health_status::XksGetHealthStatus>(),
    entry::<get_key_metadata::XksGetKeyMetadata>(),
    entry::<encrypt::XksEncrypt>(),
    entry::<decrypt::XksDecrypt>(),
];

/// The XKS call named `name` (`XksEncrypt`, …).
pub fn operation(name: &str) -> Option<OperationEntry> {
    ALL.iter().find(|e| e.name == name).copied()
}

/// Most plaintext one Encrypt takes (the specification asks for at least 4300 bytes).
pub const MAX_PLAINTEXT: usize = 8192;
/// Most additional authenticated data (the specification's 8192 bytes).
pub const MAX_AAD: usize = 8192;
/// Most ciphertext metadata (the specification's 20 bytes).
pub const MAX_METADATA: usize = 20;
/// The authentication tag's length.
pub const TAG_LEN: usize = tresor_crypto::symmetric::TAG_LEN;
/// The IV's length.
pub const IV_LEN: usize = tresor_crypto::symmetric::IV_LEN;
/// The longest string member of `requestMetadata` (ARNs may be 2048 characters).
const MAX_METADATA_FIELD: usize = 2048;
/// The first byte of Tresor's ciphertext metadata: this format.
const METADATA_FORMAT: u8 = 1;

/// `requestMetadata`: who called AWS KMS, for what. Logged in the audit record; not
/// validated beyond its presence and size (the specification says so).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct RequestMetadata {
    pub aws_principal_arn: Option<String>,
    pub aws_source_vpc: Option<String>,
    pub aws_source_vpce: Option<String>,
    pub kms_key_arn: Option<String>,
    pub kms_operation: Option<String>,
    pub kms_request_id: Option<String>,
    pub kms_via_service: Option<String>,
}

/// Which `requestMetadata` members a call requires besides `kmsOperation` and
/// `kmsRequestId`.
#[derive(Clone, Copy)]
pub(crate) struct Required {
    pub principal: bool,
    pub key_arn: bool,
}

/// Checks `requestMetadata` (present, required members there, every member bounded).
pub(crate) fn check_metadata(meta: &Option<RequestMetadata>, required: Required) -> KmsResult<()> {
    let Some(m) = meta else {
        return Validator::new().required("requestMetadata", meta).finish();
    };
    let mut v = Validator::new()
        .required("requestMetadata.kmsOperation", &m.kms_operation)
        .required("requestMetadata.kmsRequestId", &m.kms_request_id);
    if required.principal {
        v = v.required("requestMetadata.awsPrincipalArn", &m.aws_principal_arn);
    }
    if required.key_arn {
        v = v.required("requestMetadata.kmsKeyArn", &m.kms_key_arn);
    }
    for (name, value) in [
        ("awsPrincipalArn", &m.aws_principal_arn),
        ("awsSourceVpc", &m.aws_source_vpc),
        ("awsSourceVpce", &m.aws_source_vpce),
        ("kmsKeyArn", &m.kms_key_arn),
        ("kmsOperation", &m.kms_operation),
        ("kmsRequestId", &m.kms_request_id),
        ("kmsViaService", &m.kms_via_service),
    ] {
        v = v.opt_len(
            &format!("requestMetadata.{name}"),
            value,
            0,
            MAX_METADATA_FIELD,
        );
    }
    v.finish()
}

/// `encryptionAlgorithm` must be `AES_GCM`.
pub(crate) fn check_algorithm(alg: &Option<String>) -> KmsResult<()> {
    let v = Validator::new().required("encryptionAlgorithm", alg);
    let v = match alg.as_deref() {
        Some(a) if a != "AES_GCM" => v.pattern("encryptionAlgorithm", a, "AES_GCM", false),
        _ => v,
    };
    v.finish()
}

/// The key an `externalKeyId` names, authorized for `action`: a symmetric encryption
/// key of the caller's account whose material Tresor holds. Anything else, in any
/// account, is not found (no oracle for other accounts' keys).
pub(crate) fn external_key(
    call: &mut Call<'_>,
    external_key_id: &Option<String>,
    action: &str,
) -> KmsResult<Arc<CachedKey>> {
    let mut v = Validator::new().required("externalKeyId", external_key_id);
    if let Some(id) = external_key_id {
        v = v.len("externalKeyId", id, 1, 128).pattern(
            "externalKeyId",
            id,
            "^[a-zA-Z0-9._-]+$",
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
        );
    }
    v.finish()?;
    let id = external_key_id.as_deref().unwrap_or_default();
    let found = call.kms.key_by_id(id)?.filter(|k| {
        k.account() == call.caller.account
            && k.spec == KeySpec::SymmetricDefault
            && k.usage == KeyUsage::EncryptDecrypt
            && matches!(k.origin, Origin::AwsKms | Origin::External)
    });
    let Some(key) = found else {
        return Err(KmsError::NotFound(format!(
            "External key {id} is not found."
        )));
    };
    call.authorize_key(&key, action, Facts::NONE)?;
    Ok(key)
}

/// The GCM AAD the specification prescribes: `len16(aad) ‖ aad ‖ len8(meta) ‖ meta`.
pub(crate) fn gcm_aad(aad: &[u8], metadata: &[u8]) -> KmsResult<Vec<u8>> {
    let (Ok(aad_len), Ok(meta_len)) = (u16::try_from(aad.len()), u8::try_from(metadata.len()))
    else {
        return Err(KmsError::Validation(
            "additionalAuthenticatedData or ciphertextMetadata is too long.".into(),
        ));
    };
    let mut out = Vec::with_capacity(3 + aad.len() + metadata.len());
    out.extend_from_slice(&aad_len.to_be_bytes());
    out.extend_from_slice(aad);
    out.push(meta_len);
    out.extend_from_slice(metadata);
    Ok(out)
}

/// The HKDF info of a key's material version: binds the key id and version.
pub(crate) fn info(key: &CachedKey, version: u32) -> KmsResult<Vec<u8>> {
    let mut out = b"tresor xks v1".to_vec();
    out.extend_from_slice(&key.id_bytes()?);
    out.extend_from_slice(&version.to_be_bytes());
    Ok(out)
}

/// Tresor's ciphertext metadata for a material version.
pub(crate) fn metadata_for(version: u32) -> Vec<u8> {
    let mut out = vec![METADATA_FORMAT];
    out.extend_from_slice(&version.to_be_bytes());
    out
}

/// The material version a ciphertext metadata names, if it is Tresor's format.
pub(crate) fn version_of(metadata: &[u8]) -> Option<u32> {
    match metadata {
        [METADATA_FORMAT, a, b, c, d] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// The symmetric material of version `version` of `key`.
pub(crate) fn material(key: &CachedKey, version: u32) -> Option<&SymmetricKey> {
    match key.materials.get(&version).map(|m| &m.key) {
        Some(KeyMaterial::Symmetric(sym)) => Some(sym),
        _ => None,
    }
}

/// The ciphertext data integrity value: SHA-256 over aad ‖ metadata ‖ iv ‖ ct ‖ tag.
pub(crate) fn integrity_value(parts: [&[u8]; 5]) -> Vec<u8> {
    tresor_crypto::sha256(&parts).to_vec()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn aad_layout_is_the_specifications() {
        assert_eq!(gcm_aad(b"", b"").unwrap(), vec![0, 0, 0]);
        assert_eq!(
            gcm_aad(b"ab", b"m").unwrap(),
            vec![0, 2, b'a', b'b', 1, b'm']
        );
        // Moving bytes between AAD and metadata changes the GCM AAD.
        assert_ne!(gcm_aad(b"m", b"").unwrap(), gcm_aad(b"", b"m").unwrap());
        assert!(gcm_aad(&vec![0; 70_000], b"").is_err());
    }

    #[test]
    fn metadata_names_the_version() {
        assert_eq!(version_of(&metadata_for(7)), Some(7));
        assert_eq!(version_of(&[2, 0, 0, 0, 7]), None);
        assert_eq!(version_of(&[1, 0, 0, 7]), None);
        assert_eq!(metadata_for(1).len(), 5);
    }
}
