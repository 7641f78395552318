//! ListKeys: the keys of the caller's account in the request's region, paged.

use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::parse_marker;
use serde::{Deserialize, Serialize};

/// ListKeys.
pub struct ListKeys;

/// ListKeys request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub limit: Option<i64>,
    pub marker: Option<String>,
    pub resource_owners: Option<Vec<String>>,
}

/// One entry of the list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct KeyListEntry {
    pub key_id: String,
    pub key_arn: String,
}

/// ListKeys response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub keys: Vec<KeyListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

impl Operation for ListKeys {
    const NAME: &'static str = "ListKeys";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let after = parse_marker(&req.marker)?;
        call.authorize_account("kms:ListKeys", Facts::NONE)?;
        let limit = usize::try_from(req.limit.unwrap_or(100)).unwrap_or(100);
        let caller = call.caller;
        let mut rows = call.kms.store.list_keys(
            &caller.account,
            &caller.region,
            after.as_deref(),
            limit + 1,
        )?;
        let (truncated, next_marker) =
            crate::wire::cut_page(&mut rows, limit, |k| k.key_id.clone());
        let keys = rows
            .into_iter()
            .map(|k| KeyListEntry {
                key_arn: crate::ids::stored_key_arn(&k.region, &k.account, &k.key_id),
                key_id: crate::ids::public_id(&k.key_id).to_string(),
            })
            .collect();
        Ok(Response {
            keys,
            next_marker,
            truncated,
        })
    }
}
