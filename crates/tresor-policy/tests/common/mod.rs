//! Shared constants and builders of the evaluator test tables.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub use tresor_policy::{
    authorize, authorize_identity, ConditionValues, Decision, Policy, PolicyError, RequestContext,
};

pub use Decision::{Allow, Deny, NotApplicable as NA};

pub const ACCT: &str = "111122223333";
pub const OTHER: &str = "444455556666";
pub const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
pub const BOB: &str = "arn:aws:iam::111122223333:user/bob";
pub const ROOT: &str = "arn:aws:iam::111122223333:root";
pub const CAROL: &str = "arn:aws:iam::444455556666:user/carol";
pub const DAVE: &str = "arn:aws:iam::444455556666:user/dave";
pub const OTHER_ROOT: &str = "arn:aws:iam::444455556666:root";
pub const ADMIN_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/KeyAdmin/admin-session";
pub const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
pub const OTHER_KEY: &str =
    "arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321";

pub fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap()
}

pub fn conds(pairs: &[(&str, &[&str])]) -> ConditionValues {
    let mut cv = ConditionValues::new();
    for (k, vs) in pairs {
        cv.insert(k, vs.iter().copied());
    }
    cv
}

pub fn ctx<'a>(
    principal: &'a str,
    action: &'a str,
    resource: &'a str,
    conditions: &'a ConditionValues,
) -> RequestContext<'a> {
    RequestContext {
        principal_arn: principal,
        principal_account: account_of(principal),
        action,
        resource,
        conditions,
    }
}

pub fn identity(doc: &str) -> Policy {
    Policy::parse_identity_policy(doc).unwrap_or_else(|e| panic!("{e}\n{doc}"))
}

pub fn key_policy(doc: &str) -> Policy {
    Policy::parse_key_policy(doc).unwrap_or_else(|e| panic!("{e}\n{doc}"))
}

// Policy documents shared by several test files.

pub const DEFAULT_KEY_POLICY: &str = r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
pub const ALLOW_ALL_KMS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;
pub const ALLOW_ENCRYPT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"arn:aws:kms:*:111122223333:key/*"}]}"#;
pub const DENY_DECRYPT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}"#;
pub const ALLOW_OTHER_SERVICE: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
pub const CONSOLE_KEY_POLICY: &str = r#"{
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
pub const EVE: &str = "arn:aws:iam::111122223333:user/eve";
pub const CROSS_ACCOUNT_KEY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
  {"Sid":"Allow use by 444455556666","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},
   "Action":["kms:Encrypt","kms:Decrypt","kms:DescribeKey"],"Resource":"*"},
  {"Sid":"Never decrypt for dave","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::444455556666:user/dave"},
   "Action":"kms:Decrypt","Resource":"*"}
]}"#;
pub const OTHER_ALLOW_KEY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt","kms:ScheduleKeyDeletion"],"Resource":"arn:aws:kms:us-east-1:111122223333:key/*"}]}"#;
pub const OTHER_DENY_ENCRYPT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Encrypt","Resource":"*"}]}"#;

/// A condition test case: the `Condition` element, the request's condition keys, and the
/// expected result of an Allow statement carrying it.
pub type CondCase = (
    &'static str,
    &'static [(&'static str, &'static [&'static str])],
    Decision,
);
