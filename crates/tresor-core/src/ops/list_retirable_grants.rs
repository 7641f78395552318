//! ListRetirableGrants: the grants a principal may retire, paged.

use super::list_grants::{page, Response, MAX_LIMIT};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::validate::Validator;
use serde::Deserialize;

/// ListRetirableGrants.
pub struct ListRetirableGrants;

/// ListRetirableGrants request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub limit: Option<i64>,
    pub marker: Option<String>,
    pub retiring_principal: Option<String>,
    pub retiring_service_principal: Option<String>,
}

impl Operation for ListRetirableGrants {
    const NAME: &'static str = "ListRetirableGrants";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        // The service's limit, stricter than the model's 1..=1000.
        Validator::new()
            .range("limit", req.limit, 1, MAX_LIMIT)
            .finish()?;
        if req.retiring_service_principal.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Grants to AWS service principals are not supported by Tresor.".into(),
            ));
        }
        let Some(principal) = req.retiring_principal.clone() else {
            return Err(KmsError::Validation(
                "RetiringPrincipal is required.".into(),
            ));
        };
        call.authorize_account("kms:ListRetirableGrants", Facts::NONE)?;
        let grants = call.kms.store.grants_retirable_by(&principal)?;
        page(call, grants, req.limit, &req.marker)
    }
}
