//! Decapsulate: ML-KEM decapsulation with an ENCAPSULATE_DECAPSULATE key. A ciphertext
//! of the right length but not made for this key yields an unrelated secret (implicit
//! rejection), as ML-KEM and AWS do.

use super::key_id_member;
use crate::error::{KmsError, KmsResult};
use crate::model::{EncapsulationAlgorithmSpec, KeyUsage};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

/// Decapsulate.
pub struct Decapsulate;

/// Decapsulate request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub shared_secret_ciphertext_blob: Option<Blob>,
    pub encapsulation_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// Decapsulate response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    pub shared_secret: SecretBlob,
    pub encapsulation_algorithm: &'static str,
}

impl Operation for Decapsulate {
    const NAME: &'static str = "Decapsulate";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let algorithm = EncapsulationAlgorithmSpec::parse(
            req.encapsulation_algorithm.as_deref().unwrap_or_default(),
            "encapsulationAlgorithm",
        )?;
        let key = call.key(key_id, "kms:Decapsulate", Facts::NONE)?;
        crate::states::require_usable_for(&key, KeyUsage::EncapsulateDecapsulate, call.operation)?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        let ciphertext = req
            .shared_secret_ciphertext_blob
            .as_ref()
            .map(|c| c.0.as_slice())
            .unwrap_or_default();
        let secret = key
            .private_key()?
            .decapsulate(ciphertext)
            .map_err(|e| match e {
                tresor_crypto::CryptoError::InvalidInput(_) => {
                    KmsError::InvalidCiphertext(crate::messages::NONE)
                }
                other => other.into(),
            })?;
        Ok(Response {
            key_id: key.arn.clone(),
            shared_secret: SecretBlob(secret),
            encapsulation_algorithm: algorithm.as_str(),
        })
    }
}
