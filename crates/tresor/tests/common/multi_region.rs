//! Multi-Region key helpers shared by multi_region.rs and multi_region_lifecycle.rs.

use super::*;
use aws_sdk_kms::config::Region;
use aws_sdk_kms::types::{KeyMetadata, KeySpec, KeyState, KeyUsageType};
use aws_sdk_kms::Client;

pub const WEST: &str = "eu-west-1";
pub const DAY: u64 = 86_400;

pub async fn mrk(c: &Client) -> String {
    let md = ok(c.create_key().multi_region(true).send().await)
        .key_metadata
        .unwrap();
    md.key_id().to_string()
}

pub async fn mrk_spec(c: &Client, spec: KeySpec, usage: KeyUsageType) -> String {
    ok(c.create_key()
        .multi_region(true)
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await)
    .key_metadata
    .unwrap()
    .key_id()
    .to_string()
}

/// ReplicateKey of `key` into `region`, then (as an AWS user would with a waiter) waits
/// until the replica has left `Creating`; returns its metadata then.
pub async fn replicate(c: &Client, key: &str, region: &str) -> KeyMetadata {
    let md = ok(c
        .replicate_key()
        .key_id(key)
        .replica_region(region)
        .send()
        .await)
    .replica_key_metadata
    .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::Creating));
    settled(&in_region(c, region), key).await
}

/// `c` signing for `region` instead.
pub fn in_region(c: &Client, region: &str) -> Client {
    Client::from_conf(
        c.config()
            .to_builder()
            .region(Region::new(region.to_string()))
            .build(),
    )
}

/// Polls DescribeKey until `key` (in `c`'s Region) is neither `Creating` nor
/// `Updating`; returns its metadata then.
pub async fn settled(c: &Client, key: &str) -> KeyMetadata {
    for _ in 0..400 {
        let md = describe_key_metadata(c, key).await;
        if !matches!(
            md.key_state(),
            Some(KeyState::Creating | KeyState::Updating)
        ) {
            return md;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{key} stayed in its transient state for 10 s")
}

pub async fn encrypt(c: &Client, key: &str, pt: &[u8]) -> Vec<u8> {
    ok(c.encrypt().key_id(key).plaintext(blob(pt)).send().await)
        .ciphertext_blob
        .unwrap()
        .into_inner()
}

pub async fn decrypt(c: &Client, ct: &[u8]) -> Vec<u8> {
    ok(c.decrypt().ciphertext_blob(blob(ct)).send().await)
        .plaintext
        .unwrap()
        .into_inner()
}
