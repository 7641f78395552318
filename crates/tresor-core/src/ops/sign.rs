//! Sign: a signature over a message (RAW), a caller's digest (DIGEST) or ML-DSA's μ
//! (EXTERNAL_MU), with an asymmetric SIGN_VERIFY key. The private key never leaves.

use crate::cache::CachedKey;
use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, KeyUsage, MessageType, SigningAlgorithmSpec};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};
use tresor_crypto::asymmetric::{MessageKind, SigningAlgorithm};

/// Sign.
pub struct Sign;

/// Sign request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub message: Option<SecretBlob>,
    pub message_type: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub signing_algorithm: Option<String>,
    pub dry_run: Option<bool>,
}

/// Sign response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    pub signature: Blob,
    pub signing_algorithm: &'static str,
}

/// Checks a Sign/Verify request against the key: usage, algorithm, message type and
/// digest length. Returns the provider's algorithm and message kind.
pub(crate) fn check_signing(
    key: &CachedKey,
    algorithm: SigningAlgorithmSpec,
    message_type: MessageType,
    message_len: usize,
    operation: &str,
) -> KmsResult<(SigningAlgorithm, MessageKind)> {
    crate::states::require_usable_for(key, KeyUsage::SignVerify, operation)?;
    if !key.spec.signing_algorithms().contains(&algorithm) {
        return Err(KmsError::InvalidKeyUsage(format!(
            "Signing algorithm {algorithm} is not valid for key {} ({}); valid: {}",
            key.arn,
            key.spec,
            key.spec
                .signing_algorithms()
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let is_ml_dsa = matches!(
        key.spec,
        KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87
    );
    let kind = match message_type {
        MessageType::Raw => {
            if algorithm == SigningAlgorithmSpec::Ed25519PhSha512 {
                return Err(KmsError::Validation(
                    "ED25519_PH_SHA_512 requires MessageType DIGEST (a SHA-512 digest).".into(),
                ));
            }
            MessageKind::Raw
        }
        MessageType::Digest => {
            let Some(len) = algorithm.digest_len() else {
                return Err(KmsError::Validation(format!(
                    "MessageType DIGEST is not valid for signing algorithm {algorithm}."
                )));
            };
            if message_len != len {
                return Err(KmsError::Validation(crate::messages::digest_length(
                    algorithm,
                )));
            }
            MessageKind::Digest
        }
        MessageType::ExternalMu => {
            if !is_ml_dsa {
                return Err(KmsError::Validation(
                    "MessageType EXTERNAL_MU is valid only for ML-DSA keys.".into(),
                ));
            }
            if message_len != 64 {
                return Err(KmsError::Validation(
                    "An EXTERNAL_MU message must be exactly 64 bytes.".into(),
                ));
            }
            MessageKind::ExternalMu
        }
    };
    let provider = algorithm.provider().ok_or_else(|| {
        KmsError::UnsupportedOperation(format!("Signing algorithm {algorithm} is not supported"))
    })?;
    Ok((provider, kind))
}

/// Parses the members Sign and Verify share (the model's constraints already hold).
pub(crate) fn parse_members(
    algorithm: &Option<String>,
    message_type: &Option<String>,
) -> KmsResult<(SigningAlgorithmSpec, MessageType)> {
    let algorithm =
        SigningAlgorithmSpec::parse(algorithm.as_deref().unwrap_or_default(), "signingAlgorithm")?;
    let message_type = message_type
        .as_deref()
        .map(|t| MessageType::parse(t, "messageType"))
        .transpose()?
        .unwrap_or(MessageType::Raw);
    Ok((algorithm, message_type))
}

impl Operation for Sign {
    const NAME: &'static str = "Sign";
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
        let key = call.key(
            req.key_id.as_deref().unwrap_or_default(),
            "kms:Sign",
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
        let signature = key.private_key()?.sign(alg, kind, message)?;
        Ok(Response {
            key_id: key.arn.clone(),
            signature: Blob(signature),
            signing_algorithm: algorithm.as_str(),
        })
    }
}
