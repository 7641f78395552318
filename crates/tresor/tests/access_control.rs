//! Access control through the real server: identities created with `tresor admin`, key
//! policies separating administrators from users, identity policies with conditions and
//! explicit denies, grants with encryption-context constraints, cross-account use, the
//! lockout safety check, and a caller with no permissions at all.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::{GrantConstraints, GrantOperation};
use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;

fn ctx(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn denied<T: std::fmt::Debug, E>(
    res: Result<T, aws_sdk_kms::error::SdkError<E, aws_sdk_kms::config::http::HttpResponse>>,
    action: &str,
) where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::fmt::Debug,
{
    let info = assert_code(res, "AccessDeniedException");
    let msg = info.message.unwrap_or_default();
    assert!(
        msg.contains(action),
        "the denial names the action {action}: {msg}"
    );
}

#[tokio::test]
async fn separated_administrator_and_user() {
    let srv = Server::start();
    let root = srv.client().await;
    let alice = create_user(&srv, ACCOUNT, "alice");
    let bob = create_user(&srv, ACCOUNT, "bob");
    assert_eq!(alice.arn, format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "Administrators", "Effect": "Allow", "Principal": {"AWS": alice.arn},
             "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                        "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
                        "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
             "Resource": "*"},
            {"Sid": "Users", "Effect": "Allow", "Principal": {"AWS": bob.arn},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
             "Resource": "*"}
        ]
    });
    let key = ok(root.create_key().policy(policy.to_string()).send().await)
        .key_metadata
        .unwrap()
        .key_id()
        .to_string();
    let stored: Value = serde_json::from_str(
        ok(root.get_key_policy().key_id(&key).send().await)
            .policy()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stored, policy, "GetKeyPolicy returns the policy as given");

    let a = client_for(&srv, &alice).await;
    let b = client_for(&srv, &bob).await;
    // The administrator manages but cannot use.
    ok(a.describe_key().key_id(&key).send().await);
    ok(a.disable_key().key_id(&key).send().await);
    ok(a.enable_key().key_id(&key).send().await);
    ok(a.tag_resource()
        .key_id(&key)
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key("t")
                .tag_value("v")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    denied(
        a.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
        "kms:Encrypt",
    );
    // The user uses but cannot manage.
    let ct = ok(b
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"secret"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap();
    assert_eq!(
        ok(b.decrypt().ciphertext_blob(ct.clone()).send().await)
            .plaintext
            .unwrap()
            .as_ref(),
        b"secret"
    );
    denied(b.disable_key().key_id(&key).send().await, "kms:DisableKey");
    denied(
        b.put_key_policy()
            .key_id(&key)
            .policy(policy.to_string())
            .send()
            .await,
        "kms:PutKeyPolicy",
    );
    denied(
        b.schedule_key_deletion().key_id(&key).send().await,
        "kms:ScheduleKeyDeletion",
    );
    denied(a.decrypt().ciphertext_blob(ct).send().await, "kms:Decrypt");
}

#[tokio::test]
async fn caller_without_permissions_is_denied_everywhere() {
    let srv = Server::start();
    let root = srv.client().await;
    let key = create_key(&root).await;
    let carol = create_user(&srv, ACCOUNT, "carol");
    let c = client_for(&srv, &carol).await;
    denied(c.create_key().send().await, "kms:CreateKey");
    denied(c.list_keys().send().await, "kms:ListKeys");
    denied(c.list_aliases().send().await, "kms:ListAliases");
    denied(
        c.generate_random().number_of_bytes(8).send().await,
        "kms:GenerateRandom",
    );
    let info = assert_code(
        c.describe_key().key_id(&key).send().await,
        "AccessDeniedException",
    );
    let msg = info.message.unwrap_or_default();
    assert!(
        msg.contains(&carol.arn) && msg.contains(&key_arn(REGION, &key)),
        "names the caller and the key: {msg}"
    );
    denied(
        c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
        "kms:Encrypt",
    );
    denied(
        c.get_key_policy().key_id(&key).send().await,
        "kms:GetKeyPolicy",
    );
    denied(
        c.create_grant()
            .key_id(&key)
            .grantee_principal(&carol.arn)
            .operations(GrantOperation::Encrypt)
            .send()
            .await,
        "kms:CreateGrant",
    );
    // Administration is for the operator and account roots only.
    assert!(run_admin(
        &srv,
        Some(&carol),
        &["user", "create", "--account", ACCOUNT, "--name", "mallory"]
    )
    .is_err());
}

#[tokio::test]
async fn identity_policies_conditions_and_explicit_deny() {
    let srv = Server::start();
    let root = srv.client().await;
    let key = create_key(&root).await; // default key policy: delegates to identity policies
    let dave = create_user(&srv, ACCOUNT, "dave");
    let d = client_for(&srv, &dave).await;
    denied(
        d.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
        "kms:Encrypt",
    );
    put_policy(
        &srv,
        ACCOUNT,
        "dave",
        &json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:DescribeKey", "kms:CreateKey"], "Resource": "*"},
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "IT"}}},
            {"Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*",
             "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "Secret"}}}
        ]}),
    );
    let it = ok(d
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"x"))
        .set_encryption_context(Some(ctx(&[("Dept", "IT")])))
        .send()
        .await)
    .ciphertext_blob
    .unwrap();
    let hr = ok(d
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"x"))
        .set_encryption_context(Some(ctx(&[("Dept", "HR")])))
        .send()
        .await)
    .ciphertext_blob
    .unwrap();
    ok(d.decrypt()
        .ciphertext_blob(it)
        .set_encryption_context(Some(ctx(&[("Dept", "IT")])))
        .send()
        .await);
    denied(
        d.decrypt()
            .ciphertext_blob(hr)
            .set_encryption_context(Some(ctx(&[("Dept", "HR")])))
            .send()
            .await,
        "kms:Decrypt",
    );
    denied(
        d.encrypt()
            .key_id(&key)
            .plaintext(blob(b"x"))
            .set_encryption_context(Some(ctx(&[("Dept", "Secret")])))
            .send()
            .await,
        "kms:Encrypt",
    );
    // Identity policies also cover account-level actions.
    ok(d.create_key().send().await);
    denied(d.list_keys().send().await, "kms:ListKeys");
    // A malformed identity policy is refused with a useful message.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        r#"{"Statement":[{"Effect":"Maybe","Action":"kms:*","Resource":"*"}]}"#,
    )
    .unwrap();
    let err = admin(
        &srv,
        &[
            "user",
            "put-policy",
            "--account",
            ACCOUNT,
            "--name",
            "dave",
            "--policy-file",
            file.path().to_str().unwrap(),
        ],
    )
    .unwrap_err();
    assert!(
        err.contains("MalformedPolicyDocumentException") && err.contains("Effect"),
        "{err}"
    );
}

#[tokio::test]
async fn grants_with_constraints_tokens_retire_and_revoke() {
    let srv = Server::start();
    let root = srv.client().await;
    let key = create_key(&root).await;
    let erin = create_user(&srv, ACCOUNT, "erin");
    let e = client_for(&srv, &erin).await;
    denied(
        e.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
        "kms:Encrypt",
    );
    let grant = ok(root
        .create_grant()
        .key_id(&key)
        .grantee_principal(&erin.arn)
        .retiring_principal(&erin.arn)
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .constraints(
            GrantConstraints::builder()
                .set_encryption_context_subset(Some(ctx(&[("Dept", "IT")])))
                .build(),
        )
        .name("erin-it")
        .send()
        .await);
    let (grant_id, token) = (
        grant.grant_id().unwrap().to_string(),
        grant.grant_token().unwrap().to_string(),
    );
    // Name makes CreateGrant idempotent.
    let again = ok(root
        .create_grant()
        .key_id(&key)
        .grantee_principal(&erin.arn)
        .retiring_principal(&erin.arn)
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .constraints(
            GrantConstraints::builder()
                .set_encryption_context_subset(Some(ctx(&[("Dept", "IT")])))
                .build(),
        )
        .name("erin-it")
        .send()
        .await);
    assert_eq!(again.grant_id(), Some(grant_id.as_str()));

    let it = ctx(&[("Dept", "IT"), ("Extra", "1")]);
    let ct = ok(e
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"x"))
        .set_encryption_context(Some(it.clone()))
        .grant_tokens(&token)
        .send()
        .await)
    .ciphertext_blob
    .unwrap();
    ok(e.decrypt()
        .ciphertext_blob(ct)
        .set_encryption_context(Some(it))
        .send()
        .await);
    denied(
        e.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
        "kms:Encrypt",
    );
    denied(
        e.generate_data_key()
            .key_id(&key)
            .number_of_bytes(16)
            .set_encryption_context(Some(ctx(&[("Dept", "IT")])))
            .send()
            .await,
        "kms:GenerateDataKey",
    );
    assert_code(
        e.encrypt()
            .key_id(&key)
            .plaintext(blob(b"x"))
            .grant_tokens("not-a-token")
            .send()
            .await,
        "InvalidGrantTokenException",
    );

    let listed = ok(root.list_grants().key_id(&key).send().await);
    assert_eq!(listed.grants().len(), 1);
    let g = &listed.grants()[0];
    assert_eq!(g.grantee_principal(), Some(erin.arn.as_str()));
    assert_eq!(g.key_id(), Some(key_arn(REGION, &key).as_str()));
    assert_eq!(
        g.issuing_account(),
        Some(format!("arn:aws:iam::{ACCOUNT}:root").as_str())
    );
    assert_eq!(g.name(), Some("erin-it"));
    let retirable = ok(root
        .list_retirable_grants()
        .retiring_principal(&erin.arn)
        .send()
        .await);
    assert_eq!(retirable.grants().len(), 1);

    ok(e.retire_grant().grant_token(&token).send().await);
    denied(
        e.encrypt()
            .key_id(&key)
            .plaintext(blob(b"x"))
            .set_encryption_context(Some(ctx(&[("Dept", "IT")])))
            .send()
            .await,
        "kms:Encrypt",
    );
    assert!(ok(root.list_grants().key_id(&key).send().await)
        .grants()
        .is_empty());

    let g2 = ok(root
        .create_grant()
        .key_id(&key)
        .grantee_principal(&erin.arn)
        .operations(GrantOperation::DescribeKey)
        .send()
        .await);
    ok(e.describe_key().key_id(&key).send().await);
    ok(root
        .revoke_grant()
        .key_id(&key)
        .grant_id(g2.grant_id().unwrap())
        .send()
        .await);
    denied(
        e.describe_key().key_id(&key).send().await,
        "kms:DescribeKey",
    );
    assert_code(
        root.revoke_grant()
            .key_id(&key)
            .grant_id(g2.grant_id().unwrap())
            .send()
            .await,
        "NotFoundException",
    );
    assert_code(
        root.create_grant()
            .key_id(&key)
            .grantee_principal(&erin.arn)
            .operations(GrantOperation::Sign)
            .send()
            .await,
        "ValidationException",
    );
}

#[tokio::test]
async fn cross_account_use_needs_both_policies() {
    let srv = Server::start();
    let root = srv.client().await;
    let other = "444455556666";
    let frank = create_user(&srv, other, "bob");
    assert_eq!(frank.arn, format!("arn:aws:iam::{other}:user/bob"));
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Other", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{other}:root")},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}
    ]});
    let key = ok(root.create_key().policy(policy.to_string()).send().await)
        .key_metadata
        .unwrap()
        .key_id()
        .to_string();
    let arn = key_arn(REGION, &key);
    let f = client_for(&srv, &frank).await;
    denied(
        f.encrypt().key_id(&arn).plaintext(blob(b"x")).send().await,
        "kms:Encrypt",
    );
    put_policy(
        &srv,
        other,
        "bob",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": arn}]}),
    );
    let ct = ok(f
        .encrypt()
        .key_id(&arn)
        .plaintext(blob(b"shared"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap();
    assert_eq!(
        ok(f.decrypt().ciphertext_blob(ct).send().await)
            .plaintext
            .unwrap()
            .as_ref(),
        b"shared"
    );
    // The identity policy does not cover DescribeKey; a bare key id names a key of the caller's account.
    denied(
        f.describe_key().key_id(&arn).send().await,
        "kms:DescribeKey",
    );
    assert_code(
        f.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
        "NotFoundException",
    );
}

#[tokio::test]
async fn key_policy_operations_and_lockout_check() {
    let srv = Server::start();
    let root = srv.client().await;
    let key = create_key(&root).await;
    let default: Value = serde_json::from_str(
        ok(root.get_key_policy().key_id(&key).send().await)
            .policy()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        default["Statement"][0]["Principal"]["AWS"],
        format!("arn:aws:iam::{ACCOUNT}:root")
    );
    assert_eq!(default["Statement"][0]["Action"], "kms:*");
    assert_eq!(
        ok(root.list_key_policies().key_id(&key).send().await).policy_names(),
        ["default"]
    );
    assert_code(
        root.get_key_policy()
            .key_id(&key)
            .policy_name("other")
            .send()
            .await,
        "NotFoundException",
    );

    let someone_else = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/nobody")}, "Action": "kms:*", "Resource": "*"}
    ]})
    .to_string();
    assert_code(
        root.put_key_policy()
            .key_id(&key)
            .policy(&someone_else)
            .send()
            .await,
        "MalformedPolicyDocumentException",
    );
    assert_code(
        root.create_key().policy(&someone_else).send().await,
        "MalformedPolicyDocumentException",
    );
    assert_code(
        root.put_key_policy()
            .key_id(&key)
            .policy("{not json")
            .send()
            .await,
        "MalformedPolicyDocumentException",
    );
    assert_code(
        root.put_key_policy()
            .key_id(&key)
            .policy(format!(
                "{{\"Statement\":[],\"Pad\":\"{}\"}}",
                "x".repeat(33_000)
            ))
            .send()
            .await,
        "LimitExceededException",
    );
    // With the safety check bypassed, the caller can lock itself out.
    ok(root
        .put_key_policy()
        .key_id(&key)
        .policy(&someone_else)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await);
    denied(
        root.get_key_policy().key_id(&key).send().await,
        "kms:GetKeyPolicy",
    );
    denied(
        root.encrypt()
            .key_id(&key)
            .plaintext(blob(b"x"))
            .send()
            .await,
        "kms:Encrypt",
    );
}

#[tokio::test]
async fn disabled_users_stop_authenticating() {
    let srv = Server::start();
    let gina = create_user(&srv, ACCOUNT, "gina");
    put_policy(
        &srv,
        ACCOUNT,
        "gina",
        &json!({"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}),
    );
    let g = client_for(&srv, &gina).await;
    ok(g.list_keys().send().await);
    let users = admin(&srv, &["user", "list", "--account", ACCOUNT]).unwrap();
    assert!(users["Users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["Arn"] == gina.arn.as_str()));
    admin(
        &srv,
        &["user", "disable", "--account", ACCOUNT, "--name", "gina"],
    )
    .unwrap();
    assert_code(g.list_keys().send().await, "UnrecognizedClientException");
    assert!(admin(
        &srv,
        &["user", "create", "--account", ACCOUNT, "--name", "gina"]
    )
    .unwrap_err()
    .contains("AlreadyExists"));
}
