//! Identity policies attached to users: PutUserPolicy, GetUserPolicy, ListUserPolicies,
//! DeleteUserPolicy. Documents are checked with the policy language's parser.

use super::{account_and_user, user_arn};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::validate::Validator;
use serde::{Deserialize, Serialize};
use tresor_store::{PrincipalPolicyRecord, Write};

/// A request naming one policy of one user.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct PolicyRequest {
    pub account: Option<String>,
    pub user_name: Option<String>,
    pub policy_name: Option<String>,
    pub policy_document: Option<String>,
}

fn policy_name(req: &PolicyRequest) -> KmsResult<&str> {
    Validator::new()
        .required("policyName", &req.policy_name)
        .opt_len("policyName", &req.policy_name, 1, 128)
        .finish()?;
    Ok(req.policy_name.as_deref().unwrap_or_default())
}

fn existing_user(call: &Call<'_>, arn: &str) -> KmsResult<()> {
    match call.kms.store.principal(arn)? {
        Some(_) => Ok(()),
        None => Err(KmsError::NotFound(format!("User {arn} does not exist."))),
    }
}

/// PutUserPolicy: attaches (or replaces) a named identity policy.
pub struct PutUserPolicy;

impl Operation for PutUserPolicy {
    const NAME: &'static str = "PutUserPolicy";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = PolicyRequest;
    type Response = crate::ops::Empty;

    fn execute(call: &mut Call<'_>, req: PolicyRequest) -> KmsResult<crate::ops::Empty> {
        let (account, name) = account_and_user(&req.account, &req.user_name)?;
        let policy = policy_name(&req)?;
        Validator::new()
            .required("policyDocument", &req.policy_document)
            .opt_len("policyDocument", &req.policy_document, 1, 131_072)
            .finish()?;
        let document = req.policy_document.clone().unwrap_or_default();
        crate::policy::parse_identity_policy(&document)?;
        call.authorize_admin(account)?;
        let arn = user_arn(account, name);
        existing_user(call, &arn)?;
        let record = PrincipalPolicyRecord {
            principal_arn: arn.clone(),
            name: policy.to_string(),
            document,
        };
        call.kms
            .write(|| Ok((vec![Write::PutPrincipalPolicy(record)], ())))?;
        call.kms.forget_identity_policies(&arn);
        Ok(crate::ops::Empty {})
    }
}

/// GetUserPolicy response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct GetUserPolicyResponse {
    pub user_name: String,
    pub policy_name: String,
    pub policy_document: String,
}

/// GetUserPolicy.
pub struct GetUserPolicy;

impl Operation for GetUserPolicy {
    const NAME: &'static str = "GetUserPolicy";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = PolicyRequest;
    type Response = GetUserPolicyResponse;

    fn execute(call: &mut Call<'_>, req: PolicyRequest) -> KmsResult<GetUserPolicyResponse> {
        let (account, name) = account_and_user(&req.account, &req.user_name)?;
        let policy = policy_name(&req)?;
        call.authorize_admin(account)?;
        let arn = user_arn(account, name);
        let found = call
            .kms
            .store
            .principal_policies(&arn)?
            .into_iter()
            .find(|p| p.name == policy);
        let Some(p) = found else {
            return Err(KmsError::NotFound(format!(
                "User {arn} has no policy named {policy}."
            )));
        };
        Ok(GetUserPolicyResponse {
            user_name: name.to_string(),
            policy_name: p.name,
            policy_document: p.document,
        })
    }
}

/// ListUserPolicies response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUserPoliciesResponse {
    /// Attached policy names.
    pub policy_names: Vec<String>,
}

/// ListUserPolicies.
pub struct ListUserPolicies;

impl Operation for ListUserPolicies {
    const NAME: &'static str = "ListUserPolicies";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = PolicyRequest;
    type Response = ListUserPoliciesResponse;

    fn execute(call: &mut Call<'_>, req: PolicyRequest) -> KmsResult<ListUserPoliciesResponse> {
        let (account, name) = account_and_user(&req.account, &req.user_name)?;
        call.authorize_admin(account)?;
        let arn = user_arn(account, name);
        existing_user(call, &arn)?;
        let policy_names = call
            .kms
            .store
            .principal_policies(&arn)?
            .into_iter()
            .map(|p| p.name)
            .collect();
        Ok(ListUserPoliciesResponse { policy_names })
    }
}

/// DeleteUserPolicy.
pub struct DeleteUserPolicy;

impl Operation for DeleteUserPolicy {
    const NAME: &'static str = "DeleteUserPolicy";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = PolicyRequest;
    type Response = crate::ops::Empty;

    fn execute(call: &mut Call<'_>, req: PolicyRequest) -> KmsResult<crate::ops::Empty> {
        let (account, name) = account_and_user(&req.account, &req.user_name)?;
        let policy = policy_name(&req)?.to_string();
        call.authorize_admin(account)?;
        let arn = user_arn(account, name);
        let kms = call.kms;
        kms.write(|| {
            if !kms
                .store
                .principal_policies(&arn)?
                .iter()
                .any(|p| p.name == policy)
            {
                return Err(KmsError::NotFound(format!(
                    "User {arn} has no policy named {policy}."
                )));
            }
            Ok((
                vec![Write::DeletePrincipalPolicy {
                    principal_arn: arn.clone(),
                    name: policy.clone(),
                }],
                (),
            ))
        })?;
        kms.forget_identity_policies(&arn);
        Ok(crate::ops::Empty {})
    }
}
