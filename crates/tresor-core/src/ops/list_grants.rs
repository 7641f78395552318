//! ListGrants: the grants of a key (optionally one grant, or one grantee's), paged.

use super::create_grant::Constraints;
use super::key_id_member;
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::validate::Validator;
use crate::wire::{parse_marker, Timestamp};
use serde::{Deserialize, Serialize};
use tresor_store::GrantRecord;

/// The service's page-size ceiling (the model allows up to 1000).
pub(crate) const MAX_LIMIT: i64 = 100;

/// ListGrants.
pub struct ListGrants;

/// ListGrants request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub limit: Option<i64>,
    pub marker: Option<String>,
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub grantee_principal: Option<String>,
    pub grantee_service_principal: Option<String>,
}

/// One grant, as ListGrants and ListRetirableGrants show it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct GrantListEntry {
    pub key_id: String,
    pub grant_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub creation_date: Timestamp,
    pub grantee_principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retiring_principal: Option<String>,
    pub issuing_account: String,
    pub operations: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<Constraints>,
}

/// ListGrants / ListRetirableGrants response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub grants: Vec<GrantListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// One page of `grants` after `marker`.
pub(crate) fn page(
    call: &Call<'_>,
    grants: Vec<GrantRecord>,
    limit: Option<i64>,
    marker: &Option<String>,
) -> KmsResult<Response> {
    let after = parse_marker(marker)?;
    let limit = usize::try_from(limit.unwrap_or(50)).unwrap_or(50);
    let mut rows: Vec<GrantRecord> = match &after {
        Some(a) => grants
            .into_iter()
            .skip_while(|g| g.grant_id != *a)
            .skip(1)
            .collect(),
        None => grants,
    };
    let (truncated, next_marker) = crate::wire::cut_page(&mut rows, limit, |g| g.grant_id.clone());
    let mut out = Vec::with_capacity(rows.len());
    for g in rows {
        let key_arn = match call.kms.key_by_id(&g.key_id)? {
            Some(k) => k.arn.clone(),
            None => g.key_id.clone(),
        };
        out.push(GrantListEntry {
            key_id: key_arn,
            grant_id: g.grant_id,
            name: g.name,
            creation_date: Timestamp(g.created_ms),
            grantee_principal: g.grantee,
            retiring_principal: g.retiring,
            issuing_account: crate::ids::account_root_arn(&g.issuing_account),
            operations: serde_json::from_str(&g.operations).unwrap_or_default(),
            constraints: g
                .constraints
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
        });
    }
    Ok(Response {
        grants: out,
        next_marker,
        truncated,
    })
}

impl Operation for ListGrants {
    const NAME: &'static str = "ListGrants";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        // The service's limit, stricter than the model's 1..=1000.
        Validator::new()
            .range("limit", req.limit, 1, MAX_LIMIT)
            .finish()?;
        if req.grantee_service_principal.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Grants to AWS service principals are not supported by Tresor.".into(),
            ));
        }
        let key = call.key_no_alias(key_id, "kms:ListGrants", Facts::NONE)?;
        let grants: Vec<GrantRecord> = call
            .kms
            .store
            .grants_for_key(key.key_id())?
            .into_iter()
            .filter(|g| req.grant_id.as_ref().is_none_or(|id| g.grant_id == *id))
            .filter(|g| {
                req.grantee_principal
                    .as_ref()
                    .is_none_or(|p| g.grantee == *p)
            })
            .collect();
        page(call, grants, req.limit, &req.marker)
    }
}
