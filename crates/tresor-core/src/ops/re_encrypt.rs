//! ReEncrypt: decrypts under the source key and encrypts under the destination key
//! inside the service; the plaintext never leaves. Needs kms:ReEncryptFrom on the
//! source and kms:ReEncryptTo on the destination.

use super::decrypt::ignores_ciphertext;
use super::envelope;
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, EncryptionContext};
use serde::{Deserialize, Serialize};

/// ReEncrypt.
pub struct ReEncrypt;

/// ReEncrypt request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub ciphertext_blob: Option<Blob>,
    pub source_encryption_context: Option<EncryptionContext>,
    pub source_key_id: Option<String>,
    pub destination_key_id: Option<String>,
    pub destination_encryption_context: Option<EncryptionContext>,
    pub source_encryption_algorithm: Option<String>,
    pub destination_encryption_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
    pub dry_run_modifiers: Option<Vec<String>>,
}

/// ReEncrypt response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub ciphertext_blob: Blob,
    pub source_key_id: String,
    pub key_id: String,
    pub source_encryption_algorithm: &'static str,
    pub destination_encryption_algorithm: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_key_material_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_key_material_id: Option<String>,
}

impl Operation for ReEncrypt {
    const NAME: &'static str = "ReEncrypt";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let ignore = ignores_ciphertext(req.dry_run, &req.dry_run_modifiers)?;
        let ciphertext = req
            .ciphertext_blob
            .as_ref()
            .map(|b| b.0.as_slice())
            .unwrap_or_default();
        let source = envelope::open(
            call,
            &envelope::OpenRequest {
                ciphertext,
                context: req.source_encryption_context.as_ref(),
                key_id: req.source_key_id.as_deref(),
                algorithm: &req.source_encryption_algorithm,
                algorithm_field: "sourceEncryptionAlgorithm",
                action: "kms:ReEncryptFrom",
                facts: Facts::envelope(
                    req.source_encryption_context.as_ref(),
                    &req.source_encryption_algorithm,
                ),
                ignore_ciphertext: ignore,
            },
        )?;
        let dest_id = req.destination_key_id.as_deref().unwrap_or_default();
        let dest = call.key(
            dest_id,
            "kms:ReEncryptTo",
            Facts::envelope(
                req.destination_encryption_context.as_ref(),
                &req.destination_encryption_algorithm,
            ),
        )?;
        let dest_context = req.destination_encryption_context.as_ref();
        let dest_alg = envelope::check_seal(
            &dest,
            call.operation,
            "destinationEncryptionAlgorithm",
            &req.destination_encryption_algorithm,
            dest_context,
        )?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        let sealed = envelope::seal_checked(
            call,
            &dest,
            dest_alg,
            dest_context,
            source.plaintext.expose(),
        )?;
        Ok(Response {
            ciphertext_blob: Blob(sealed.ciphertext),
            source_key_id: source.key.arn.clone(),
            key_id: dest.arn.clone(),
            source_encryption_algorithm: source.algorithm.as_str(),
            destination_encryption_algorithm: sealed.algorithm.as_str(),
            source_key_material_id: source.material_id,
            destination_key_material_id: sealed.material_id,
        })
    }
}
