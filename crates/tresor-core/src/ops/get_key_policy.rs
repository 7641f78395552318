//! GetKeyPolicy: the key's policy document (AWS's default one for keys created without).

use super::key_id_member;
use super::put_key_policy::policy_name;
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::{Deserialize, Serialize};

/// GetKeyPolicy.
pub struct GetKeyPolicy;

/// GetKeyPolicy request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub policy_name: Option<String>,
}

/// GetKeyPolicy response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub policy: String,
    pub policy_name: &'static str,
}

impl Operation for GetKeyPolicy {
    const NAME: &'static str = "GetKeyPolicy";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        policy_name(&req.policy_name)?;
        let key = call.key(key_id, "kms:GetKeyPolicy", Facts::NONE)?;
        let policy = key.policy_document().to_string();
        Ok(Response {
            policy,
            policy_name: "default",
        })
    }
}
