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

/// The same conditions in a Deny statement: the Deny applies exactly when the condition
/// holds (so negated operators with a missing key deny).
#[test]
fn conditions_in_deny_statements() {
    let cases: &[CondCase] = &[
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &[("aws:SourceIp", &["192.0.2.1"])],
            Deny,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &[("aws:SourceIp", &["10.0.0.1"])],
            Allow,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            &[],
            Deny,
        ),
        (
            r#"{"StringNotEquals":{"kms:EncryptionContext:Dept":"IT"}}"#,
            &[],
            Deny,
        ),
        (
            r#"{"StringNotEqualsIfExists":{"kms:EncryptionContext:Dept":"IT"}}"#,
            &[("kms:EncryptionContext:Dept", &["IT"])],
            Allow,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":"false"}}"#,
            &[("aws:SecureTransport", &["false"])],
            Deny,
        ),
        (r#"{"Bool":{"aws:SecureTransport":"false"}}"#, &[], Allow),
        (
            r#"{"Null":{"kms:EncryptionContextKeys":"true"}}"#,
            &[],
            Deny,
        ),
        (
            r#"{"Null":{"kms:EncryptionContextKeys":"true"}}"#,
            &[("kms:EncryptionContextKeys", &["k"])],
            Allow,
        ),
    ];
    for (cond, values, want) in cases {
        let doc = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"kms:*","Resource":"*"}},{{"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{cond}}}]}}"#
        );
        let cv = conds(values);
        let got = identity(&doc).evaluate_identity(&ctx(ALICE, "kms:Decrypt", KEY, &cv));
        assert_eq!(got, *want, "{cond} with {values:?}");
    }
}
