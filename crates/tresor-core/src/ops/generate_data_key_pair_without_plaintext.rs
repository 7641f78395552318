//! GenerateDataKeyPairWithoutPlaintext: like GenerateDataKeyPair, without returning the
//! plaintext private key.

use super::generate_data_key_pair::{generate, Request};
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::wire::Blob;
use serde::Serialize;

/// GenerateDataKeyPairWithoutPlaintext.
pub struct GenerateDataKeyPairWithoutPlaintext;

/// GenerateDataKeyPairWithoutPlaintext response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub private_key_ciphertext_blob: Blob,
    pub public_key: Blob,
    pub key_id: String,
    pub key_pair_spec: &'static str,
    pub key_material_id: String,
}

impl Operation for GenerateDataKeyPairWithoutPlaintext {
    const NAME: &'static str = "GenerateDataKeyPairWithoutPlaintext";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let pair = generate(call, &req, "kms:GenerateDataKeyPairWithoutPlaintext")?;
        Ok(Response {
            private_key_ciphertext_blob: Blob(pair.ciphertext),
            public_key: Blob(pair.public),
            key_id: pair.key_arn,
            key_pair_spec: pair.spec.as_str(),
            key_material_id: pair.material_id,
        })
    }
}
