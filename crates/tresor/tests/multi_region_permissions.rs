//! ReplicateKey's permissions through aws-sdk-kms: kms:ReplicateKey on the primary and,
//! as AWS requires, kms:CreateKey in the replica Region (the caller's identity policies,
//! evaluated with `aws:RequestedRegion` set to the replica Region); and kms:TagResource
//! for Tags given to CreateKey or ReplicateKey. The use, then the attacks next to it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::Tag;
use common::*;
use serde_json::{json, Value};

const WEST: &str = "eu-west-1";
const SOUTH: &str = "ap-south-1";

/// A statement allowing kms:CreateKey only in `region`.
fn create_key_in(region: &str) -> Value {
    json!({"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*",
           "Condition": {"StringEquals": {"aws:RequestedRegion": region}}})
}

fn replicate_anywhere() -> Value {
    json!({"Effect": "Allow", "Action": ["kms:ReplicateKey", "kms:DescribeKey"], "Resource": "*"})
}

#[tokio::test]
async fn replicating_needs_create_key_in_the_replica_region() {
    let srv = Server::start();
    let root = srv.client().await;
    let bob = create_user(&srv, ACCOUNT, "bob");
    let b = client_for(&srv, &bob).await;
    let arn = bob.arn.clone();
    // One named policy, replaced by each call (put_policy names it after a temp file).
    let put = |statements: Vec<Value>| {
        let file = tempfile::NamedTempFile::new().unwrap();
        let doc = json!({"Version": "2012-10-17", "Statement": statements});
        std::fs::write(file.path(), doc.to_string()).unwrap();
        admin(
            &srv,
            &[
                "user",
                "put-policy",
                "--account",
                ACCOUNT,
                "--name",
                "bob",
                "--policy-name",
                "replication",
                "--policy-file",
                file.path().to_str().unwrap(),
            ],
        )
        .expect("put-policy");
    };
    // The default key policy: the account delegates to identity policies.
    let id = ok(root.create_key().multi_region(true).send().await)
        .key_metadata
        .unwrap()
        .key_id()
        .to_string();

    // The use: ReplicateKey, and CreateKey allowed in the replica Region.
    put(vec![replicate_anywhere(), create_key_in(WEST)]);
    let md = ok(b
        .replicate_key()
        .key_id(&id)
        .replica_region(WEST)
        .send()
        .await)
    .replica_key_metadata
    .unwrap();
    assert_eq!(md.arn(), Some(key_arn(WEST, &id).as_str()));

    // The attack: ReplicateKey allowed, CreateKey not at all.
    put(vec![replicate_anywhere()]);
    let e = assert_code(
        b.replicate_key()
            .key_id(&id)
            .replica_region(SOUTH)
            .send()
            .await,
        "AccessDeniedException",
    );
    assert_eq!(
        e.message.as_deref().unwrap_or_default(),
        format!(
            "User: {arn} is not authorized to perform: kms:CreateKey on resource: * \
             because no identity-based policy allows the kms:CreateKey action"
        )
    );
    // CreateKey allowed only in the caller's own Region is not CreateKey in the
    // replica Region.
    put(vec![replicate_anywhere(), create_key_in(REGION)]);
    let e = assert_code(
        b.replicate_key()
            .key_id(&id)
            .replica_region(SOUTH)
            .send()
            .await,
        "AccessDeniedException",
    );
    let m = e.message.unwrap_or_default();
    assert!(m.contains("kms:CreateKey"), "{m}");
    // An explicit deny of CreateKey in the replica Region wins over an allow.
    let mut deny = create_key_in(SOUTH);
    deny["Effect"] = json!("Deny");
    put(vec![
        replicate_anywhere(),
        json!({"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"}),
        deny,
    ]);
    let e = assert_code(
        b.replicate_key()
            .key_id(&id)
            .replica_region(SOUTH)
            .send()
            .await,
        "AccessDeniedException",
    );
    assert_eq!(
        e.message.as_deref().unwrap_or_default(),
        format!(
            "User: {arn} is not authorized to perform: kms:CreateKey on resource: * \
             with an explicit deny in an identity-based policy"
        )
    );
    // No refused attempt left a replica behind.
    let south = srv.client_in(SOUTH).await;
    assert_code(
        south.describe_key().key_id(&id).send().await,
        "NotFoundException",
    );
    // CreateKey in the replica Region without ReplicateKey on the primary is refused
    // by the primary's check.
    put(vec![
        json!({"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"}),
    ]);
    let e = assert_code(
        b.replicate_key()
            .key_id(&id)
            .replica_region(SOUTH)
            .send()
            .await,
        "AccessDeniedException",
    );
    let m = e.message.unwrap_or_default();
    assert!(m.contains("kms:ReplicateKey"), "{m}");
    // With both, the same request succeeds.
    put(vec![replicate_anywhere(), create_key_in(SOUTH)]);
    ok(b.replicate_key()
        .key_id(&id)
        .replica_region(SOUTH)
        .send()
        .await);
}

/// Replaces `who`'s one identity policy by `statements`.
fn put_statements(srv: &Server, who: &str, statements: Vec<Value>) {
    let file = tempfile::NamedTempFile::new().unwrap();
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    std::fs::write(file.path(), doc.to_string()).unwrap();
    admin(
        srv,
        &[
            "user",
            "put-policy",
            "--account",
            ACCOUNT,
            "--name",
            who,
            "--policy-name",
            "tagging",
            "--policy-file",
            file.path().to_str().unwrap(),
        ],
    )
    .expect("put-policy");
}

fn tag() -> Tag {
    Tag::builder()
        .tag_key("team")
        .tag_value("blue")
        .build()
        .unwrap()
}

#[tokio::test]
async fn tags_at_create_key_and_replicate_key_need_tag_resource() {
    let srv = Server::start();
    let root = srv.client().await;
    let carol = create_user(&srv, ACCOUNT, "carol");
    let c = client_for(&srv, &carol).await;
    // AWS's answer, as quoted in a public issue report.
    let denied = "You don't have the kms:TagResource permission that is required to add tags \
                  during key creation.";
    put_statements(
        &srv,
        "carol",
        vec![
            json!({"Effect": "Allow", "Action": ["kms:CreateKey", "kms:ReplicateKey"], "Resource": "*"}),
        ],
    );
    // The use: CreateKey without Tags needs only kms:CreateKey.
    ok(c.create_key().send().await);
    // The attack: Tags without kms:TagResource.
    let e = assert_code(
        c.create_key().tags(tag()).send().await,
        "AccessDeniedException",
    );
    assert_eq!(e.message.as_deref(), Some(denied));

    let id = ok(root.create_key().multi_region(true).send().await)
        .key_metadata
        .unwrap()
        .key_id()
        .to_string();
    let e = assert_code(
        c.replicate_key()
            .key_id(&id)
            .replica_region(WEST)
            .tags(tag())
            .send()
            .await,
        "AccessDeniedException",
    );
    assert_eq!(e.message.as_deref(), Some(denied));
    // kms:TagResource allowed only in the caller's own Region is not enough for the
    // replica's tags.
    put_statements(
        &srv,
        "carol",
        vec![
            json!({"Effect": "Allow", "Action": ["kms:CreateKey", "kms:ReplicateKey"], "Resource": "*"}),
            json!({"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*",
                   "Condition": {"StringEquals": {"aws:RequestedRegion": REGION}}}),
        ],
    );
    ok(c.create_key().tags(tag()).send().await);
    let e = assert_code(
        c.replicate_key()
            .key_id(&id)
            .replica_region(WEST)
            .tags(tag())
            .send()
            .await,
        "AccessDeniedException",
    );
    assert_eq!(e.message.as_deref(), Some(denied));
    // No refused attempt left a replica behind; without Tags the replica is made.
    let west = srv.client_in(WEST).await;
    assert_code(
        west.describe_key().key_id(&id).send().await,
        "NotFoundException",
    );
    ok(c.replicate_key()
        .key_id(&id)
        .replica_region(SOUTH)
        .send()
        .await);
    // With kms:TagResource in the replica Region, the tagged replica is made.
    put_statements(
        &srv,
        "carol",
        vec![
            json!({"Effect": "Allow", "Action": ["kms:CreateKey", "kms:ReplicateKey", "kms:TagResource"], "Resource": "*"}),
        ],
    );
    let out = ok(c
        .replicate_key()
        .key_id(&id)
        .replica_region(WEST)
        .tags(tag())
        .send()
        .await);
    assert_eq!(out.replica_tags()[0].tag_value(), "blue");
}
