//! Multi-Region key helpers shared by multi_region.rs and multi_region_lifecycle.rs.

use super::*;
use aws_sdk_kms::types::{KeySpec, KeyUsageType};
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

pub async fn replicate(c: &Client, key: &str, region: &str) -> aws_sdk_kms::types::KeyMetadata {
    ok(c.replicate_key()
        .key_id(key)
        .replica_region(region)
        .send()
        .await)
    .replica_key_metadata
    .unwrap()
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
