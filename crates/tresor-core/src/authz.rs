//! The one authorization point. Every key an operation touches and every account-level
//! action passes through [`authorize`]; the pipeline refuses to answer an operation that
//! never called it.
//!
//! The rules are AWS KMS's: an explicit Deny in the key policy or an identity policy
//! wins; within the key's account the key policy must allow the caller directly, or
//! allow the account root so that the caller's identity policies decide; across accounts
//! both must allow; when policies do not allow, a grant for the caller may. Account-level
//! actions (CreateKey, ListKeys, …) are decided by identity policies alone, where the
//! account root has every permission.

use crate::cache::CachedKey;
use crate::caller::Caller;
use crate::error::{KmsError, KmsResult};
use crate::messages::DenyReason;
use crate::policy::{LazyFacts, RequestFacts};
use crate::service::Kms;
use tresor_policy::{ConditionValues, Decision, RequestContext};
use tresor_store::GrantRecord;

/// What an action is performed on.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// A KMS key.
    Key(&'a CachedKey),
    /// An account-level action in the caller's account and region.
    Account,
}

fn denied_as(caller: &Caller, action: &str, resource: &str, reason: DenyReason) -> KmsError {
    KmsError::AccessDenied(crate::messages::access_denied(
        &caller.principal_arn,
        action,
        resource,
        reason,
    ))
}

fn denied(caller: &Caller, action: &str, resource: &str, why: &str) -> KmsError {
    KmsError::AccessDenied(format!(
        "User: {} is not authorized to perform: {action} on resource: {resource} {why}",
        caller.principal_arn
    ))
}

/// `Ok` when `caller` may perform `action` (e.g. `kms:Encrypt`) on `resource`.
pub fn authorize(
    kms: &Kms,
    caller: &Caller,
    facts: &LazyFacts<'_>,
    action: &str,
    resource: Resource<'_>,
) -> KmsResult<()> {
    let identity = kms.identity_policies(&caller.principal_arn)?;
    // Policies without conditions never look at the request: skip working out its facts.
    let no_conditions = ConditionValues::new();
    match resource {
        Resource::Account => {
            let conditions = if identity.has_conditions {
                &facts.get().conditions
            } else {
                &no_conditions
            };
            let ctx = RequestContext {
                principal_arn: &caller.principal_arn,
                principal_account: &caller.account,
                action,
                resource: "*",
                conditions,
            };
            match tresor_policy::authorize_identity(&identity.policies, &ctx) {
                Decision::Allow => Ok(()),
                Decision::Deny => Err(denied_as(
                    caller,
                    action,
                    "*",
                    DenyReason::ExplicitDenyInIdentityPolicy,
                )),
                Decision::NotApplicable => Err(denied_as(
                    caller,
                    action,
                    "*",
                    DenyReason::NoIdentityPolicyAllows,
                )),
            }
        }
        Resource::Key(key) => {
            if caller.account != key.account() && !allowed_across_accounts(action) {
                // Whatever the key policy says: AWS makes cross-account permissions
                // effective only for the operations in `allowed_across_accounts`.
                return Err(denied(
                    caller,
                    action,
                    &key.arn,
                    &format!("because {action} is not permitted across accounts"),
                ));
            }
            let conditions = if key.policy.has_conditions || identity.has_conditions {
                let mut c = facts.get().conditions.clone();
                add_key_facts(kms, key, identity.mentions_resource_facts, &mut c)?;
                c
            } else {
                no_conditions
            };
            let ctx = RequestContext {
                principal_arn: &caller.principal_arn,
                principal_account: &caller.account,
                action,
                resource: &key.arn,
                conditions: &conditions,
            };
            match tresor_policy::authorize(
                &key.policy.parsed,
                &identity.policies,
                key.account(),
                &ctx,
            ) {
                Decision::Allow => Ok(()),
                Decision::Deny => {
                    // Say which side denied, as AWS does.
                    let reason = if key.policy.parsed.evaluate_resource(&ctx) == Decision::Deny {
                        DenyReason::ExplicitDenyInResourcePolicy
                    } else {
                        DenyReason::ExplicitDenyInIdentityPolicy
                    };
                    Err(denied_as(caller, action, &key.arn, reason))
                }
                Decision::NotApplicable => {
                    let grants = kms.grants_for_key(key.key_id())?;
                    if grants
                        .iter()
                        .any(|g| grant_allows(g, caller, action, facts.get()))
                    {
                        return Ok(());
                    }
                    if caller.account == key.account() {
                        return Err(denied_as(
                            caller,
                            action,
                            &key.arn,
                            DenyReason::NoResourcePolicyAllows,
                        ));
                    }
                    let why = format!("because no resource-based policy and identity-based policy both allow the {action} action");
                    Err(denied(caller, action, &key.arn, &why))
                }
            }
        }
    }
}

/// The actions another account may be given on a key: the cryptographic operations,
/// CreateGrant, DescribeKey, GetKeyRotationStatus, GetPublicKey, ListGrants,
/// RetireGrant and RevokeGrant. Everything else (managing the key, its policy, tags,
/// aliases, rotation and deletion) only works within the key's account.
pub fn allowed_across_accounts(action: &str) -> bool {
    matches!(
        action,
        "kms:Encrypt"
            | "kms:Decrypt"
            | "kms:ReEncryptFrom"
            | "kms:ReEncryptTo"
            | "kms:GenerateDataKey"
            | "kms:GenerateDataKeyWithoutPlaintext"
            | "kms:GenerateDataKeyPair"
            | "kms:GenerateDataKeyPairWithoutPlaintext"
            | "kms:Sign"
            | "kms:Verify"
            | "kms:GenerateMac"
            | "kms:VerifyMac"
            | "kms:DeriveSharedSecret"
            | "kms:Encapsulate"
            | "kms:Decapsulate"
            | "kms:CreateGrant"
            | "kms:DescribeKey"
            | "kms:GetKeyRotationStatus"
            | "kms:GetPublicKey"
            | "kms:ListGrants"
            | "kms:RetireGrant"
            | "kms:RevokeGrant"
    )
}

/// The condition keys that describe the key itself.
fn add_key_facts(
    kms: &Kms,
    key: &CachedKey,
    identity_mentions: bool,
    c: &mut ConditionValues,
) -> KmsResult<()> {
    c.insert("kms:KeySpec", [key.spec.as_str()]);
    c.insert("kms:CustomerMasterKeySpec", [key.spec.as_str()]);
    c.insert("kms:KeyUsage", [key.usage.as_str()]);
    c.insert("kms:CustomerMasterKeyUsage", [key.usage.as_str()]);
    c.insert("kms:KeyOrigin", [key.origin.as_str()]);
    c.insert(
        "kms:MultiRegion",
        [if key.is_multi_region() {
            "true"
        } else {
            "false"
        }],
    );
    if key.is_multi_region() {
        c.insert(
            "kms:MultiRegionKeyType",
            [if key.is_replica() {
                "REPLICA"
            } else {
                "PRIMARY"
            }],
        );
    }
    if key.policy.mentions_resource_facts || identity_mentions {
        for t in kms.store.tags(key.key_id())? {
            c.insert(&format!("aws:ResourceTag/{}", t.key), [t.value]);
        }
        let aliases =
            kms.store
                .list_aliases(key.account(), key.region(), Some(key.key_id()), None, 100)?;
        c.insert("kms:ResourceAliases", aliases.into_iter().map(|a| a.name));
    }
    Ok(())
}

/// True when `g` lets `caller` perform `action` with this request's encryption context.
pub fn grant_allows(g: &GrantRecord, caller: &Caller, action: &str, facts: &RequestFacts) -> bool {
    let Some(op) = action.strip_prefix("kms:") else {
        return false;
    };
    if g.grantee != caller.principal_arn {
        return false;
    }
    let ops: Vec<String> = serde_json::from_str(&g.operations).unwrap_or_default();
    if !ops.iter().any(|o| o == op) {
        return false;
    }
    if matches!(op, "DescribeKey" | "RetireGrant") {
        return true;
    }
    let Some(constraints) = g.constraints.as_deref() else {
        return true;
    };
    let Ok(constraints) = serde_json::from_str::<serde_json::Value>(constraints) else {
        return false;
    };
    let pairs = |name: &str| -> Option<Vec<(String, String)>> {
        constraints.get(name).and_then(|v| v.as_object()).map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_lowercase(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
    };
    let request: Vec<(String, String)> = facts
        .encryption_context
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.clone()))
        .collect();
    if let Some(subset) = pairs("EncryptionContextSubset") {
        if !subset.iter().all(|p| request.contains(p)) {
            return false;
        }
    }
    if let Some(equals) = pairs("EncryptionContextEquals") {
        if equals.len() != request.len() || !equals.iter().all(|p| request.contains(p)) {
            return false;
        }
    }
    true
}

/// Administration: the service operator may administer every account; an account's
/// root may administer its own.
pub fn authorize_admin(caller: &Caller, account: &str) -> KmsResult<()> {
    if caller.operator
        || (caller.account == account
            && caller.principal_arn == crate::ids::account_root_arn(account))
    {
        return Ok(());
    }
    Err(KmsError::AccessDenied(format!(
        "User: {} is not authorized to administer account {account}; only the service operator or the account's root can.",
        caller.principal_arn
    )))
}
