//! GetPublicKey: the public half of an asymmetric key (DER SubjectPublicKeyInfo) with its
//! spec, usage and algorithms. Symmetric and HMAC keys have none.

use super::key_id_member;
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{Algorithms, Blob};
use serde::{Deserialize, Serialize};

/// GetPublicKey.
pub struct GetPublicKey;

/// GetPublicKey request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
}

/// GetPublicKey response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    pub public_key: Blob,
    pub customer_master_key_spec: &'static str,
    pub key_spec: &'static str,
    pub key_usage: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithms: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encapsulation_algorithms: Option<Vec<&'static str>>,
}

impl Operation for GetPublicKey {
    const NAME: &'static str = "GetPublicKey";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let key = call.key(key_id, "kms:GetPublicKey", Facts::NONE)?;
        crate::states::require_usable(&key)?;
        let Some(public) = &key.public else {
            return Err(KmsError::UnsupportedOperation(format!(
                "{} is a {} key; only asymmetric keys have a public key.",
                key.arn, key.spec
            )));
        };
        let algs = Algorithms::of(key.spec, key.usage);
        Ok(Response {
            key_id: key.arn.clone(),
            public_key: Blob(public.spki().to_vec()),
            customer_master_key_spec: crate::model::customer_master_key_spec(key.spec),
            key_spec: key.spec.as_str(),
            key_usage: key.usage.as_str(),
            encryption_algorithms: algs.encryption,
            signing_algorithms: algs.signing,
            key_agreement_algorithms: algs.key_agreement,
            encapsulation_algorithms: algs.encapsulation,
        })
    }
}
