//! DeriveSharedSecret: ECDH between a KEY_AGREEMENT key's private key and the caller's
//! public key (DER SubjectPublicKeyInfo on the same curve); returns the raw secret.

use super::key_id_member;
use crate::error::{KmsError, KmsResult};
use crate::model::{KeyAgreementAlgorithmSpec, KeyUsage};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

/// DeriveSharedSecret.
pub struct DeriveSharedSecret;

/// DeriveSharedSecret request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub key_agreement_algorithm: Option<String>,
    pub public_key: Option<Blob>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
    pub recipient: Option<crate::wire::RecipientInfo>,
}

/// DeriveSharedSecret response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    pub shared_secret: SecretBlob,
    pub key_agreement_algorithm: &'static str,
    pub key_origin: &'static str,
}

impl Operation for DeriveSharedSecret {
    const NAME: &'static str = "DeriveSharedSecret";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let algorithm = KeyAgreementAlgorithmSpec::parse(
            req.key_agreement_algorithm.as_deref().unwrap_or_default(),
            "keyAgreementAlgorithm",
        )?;
        if req.recipient.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Recipient (Nitro Enclaves attestation) is not supported by Tresor".into(),
            ));
        }
        let key = call.key(
            key_id,
            "kms:DeriveSharedSecret",
            Facts {
                key_agreement_algorithm: req.key_agreement_algorithm.as_deref(),
                ..Facts::NONE
            },
        )?;
        crate::states::require_usable_for(&key, KeyUsage::KeyAgreement, call.operation)?;
        let peer = req
            .public_key
            .as_ref()
            .map(|p| p.0.as_slice())
            .unwrap_or_default();
        let secret = key.private_key()?.agree(peer).map_err(|e| match e {
            tresor_crypto::CryptoError::InvalidKey(m)
            | tresor_crypto::CryptoError::InvalidInput(m) => KmsError::Validation(format!(
                "PublicKey is not a valid {} public key: {m}",
                key.spec
            )),
            other => other.into(),
        })?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        Ok(Response {
            key_id: key.arn.clone(),
            shared_secret: SecretBlob(secret),
            key_agreement_algorithm: algorithm.as_str(),
            key_origin: key.origin.as_str(),
        })
    }
}
