//! Aliases (CreateAlias, UpdateAlias, DeleteAlias, ListAliases) and tags (TagResource,
//! UntagResource, ListResourceTags).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;

use aws_sdk_kms::types::Tag;
use aws_sdk_kms::Client;
use common::*;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().unwrap()
}

async fn tags_of(c: &Client, key: &str) -> BTreeMap<String, String> {
    let out = ok(c.list_resource_tags().key_id(key).send().await);
    assert!(!out.truncated());
    out.tags()
        .iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect()
}

async fn alias_names(c: &Client) -> Vec<String> {
    let out = ok(c.list_aliases().send().await);
    out.aliases()
        .iter()
        .filter_map(|a| a.alias_name().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn create_alias_and_list_aliases_entries() {
    let srv = Server::start();
    let c = srv.client().await;
    let k1 = create_key(&c).await;
    let k2 = create_key(&c).await;
    ok(c.create_alias()
        .alias_name("alias/one")
        .target_key_id(&k1)
        .send()
        .await);
    // TargetKeyId may be a key ARN.
    ok(c.create_alias()
        .alias_name("alias/two")
        .target_key_id(key_arn(REGION, &k1))
        .send()
        .await);
    ok(c.create_alias()
        .alias_name("alias/three_x:y-z/w")
        .target_key_id(&k2)
        .send()
        .await);

    let all = ok(c.list_aliases().send().await);
    assert!(!all.truncated());
    let mine: Vec<_> = all
        .aliases()
        .iter()
        .filter(|a| !a.alias_name().unwrap_or("").starts_with("alias/aws/"))
        .collect();
    assert_eq!(mine.len(), 3, "{mine:?}");
    for a in &mine {
        let name = a.alias_name().unwrap();
        assert_eq!(a.alias_arn(), Some(alias_arn(REGION, name).as_str()));
        let expected = if name == "alias/three_x:y-z/w" {
            &k2
        } else {
            &k1
        };
        // ListAliases reports the key ID (not the ARN) as TargetKeyId.
        assert_eq!(a.target_key_id(), Some(expected.as_str()), "{name}");
        assert!(a.creation_date().is_some(), "{name} has CreationDate");
        assert!(
            a.last_updated_date().is_some(),
            "{name} has LastUpdatedDate"
        );
    }

    // Filtered by key, in any key form.
    for ident in [k1.clone(), key_arn(REGION, &k1)] {
        let only = ok(c.list_aliases().key_id(&ident).send().await);
        let mut names: Vec<&str> = only
            .aliases()
            .iter()
            .filter_map(|a| a.alias_name())
            .collect();
        names.sort();
        assert_eq!(names, vec!["alias/one", "alias/two"]);
    }
    let none = ok(c.list_aliases().key_id(create_key(&c).await).send().await);
    assert!(none.aliases().is_empty());
    assert_code(
        c.list_aliases()
            .key_id("5e0f3a2b-6c7d-4e8f-9a0b-1c2d3e4f5a6b")
            .send()
            .await,
        "NotFoundException",
    );
}

#[tokio::test]
async fn list_aliases_paging() {
    let srv = Server::start();
    let c = srv.client().await;
    let k = create_key(&c).await;
    for i in 0..5 {
        ok(c.create_alias()
            .alias_name(format!("alias/page-{i}"))
            .target_key_id(&k)
            .send()
            .await);
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..10 {
        let mut req = c.list_aliases().key_id(&k).limit(2);
        if let Some(m) = &marker {
            req = req.marker(m);
        }
        let out = ok(req.send().await);
        assert!(out.aliases().len() <= 2);
        seen.extend(
            out.aliases()
                .iter()
                .filter_map(|a| a.alias_name().map(str::to_string)),
        );
        if out.truncated() {
            marker = Some(
                out.next_marker()
                    .expect("NextMarker when Truncated")
                    .to_string(),
            );
        } else {
            marker = None;
            break;
        }
    }
    assert!(marker.is_none(), "paging did not terminate");
    seen.sort();
    assert_eq!(
        seen,
        (0..5)
            .map(|i| format!("alias/page-{i}"))
            .collect::<Vec<_>>()
    );
    assert_code(
        c.list_aliases().limit(0).send().await,
        "ValidationException",
    );
    assert_code(
        c.list_aliases().limit(101).send().await,
        "ValidationException",
    );
}

#[tokio::test]
async fn create_alias_errors() {
    let srv = Server::start();
    let c = srv.client().await;
    let k = create_key(&c).await;
    ok(c.create_alias()
        .alias_name("alias/taken")
        .target_key_id(&k)
        .send()
        .await);
    assert_code(
        c.create_alias()
            .alias_name("alias/taken")
            .target_key_id(&k)
            .send()
            .await,
        "AlreadyExistsException",
    );
    let k2 = create_key(&c).await;
    assert_code(
        c.create_alias()
            .alias_name("alias/taken")
            .target_key_id(&k2)
            .send()
            .await,
        "AlreadyExistsException",
    );
    // Must start with alias/ (AWS: ValidationException "Alias must start with the prefix ...").
    assert_code(
        c.create_alias()
            .alias_name("no-prefix")
            .target_key_id(&k)
            .send()
            .await,
        "ValidationException",
    );
    // Characters outside [a-zA-Z0-9:/_-] and over-long names.
    assert_code_in(
        c.create_alias()
            .alias_name("alias/bad name!")
            .target_key_id(&k)
            .send()
            .await,
        &["ValidationException", "InvalidAliasNameException"],
    );
    let long = format!("alias/{}", "a".repeat(251));
    assert_eq!(long.len(), 257);
    assert_code_in(
        c.create_alias()
            .alias_name(&long)
            .target_key_id(&k)
            .send()
            .await,
        &["ValidationException", "InvalidAliasNameException"],
    );
    let max = format!("alias/{}", "a".repeat(250));
    ok(c.create_alias()
        .alias_name(&max)
        .target_key_id(&k)
        .send()
        .await);
    // Reserved alias/aws/ prefix (exact AWS error code is not documented; it must be a 4xx).
    assert_code_in(
        c.create_alias()
            .alias_name("alias/aws/mine")
            .target_key_id(&k)
            .send()
            .await,
        &[
            "NotAuthorizedException",
            "InvalidAliasNameException",
            "ValidationException",
            "AccessDeniedException",
        ],
    );
    // Unknown target key.
    assert_code(
        c.create_alias()
            .alias_name("alias/orphan")
            .target_key_id("7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6")
            .send()
            .await,
        "NotFoundException",
    );
    // Empty target.
    assert_code(
        c.create_alias()
            .alias_name("alias/empty-target")
            .target_key_id("")
            .send()
            .await,
        "ValidationException",
    );
    let names = alias_names(&c).await;
    for n in [
        "no-prefix",
        "alias/bad name!",
        "alias/aws/mine",
        "alias/orphan",
        "alias/empty-target",
    ] {
        assert!(
            !names.iter().any(|x| x == n),
            "{n} must not have been created: {names:?}"
        );
    }
    assert!(!names.contains(&long));
}

#[tokio::test]
async fn update_alias_retargets() {
    let srv = Server::start();
    let c = srv.client().await;
    let k1 = create_key(&c).await;
    let k2 = create_key(&c).await;
    ok(c.create_alias()
        .alias_name("alias/moving")
        .target_key_id(&k1)
        .send()
        .await);
    let ct1 = ok(c
        .encrypt()
        .key_id("alias/moving")
        .plaintext(blob(b"one"))
        .send()
        .await);
    assert_eq!(ct1.key_id(), Some(key_arn(REGION, &k1).as_str()));

    ok(c.update_alias()
        .alias_name("alias/moving")
        .target_key_id(&k2)
        .send()
        .await);
    let m = ok(c.describe_key().key_id("alias/moving").send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_id(), k2);
    let ct2 = ok(c
        .encrypt()
        .key_id("alias/moving")
        .plaintext(blob(b"two"))
        .send()
        .await);
    assert_eq!(ct2.key_id(), Some(key_arn(REGION, &k2).as_str()));
    let listed = ok(c.list_aliases().key_id(&k2).send().await);
    assert_eq!(listed.aliases().len(), 1);
    assert_eq!(listed.aliases()[0].target_key_id(), Some(k2.as_str()));
    assert!(ok(c.list_aliases().key_id(&k1).send().await)
        .aliases()
        .is_empty());
    // Old ciphertext still decrypts (it names k1, not the alias).
    let d = ok(c
        .decrypt()
        .ciphertext_blob(ct1.ciphertext_blob().unwrap().clone())
        .send()
        .await);
    assert_eq!(d.key_id(), Some(key_arn(REGION, &k1).as_str()));

    assert_code(
        c.update_alias()
            .alias_name("alias/never-created")
            .target_key_id(&k1)
            .send()
            .await,
        "NotFoundException",
    );
    assert_code(
        c.update_alias()
            .alias_name("alias/moving")
            .target_key_id("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
            .send()
            .await,
        "NotFoundException",
    );
    // UpdateAlias is allowed when the new target is disabled.
    ok(c.disable_key().key_id(&k1).send().await);
    ok(c.update_alias()
        .alias_name("alias/moving")
        .target_key_id(&k1)
        .send()
        .await);
}

#[tokio::test]
async fn update_alias_keeps_the_fifty_aliases_per_key_limit() {
    let srv = Server::start();
    let c = srv.client().await;
    let full = create_key(&c).await;
    let other = create_key(&c).await;
    for i in 0..50 {
        ok(c.create_alias()
            .alias_name(format!("alias/full-{i}"))
            .target_key_id(&full)
            .send()
            .await);
    }
    ok(c.create_alias()
        .alias_name("alias/elsewhere")
        .target_key_id(&other)
        .send()
        .await);
    let refused = format!("Key {} already has 50 aliases", key_arn(REGION, &full));
    let e = assert_code(
        c.create_alias()
            .alias_name("alias/one-more")
            .target_key_id(&full)
            .send()
            .await,
        "LimitExceededException",
    );
    assert_eq!(e.message.as_deref(), Some(refused.as_str()));
    // Moving an alias onto the full key is refused the same way, and changes nothing.
    let e = assert_code(
        c.update_alias()
            .alias_name("alias/elsewhere")
            .target_key_id(&full)
            .send()
            .await,
        "LimitExceededException",
    );
    assert_eq!(e.message.as_deref(), Some(refused.as_str()));
    let m = describe_key_metadata(&c, "alias/elsewhere").await;
    assert_eq!(m.key_id(), other);
    let on_full = ok(c.list_aliases().key_id(&full).limit(100).send().await);
    assert_eq!(on_full.aliases().len(), 50);
    // Re-pointing an alias of the full key at the same key adds none: allowed.
    ok(c.update_alias()
        .alias_name("alias/full-0")
        .target_key_id(&full)
        .send()
        .await);
    // Once the full key has a free place, the move succeeds.
    ok(c.update_alias()
        .alias_name("alias/full-1")
        .target_key_id(&other)
        .send()
        .await);
    ok(c.update_alias()
        .alias_name("alias/elsewhere")
        .target_key_id(&full)
        .send()
        .await);
    let m = describe_key_metadata(&c, "alias/elsewhere").await;
    assert_eq!(m.key_id(), full);
    let on_full = ok(c.list_aliases().key_id(&full).limit(100).send().await);
    assert_eq!(on_full.aliases().len(), 50);
}

#[tokio::test]
async fn delete_alias() {
    let srv = Server::start();
    let c = srv.client().await;
    let k = create_key(&c).await;
    ok(c.create_alias()
        .alias_name("alias/temp")
        .target_key_id(&k)
        .send()
        .await);
    ok(c.delete_alias().alias_name("alias/temp").send().await);
    assert_code(
        c.describe_key().key_id("alias/temp").send().await,
        "NotFoundException",
    );
    assert!(!alias_names(&c).await.contains(&"alias/temp".to_string()));
    assert_code(
        c.delete_alias().alias_name("alias/temp").send().await,
        "NotFoundException",
    );
    // The key itself is untouched and the name can be reused.
    ok(c.describe_key().key_id(&k).send().await);
    ok(c.create_alias()
        .alias_name("alias/temp")
        .target_key_id(&k)
        .send()
        .await);
}

#[tokio::test]
async fn tag_untag_and_list_resource_tags() {
    let srv = Server::start();
    let c = srv.client().await;
    let k = create_key(&c).await;
    assert!(tags_of(&c, &k).await.is_empty());
    ok(c.tag_resource()
        .key_id(&k)
        .tags(tag("env", "dev"))
        .tags(tag("owner", "alice"))
        .send()
        .await);
    // By ARN, overwriting one value and adding an empty one.
    ok(c.tag_resource()
        .key_id(key_arn(REGION, &k))
        .tags(tag("env", "prod"))
        .tags(tag("blank", ""))
        .send()
        .await);
    let t = tags_of(&c, &k).await;
    assert_eq!(
        t,
        BTreeMap::from([
            ("blank".to_string(), String::new()),
            ("env".to_string(), "prod".to_string()),
            ("owner".to_string(), "alice".to_string()),
        ])
    );
    // Untag ignores keys that are not present.
    ok(c.untag_resource()
        .key_id(&k)
        .tag_keys("owner")
        .tag_keys("not-there")
        .send()
        .await);
    let t = tags_of(&c, &k).await;
    assert_eq!(
        t.keys().cloned().collect::<Vec<_>>(),
        vec!["blank".to_string(), "env".to_string()]
    );
    // Tags are per key; key-case matters.
    let k2 = create_key(&c).await;
    assert!(tags_of(&c, &k2).await.is_empty());
    ok(c.tag_resource()
        .key_id(&k2)
        .tags(tag("Env", "x"))
        .send()
        .await);
    assert_eq!(tags_of(&c, &k2).await.len(), 1);
    assert_eq!(
        tags_of(&c, &k).await.get("env").map(String::as_str),
        Some("prod")
    );

    // Unknown key.
    let missing = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f";
    assert_code(
        c.tag_resource()
            .key_id(missing)
            .tags(tag("a", "b"))
            .send()
            .await,
        "NotFoundException",
    );
    assert_code(
        c.untag_resource()
            .key_id(missing)
            .tag_keys("a")
            .send()
            .await,
        "NotFoundException",
    );
    assert_code(
        c.list_resource_tags().key_id(missing).send().await,
        "NotFoundException",
    );
}

#[tokio::test]
async fn list_resource_tags_paging() {
    let srv = Server::start();
    let c = srv.client().await;
    let k = create_key(&c).await;
    let mut req = c.tag_resource().key_id(&k);
    for i in 0..5 {
        req = req.tags(tag(&format!("k{i}"), &format!("v{i}")));
    }
    ok(req.send().await);
    let first = ok(c.list_resource_tags().key_id(&k).limit(3).send().await);
    assert_eq!(first.tags().len(), 3);
    assert!(first.truncated());
    let marker = first.next_marker().expect("NextMarker").to_string();
    let second = ok(c
        .list_resource_tags()
        .key_id(&k)
        .limit(3)
        .marker(marker)
        .send()
        .await);
    assert_eq!(second.tags().len(), 2);
    assert!(!second.truncated());
    let mut all: Vec<String> = first
        .tags()
        .iter()
        .chain(second.tags())
        .map(|t| format!("{}={}", t.tag_key(), t.tag_value()))
        .collect();
    all.sort();
    assert_eq!(
        all,
        (0..5).map(|i| format!("k{i}=v{i}")).collect::<Vec<_>>()
    );
    assert_code(
        c.list_resource_tags().key_id(&k).limit(0).send().await,
        "ValidationException",
    );
    assert_code(
        c.list_resource_tags().key_id(&k).limit(51).send().await,
        "ValidationException",
    );
}

#[tokio::test]
async fn tag_validation() {
    let srv = Server::start();
    let c = srv.client().await;
    let k = create_key(&c).await;
    // More than 50 tags in one request.
    let mut req = c.tag_resource().key_id(&k);
    for i in 0..51 {
        req = req.tags(tag(&format!("key{i}"), "v"));
    }
    assert_code(req.send().await, "TagException");
    assert!(
        tags_of(&c, &k).await.is_empty(),
        "a rejected TagResource must not add tags"
    );
    // Exactly 50 is fine.
    let mut req = c.tag_resource().key_id(&k);
    for i in 0..50 {
        req = req.tags(tag(&format!("key{i}"), "v"));
    }
    ok(req.send().await);
    assert_eq!(tags_of(&c, &k).await.len(), 50);

    let k2 = create_key(&c).await;
    // Tag key over 128 / value over 256 characters: model constraints.
    assert_code(
        c.tag_resource()
            .key_id(&k2)
            .tags(tag(&"k".repeat(129), "v"))
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.tag_resource()
            .key_id(&k2)
            .tags(tag("k", &"v".repeat(257)))
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.tag_resource().key_id(&k2).tags(tag("", "v")).send().await,
        "ValidationException",
    );
    ok(c.tag_resource()
        .key_id(&k2)
        .tags(tag(&"k".repeat(128), &"v".repeat(256)))
        .send()
        .await);
    // aws: prefix is reserved.
    assert_code(
        c.tag_resource()
            .key_id(&k2)
            .tags(tag("aws:owner", "me"))
            .send()
            .await,
        "TagException",
    );
    assert_eq!(tags_of(&c, &k2).await.len(), 1);

    // The same rules apply to CreateKey, which then creates nothing.
    let before = ok(c.list_keys().send().await).keys().len();
    let mut ck = c.create_key();
    for i in 0..51 {
        ck = ck.tags(tag(&format!("key{i}"), "v"));
    }
    assert_code(ck.send().await, "TagException");
    assert_code(
        c.create_key().tags(tag(&"k".repeat(129), "v")).send().await,
        "ValidationException",
    );
    assert_code(
        c.create_key().tags(tag("aws:x", "y")).send().await,
        "TagException",
    );
    assert_eq!(ok(c.list_keys().send().await).keys().len(), before);
}
