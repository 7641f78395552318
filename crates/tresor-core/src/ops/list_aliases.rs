//! ListAliases: the aliases of the account in the region, or of one key, paged.

use crate::error::KmsResult;
use crate::ids::alias_arn;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::validate::Validator;
use crate::wire::{parse_marker, Timestamp};
use serde::{Deserialize, Serialize};

/// The service's page-size ceiling (the model allows up to 1000; the service refuses more than 100).
const MAX_LIMIT: i64 = 100;

/// ListAliases.
pub struct ListAliases;

/// ListAliases request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

/// One alias.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct AliasListEntry {
    pub alias_name: String,
    pub alias_arn: String,
    pub target_key_id: String,
    pub creation_date: Timestamp,
    pub last_updated_date: Timestamp,
}

/// ListAliases response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub aliases: Vec<AliasListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

impl Operation for ListAliases {
    const NAME: &'static str = "ListAliases";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        // The service's limit, stricter than the model's 1..=1000.
        Validator::new()
            .range("limit", req.limit, 1, MAX_LIMIT)
            .finish()?;
        let after = parse_marker(&req.marker)?;
        let target = match &req.key_id {
            Some(k) => Some(
                call.key_no_alias(k, "kms:ListAliases", Facts::NONE)?
                    .key_id()
                    .to_string(),
            ),
            None => {
                call.authorize_account("kms:ListAliases", Facts::NONE)?;
                None
            }
        };
        let limit = usize::try_from(req.limit.unwrap_or(50)).unwrap_or(50);
        let caller = call.caller;
        let mut rows = call.kms.store.list_aliases(
            &caller.account,
            &caller.region,
            target.as_deref(),
            after.as_deref(),
            limit + 1,
        )?;
        let (truncated, next_marker) = crate::wire::cut_page(&mut rows, limit, |a| a.name.clone());
        let aliases = rows
            .into_iter()
            .map(|a| AliasListEntry {
                alias_arn: alias_arn(&a.region, &a.account, &a.name),
                alias_name: a.name,
                target_key_id: crate::ids::public_id(&a.target_key_id).to_string(),
                creation_date: Timestamp(a.created_ms),
                last_updated_date: Timestamp(a.updated_ms),
            })
            .collect();
        Ok(Response {
            aliases,
            next_marker,
            truncated,
        })
    }
}
