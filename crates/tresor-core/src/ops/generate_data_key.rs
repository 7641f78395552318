//! GenerateDataKey: a fresh random data key, returned in plaintext and encrypted under
//! a symmetric KMS key. Exactly one of KeySpec (AES_128/AES_256) and NumberOfBytes.

use super::envelope;
use crate::error::{KmsError, KmsResult};
use crate::model::DataKeySpec;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Blob, EncryptionContext, SecretBlob};
use serde::{Deserialize, Serialize};
use tresor_crypto::SecretBytes;

/// GenerateDataKey.
pub struct GenerateDataKey;

/// GenerateDataKey request (GenerateDataKeyWithoutPlaintext has its own, without
/// `Recipient`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub encryption_context: Option<EncryptionContext>,
    pub number_of_bytes: Option<i64>,
    pub key_spec: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub recipient: Option<crate::wire::RecipientInfo>,
    pub dry_run: Option<bool>,
}

/// GenerateDataKey response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub ciphertext_blob: Blob,
    pub plaintext: SecretBlob,
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

/// A data key and its ciphertext, as both data-key operations produce them.
pub(crate) struct DataKey {
    pub plaintext: SecretBytes,
    pub ciphertext: Vec<u8>,
    pub key_arn: String,
    pub material_id: Option<String>,
}

/// Validates the request, authorizes `action`, and makes the data key.
pub(crate) fn generate(call: &mut Call<'_>, req: &Request, action: &str) -> KmsResult<DataKey> {
    let spec = req
        .key_spec
        .as_deref()
        .map(|s| DataKeySpec::parse(s, "keySpec"))
        .transpose()?;
    let len = match (spec, req.number_of_bytes) {
        (Some(spec), None) => spec.byte_len(),
        (None, Some(n)) => usize::try_from(n).map_err(KmsError::internal)?,
        _ => {
            return Err(KmsError::Validation(
                "Please specify either number of bytes or key spec.".into(),
            ))
        }
    };
    if req.recipient.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Recipient (Nitro Enclaves attestation) is not supported by Tresor".into(),
        ));
    }
    let key = call.key(
        req.key_id.as_deref().unwrap_or_default(),
        action,
        Facts::context(req.encryption_context.as_ref()),
    )?;
    crate::states::require_symmetric_encryption(&key, call.operation)?;
    if req.dry_run == Some(true) {
        return Err(KmsError::DryRun);
    }
    let plaintext = tresor_crypto::random::secret(len).map_err(KmsError::internal)?;
    let (ciphertext, material_id) = envelope::seal(
        call,
        &key,
        req.encryption_context.as_ref(),
        plaintext.expose(),
    )?;
    Ok(DataKey {
        plaintext,
        ciphertext,
        key_arn: key.arn.clone(),
        material_id,
    })
}

impl Operation for GenerateDataKey {
    const NAME: &'static str = "GenerateDataKey";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let dk = generate(call, &req, "kms:GenerateDataKey")?;
        Ok(Response {
            ciphertext_blob: Blob(dk.ciphertext),
            plaintext: SecretBlob(dk.plaintext),
            key_id: dk.key_arn,
            key_material_id: dk.material_id,
        })
    }
}
