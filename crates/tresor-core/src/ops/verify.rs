//! Verify: checks a signature with an asymmetric SIGN_VERIFY key. An invalid signature
//! is `KMSInvalidSignatureException`, never `SignatureValid: false`.

use super::sign::{check_signing, parse_members};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

/// Verify.
pub struct Verify;

/// Verify request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub message: Option<SecretBlob>,
    pub message_type: Option<String>,
    pub signature: Option<Blob>,
    pub signing_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// Verify response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    pub signature_valid: bool,
    pub signing_algorithm: &'static str,
}

impl Operation for Verify {
    const NAME: &'static str = "Verify";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let (algorithm, message_type) = parse_members(&req.signing_algorithm, &req.message_type)?;
        let message = req
            .message
            .as_ref()
            .map(|m| m.0.expose())
            .unwrap_or_default();
        let signature = req
            .signature
            .as_ref()
            .map(|s| s.0.as_slice())
            .unwrap_or_default();
        let key = call.key(
            req.key_id.as_deref().unwrap_or_default(),
            "kms:Verify",
            Facts {
                signing_algorithm: req.signing_algorithm.as_deref(),
                message_type: Some(req.message_type.as_deref().unwrap_or("RAW")),
                ..Facts::NONE
            },
        )?;
        let (alg, kind) =
            check_signing(&key, algorithm, message_type, message.len(), call.operation)?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        if !key.public_key()?.verify(alg, kind, message, signature)? {
            return Err(KmsError::KmsInvalidSignature(crate::messages::NONE));
        }
        Ok(Response {
            key_id: key.arn.clone(),
            signature_valid: true,
            signing_algorithm: algorithm.as_str(),
        })
    }
}
