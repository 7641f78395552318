//! Why a decision came out as it did: each statement of each policy, whether it applies
//! to a request and why (principal, action, resource, conditions), and the combined
//! decision of [`crate::authorize`] with the rule that decided it. For people (the
//! console's explain panel); access is decided by [`crate::authorize`] alone.

use crate::{
    authorize, authorize_identity, Decision, Effect, Policy, PrincipalMatch, PrincipalSpec,
    RequestContext,
};

/// How one statement relates to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementExplanation {
    /// 1-based position in its policy.
    pub index: usize,
    /// The statement's `Sid`, if any.
    pub sid: Option<String>,
    /// `true` for `Allow`, `false` for `Deny`.
    pub allow: bool,
    /// The statement applies to the request (principal, action, resource and
    /// conditions all match), so its effect counts.
    pub applies: bool,
    /// For a key policy `Allow`: it applies only through the caller's account (the
    /// "delegate to IAM" pattern), so the caller's identity policies must allow too.
    pub delegates_to_iam: bool,
    /// One line per element checked, in order: what matched and what did not.
    pub reasons: Vec<String>,
}

/// The explanation of a decision over a key policy and identity policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The decision, exactly as [`crate::authorize`] (or [`crate::authorize_identity`]
    /// without a key policy) gives it.
    pub decision: Decision,
    /// The rule that decided, in a sentence.
    pub summary: String,
    /// The key policy's statements.
    pub key_policy: Vec<StatementExplanation>,
    /// Each identity policy's statements, in the order given.
    pub identity_policies: Vec<Vec<StatementExplanation>>,
}

impl Policy {
    /// Each statement of this policy against `ctx`, as a key policy
    /// (`resource_based`) or as an identity policy of the caller.
    pub fn explain_statements(
        &self,
        ctx: &RequestContext,
        resource_based: bool,
    ) -> Vec<StatementExplanation> {
        self.statements
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let mut reasons = Vec::new();
                let allow = st.effect == Effect::Allow;
                let pm = match (&st.principal, resource_based) {
                    (Some(spec), _) => {
                        let m = spec.matches(ctx);
                        let not = matches!(spec, PrincipalSpec::NotPrincipal(_));
                        reasons.push(match (m, not) {
                            (PrincipalMatch::None, false) => {
                                "Principal: does not name the caller".to_string()
                            }
                            (PrincipalMatch::None, true) => {
                                "NotPrincipal: excludes the caller".to_string()
                            }
                            (PrincipalMatch::Account, _) => {
                                "Principal: names the caller's account only".to_string()
                            }
                            (PrincipalMatch::Direct, false) => {
                                "Principal: names the caller".to_string()
                            }
                            (PrincipalMatch::Direct, true) => {
                                "NotPrincipal: does not exclude the caller".to_string()
                            }
                        });
                        m
                    }
                    (None, false) => {
                        reasons.push("applies to the principal it is attached to".into());
                        PrincipalMatch::Direct
                    }
                    (None, true) if !allow => {
                        reasons.push("no Principal: a Deny applies to everyone".into());
                        PrincipalMatch::Direct
                    }
                    (None, true) => {
                        reasons.push("no Principal: an Allow grants nobody".into());
                        PrincipalMatch::None
                    }
                };
                let action_hit = st
                    .action
                    .patterns
                    .iter()
                    .any(|p| crate::glob_ignore_case(p, ctx.action));
                let action_ok = action_hit != st.action.negated;
                let el = if st.action.negated {
                    "NotAction"
                } else {
                    "Action"
                };
                reasons.push(format!(
                    "{el} {:?}: {} {}",
                    st.action.patterns,
                    if action_hit {
                        "matches"
                    } else {
                        "does not match"
                    },
                    ctx.action
                ));
                let resource_ok = match &st.resource {
                    None => true,
                    Some(r) => {
                        let hit = r.patterns.iter().any(|p| crate::glob(p, ctx.resource));
                        let el = if r.negated { "NotResource" } else { "Resource" };
                        reasons.push(format!(
                            "{el} {:?}: {} {}",
                            r.patterns,
                            if hit { "matches" } else { "does not match" },
                            ctx.resource
                        ));
                        hit != r.negated
                    }
                };
                let mut conditions_ok = true;
                for c in &st.conditions {
                    let values = ctx.lookup(c.key());
                    let met = c.evaluate(values.as_deref());
                    conditions_ok &= met;
                    let present = if values.is_some() {
                        "present in the request"
                    } else {
                        "absent from the request"
                    };
                    reasons.push(format!(
                        "Condition on {} ({present}): {}",
                        c.key(),
                        if met { "met" } else { "not met" }
                    ));
                }
                let relevant = match st.effect {
                    Effect::Deny => pm != PrincipalMatch::None,
                    Effect::Allow if resource_based => pm == PrincipalMatch::Direct,
                    Effect::Allow => pm != PrincipalMatch::None,
                };
                let rest = action_ok && resource_ok && conditions_ok;
                let delegates = resource_based && allow && pm == PrincipalMatch::Account && rest;
                StatementExplanation {
                    index: i + 1,
                    sid: st.sid.clone(),
                    allow,
                    applies: relevant && rest,
                    delegates_to_iam: delegates,
                    reasons,
                }
            })
            .collect()
    }
}

/// Explains [`crate::authorize`] for a request on a key in `key_account` (with
/// `key_policy`), or [`crate::authorize_identity`] when `key_policy` is `None`.
pub fn explain(
    key_policy: Option<&Policy>,
    identity_policies: &[Policy],
    key_account: &str,
    ctx: &RequestContext,
) -> Explanation {
    let key_stmts = key_policy.map_or_else(Vec::new, |p| p.explain_statements(ctx, true));
    let identity: Vec<Vec<StatementExplanation>> = identity_policies
        .iter()
        .map(|p| p.explain_statements(ctx, false))
        .collect();
    let decision = match key_policy {
        Some(p) => authorize(p, identity_policies, key_account, ctx),
        None => authorize_identity(identity_policies, ctx),
    };
    let denied_by = |stmts: &[StatementExplanation]| {
        stmts
            .iter()
            .find(|s| s.applies && !s.allow)
            .map(|s| s.label())
    };
    let key_deny = denied_by(&key_stmts);
    let identity_deny = identity.iter().find_map(|p| denied_by(p));
    let key_direct = key_stmts.iter().any(|s| s.applies && s.allow);
    let key_delegates = key_stmts.iter().any(|s| s.delegates_to_iam);
    let identity_allows =
        ctx.caller_is_root() || identity.iter().flatten().any(|s| s.applies && s.allow);
    let same_account = ctx.principal_account == key_account;
    let summary = match decision {
        Decision::Deny => match (key_deny, identity_deny) {
            (Some(s), _) => format!("Explicitly denied by the key policy's {s}."),
            (None, Some(s)) => format!("Explicitly denied by an identity policy's {s}."),
            (None, None) => "Explicitly denied.".into(),
        },
        Decision::Allow if key_policy.is_none() => if ctx.caller_is_root() {
            "Allowed: the account root has every permission in its own account."
        } else {
            "Allowed by an identity policy."
        }
        .into(),
        Decision::Allow if same_account && key_direct => {
            "Allowed: the key policy allows the caller directly.".into()
        }
        Decision::Allow => {
            "Allowed: the key policy delegates to the account (IAM) and an identity policy allows."
                .into()
        }
        Decision::NotApplicable if key_policy.is_none() => {
            "Implicitly denied: no identity policy allows this action.".into()
        }
        Decision::NotApplicable if !(same_account || key_direct || key_delegates) => {
            "Implicitly denied: the key is in another account and its key policy does not allow the caller.".into()
        }
        Decision::NotApplicable if !same_account => {
            "Implicitly denied: the key policy allows the caller, but no identity policy of the caller does (needed across accounts).".into()
        }
        Decision::NotApplicable if key_delegates && !identity_allows => {
            "Implicitly denied: the key policy delegates to the account (IAM), but no identity policy allows.".into()
        }
        Decision::NotApplicable => {
            "Implicitly denied: no key policy statement allows the caller (a grant may still allow it).".into()
        }
    };
    Explanation {
        decision,
        summary,
        key_policy: key_stmts,
        identity_policies: identity,
    }
}

impl StatementExplanation {
    /// `statement 2 (Sid "X")`.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(s) => format!("statement {} (Sid \"{s}\")", self.index),
            None => format!("statement {}", self.index),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::ConditionValues;

    const ACCT: &str = "111122223333";
    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";

    fn ctx<'a>(arn: &'a str, action: &'a str, cv: &'a ConditionValues) -> RequestContext<'a> {
        RequestContext {
            principal_arn: arn,
            principal_account: ACCT,
            action,
            resource: KEY,
            conditions: cv,
        }
    }

    fn key_policy() -> Policy {
        Policy::parse_key_policy(
            r#"{"Version":"2012-10-17","Statement":[
              {"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"Alice","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"},
              {"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":"kms:ScheduleKeyDeletion","Resource":"*"},
              {"Sid":"Ctx","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"kms:Decrypt","Resource":"*",
               "Condition":{"StringEquals":{"kms:EncryptionContext:app":"x"}}}
            ]}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_direct_allow_names_its_statement() {
        let cv = ConditionValues::new();
        let c = ctx("arn:aws:iam::111122223333:user/alice", "kms:Encrypt", &cv);
        let e = explain(Some(&key_policy()), &[], ACCT, &c);
        assert_eq!(e.decision, Decision::Allow);
        assert!(e.summary.contains("directly"), "{}", e.summary);
        let alice = &e.key_policy[1];
        assert!(alice.applies && alice.allow);
        assert!(alice
            .reasons
            .iter()
            .any(|r| r == "Principal: names the caller"));
        // The root statement only delegates for alice: it does not apply by itself.
        assert!(!e.key_policy[0].applies && e.key_policy[0].delegates_to_iam);
    }

    #[test]
    fn an_explicit_deny_is_named_and_wins() {
        let cv = ConditionValues::new();
        let c = ctx(
            "arn:aws:iam::111122223333:root",
            "kms:ScheduleKeyDeletion",
            &cv,
        );
        let e = explain(Some(&key_policy()), &[], ACCT, &c);
        assert_eq!(e.decision, Decision::Deny);
        assert!(e.summary.contains("Sid \"NoDelete\""), "{}", e.summary);
        assert!(e.key_policy[2].applies && !e.key_policy[2].allow);
    }

    #[test]
    fn a_delegation_without_identity_policy_is_an_implicit_deny() {
        let cv = ConditionValues::new();
        let c = ctx("arn:aws:iam::111122223333:user/carol", "kms:Sign", &cv);
        let e = explain(Some(&key_policy()), &[], ACCT, &c);
        assert_eq!(e.decision, Decision::NotApplicable);
        assert!(e.summary.contains("delegates"), "{}", e.summary);
        // With an identity policy that allows, the same request is allowed.
        let id = Policy::parse_identity_policy(
            r#"{"Statement":{"Effect":"Allow","Action":"kms:Sign","Resource":"*"}}"#,
        )
        .unwrap();
        let e = explain(Some(&key_policy()), &[id], ACCT, &c);
        assert_eq!(e.decision, Decision::Allow);
        assert!(e.identity_policies[0][0].applies);
    }

    #[test]
    fn an_unmet_condition_is_reported() {
        let cv = ConditionValues::new();
        let c = ctx("arn:aws:iam::111122223333:user/bob", "kms:Decrypt", &cv);
        let e = explain(Some(&key_policy()), &[], ACCT, &c);
        assert_eq!(e.decision, Decision::NotApplicable);
        let ctx_stmt = &e.key_policy[3];
        assert!(!ctx_stmt.applies);
        assert!(ctx_stmt
            .reasons
            .iter()
            .any(|r| r.contains("kms:encryptioncontext:app") && r.ends_with("not met")));
        let cv = ConditionValues::new().with("kms:EncryptionContext:app", ["x"]);
        let c = ctx("arn:aws:iam::111122223333:user/bob", "kms:Decrypt", &cv);
        assert_eq!(
            explain(Some(&key_policy()), &[], ACCT, &c).decision,
            Decision::Allow
        );
    }

    #[test]
    fn the_decision_is_always_authorizes() {
        let id = Policy::parse_identity_policy(
            r#"{"Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}"#,
        )
        .unwrap();
        for arn in [
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::444455556666:user/eve",
        ] {
            for action in ["kms:Encrypt", "kms:Decrypt", "kms:ScheduleKeyDeletion"] {
                let cv = ConditionValues::new();
                let c = RequestContext {
                    principal_account: crate::matching::parse_arn(arn).unwrap().account,
                    ..ctx(arn, action, &cv)
                };
                let ids = [id.clone()];
                let e = explain(Some(&key_policy()), &ids, ACCT, &c);
                assert_eq!(
                    e.decision,
                    authorize(&key_policy(), &ids, ACCT, &c),
                    "{arn} {action}"
                );
            }
        }
    }

    #[test]
    fn without_a_key_policy_identity_policies_decide() {
        let cv = ConditionValues::new();
        let c = RequestContext {
            resource: "*",
            ..ctx("arn:aws:iam::111122223333:user/alice", "kms:CreateKey", &cv)
        };
        let e = explain(None, &[], ACCT, &c);
        assert_eq!(e.decision, Decision::NotApplicable);
        assert!(e.summary.contains("no identity policy"), "{}", e.summary);
    }
}
