//! KMS's combined decision: default and console key policies, identity policies, cross-account.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;

// ---------------------------------------------------------------------------------------
// authorize: the default key policy, the console policy, cross-account
// ---------------------------------------------------------------------------------------

/// (caller, action, identity policies, expected authorize decision)
type AuthCase = (
    &'static str,
    &'static str,
    &'static [&'static str],
    Decision,
);

fn run_auth_cases(key_doc: &str, cases: &[AuthCase]) {
    let kp = key_policy(key_doc);
    let mut failures = Vec::new();
    for (i, (caller, action, ids, want)) in cases.iter().enumerate() {
        let ids: Vec<Policy> = ids.iter().map(|d| identity(d)).collect();
        let cv = ConditionValues::new();
        let got = authorize(&kp, &ids, ACCT, &ctx(caller, action, KEY, &cv));
        if got != *want {
            failures.push(format!(
                "case {i}: {caller} {action} with {} identity policies: got {got:?}, want {want:?}",
                ids.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn default_key_policy() {
    run_auth_cases(
        DEFAULT_KEY_POLICY,
        &[
            // Without identity policies a user in the account gets nothing.
            (ALICE, "kms:Encrypt", &[], NA),
            // With one, IAM decides.
            (ALICE, "kms:Encrypt", &[ALLOW_ALL_KMS], Allow),
            (ALICE, "kms:Encrypt", &[ALLOW_ENCRYPT], Allow),
            (ALICE, "kms:Decrypt", &[ALLOW_ENCRYPT], NA),
            (ALICE, "kms:Decrypt", &[ALLOW_OTHER_SERVICE], NA),
            (ALICE, "kms:Decrypt", &[ALLOW_ALL_KMS, DENY_DECRYPT], Deny),
            (ALICE, "kms:Encrypt", &[ALLOW_ALL_KMS, DENY_DECRYPT], Allow),
            (ALICE, "kms:Decrypt", &[DENY_DECRYPT], Deny),
            // The account root needs no identity policy.
            (ROOT, "kms:ScheduleKeyDeletion", &[], Allow),
            (ROOT, "kms:Decrypt", &[DENY_DECRYPT], Deny),
            // Other accounts get nothing, even with their own identity policies.
            (CAROL, "kms:Encrypt", &[ALLOW_ALL_KMS], NA),
            (OTHER_ROOT, "kms:Encrypt", &[], NA),
        ],
    );
}

#[test]
fn console_key_policy_with_administrators_and_users() {
    run_auth_cases(
        CONSOLE_KEY_POLICY,
        &[
            // Key administrators manage the key but cannot use it.
            (ADMIN_SESSION, "kms:PutKeyPolicy", &[], Allow),
            (ADMIN_SESSION, "kms:ScheduleKeyDeletion", &[], Allow),
            (BOB, "kms:DisableKey", &[], Allow),
            (BOB, "kms:GetKeyPolicy", &[], Allow),
            (BOB, "kms:Encrypt", &[], NA),
            (ADMIN_SESSION, "kms:Decrypt", &[], NA),
            // ... unless IAM grants it through the root delegation.
            (BOB, "kms:Encrypt", &[ALLOW_ALL_KMS], Allow),
            // Key users use the key but cannot manage it.
            (ALICE, "kms:Encrypt", &[], Allow),
            (ALICE, "kms:ReEncryptFrom", &[], Allow),
            (ALICE, "kms:GenerateDataKeyPair", &[], Allow),
            (ALICE, "kms:ScheduleKeyDeletion", &[], NA),
            (ALICE, "kms:PutKeyPolicy", &[], NA),
            (ALICE, "kms:Decrypt", &[DENY_DECRYPT], Deny),
            // The grant statement needs kms:GrantIsForAWSResource.
            (ALICE, "kms:CreateGrant", &[], NA),
            // Anyone else in the account goes through IAM.
            (EVE, "kms:Encrypt", &[], NA),
            (EVE, "kms:Encrypt", &[ALLOW_ENCRYPT], Allow),
            (ROOT, "kms:PutKeyPolicy", &[], Allow),
            (CAROL, "kms:Encrypt", &[ALLOW_ALL_KMS], NA),
        ],
    );
    let kp = key_policy(CONSOLE_KEY_POLICY);
    let for_aws = conds(&[("kms:GrantIsForAWSResource", &["true"])]);
    let not_for_aws = conds(&[("kms:GrantIsForAWSResource", &["false"])]);
    assert_eq!(
        authorize(
            &kp,
            &[],
            ACCT,
            &ctx(ALICE, "kms:CreateGrant", KEY, &for_aws)
        ),
        Allow
    );
    assert_eq!(
        authorize(
            &kp,
            &[],
            ACCT,
            &ctx(ALICE, "kms:CreateGrant", KEY, &not_for_aws)
        ),
        NA
    );
}

#[test]
fn cross_account() {
    run_auth_cases(
        CROSS_ACCOUNT_KEY_POLICY,
        &[
            // The key policy alone is not enough across accounts...
            (CAROL, "kms:Encrypt", &[], NA),
            // ... the caller's identity policy must allow too.
            (CAROL, "kms:Encrypt", &[OTHER_ALLOW_KEY], Allow),
            (CAROL, "kms:Decrypt", &[OTHER_ALLOW_KEY], Allow),
            (CAROL, "kms:DescribeKey", &[OTHER_ALLOW_KEY], NA),
            // An identity policy cannot extend what the key policy grants.
            (CAROL, "kms:ScheduleKeyDeletion", &[OTHER_ALLOW_KEY], NA),
            (
                CAROL,
                "kms:Encrypt",
                &[OTHER_ALLOW_KEY, OTHER_DENY_ENCRYPT],
                Deny,
            ),
            // A Deny in the key policy wins.
            (DAVE, "kms:Decrypt", &[OTHER_ALLOW_KEY], Deny),
            (DAVE, "kms:Encrypt", &[OTHER_ALLOW_KEY], Allow),
            // The other account's root has implicit identity permissions.
            (OTHER_ROOT, "kms:Encrypt", &[], Allow),
            (OTHER_ROOT, "kms:ScheduleKeyDeletion", &[], NA),
            // Same-account behaviour is unchanged.
            (ALICE, "kms:Encrypt", &[], NA),
            (ALICE, "kms:Encrypt", &[ALLOW_ALL_KMS], Allow),
            // A third account is not named.
            (
                "arn:aws:iam::555555555555:user/mallory",
                "kms:Encrypt",
                &[ALLOW_ALL_KMS],
                NA,
            ),
        ],
    );
}

#[test]
fn cross_account_to_a_named_user_or_everyone() {
    let named = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/carol"},"Action":"kms:*","Resource":"*"}
    ]}"#;
    run_auth_cases(
        named,
        &[
            (CAROL, "kms:Encrypt", &[OTHER_ALLOW_KEY], Allow),
            (CAROL, "kms:Encrypt", &[], NA),
            (DAVE, "kms:Encrypt", &[OTHER_ALLOW_KEY], NA),
            (OTHER_ROOT, "kms:Encrypt", &[], NA),
            // Same account, no root statement: IAM cannot grant.
            (ALICE, "kms:Encrypt", &[ALLOW_ALL_KMS], NA),
            (ROOT, "kms:Encrypt", &[], NA),
        ],
    );
    let everyone = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Principal":"*","Action":"kms:Encrypt","Resource":"*"}
    ]}"#;
    run_auth_cases(
        everyone,
        &[
            (ALICE, "kms:Encrypt", &[], Allow),
            (CAROL, "kms:Encrypt", &[], NA),
            (CAROL, "kms:Encrypt", &[OTHER_ALLOW_KEY], Allow),
            (CAROL, "kms:Decrypt", &[OTHER_ALLOW_KEY], NA),
        ],
    );
}

#[test]
fn key_policy_conditions_cross_account() {
    let kp = key_policy(
        r#"{"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"kms:Decrypt","Resource":"*",
           "Condition":{"StringEquals":{"kms:CallerAccount":"444455556666","kms:EncryptionContext:Dept":"IT"}}}
        ]}"#,
    );
    let ids = [identity(OTHER_ALLOW_KEY)];
    let it = conds(&[("kms:EncryptionContext:Dept", &["IT"])]);
    let hr = conds(&[("kms:EncryptionContext:Dept", &["HR"])]);
    assert_eq!(
        authorize(&kp, &ids, ACCT, &ctx(CAROL, "kms:Decrypt", KEY, &it)),
        Allow
    );
    assert_eq!(
        authorize(&kp, &ids, ACCT, &ctx(CAROL, "kms:Decrypt", KEY, &hr)),
        NA
    );
}

#[test]
fn account_level_actions_use_identity_policies_only() {
    let cv = ConditionValues::new();
    let create = |p| ctx(p, "kms:CreateKey", "*", &cv);
    let allow = [identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:CreateKey","Resource":"*"}}"#,
    )];
    let deny = [identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kms:*","Resource":"*"}}"#,
    )];
    assert_eq!(authorize_identity(&[], &create(ALICE)), NA);
    assert_eq!(authorize_identity(&allow, &create(ALICE)), Allow);
    assert_eq!(authorize_identity(&deny, &create(ALICE)), Deny);
    assert_eq!(authorize_identity(&[], &create(ROOT)), Allow);
    assert_eq!(authorize_identity(&deny, &create(ROOT)), Deny);
}
