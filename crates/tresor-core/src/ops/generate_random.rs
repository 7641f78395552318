//! GenerateRandom: 1–1024 random bytes from the service's DRBG.

use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::validate::Validator;
use crate::wire::SecretBlob;
use serde::{Deserialize, Serialize};

/// GenerateRandom.
pub struct GenerateRandom;

/// GenerateRandom request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub number_of_bytes: Option<i64>,
    pub custom_key_store_id: Option<String>,
    pub recipient: Option<crate::wire::RecipientInfo>,
}

/// GenerateRandom response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    /// The random bytes.
    pub plaintext: SecretBlob,
}

impl Operation for GenerateRandom {
    const NAME: &'static str = "GenerateRandom";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        if req.number_of_bytes.is_none() {
            return Err(KmsError::Validation(
                crate::messages::NUMBER_OF_BYTES_REQUIRED.into(),
            ));
        }
        Validator::new()
            .range("numberOfBytes", req.number_of_bytes, 1, 1024)
            .opt_len("customKeyStoreId", &req.custom_key_store_id, 1, 64)
            .finish()?;
        call.authorize_account("kms:GenerateRandom", Facts::NONE)?;
        if let Some(id) = &req.custom_key_store_id {
            return Err(KmsError::CustomKeyStoreNotFound(format!(
                "Custom key store '{id}' does not exist"
            )));
        }
        if req.recipient.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Recipient (Nitro Enclaves attestation) is not supported by Tresor".into(),
            ));
        }
        let n = usize::try_from(req.number_of_bytes.unwrap_or(0)).map_err(KmsError::internal)?;
        let bytes = tresor_crypto::random::secret(n).map_err(KmsError::internal)?;
        Ok(Response {
            plaintext: SecretBlob(bytes),
        })
    }
}
