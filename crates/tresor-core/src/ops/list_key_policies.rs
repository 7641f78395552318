//! ListKeyPolicies: a key has exactly one policy, named `default`.

use super::key_id_member;
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::{Deserialize, Serialize};

/// ListKeyPolicies.
pub struct ListKeyPolicies;

/// ListKeyPolicies request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

/// ListKeyPolicies response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub policy_names: Vec<&'static str>,
    pub truncated: bool,
}

impl Operation for ListKeyPolicies {
    const NAME: &'static str = "ListKeyPolicies";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        crate::wire::parse_marker(&req.marker)?;
        call.key(key_id, "kms:ListKeyPolicies", Facts::NONE)?;
        Ok(Response {
            policy_names: vec!["default"],
            truncated: false,
        })
    }
}
