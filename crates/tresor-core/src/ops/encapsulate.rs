//! Encapsulate: ML-KEM encapsulation to an ENCAPSULATE_DECAPSULATE key's public key:
//! a fresh shared secret and its ciphertext.

use super::key_id_member;
use crate::error::{KmsError, KmsResult};
use crate::model::{EncapsulationAlgorithmSpec, KeyUsage};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

/// Encapsulate.
pub struct Encapsulate;

/// Encapsulate request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub encapsulation_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// Encapsulate response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    pub shared_secret: SecretBlob,
    pub shared_secret_ciphertext_blob: Blob,
    pub encapsulation_algorithm: &'static str,
}

impl Operation for Encapsulate {
    const NAME: &'static str = "Encapsulate";
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
        let key = call.key(key_id, "kms:Encapsulate", Facts::NONE)?;
        crate::states::require_usable_for(&key, KeyUsage::EncapsulateDecapsulate, call.operation)?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        let (ciphertext, secret) = key.public_key()?.encapsulate()?;
        Ok(Response {
            key_id: key.arn.clone(),
            shared_secret: SecretBlob(secret),
            shared_secret_ciphertext_blob: Blob(ciphertext),
            encapsulation_algorithm: algorithm.as_str(),
        })
    }
}
