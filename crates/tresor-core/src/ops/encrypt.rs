//! Encrypt: up to 4096 bytes under a symmetric key (bound to an encryption context), or
//! a short plaintext under an RSA key with RSAES_OAEP_SHA_1/256.

use super::envelope;
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, EncryptionContext, SecretBlob};
use serde::{Deserialize, Serialize};

/// Encrypt.
pub struct Encrypt;

/// Encrypt request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub plaintext: Option<SecretBlob>,
    pub encryption_context: Option<EncryptionContext>,
    pub grant_tokens: Option<Vec<String>>,
    pub encryption_algorithm: Option<String>,
    pub dry_run: Option<bool>,
}

/// Encrypt response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub ciphertext_blob: Blob,
    pub key_id: String,
    pub encryption_algorithm: &'static str,
}

impl Operation for Encrypt {
    const NAME: &'static str = "Encrypt";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let (Some(key_id), Some(plaintext)) = (req.key_id.as_deref(), req.plaintext.as_ref())
        else {
            return Err(KmsError::internal("validated members missing"));
        };
        let key = call.key(
            key_id,
            "kms:Encrypt",
            Facts::envelope(req.encryption_context.as_ref(), &req.encryption_algorithm),
        )?;
        let context = req.encryption_context.as_ref();
        let algorithm = envelope::check_seal(
            &key,
            call.operation,
            "encryptionAlgorithm",
            &req.encryption_algorithm,
            context,
        )?;
        call.audit_algorithm(algorithm.as_str());
        let sealed = envelope::seal_checked(call, &key, algorithm, context, plaintext.0.expose())?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        call.audit_material(sealed.material_id);
        Ok(Response {
            ciphertext_blob: Blob(sealed.ciphertext),
            key_id: key.arn.clone(),
            encryption_algorithm: sealed.algorithm.as_str(),
        })
    }
}
