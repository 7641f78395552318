//! VerifyMac: checks an HMAC in constant time; a mismatch is `KMSInvalidMacException`.

use super::generate_mac::{hmac_key, parse_members};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

/// VerifyMac.
pub struct VerifyMac;

/// VerifyMac request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub message: Option<SecretBlob>,
    pub key_id: Option<String>,
    pub mac_algorithm: Option<String>,
    pub mac: Option<Blob>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// VerifyMac response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    pub mac_valid: bool,
    pub mac_algorithm: &'static str,
}

impl Operation for VerifyMac {
    const NAME: &'static str = "VerifyMac";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let algorithm = parse_members(&req.mac_algorithm)?;
        let key = call.key(
            req.key_id.as_deref().unwrap_or_default(),
            "kms:VerifyMac",
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
        let mac = req.mac.as_ref().map(|m| m.0.as_slice()).unwrap_or_default();
        if !hmac.verify(message, mac) {
            return Err(KmsError::KmsInvalidMac(crate::messages::NONE));
        }
        Ok(Response {
            key_id: key.arn.clone(),
            mac_valid: true,
            mac_algorithm: algorithm.as_str(),
        })
    }
}
