//! Table-driven tests of parsing and evaluation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;

// ---------------------------------------------------------------------------------------
// Action and Resource
// ---------------------------------------------------------------------------------------

#[test]
fn actions_and_resources() {
    // (Action/NotAction/Resource/NotResource fragment, action, resource, expected)
    let cases: &[(&str, &str, &str, Decision)] = &[
        (
            r#""Action":"kms:*","Resource":"*""#,
            "kms:Encrypt",
            KEY,
            Allow,
        ),
        (
            r#""Action":"kms:*","Resource":"*""#,
            "iam:CreateUser",
            KEY,
            NA,
        ),
        (
            r#""Action":"*","Resource":"*""#,
            "iam:CreateUser",
            KEY,
            Allow,
        ),
        (
            r#""Action":"kms:Re*","Resource":"*""#,
            "kms:ReEncryptFrom",
            KEY,
            Allow,
        ),
        (
            r#""Action":"kms:Re*","Resource":"*""#,
            "kms:Encrypt",
            KEY,
            NA,
        ),
        (
            r#""Action":"kms:?ncrypt","Resource":"*""#,
            "kms:Encrypt",
            KEY,
            Allow,
        ),
        (
            r#""Action":"kms:?ncrypt","Resource":"*""#,
            "kms:Decrypt",
            KEY,
            NA,
        ),
        (
            r#""Action":"kms:GenerateDataKey*","Resource":"*""#,
            "kms:GenerateDataKeyWithoutPlaintext",
            KEY,
            Allow,
        ),
        (
            r#""Action":"kms:GenerateDataKey*","Resource":"*""#,
            "kms:GenerateMac",
            KEY,
            NA,
        ),
        // Action names are case-insensitive.
        (
            r#""Action":"KMS:ENCRYPT","Resource":"*""#,
            "kms:Encrypt",
            KEY,
            Allow,
        ),
        (
            r#""Action":"kms:encrypt","Resource":"*""#,
            "kms:Decrypt",
            KEY,
            NA,
        ),
        (
            r#""Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*""#,
            "kms:Encrypt",
            KEY,
            Allow,
        ),
        (
            r#""Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*""#,
            "kms:Sign",
            KEY,
            NA,
        ),
        // NotAction.
        (
            r#""NotAction":"kms:Decrypt","Resource":"*""#,
            "kms:Encrypt",
            KEY,
            Allow,
        ),
        (
            r#""NotAction":"kms:Decrypt","Resource":"*""#,
            "kms:Decrypt",
            KEY,
            NA,
        ),
        (
            r#""NotAction":["kms:Schedule*","kms:Delete*"],"Resource":"*""#,
            "kms:ScheduleKeyDeletion",
            KEY,
            NA,
        ),
        (
            r#""NotAction":["kms:Schedule*","kms:Delete*"],"Resource":"*""#,
            "kms:DescribeKey",
            KEY,
            Allow,
        ),
        (
            r#""NotAction":"kms:*","Resource":"*""#,
            "iam:GetUser",
            KEY,
            Allow,
        ),
        (
            r#""NotAction":"kms:*","Resource":"*""#,
            "kms:Encrypt",
            KEY,
            NA,
        ),
        // Resource wildcards (case-sensitive).
        (
            &format!(r#""Action":"kms:*","Resource":"{KEY}""#),
            "kms:Encrypt",
            KEY,
            Allow,
        ),
        (
            &format!(r#""Action":"kms:*","Resource":"{KEY}""#),
            "kms:Encrypt",
            OTHER_KEY,
            NA,
        ),
        (
            r#""Action":"kms:*","Resource":"arn:aws:kms:*:111122223333:key/*""#,
            "kms:Encrypt",
            KEY,
            Allow,
        ),
        (
            r#""Action":"kms:*","Resource":"arn:aws:kms:*:444455556666:key/*""#,
            "kms:Encrypt",
            KEY,
            NA,
        ),
        (
            r#""Action":"kms:*","Resource":"arn:aws:kms:us-east-?:111122223333:key/*""#,
            "kms:Encrypt",
            KEY,
            Allow,
        ),
        (
            r#""Action":"kms:*","Resource":"arn:aws:kms:us-west-?:111122223333:key/*""#,
            "kms:Encrypt",
            KEY,
            NA,
        ),
        (
            r#""Action":"kms:*","Resource":"arn:aws:kms:*:111122223333:KEY/*""#,
            "kms:Encrypt",
            KEY,
            NA,
        ),
        (
            r#""Action":"kms:*","Resource":"arn:aws:kms:*""#,
            "kms:Encrypt",
            KEY,
            Allow,
        ),
        (
            r#""Action":"kms:*","Resource":["arn:aws:kms:*:111122223333:alias/*","arn:aws:kms:*:111122223333:key/*"]"#,
            "kms:Encrypt",
            KEY,
            Allow,
        ),
        // Account-level actions use resource "*".
        (
            r#""Action":"kms:CreateKey","Resource":"*""#,
            "kms:CreateKey",
            "*",
            Allow,
        ),
        (
            r#""Action":"kms:CreateKey","Resource":"arn:aws:kms:*:111122223333:key/*""#,
            "kms:CreateKey",
            "*",
            NA,
        ),
        // NotResource.
        (
            &format!(r#""Action":"kms:*","NotResource":"{KEY}""#),
            "kms:Encrypt",
            KEY,
            NA,
        ),
        (
            &format!(r#""Action":"kms:*","NotResource":"{KEY}""#),
            "kms:Encrypt",
            OTHER_KEY,
            Allow,
        ),
        (
            r#""Action":"kms:*","NotResource":"arn:aws:kms:*:444455556666:*""#,
            "kms:Encrypt",
            KEY,
            Allow,
        ),
    ];
    for (frag, action, resource, want) in cases {
        let doc =
            format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",{frag}}}]}}"#);
        let cv = ConditionValues::new();
        let got = identity(&doc).evaluate_identity(&ctx(ALICE, action, resource, &cv));
        assert_eq!(got, *want, "{frag} / {action} on {resource}");
    }
}

// ---------------------------------------------------------------------------------------
// Principal / NotPrincipal in resource (key) policies
// ---------------------------------------------------------------------------------------

#[test]
fn principals_in_key_policies() {
    // (statement principal fragment with effect, caller, expected evaluate_resource)
    let cases: &[(&str, &str, Decision)] = &[
        (r#""Effect":"Allow","Principal":"*""#, ALICE, Allow),
        (r#""Effect":"Allow","Principal":"*""#, CAROL, Allow),
        (r#""Effect":"Allow","Principal":{"AWS":"*"}"#, CAROL, Allow),
        (
            r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"}"#,
            ALICE,
            Allow,
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"}"#,
            BOB,
            NA,
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/bob","arn:aws:iam::111122223333:user/alice"]}"#,
            ALICE,
            Allow,
        ),
        // The account root / account id delegates; it does not allow alice directly.
        (
            r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"}"#,
            ALICE,
            NA,
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":"111122223333"}"#,
            ALICE,
            NA,
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"}"#,
            ROOT,
            Allow,
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":"111122223333"}"#,
            ROOT,
            Allow,
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"}"#,
            OTHER_ROOT,
            NA,
        ),
        // A role ARN matches that role's sessions; another role does not.
        (
            r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/KeyAdmin"}"#,
            ADMIN_SESSION,
            Allow,
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ops/KeyAdmin"}"#,
            ADMIN_SESSION,
            Allow,
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Other"}"#,
            ADMIN_SESSION,
            NA,
        ),
        (
            r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/KeyAdmin"}"#,
            ADMIN_SESSION,
            NA,
        ),
        // Service principals never match an IAM caller.
        (
            r#""Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"}"#,
            ALICE,
            NA,
        ),
        (
            r#""Effect":"Allow","Principal":{"Service":["logs.amazonaws.com"],"AWS":"arn:aws:iam::111122223333:user/alice"}"#,
            ALICE,
            Allow,
        ),
        // Deny naming the account applies to everyone in it.
        (
            r#""Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"}"#,
            ALICE,
            Deny,
        ),
        (
            r#""Effect":"Deny","Principal":{"AWS":"111122223333"}"#,
            BOB,
            Deny,
        ),
        (
            r#""Effect":"Deny","Principal":{"AWS":"111122223333"}"#,
            CAROL,
            NA,
        ),
        (
            r#""Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"}"#,
            ALICE,
            NA,
        ),
        (
            r#""Effect":"Deny","Principal":{"Service":"cloudtrail.amazonaws.com"}"#,
            ALICE,
            NA,
        ),
        // NotPrincipal (Deny only): excluded only when both the caller and its account are listed.
        (
            r#""Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:root"]}"#,
            ALICE,
            NA,
        ),
        (
            r#""Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:root"]}"#,
            BOB,
            Deny,
        ),
        (
            r#""Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:root"]}"#,
            CAROL,
            Deny,
        ),
        (
            r#""Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:root"]}"#,
            ROOT,
            NA,
        ),
        (
            r#""Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"}"#,
            ALICE,
            Deny,
        ),
        (
            r#""Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/KeyAdmin","111122223333"]}"#,
            ADMIN_SESSION,
            NA,
        ),
        (
            r#""Effect":"Deny","NotPrincipal":{"Service":"cloudtrail.amazonaws.com"}"#,
            ALICE,
            Deny,
        ),
        (r#""Effect":"Deny","NotPrincipal":{"AWS":"*"}"#, ALICE, NA),
    ];
    for (frag, caller, want) in cases {
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{{frag},"Action":"kms:*","Resource":"*"}}]}}"#
        );
        let cv = ConditionValues::new();
        let got = key_policy(&doc).evaluate_resource(&ctx(caller, "kms:Encrypt", KEY, &cv));
        assert_eq!(got, *want, "{frag} / {caller}");
    }
}

#[test]
fn allows_account_root_reports_delegation() {
    let p = key_policy(
        r#"{"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"kms:Decrypt","Resource":"*",
             "Condition":{"StringEquals":{"kms:EncryptionContext:Dept":"IT"}}},
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::555555555555:user/x"},"Action":"kms:*","Resource":"*"}
        ]}"#,
    );
    let none = ConditionValues::new();
    let it = conds(&[("kms:EncryptionContext:Dept", &["IT"])]);
    assert!(p.allows_account_root(ACCT, &ctx(ALICE, "kms:Encrypt", KEY, &none)));
    assert!(!p.allows_account_root(OTHER, &ctx(CAROL, "kms:Encrypt", KEY, &none)));
    assert!(!p.allows_account_root(OTHER, &ctx(CAROL, "kms:Decrypt", KEY, &none)));
    assert!(p.allows_account_root(OTHER, &ctx(CAROL, "kms:Decrypt", KEY, &it)));
    // A user ARN in another account is not that account's root.
    assert!(!p.allows_account_root("555555555555", &ctx(CAROL, "kms:Encrypt", KEY, &none)));
    // Principal "*" is a direct allow, not delegation.
    let star = key_policy(
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}"#,
    );
    assert!(!star.allows_account_root(ACCT, &ctx(ALICE, "kms:Encrypt", KEY, &none)));
    assert_eq!(
        star.evaluate_resource(&ctx(ALICE, "kms:Encrypt", KEY, &none)),
        Allow
    );
}

// ---------------------------------------------------------------------------------------
// Deny precedence
// ---------------------------------------------------------------------------------------

#[test]
fn explicit_deny_wins() {
    let cases: &[(&str, &str, Decision)] = &[
        (
            r#"[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]"#,
            "kms:Decrypt",
            Deny,
        ),
        (
            r#"[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]"#,
            "kms:Encrypt",
            Allow,
        ),
        (
            r#"[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"},{"Effect":"Allow","Action":"kms:*","Resource":"*"}]"#,
            "kms:Decrypt",
            Deny,
        ),
        (
            r#"[{"Effect":"Deny","Action":"kms:*","Resource":"*"}]"#,
            "kms:Decrypt",
            Deny,
        ),
        (
            r#"[{"Effect":"Deny","Action":"kms:Encrypt","Resource":"*"}]"#,
            "kms:Decrypt",
            NA,
        ),
        (
            r#"[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"},{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]"#,
            "kms:Decrypt",
            Allow,
        ),
    ];
    for (stmts, action, want) in cases {
        let doc = format!(r#"{{"Version":"2012-10-17","Statement":{stmts}}}"#);
        let cv = ConditionValues::new();
        let got = identity(&doc).evaluate_identity(&ctx(ALICE, action, KEY, &cv));
        assert_eq!(got, *want, "{stmts} / {action}");
    }
}

// ---------------------------------------------------------------------------------------
// authorize: the default key policy, the console policy, cross-account
// ---------------------------------------------------------------------------------------

const DEFAULT_KEY_POLICY: &str = r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;

const ALLOW_ALL_KMS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;
const ALLOW_ENCRYPT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"arn:aws:kms:*:111122223333:key/*"}]}"#;
const DENY_DECRYPT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}"#;
const ALLOW_OTHER_SERVICE: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

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

const CONSOLE_KEY_POLICY: &str = r#"{
  "Id": "key-consolepolicy-3",
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Enable IAM User Permissions",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
      "Action": "kms:*",
      "Resource": "*"
    },
    {
      "Sid": "Allow access for Key Administrators",
      "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::111122223333:role/KeyAdmin", "arn:aws:iam::111122223333:user/bob"]},
      "Action": [
        "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
        "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
        "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
        "kms:RotateKeyOnDemand"
      ],
      "Resource": "*"
    },
    {
      "Sid": "Allow use of the key",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
      "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      "Resource": "*"
    },
    {
      "Sid": "Allow attachment of persistent resources",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
      "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
      "Resource": "*",
      "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    }
  ]
}"#;

const EVE: &str = "arn:aws:iam::111122223333:user/eve";

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

const CROSS_ACCOUNT_KEY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
  {"Sid":"Allow use by 444455556666","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},
   "Action":["kms:Encrypt","kms:Decrypt","kms:DescribeKey"],"Resource":"*"},
  {"Sid":"Never decrypt for dave","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::444455556666:user/dave"},
   "Action":"kms:Decrypt","Resource":"*"}
]}"#;

const OTHER_ALLOW_KEY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt","kms:ScheduleKeyDeletion"],"Resource":"arn:aws:kms:us-east-1:111122223333:key/*"}]}"#;
const OTHER_DENY_ENCRYPT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Encrypt","Resource":"*"}]}"#;

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

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Kind {
    Any,
    Key,
    Identity,
}

fn parse(kind: Kind, doc: &str) -> Result<Policy, PolicyError> {
    match kind {
        Kind::Any => Policy::parse(doc),
        Kind::Key => Policy::parse_key_policy(doc),
        Kind::Identity => Policy::parse_identity_policy(doc),
    }
}

#[test]
fn malformed_documents() {
    use Kind::*;
    // (kind, document, substrings the message must contain)
    let cases: &[(Kind, &str, &[&str])] = &[
        (Any, "not json", &["not valid JSON"]),
        (Any, "[]", &["must be a JSON object"]),
        (
            Any,
            r#"{"Version":"2012-10-17"}"#,
            &["Statement", "missing"],
        ),
        (Any, r#"{"Statement":[]}"#, &["at least one statement"]),
        (Any, r#"{"Statement":"x"}"#, &["Statement must be"]),
        (Any, r#"{"Statement":[1]}"#, &["statement 1", "JSON object"]),
        (
            Any,
            r#"{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            &["Version"],
        ),
        (
            Any,
            r#"{"Version":20121017,"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            &["Version"],
        ),
        (
            Any,
            r#"{"Id":7,"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            &["Id must be a string"],
        ),
        (
            Any,
            r#"{"Statements":[]}"#,
            &["unknown top-level element \"Statements\""],
        ),
        (
            Any,
            r#"{"Statement":{"Action":"kms:*","Resource":"*"}}"#,
            &["statement 1", "Effect is missing"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"allow","Action":"kms:*","Resource":"*"}}"#,
            &["Effect must be", "allow"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":true,"Action":"kms:*","Resource":"*"}}"#,
            &["Effect must be"],
        ),
        (
            Any,
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"kms:*","Resource":"*"},{"Sid":"Second","Effect":"Allow","Action":"kms:*","NotAction":"kms:Decrypt","Resource":"*"}]}"#,
            &["statement 2 (Sid \"Second\")", "Action and NotAction"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            &["Action or NotAction is required"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#,
            &["Action must not be an empty list"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":[1],"Resource":"*"}}"#,
            &["Action must be a string"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":{"kms":"*"},"Resource":"*"}}"#,
            &["Action must be a string"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"Encrypt","Resource":"*"}}"#,
            &["Action \"Encrypt\" is not valid"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":5}}"#,
            &["Resource must be a string"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","NotResource":"*"}}"#,
            &["Resource and NotResource"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Actions":"kms:*","Resource":"*"}}"#,
            &["unknown element \"Actions\""],
        ),
        (
            Any,
            r#"{"Statement":{"Sid":5,"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            &["Sid must be a string"],
        ),
        (
            Any,
            r#"{"Statement":[{"Sid":"X","Effect":"Allow","Action":"kms:*","Resource":"*"},{"Sid":"X","Effect":"Deny","Action":"kms:*","Resource":"*"}]}"#,
            &["Sid \"X\"", "unique"],
        ),
        // Conditions.
        (
            Any,
            r#"{"Statement":{"Sid":"C","Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}}}"#,
            &[
                "statement 1 (Sid \"C\")",
                "StringEqualz",
                "not a supported condition operator",
            ],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"ForSomeValues:StringEquals":{"a:b":"c"}}}}"#,
            &["ForSomeValues:StringEquals"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":"x"}}"#,
            &["Condition must be a JSON object"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":"x"}}}"#,
            &["StringEquals", "JSON object"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"a:b":{"x":1}}}}}"#,
            &["\"a:b\"", "values must be strings"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"a:b":[null]}}}}"#,
            &["values must be strings"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"a:b":[]}}}}"#,
            &["empty list of values"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{}}}}"#,
            &["names no condition key"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"NumericLessThan":{"a:b":"ten"}}}}"#,
            &["\"ten\" is not a number"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"soon"}}}}"#,
            &["not a date"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}"#,
            &["not an IP address"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}"#,
            &["true or false"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"Null":{"a:b":"maybe"}}}}"#,
            &["true or false"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"NullIfExists":{"a:b":"true"}}}}"#,
            &["Null cannot take the IfExists suffix"],
        ),
        // Principals.
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"kms:*","Resource":"*"}}"#,
            &["Principal and NotPrincipal"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}"#,
            &["NotPrincipal can only be used with", "Deny"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":"alice","Action":"kms:*","Resource":"*"}}"#,
            &["Principal must be"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"kms:*","Resource":"*"}}"#,
            &["Principal.AWS", "invalid principal \"alice\""],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"kms:*","Resource":"*"}}"#,
            &["wildcards"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["111122223333", 5]},"Action":"kms:*","Resource":"*"}}"#,
            &["Principal.AWS must be a string"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":{"Users":"x"},"Action":"kms:*","Resource":"*"}}"#,
            &["unknown principal type \"Users\""],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":{},"Action":"kms:*","Resource":"*"}}"#,
            &["at least one principal"],
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":["*"],"Action":"kms:*","Resource":"*"}}"#,
            &["Principal must be"],
        ),
        // Kind-specific rules.
        (
            Key,
            r#"{"Statement":{"Sid":"NoOne","Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            &["Sid \"NoOne\"", "must have a Principal"],
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}"#,
            &["identity policy must not have a Principal"],
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}"#,
            &["identity policy must not have a Principal"],
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*"}}"#,
            &["must have a Resource or NotResource"],
        ),
    ];
    let mut failures = Vec::new();
    for (i, (kind, doc, needles)) in cases.iter().enumerate() {
        match parse(*kind, doc) {
            Ok(_) => failures.push(format!("case {i}: {doc} parsed as {kind:?}")),
            Err(PolicyError::Malformed(msg)) => {
                for n in *needles {
                    if !msg.contains(n) {
                        failures.push(format!("case {i}: message {msg:?} lacks {n:?}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn well_formed_documents() {
    use Kind::*;
    let cases: &[(Kind, &str)] = &[
        (Key, DEFAULT_KEY_POLICY),
        (Key, CONSOLE_KEY_POLICY),
        (Key, CROSS_ACCOUNT_KEY_POLICY),
        (Identity, ALLOW_ALL_KMS),
        // Version 2008-10-17 and a missing Version; Statement as a single object.
        (
            Identity,
            r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
        ),
        // Numbers and booleans as condition values; every operator family with IfExists
        // and set qualifiers.
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{
            "NumericLessThanEqualsIfExists":{"a:n":[1,2.5]},"BoolIfExists":{"a:b":false},
            "ForAllValues:StringLikeIfExists":{"a:s":"x*"},"ForAnyValue:ArnNotLike":{"a:arn":"arn:aws:iam::*:user/*"},
            "DateGreaterThanEqualsIfExists":{"a:d":"2020-01-01T00:00:00Z"},"NotIpAddressIfExists":{"a:ip":"::1"},
            "StringNotEqualsIgnoreCaseIfExists":{"a:c":"X"},"ArnEquals":{"a:e":"arn:aws:kms:*:*:key/*"},
            "Null":{"a:z":true},"BinaryEquals":{"a:bin":"QmluYXJ5"}}}}"#,
        ),
        // Key policy kinds of principal.
        (
            Key,
            r#"{"Statement":[
            {"Effect":"Allow","Principal":{"AWS":["*","111122223333","arn:aws:iam::111122223333:role/x/y","arn:aws:sts::111122223333:assumed-role/R/s"]},"Action":"kms:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*"},
            {"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}]}"#,
        ),
        // A key policy statement may omit Resource (it then covers this key).
        (
            Key,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*"}}"#,
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}"#,
        ),
        (
            Any,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
        ),
    ];
    for (kind, doc) in cases {
        if let Err(e) = parse(*kind, doc) {
            panic!("{kind:?} {doc}: {e}");
        }
    }
    let p = key_policy(DEFAULT_KEY_POLICY);
    assert_eq!(p.version(), Some("2012-10-17"));
    assert_eq!(p.id(), Some("key-default-1"));
    assert_eq!(p.statement_count(), 1);
    assert_eq!(key_policy(CONSOLE_KEY_POLICY).statement_count(), 4);
}

#[test]
fn key_policy_without_resource_covers_the_key() {
    let p =
        key_policy(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:Encrypt"}}"#);
    let cv = ConditionValues::new();
    assert_eq!(
        p.evaluate_resource(&ctx(ALICE, "kms:Encrypt", KEY, &cv)),
        Allow
    );
    assert_eq!(
        p.evaluate_resource(&ctx(ALICE, "kms:Decrypt", KEY, &cv)),
        NA
    );
}

#[test]
fn statements_without_principal_in_resource_evaluation() {
    // Only reachable through the kind-less `Policy::parse`: an Allow with no principal
    // grants nothing as a resource policy, a Deny with no principal denies everyone.
    let allow = Policy::parse(ALLOW_ALL_KMS).unwrap();
    let deny = Policy::parse(DENY_DECRYPT).unwrap();
    let cv = ConditionValues::new();
    assert_eq!(
        allow.evaluate_resource(&ctx(ALICE, "kms:Encrypt", KEY, &cv)),
        NA
    );
    assert_eq!(
        allow.evaluate_identity(&ctx(ALICE, "kms:Encrypt", KEY, &cv)),
        Allow
    );
    assert_eq!(
        deny.evaluate_resource(&ctx(ALICE, "kms:Decrypt", KEY, &cv)),
        Deny
    );
}

#[test]
fn condition_values_keys_are_case_insensitive() {
    let mut cv = ConditionValues::new();
    cv.insert("kms:EncryptionContext:Dept", ["IT"]);
    cv.push("AWS:TagKeys", "a");
    cv.push("aws:tagkeys", "b");
    assert_eq!(
        cv.get("KMS:ENCRYPTIONCONTEXT:DEPT"),
        Some(&["IT".to_owned()][..])
    );
    assert_eq!(cv.get("aws:TagKeys").map(<[String]>::len), Some(2));
    assert_eq!(cv.get("aws:SourceIp"), None);
    assert_eq!(cv.len(), 2);
    let built: ConditionValues = [("a:b", vec!["1"])].into_iter().collect();
    assert_eq!(built, ConditionValues::new().with("A:B", ["1"]));
}
