//! PutKeyPolicy: replaces a key's policy. Unless BypassPolicyLockoutSafetyCheck is set,
//! the new policy must still let the caller call PutKeyPolicy (AWS's lockout check).

use super::{key_id_member, Empty};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;
use tresor_policy::{Decision, Policy, RequestContext};

/// PutKeyPolicy.
pub struct PutKeyPolicy;

/// PutKeyPolicy request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub policy_name: Option<String>,
    pub policy: Option<String>,
    pub bypass_policy_lockout_safety_check: Option<bool>,
}

/// Checks the `PolicyName` member (its model constraints already hold): only
/// `default` exists.
pub(crate) fn policy_name(name: &Option<String>) -> KmsResult<()> {
    match name.as_deref() {
        None | Some("default") => Ok(()),
        Some(other) => Err(KmsError::NotFound(format!(
            "No such policy exists: {other}"
        ))),
    }
}

/// AWS's lockout safety check: `policy` must allow the caller to run PutKeyPolicy on
/// the key, so that nobody locks the key's policy forever by mistake.
pub(crate) fn check_lockout(
    call: &Call<'_>,
    policy: &Policy,
    key_arn: &str,
    key_account: &str,
) -> KmsResult<()> {
    let caller = call.caller;
    let identity = call.kms.identity_policies(&caller.principal_arn)?;
    let facts = call.facts(
        Facts {
            bypass_policy_lockout_safety_check: Some(false),
            ..Facts::NONE
        },
        None,
    );
    let ctx = RequestContext {
        principal_arn: &caller.principal_arn,
        principal_account: &caller.account,
        action: "kms:PutKeyPolicy",
        resource: key_arn,
        conditions: &facts.get().conditions,
    };
    if tresor_policy::authorize(policy, &identity.policies, key_account, &ctx) == Decision::Allow {
        return Ok(());
    }
    Err(KmsError::MalformedPolicyDocument(
        "The new key policy will not allow you to update the key policy in the future.".into(),
    ))
}

impl Operation for PutKeyPolicy {
    const NAME: &'static str = "PutKeyPolicy";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        policy_name(&req.policy_name)?;
        let text = req.policy.unwrap_or_default();
        let parsed = crate::policy::parse_key_policy(&text)?;
        let key = call.key(
            key_id,
            "kms:PutKeyPolicy",
            Facts {
                bypass_policy_lockout_safety_check: req.bypass_policy_lockout_safety_check,
                ..Facts::NONE
            },
        )?;
        if req.bypass_policy_lockout_safety_check != Some(true) {
            check_lockout(call, &parsed, &key.arn, key.account())?;
        }
        call.kms.update_key(key.key_id(), |rec| {
            rec.policy = Some(text.clone());
            Ok((Vec::new(), ()))
        })?;
        Ok(Empty {})
    }
}
