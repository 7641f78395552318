//! AWS_CLOUDHSM custom key stores over PKCS#11, against a real SoftHSM2 token of each
//! test's own (`SOFTHSM2_CONF` in a temporary directory), driven with aws-sdk-kms.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::{
    ConnectionErrorCodeType, ConnectionStateType, CustomKeyStoreType, DataKeySpec, KeySpec,
    KeyState, KeyUsageType, OriginType,
};
use aws_sdk_kms::Client;
use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const CLUSTER: &str = "cluster-abcdefgh234";
const OTHER_CLUSTER: &str = "cluster-zyxwvut7654";
const PIN: &str = "kmsuser-482916";
const SO_PIN: &str = "99887766";
/// A self-signed P-256 certificate standing for the cluster's trust anchor.
const TRUST_ANCHOR: &str = "-----BEGIN CERTIFICATE-----
MIIBrjCCAVOgAwIBAgIUUdvEbJwbmKjfaR1kPbx8HtIl0gcwCgYIKoZIzj0EAwIw
KzEpMCcGA1UEAwwgdHJlc29yLXRlc3QtY2x1c3Rlci10cnVzdC1hbmNob3IwIBcN
MjYxMjAxMTczMDUxWhgPMjEyNjExMDcxNzMwNTFaMCsxKTAnBgNVBAMMIHRyZXNv
ci10ZXN0LWNsdXN0ZXItdHJ1c3QtYW5jaG9yMFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEXyiGoANQW0AsXeEyBZvoVtWuJp1iLzD8c6g2e46Y49sgVjfK9XvXshR9
TmUvG4h1izn2Q68fIoQp/wa6M1fa4KNTMFEwHQYDVR0OBBYEFGfxUv8jvCamI24A
SWh3hl1zIRKjMB8GA1UdIwQYMBaAFGfxUv8jvCamI24ASWh3hl1zIRKjMA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhALZQbmXYah8t1YxjlMy6IE8P
SniaUygUe767ZVPYkjs2AiEA9VV0rRbTQMnoxLddeYMG2CEDFu8s+qkG9uu8V7dd
HIQ=
-----END CERTIFICATE-----
";

/// A temporary SoftHSM2 configuration with tokens `labels`, each with user PIN [`PIN`].
struct Hsm {
    tmp: tempfile::TempDir,
    conf: PathBuf,
}

impl Hsm {
    fn new(labels: &[&str]) -> Hsm {
        assert!(Path::new(MODULE).exists(), "apt-get install softhsm2");
        let tmp = tempfile::tempdir().unwrap();
        let tokens = tmp.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = tmp.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        for label in labels {
            let out = Command::new("softhsm2-util")
                .env("SOFTHSM2_CONF", &conf)
                .args(["--init-token", "--free", "--label", label])
                .args(["--pin", PIN, "--so-pin", SO_PIN])
                .output()
                .expect("softhsm2-util (apt-get install softhsm2)");
            assert!(out.status.success(), "{out:?}");
        }
        Hsm { tmp, conf }
    }

    /// A dev server in `dir` declaring `clusters` (`ID=MODULE:LABEL`).
    fn serve(&self, dir: &Path, clusters: &[String]) -> Server {
        let mut flags = vec!["--dev".to_string(), "--test-clock".to_string()];
        for c in clusters {
            flags.push("--hsm-cluster".into());
            flags.push(c.clone());
        }
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let conf = self.conf.to_str().unwrap().to_string();
        Server::start_opts(dir, &flags, &[("SOFTHSM2_CONF", &conf)])
    }
}

fn cluster(id: &str, label: &str) -> String {
    format!("{id}={MODULE}:{label}")
}

async fn create_store(c: &Client, name: &str, cluster_id: &str, pin: &str) -> String {
    ok(c.create_custom_key_store()
        .custom_key_store_name(name)
        .cloud_hsm_cluster_id(cluster_id)
        .trust_anchor_certificate(TRUST_ANCHOR)
        .key_store_password(pin)
        .send()
        .await)
    .custom_key_store_id
    .unwrap()
}

async fn store_state(
    c: &Client,
    id: &str,
) -> (ConnectionStateType, Option<ConnectionErrorCodeType>) {
    let out = ok(c
        .describe_custom_key_stores()
        .custom_key_store_id(id)
        .send()
        .await);
    let s = &out.custom_key_stores()[0];
    (
        s.connection_state().unwrap().clone(),
        s.connection_error_code().cloned(),
    )
}

async fn create_hsm_key(c: &Client, store: &str) -> String {
    ok(c.create_key()
        .custom_key_store_id(store)
        .origin(OriginType::AwsCloudhsm)
        .send()
        .await)
    .key_metadata
    .unwrap()
    .key_id()
    .to_string()
}

fn grep_dir(dir: &Path, needles: &[&str]) {
    for path in files_under(dir) {
        let bytes = std::fs::read(&path).unwrap();
        for n in needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                "{n:?} found in {}",
                path.display()
            );
        }
    }
}

#[tokio::test]
async fn an_hsm_store_connects_encrypts_in_the_token_and_disconnects() {
    let hsm = Hsm::new(&["kms-a"]);
    let dir = hsm.tmp.path().join("data");
    let srv = hsm.serve(&dir, &[cluster(CLUSTER, "kms-a")]);
    let c = srv.client().await;
    let store = create_store(&c, "primary", CLUSTER, PIN).await;
    assert!(store.starts_with("cks-") && store.len() == 21, "{store}");
    let described = ok(c
        .describe_custom_key_stores()
        .custom_key_store_id(&store)
        .send()
        .await);
    let entry = &described.custom_key_stores()[0];
    assert_eq!(entry.custom_key_store_name(), Some("primary"));
    assert_eq!(entry.cloud_hsm_cluster_id(), Some(CLUSTER));
    assert_eq!(entry.trust_anchor_certificate(), Some(TRUST_ANCHOR));
    assert_eq!(
        entry.custom_key_store_type(),
        Some(&CustomKeyStoreType::AwsCloudhsm)
    );
    assert_eq!(
        entry.connection_state(),
        Some(&ConnectionStateType::Disconnected)
    );
    assert!(entry.creation_date().is_some());

    // Not connected: no keys yet, and disconnecting is refused.
    assert_code(
        c.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::AwsCloudhsm)
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );
    assert_code(
        c.disconnect_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );
    ok(c.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await);
    assert_eq!(
        store_state(&c, &store).await,
        (ConnectionStateType::Connected, None)
    );
    // Connecting a connected store is a no-op.
    ok(c.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await);

    let key = create_hsm_key(&c, &store).await;
    let meta = describe_key_metadata(&c, &key).await;
    assert_eq!(meta.origin(), Some(&OriginType::AwsCloudhsm));
    assert_eq!(meta.custom_key_store_id(), Some(store.as_str()));
    assert_eq!(meta.cloud_hsm_cluster_id(), Some(CLUSTER));
    assert_eq!(meta.key_state(), Some(&KeyState::Enabled));
    assert_eq!(meta.key_spec(), Some(&KeySpec::SymmetricDefault));

    let enc = ok(c
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"kept in the token"))
        .encryption_context("purpose", "test")
        .send()
        .await);
    let ct = enc.ciphertext_blob().unwrap().clone();
    let dec = ok(c
        .decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("purpose", "test")
        .send()
        .await);
    assert_eq!(dec.plaintext().unwrap().as_ref(), b"kept in the token");
    assert_eq!(dec.key_id(), Some(key_arn(REGION, &key).as_str()));
    // Attack: another context, or an altered blob, does not decrypt.
    assert_code(
        c.decrypt()
            .ciphertext_blob(ct.clone())
            .encryption_context("purpose", "other")
            .send()
            .await,
        "InvalidCiphertextException",
    );
    let mut altered = ct.as_ref().to_vec();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    assert_code(
        c.decrypt().ciphertext_blob(blob(&altered)).send().await,
        "InvalidCiphertextException",
    );
    let dk = ok(c
        .generate_data_key()
        .key_id(&key)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await);
    let opened = ok(c
        .decrypt()
        .ciphertext_blob(dk.ciphertext_blob().unwrap().clone())
        .send()
        .await);
    assert_eq!(opened.plaintext(), dk.plaintext());
    let software = create_key(&c).await;
    let re = ok(c
        .re_encrypt()
        .ciphertext_blob(ct.clone())
        .source_encryption_context("purpose", "test")
        .destination_key_id(&software)
        .send()
        .await);
    assert_eq!(re.source_key_id(), Some(key_arn(REGION, &key).as_str()));
    let random = ok(c
        .generate_random()
        .number_of_bytes(64)
        .custom_key_store_id(&store)
        .send()
        .await);
    assert_eq!(random.plaintext().unwrap().as_ref().len(), 64);

    // Only the name changes while connected; deleting needs a disconnected store.
    ok(c.update_custom_key_store()
        .custom_key_store_id(&store)
        .new_custom_key_store_name("renamed")
        .send()
        .await);
    assert_code(
        c.update_custom_key_store()
            .custom_key_store_id(&store)
            .key_store_password("another-pin")
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );
    assert_code(
        c.delete_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );

    // Disconnected: the key is Unavailable and cryptography is refused.
    ok(c.disconnect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await);
    assert_eq!(
        store_state(&c, &store).await,
        (ConnectionStateType::Disconnected, None)
    );
    let meta = describe_key_metadata(&c, &key).await;
    assert_eq!(meta.key_state(), Some(&KeyState::Unavailable));
    assert_code(
        c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
        "KMSInvalidStateException",
    );
    assert_code(
        c.decrypt()
            .ciphertext_blob(ct.clone())
            .encryption_context("purpose", "test")
            .send()
            .await,
        "KMSInvalidStateException",
    );
    assert_code(
        c.generate_random()
            .number_of_bytes(8)
            .custom_key_store_id(&store)
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );
    assert_code(
        c.delete_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await,
        "CustomKeyStoreHasCMKsException",
    );

    // Reconnected, the old ciphertext decrypts again; and after a restart too.
    ok(c.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await);
    ok(c.decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("purpose", "test")
        .send()
        .await);
    drop(c);
    drop(srv);
    let srv = hsm.serve(&dir, &[cluster(CLUSTER, "kms-a")]);
    let c = srv.client().await;
    let again = ok(c
        .decrypt()
        .ciphertext_blob(ct)
        .encryption_context("purpose", "test")
        .send()
        .await);
    assert_eq!(again.plaintext().unwrap().as_ref(), b"kept in the token");
    // The PIN is stored wrapped only, and never audited.
    grep_dir(&dir, &[PIN]);
}

#[tokio::test]
async fn a_wrong_pin_fails_the_connection_until_disconnected_and_updated() {
    let hsm = Hsm::new(&["kms-b"]);
    let dir = hsm.tmp.path().join("data");
    let srv = hsm.serve(&dir, &[cluster(CLUSTER, "kms-b")]);
    let c = srv.client().await;
    let store = create_store(&c, "wrong-pin", CLUSTER, "not-the-pin").await;
    ok(c.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await);
    assert_eq!(
        store_state(&c, &store).await,
        (
            ConnectionStateType::Failed,
            Some(ConnectionErrorCodeType::InvalidCredentials)
        )
    );
    // A FAILED store must be disconnected before it connects again.
    assert_code(
        c.connect_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );
    assert_code(
        c.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::AwsCloudhsm)
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );
    ok(c.disconnect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await);
    ok(c.update_custom_key_store()
        .custom_key_store_id(&store)
        .key_store_password(PIN)
        .send()
        .await);
    ok(c.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await);
    assert_eq!(
        store_state(&c, &store).await,
        (ConnectionStateType::Connected, None)
    );
    let key = create_hsm_key(&c, &store).await;
    ok(c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await);
}

#[tokio::test]
async fn create_and_update_follow_aws_rules() {
    let hsm = Hsm::new(&["kms-c", "kms-d"]);
    let dir = hsm.tmp.path().join("data");
    let srv = hsm.serve(
        &dir,
        &[cluster(CLUSTER, "kms-c"), cluster(OTHER_CLUSTER, "kms-d")],
    );
    let c = srv.client().await;
    let create = |name: &str, cluster_id: &str, anchor: &str, pin: &str| {
        c.create_custom_key_store()
            .custom_key_store_name(name)
            .cloud_hsm_cluster_id(cluster_id)
            .trust_anchor_certificate(anchor)
            .key_store_password(pin)
            .send()
    };
    assert_code(
        create("x", "cluster-aaaaaaaaaaa", TRUST_ANCHOR, PIN).await,
        "CloudHsmClusterNotFoundException",
    );
    assert_code(
        create("x", "cluster-abc", TRUST_ANCHOR, PIN).await,
        "ValidationException",
    );
    assert_code(
        create("x", CLUSTER, TRUST_ANCHOR, "short").await,
        "ValidationException",
    );
    assert_code(
        create(
            "x",
            CLUSTER,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            PIN,
        )
        .await,
        "IncorrectTrustAnchorException",
    );
    assert_code(
        c.create_custom_key_store()
            .custom_key_store_name("x")
            .cloud_hsm_cluster_id(CLUSTER)
            .key_store_password(PIN)
            .send()
            .await,
        "ValidationException",
    );
    let first = create_store(&c, "one", CLUSTER, PIN).await;
    assert_code(
        create("one", OTHER_CLUSTER, TRUST_ANCHOR, PIN).await,
        "CustomKeyStoreNameInUseException",
    );
    assert_code(
        create("two", CLUSTER, TRUST_ANCHOR, PIN).await,
        "CloudHsmClusterInUseException",
    );
    let second = create_store(&c, "two", OTHER_CLUSTER, PIN).await;
    assert_code(
        c.update_custom_key_store()
            .custom_key_store_id(&second)
            .new_custom_key_store_name("one")
            .send()
            .await,
        "CustomKeyStoreNameInUseException",
    );
    // Another token is not a related cluster.
    assert_code(
        c.update_custom_key_store()
            .custom_key_store_id(&first)
            .cloud_hsm_cluster_id(OTHER_CLUSTER)
            .send()
            .await,
        "CloudHsmClusterNotRelatedException",
    );
    assert_code(
        c.update_custom_key_store()
            .custom_key_store_id(&first)
            .cloud_hsm_cluster_id("cluster-bbbbbbbbbbb")
            .send()
            .await,
        "CloudHsmClusterNotFoundException",
    );

    // Describe: all, by name, paged, unknown.
    let all = ok(c.describe_custom_key_stores().send().await);
    assert_eq!(all.custom_key_stores().len(), 2);
    assert!(!all.truncated());
    let by_name = ok(c
        .describe_custom_key_stores()
        .custom_key_store_name("two")
        .send()
        .await);
    assert_eq!(
        by_name.custom_key_stores()[0].custom_key_store_id(),
        Some(second.as_str())
    );
    let page = ok(c.describe_custom_key_stores().limit(1).send().await);
    assert!(page.truncated());
    let rest = ok(c
        .describe_custom_key_stores()
        .marker(page.next_marker().unwrap())
        .send()
        .await);
    let mut ids: Vec<String> = page
        .custom_key_stores()
        .iter()
        .chain(rest.custom_key_stores())
        .map(|s| s.custom_key_store_id().unwrap().to_string())
        .collect();
    ids.sort();
    let mut want = vec![first.clone(), second.clone()];
    want.sort();
    assert_eq!(ids, want);
    assert_code(
        c.describe_custom_key_stores()
            .custom_key_store_id("cks-0123456789abcdef0")
            .send()
            .await,
        "CustomKeyStoreNotFoundException",
    );
    assert_code(
        c.describe_custom_key_stores()
            .custom_key_store_name("nope")
            .send()
            .await,
        "CustomKeyStoreNotFoundException",
    );
    assert_code(
        c.describe_custom_key_stores().marker("bogus").send().await,
        "InvalidMarkerException",
    );
    // An external key store needs its proxy's members (tests/external_key_stores.rs).
    assert_code(
        c.create_custom_key_store()
            .custom_key_store_name("ext")
            .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
            .send()
            .await,
        "ValidationException",
    );
    // A disconnected store without keys is deleted.
    ok(c.delete_custom_key_store()
        .custom_key_store_id(&second)
        .send()
        .await);
    assert_code(
        c.delete_custom_key_store()
            .custom_key_store_id(&second)
            .send()
            .await,
        "CustomKeyStoreNotFoundException",
    );
}

#[tokio::test]
async fn keys_in_an_hsm_store_allow_only_what_aws_allows() {
    let hsm = Hsm::new(&["kms-e"]);
    let dir = hsm.tmp.path().join("data");
    let srv = hsm.serve(&dir, &[cluster(CLUSTER, "kms-e")]);
    let c = srv.client().await;
    let store = create_store(&c, "rules", CLUSTER, PIN).await;
    ok(c.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await);
    assert_code(
        c.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::AwsCloudhsm)
            .key_spec(KeySpec::Rsa2048)
            .key_usage(KeyUsageType::SignVerify)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    assert_code(
        c.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::AwsCloudhsm)
            .multi_region(true)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    assert_code(
        c.create_key().custom_key_store_id(&store).send().await,
        "ValidationException",
    );
    assert_code(
        c.create_key().origin(OriginType::AwsCloudhsm).send().await,
        "ValidationException",
    );
    assert_code(
        c.create_key()
            .custom_key_store_id("cks-0123456789abcdef0")
            .origin(OriginType::AwsCloudhsm)
            .send()
            .await,
        "CustomKeyStoreNotFoundException",
    );
    let key = create_hsm_key(&c, &store).await;
    assert_code(
        c.enable_key_rotation().key_id(&key).send().await,
        "UnsupportedOperationException",
    );
    assert_code(
        c.rotate_key_on_demand().key_id(&key).send().await,
        "UnsupportedOperationException",
    );
    assert_code(
        c.generate_data_key_pair()
            .key_id(&key)
            .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    assert_code(
        c.get_parameters_for_import()
            .key_id(&key)
            .wrapping_algorithm(aws_sdk_kms::types::AlgorithmSpec::RsaesOaepSha256)
            .wrapping_key_spec(aws_sdk_kms::types::WrappingKeySpec::Rsa2048)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    // Management still works: the key can be disabled and scheduled for deletion.
    ok(c.disable_key().key_id(&key).send().await);
    assert_code(
        c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
        "DisabledException",
    );
    ok(c.schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await);
}

#[tokio::test]
async fn other_accounts_and_unauthorized_users_cannot_use_a_store() {
    let hsm = Hsm::new(&["kms-f"]);
    let dir = hsm.tmp.path().join("data");
    let srv = hsm.serve(&dir, &[cluster(CLUSTER, "kms-f")]);
    let c = srv.client().await;
    let store = create_store(&c, "mine", CLUSTER, PIN).await;
    ok(c.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await);

    // A user of the account without a policy is denied every store operation.
    let nobody = create_user(&srv, ACCOUNT, "nobody");
    let n = client_for(&srv, &nobody).await;
    assert_code(
        n.describe_custom_key_stores().send().await,
        "AccessDeniedException",
    );
    assert_code(
        n.disconnect_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await,
        "AccessDeniedException",
    );
    assert_code(
        n.generate_random()
            .number_of_bytes(8)
            .custom_key_store_id(&store)
            .send()
            .await,
        "AccessDeniedException",
    );

    // Another account's administrator sees nothing of the store.
    let other = "444455556666";
    let mallory = create_user(&srv, other, "mallory");
    put_policy(
        &srv,
        other,
        "mallory",
        &json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}),
    );
    let m = client_for(&srv, &mallory).await;
    let seen = ok(m.describe_custom_key_stores().send().await);
    assert!(seen.custom_key_stores().is_empty());
    assert_code(
        m.disconnect_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await,
        "CustomKeyStoreNotFoundException",
    );
    assert_code(
        m.delete_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await,
        "CustomKeyStoreNotFoundException",
    );
    assert_code(
        m.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::AwsCloudhsm)
            .send()
            .await,
        "CustomKeyStoreNotFoundException",
    );
    assert_code(
        m.generate_random()
            .number_of_bytes(8)
            .custom_key_store_id(&store)
            .send()
            .await,
        "CustomKeyStoreNotFoundException",
    );
    assert_code(
        m.create_custom_key_store()
            .custom_key_store_name("steal")
            .cloud_hsm_cluster_id(CLUSTER)
            .trust_anchor_certificate(TRUST_ANCHOR)
            .key_store_password(PIN)
            .send()
            .await,
        "CloudHsmClusterInUseException",
    );
    // The owner's store is still connected.
    assert_eq!(
        store_state(&c, &store).await.0,
        ConnectionStateType::Connected
    );

    // Every store operation is audited, without the password.
    let records = records(&audit_dir(&srv));
    for name in [
        "CreateCustomKeyStore",
        "ConnectCustomKeyStore",
        "DescribeCustomKeyStores",
    ] {
        assert!(
            records.iter().any(|r| r["eventName"] == name),
            "no {name} record"
        );
    }
    let text = serde_json::to_string(&records).unwrap();
    assert!(!text.contains(PIN));
}
