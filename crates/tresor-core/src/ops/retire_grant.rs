//! RetireGrant: the grant's retiring principal (or its grantee, when the grant allows
//! RetireGrant, or the key's account root) removes it, by grant token or key + grant id.

use super::create_grant::token_grant_id;
use super::Empty;
use crate::error::{KmsError, KmsResult};
use crate::ids::KeyRef;
use crate::pipeline::{Call, Operation};
use serde::Deserialize;
use tresor_store::Write;

/// RetireGrant.
pub struct RetireGrant;

/// RetireGrant request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub grant_token: Option<String>,
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub dry_run: Option<bool>,
}

impl Operation for RetireGrant {
    const NAME: &'static str = "RetireGrant";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let grant_id = match (&req.grant_token, &req.grant_id) {
            (Some(t), _) => token_grant_id(t)?,
            (None, Some(id)) if req.key_id.is_some() => id.clone(),
            _ => return Err(KmsError::Validation(
                "Specify a GrantToken, or both KeyId and GrantId, to identify the grant to retire."
                    .into(),
            )),
        };
        let kms = call.kms;
        let Some(grant) = kms.store.grant(&grant_id)? else {
            return Err(KmsError::NotFound(format!("Grant ID {grant_id} not found")));
        };
        let Some(key) = kms.key_by_id(&grant.key_id)? else {
            return Err(KmsError::NotFound(format!("Grant ID {grant_id} not found")));
        };
        if let Some(k) = &req.key_id {
            let names_key = match KeyRef::parse(k)? {
                KeyRef::Id(id) => id == key.id(),
                KeyRef::KeyArn { id, .. } => id == key.id(),
                _ => false,
            };
            if !names_key {
                return Err(KmsError::NotFound(format!(
                    "Grant ID {grant_id} not found for key {k}"
                )));
            }
        }
        let caller = call.caller;
        let ops: Vec<String> = serde_json::from_str(&grant.operations).unwrap_or_default();
        let may_retire = grant.retiring.as_deref() == Some(caller.principal_arn.as_str())
            || (grant.grantee == caller.principal_arn && ops.iter().any(|o| o == "RetireGrant"))
            || caller.principal_arn == crate::ids::account_root_arn(&grant.issuing_account)
            || caller.principal_arn == crate::ids::account_root_arn(key.account());
        if !may_retire {
            return Err(KmsError::AccessDenied(format!(
                "User: {} is not authorized to perform: kms:RetireGrant on resource: {} because it is neither the grant's retiring principal nor a grantee allowed to retire it",
                caller.principal_arn, key.arn
            )));
        }
        call.authorize_by_rule("retiring principal, grantee with RetireGrant, or the account root");
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        kms.write(|| {
            Ok((
                vec![Write::DeleteGrant {
                    grant_id: grant_id.clone(),
                }],
                (),
            ))
        })?;
        kms.forget_grants(&grant.key_id);
        Ok(Empty {})
    }
}
