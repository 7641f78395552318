//! GenerateRandom: 1–1024 random bytes from the service's DRBG.

use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
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

/// `n` bytes from the random number generator of the HSM behind store `id`: it must be
/// the caller's, of type AWS_CLOUDHSM (an external store → UnsupportedOperation) and
/// CONNECTED.
fn from_store(call: &Call<'_>, id: &str, n: usize) -> KmsResult<tresor_crypto::SecretBytes> {
    use crate::custom_key_stores::{self as cks, state, CLOUDHSM};
    let kms = call.kms;
    let rec = kms.custom_key_store_of(&call.caller.account, &call.caller.region, id)?;
    if rec.store_type != CLOUDHSM {
        return Err(KmsError::UnsupportedOperation(format!(
            "GenerateRandom is not supported for external key store {id}."
        )));
    }
    if rec.connection_state != state::CONNECTED {
        return Err(cks::invalid_state(&rec, "it must be CONNECTED."));
    }
    let hsm = kms
        .store_link(id)?
        .hsm
        .filter(|c| c.is_open())
        .ok_or_else(|| cks::invalid_state(&rec, "its HSM cannot be reached."))?;
    hsm.random(n)
}

impl Operation for GenerateRandom {
    const NAME: &'static str = "GenerateRandom";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        if req.number_of_bytes.is_none() {
            return Err(KmsError::Validation(
                crate::messages::NUMBER_OF_BYTES_REQUIRED.into(),
            ));
        }
        call.authorize_account("kms:GenerateRandom", Facts::NONE)?;
        if req.recipient.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Recipient (Nitro Enclaves attestation) is not supported by Tresor".into(),
            ));
        }
        let n = usize::try_from(req.number_of_bytes.unwrap_or(0)).map_err(KmsError::internal)?;
        let bytes = match &req.custom_key_store_id {
            Some(id) => from_store(call, id, n)?,
            None => tresor_crypto::random::secret(n).map_err(KmsError::internal)?,
        };
        Ok(Response {
            plaintext: SecretBlob(bytes),
        })
    }
}
