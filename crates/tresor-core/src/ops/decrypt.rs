//! Decrypt: a ciphertext from Encrypt or GenerateDataKey. A symmetric blob names its
//! key, so KeyId is optional; when given it must be that key (`IncorrectKeyException`).
//! RSA ciphertexts carry nothing: KeyId and EncryptionAlgorithm are required.

use super::envelope;
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, EncryptionContext, SecretBlob};
use serde::{Deserialize, Serialize};

/// Decrypt.
pub struct Decrypt;

/// Decrypt request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub ciphertext_blob: Option<Blob>,
    pub encryption_context: Option<EncryptionContext>,
    pub grant_tokens: Option<Vec<String>>,
    pub key_id: Option<String>,
    pub encryption_algorithm: Option<String>,
    pub recipient: Option<crate::wire::RecipientInfo>,
    pub dry_run: Option<bool>,
    pub dry_run_modifiers: Option<Vec<String>>,
}

/// Decrypt response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    pub plaintext: SecretBlob,
    pub encryption_algorithm: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

/// True when DryRunModifiers asks to skip the ciphertext check.
pub(crate) fn ignores_ciphertext(
    dry_run: Option<bool>,
    modifiers: &Option<Vec<String>>,
) -> KmsResult<bool> {
    // The model's enum (IGNORE_CIPHERTEXT only) was checked before the operation ran.
    let ignore = modifiers.iter().flatten().any(|m| m == "IGNORE_CIPHERTEXT");
    Ok(ignore && dry_run == Some(true))
}

impl Operation for Decrypt {
    const NAME: &'static str = "Decrypt";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        if req.recipient.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Recipient (Nitro Enclaves attestation) is not supported by Tresor".into(),
            ));
        }
        let ignore = ignores_ciphertext(req.dry_run, &req.dry_run_modifiers)?;
        let ciphertext = req
            .ciphertext_blob
            .as_ref()
            .map(|b| b.0.as_slice())
            .unwrap_or_default();
        let opened = envelope::open(
            call,
            &envelope::OpenRequest {
                ciphertext,
                context: req.encryption_context.as_ref(),
                key_id: req.key_id.as_deref(),
                algorithm: &req.encryption_algorithm,
                algorithm_field: "encryptionAlgorithm",
                action: "kms:Decrypt",
                facts: Facts::envelope(req.encryption_context.as_ref(), &req.encryption_algorithm),
                ignore_ciphertext: ignore,
            },
        )?;
        call.audit_algorithm(opened.algorithm.as_str());
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        call.audit_material(opened.material_id.clone());
        Ok(Response {
            key_id: opened.key.arn.clone(),
            plaintext: SecretBlob(opened.plaintext),
            encryption_algorithm: opened.algorithm.as_str(),
            key_material_id: opened.material_id,
        })
    }
}
