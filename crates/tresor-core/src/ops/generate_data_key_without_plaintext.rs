//! GenerateDataKeyWithoutPlaintext: like GenerateDataKey, returning only the encrypted
//! copy of the data key.

use super::generate_data_key::{generate, Request};
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::wire::Blob;
use serde::Serialize;

/// GenerateDataKeyWithoutPlaintext.
pub struct GenerateDataKeyWithoutPlaintext;

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
        let dk = generate(call, &req, "kms:GenerateDataKeyWithoutPlaintext")?;
        Ok(Response {
            ciphertext_blob: Blob(dk.ciphertext),
            key_id: dk.key_arn,
            key_material_id: dk.material_id,
        })
    }
}
