//! KMS's combined decision over a key policy and the caller's identity policies.

use crate::{Decision, Policy, RequestContext};

/// AWS KMS's combined decision for a request on a key.
///
/// - An explicit `Deny` in the key policy or any identity policy wins.
/// - Same account (`ctx.principal_account == key_account`): allowed when the key policy
///   allows the caller directly, or when it allows the account root (delegation to IAM)
///   and the caller's identity policies allow. The account root caller has implicit
///   identity permissions, so a key policy allowing the root allows it.
/// - Cross-account: the key policy must allow the caller (its ARN, its account root or
///   id, or `*`) *and* one of the caller's identity policies must allow (implicit for an
///   account root caller).
///
/// Grants are not considered here; the integrator checks them when this returns
/// [`Decision::NotApplicable`].
pub fn authorize(
    key_policy: &Policy,
    identity_policies: &[Policy],
    key_account: &str,
    ctx: &RequestContext,
) -> Decision {
    let key = key_policy.evaluate_resource(ctx);
    if key == Decision::Deny {
        return Decision::Deny;
    }
    let identity = authorize_identity(identity_policies, ctx);
    if identity == Decision::Deny {
        return Decision::Deny;
    }
    let identity_allows = identity == Decision::Allow;
    let key_direct = key == Decision::Allow;
    let key_delegates = key_policy.allows_account_root(ctx.principal_account, ctx);
    let allowed = if ctx.principal_account == key_account {
        key_direct || (key_delegates && identity_allows)
    } else {
        (key_direct || key_delegates) && identity_allows
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::NotApplicable
    }
}

/// The caller's identity policies alone, for actions with no key policy (e.g.
/// `kms:CreateKey`, `kms:ListKeys` with `resource = "*"`): any `Deny` wins; otherwise
/// `Allow` when a policy allows or the caller is its account's root (which has implicit
/// full permissions in its own account).
pub fn authorize_identity(identity_policies: &[Policy], ctx: &RequestContext) -> Decision {
    let mut allowed = ctx.caller_is_root();
    for p in identity_policies {
        match p.evaluate_identity(ctx) {
            Decision::Deny => return Decision::Deny,
            Decision::Allow => allowed = true,
            Decision::NotApplicable => {}
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::NotApplicable
    }
}
