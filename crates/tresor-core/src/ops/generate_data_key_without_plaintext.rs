//! GenerateDataKeyWithoutPlaintext: like GenerateDataKey, returning only the encrypted
//! copy of the data key.

use super::generate_data_key::{self, generate};
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::wire::{Blob, EncryptionContext};
use serde::{Deserialize, Serialize};

/// GenerateDataKeyWithoutPlaintext.
pub struct GenerateDataKeyWithoutPlaintext;

/// GenerateDataKeyWithoutPlaintext request: the model's members only. It has no
/// `Recipient` (unlike GenerateDataKey), so one sent is an unknown member, ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub encryption_context: Option<EncryptionContext>,
    pub key_spec: Option<String>,
    pub number_of_bytes: Option<i64>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

impl From<Request> for generate_data_key::Request {
    fn from(r: Request) -> Self {
        generate_data_key::Request {
            key_id: r.key_id,
            encryption_context: r.encryption_context,
            number_of_bytes: r.number_of_bytes,
            key_spec: r.key_spec,
            grant_tokens: r.grant_tokens,
            recipient: None,
            dry_run: r.dry_run,
        }
    }
}

/// GenerateDataKeyWithoutPlaintext response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub ciphertext_blob: Blob,
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

impl Operation for GenerateDataKeyWithoutPlaintext {
    const NAME: &'static str = "GenerateDataKeyWithoutPlaintext";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let dk = generate(call, &req.into(), "kms:GenerateDataKeyWithoutPlaintext")?;
        Ok(Response {
            ciphertext_blob: Blob(dk.ciphertext),
            key_id: dk.key_arn,
            key_material_id: dk.material_id,
        })
    }
}
