//! GenerateMac: an HMAC of a message (1–4096 bytes) with an HMAC key.

use crate::cache::{CachedKey, KeyMaterial};
use crate::error::{KmsError, KmsResult};
use crate::model::{KeyUsage, MacAlgorithmSpec};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};
use tresor_crypto::asymmetric::HmacKey;

/// GenerateMac.
pub struct GenerateMac;

/// GenerateMac request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub message: Option<SecretBlob>,
    pub key_id: Option<String>,
    pub mac_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// GenerateMac response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub mac: Blob,
    pub mac_algorithm: &'static str,
    pub key_id: String,
}

/// Parses the algorithm GenerateMac and VerifyMac share (the model's constraints
/// already hold).
pub(crate) fn parse_members(algorithm: &Option<String>) -> KmsResult<MacAlgorithmSpec> {
    MacAlgorithmSpec::parse(algorithm.as_deref().unwrap_or_default(), "macAlgorithm")
}

/// The key's HMAC material, after checking state, usage and algorithm.
pub(crate) fn hmac_key<'k>(
    key: &'k CachedKey,
    algorithm: MacAlgorithmSpec,
    operation: &str,
) -> KmsResult<&'k HmacKey> {
    crate::states::require_usable_for(key, KeyUsage::GenerateVerifyMac, operation)?;
    if key.spec.hmac().map(|(_, m)| m) != Some(algorithm) {
        return Err(KmsError::InvalidKeyUsage(
            crate::messages::mac_algorithm_mismatch(algorithm, key.spec),
        ));
    }
    match &key.current_material()?.1.key {
        KeyMaterial::Hmac(k) => Ok(k),
        _ => Err(KmsError::internal(format!(
            "key {} has no HMAC material",
            key.arn
        ))),
    }
}

impl Operation for GenerateMac {
    const NAME: &'static str = "GenerateMac";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let algorithm = parse_members(&req.mac_algorithm)?;
        let key = call.key(
            req.key_id.as_deref().unwrap_or_default(),
            "kms:GenerateMac",
            Facts {
                mac_algorithm: req.mac_algorithm.as_deref(),
                ..Facts::NONE
            },
        )?;
        let hmac = hmac_key(&key, algorithm, call.operation)?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        let message = req
            .message
            .as_ref()
            .map(|m| m.0.expose())
            .unwrap_or_default();
        Ok(Response {
            mac: Blob(hmac.sign(message)),
            mac_algorithm: algorithm.as_str(),
            key_id: key.arn.clone(),
        })
    }
}
