//! GetParametersForImport: an RSA wrapping key (public half returned) and an import
//! token, valid for 24 hours, for importing material into an EXTERNAL key.

use super::key_id_member;
use crate::cache::CachedKey;
use crate::error::{KmsError, KmsResult};
use crate::model::{KeyState, Origin};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, Timestamp};
use serde::{Deserialize, Serialize};
use tresor_crypto::asymmetric::{AsymmetricSpec, PrivateKey};
use tresor_crypto::WrapPurpose;
use tresor_store::{ImportTokenRecord, Write};

/// How long import parameters stay valid.
pub const TOKEN_LIFETIME_MS: i64 = 24 * 3_600_000;
/// The version byte of Tresor's import tokens (followed by a 32-byte random id).
const TOKEN_FORMAT: u8 = 1;

/// GetParametersForImport.
pub struct GetParametersForImport;

/// GetParametersForImport request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub wrapping_algorithm: Option<String>,
    pub wrapping_key_spec: Option<String>,
}

/// GetParametersForImport response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    pub import_token: Blob,
    pub public_key: Blob,
    pub parameters_valid_to: Timestamp,
}

/// Import applies to EXTERNAL keys that are not pending deletion or still being created.
pub(crate) fn require_importable(key: &CachedKey) -> KmsResult<()> {
    if key.origin != Origin::External {
        return Err(KmsError::UnsupportedOperation(
            crate::messages::origin_not_valid(&key.arn, key.origin),
        ));
    }
    if matches!(
        key.state,
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion | KeyState::Creating
    ) {
        return Err(crate::states::state_error(key));
    }
    Ok(())
}

/// The wrapping algorithms Tresor offers.
pub(crate) const ALGORITHMS: &[&str] = &[
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "RSA_AES_KEY_WRAP_SHA_1",
    "RSA_AES_KEY_WRAP_SHA_256",
];

/// Parses an ImportToken blob into the token id it carries.
pub(crate) fn token_id(token: &[u8]) -> KmsResult<String> {
    match token.split_first() {
        Some((&TOKEN_FORMAT, id)) if id.len() == 32 => Ok(hex::encode(id)),
        _ => Err(KmsError::InvalidImportToken(
            "The import token is not valid.".into(),
        )),
    }
}

impl Operation for GetParametersForImport {
    const NAME: &'static str = "GetParametersForImport";
    // RSA key generation takes up to a second: keep it off the async threads.
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let algorithm = req.wrapping_algorithm.as_deref().unwrap_or_default();
        let spec = req.wrapping_key_spec.as_deref().unwrap_or_default();
        let wrapping_spec = match spec {
            "RSA_2048" => AsymmetricSpec::Rsa2048,
            "RSA_3072" => AsymmetricSpec::Rsa3072,
            "RSA_4096" => AsymmetricSpec::Rsa4096,
            "SM2" => return Err(KmsError::Validation("WrappingKeySpec SM2 is offered only in the AWS China Regions.".into())),
            other => {
                return Err(KmsError::Validation(format!(
                    "1 validation error detected: Value '{other}' at 'wrappingKeySpec' failed to satisfy constraint: Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, SM2]"
                )))
            }
        };
        match algorithm {
            a if ALGORITHMS.contains(&a) => {}
            "RSAES_PKCS1_V1_5" => {
                return Err(KmsError::Validation(
                    "The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported; use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256.".into(),
                ))
            }
            "SM2PKE" => return Err(KmsError::Validation("Wrapping algorithm SM2PKE is offered only in the AWS China Regions.".into())),
            other => {
                return Err(KmsError::Validation(format!(
                    "1 validation error detected: Value '{other}' at 'wrappingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1, RSA_AES_KEY_WRAP_SHA_256, SM2PKE]"
                )))
            }
        }
        let key = call.key(
            key_id,
            "kms:GetParametersForImport",
            Facts {
                wrapping_algorithm: req.wrapping_algorithm.as_deref(),
                wrapping_key_spec: req.wrapping_key_spec.as_deref(),
                ..Facts::NONE
            },
        )?;
        require_importable(&key)?;
        let wrapping = PrivateKey::generate(wrapping_spec)?;
        let public = wrapping.public_key()?.spki().to_vec();
        let mut id = [0u8; 32];
        tresor_crypto::random::fill(&mut id).map_err(KmsError::internal)?;
        let token_id = hex::encode(id);
        let kms = call.kms;
        let ring = kms.ring()?;
        let (wrapped_private_key, root_generation) = ring.wrap(
            WrapPurpose::ImportWrappingKey {
                token_id: &token_id,
            },
            wrapping.pkcs8(),
        )?;
        let expires_ms = call.now_ms() + TOKEN_LIFETIME_MS;
        let record = ImportTokenRecord {
            token_id,
            key_id: key.key_id().to_string(),
            wrapping_algorithm: algorithm.to_string(),
            wrapping_key_spec: spec.to_string(),
            wrapped_private_key,
            expires_ms,
            root_generation,
        };
        kms.write(|| Ok((vec![Write::PutImportToken(record)], ())))?;
        drop(ring);
        let mut token = vec![TOKEN_FORMAT];
        token.extend_from_slice(&id);
        Ok(Response {
            key_id: key.arn.clone(),
            import_token: Blob(token),
            public_key: Blob(public),
            parameters_valid_to: Timestamp(expires_ms),
        })
    }
}
