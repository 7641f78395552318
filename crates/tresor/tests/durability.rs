//! Persistence across restarts and secrecy of data at rest.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;

use aws_sdk_kms::types::{DataKeySpec, KeyState, Tag};
use base64::Engine as _;
use common::*;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Byte patterns under which a secret could plausibly be stored.
fn encodings(secret: &[u8]) -> Vec<(String, Vec<u8>)> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    vec![
        ("raw".into(), secret.to_vec()),
        ("hex".into(), hex(secret).into_bytes()),
        ("HEX".into(), hex(secret).to_uppercase().into_bytes()),
        // Without the padding so that any surrounding alignment still matches.
        (
            "base64".into(),
            b64.trim_end_matches('=').as_bytes().to_vec(),
        ),
        ("base64url".into(), b64url.into_bytes()),
    ]
}

fn scan_for_secrets(dir: &Path, secrets: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut leaks = Vec::new();
    let files = files_under(dir);
    for f in &files {
        let Ok(data) = std::fs::read(f) else { continue };
        for (label, s) in secrets {
            for (enc, pat) in encodings(s) {
                if contains(&data, &pat) {
                    leaks.push(format!("{label} ({enc}) found in {}", f.display()));
                }
            }
        }
    }
    leaks
}

#[tokio::test]
async fn restart_keeps_keys_aliases_tags_and_states() {
    let tmp = tempfile::tempdir().unwrap();
    let (id, disabled, pending, ct, ct_ctx, deletion_date);
    {
        let srv = Server::start_in(tmp.path());
        let c = srv.client().await;
        let out = ok(c
            .create_key()
            .description("survives restarts")
            .tags(Tag::builder().tag_key("k").tag_value("v").build().unwrap())
            .send()
            .await);
        id = out.key_metadata().unwrap().key_id().to_string();
        ok(c.create_alias()
            .alias_name("alias/persistent")
            .target_key_id(&id)
            .send()
            .await);
        ct = ok(c
            .encrypt()
            .key_id("alias/persistent")
            .plaintext(blob(b"persist me"))
            .send()
            .await)
        .ciphertext_blob
        .unwrap();
        ct_ctx = ok(c
            .generate_data_key()
            .key_id(&id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context("app", "durable")
            .send()
            .await);
        disabled = create_key(&c).await;
        ok(c.disable_key().key_id(&disabled).send().await);
        pending = create_key(&c).await;
        deletion_date = ok(c
            .schedule_key_deletion()
            .key_id(&pending)
            .pending_window_in_days(7)
            .send()
            .await)
        .deletion_date
        .unwrap()
        .as_secs_f64();
        // Server is SIGKILLed here (Drop); nothing may depend on a graceful shutdown.
    }
    let srv = Server::start_in(tmp.path());
    let c = srv.client().await;

    let m = ok(c.describe_key().key_id("alias/persistent").send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_id(), id);
    assert_eq!(m.description(), Some("survives restarts"));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    let d = ok(c.decrypt().ciphertext_blob(ct.clone()).send().await);
    assert_eq!(d.plaintext().unwrap().as_ref(), b"persist me");
    assert_eq!(d.key_id(), Some(key_arn(REGION, &id).as_str()));
    let d = ok(c
        .decrypt()
        .ciphertext_blob(ct_ctx.ciphertext_blob().unwrap().clone())
        .encryption_context("app", "durable")
        .send()
        .await);
    assert_eq!(
        d.plaintext().unwrap().as_ref(),
        ct_ctx.plaintext().unwrap().as_ref()
    );
    let tags = ok(c.list_resource_tags().key_id(&id).send().await);
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].tag_key(), "k");
    assert_eq!(tags.tags()[0].tag_value(), "v");
    let aliases = ok(c.list_aliases().key_id(&id).send().await);
    assert_eq!(aliases.aliases().len(), 1);

    let m = ok(c.describe_key().key_id(&disabled).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::Disabled));
    let m = ok(c.describe_key().key_id(&pending).send().await)
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::PendingDeletion));
    let dd = m
        .deletion_date()
        .expect("DeletionDate survives restart")
        .as_secs_f64();
    assert!((dd - deletion_date).abs() < 1.0);
    let keys = ok(c.list_keys().send().await);
    assert_eq!(keys.keys().len(), 3);

    // New writes after the restart work and existing state can still change.
    ok(c.enable_key().key_id(&disabled).send().await);
    ok(c.encrypt()
        .key_id(&disabled)
        .plaintext(blob(b"x"))
        .send()
        .await);
}

#[tokio::test]
async fn restart_twice_and_keep_working() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cts: Vec<Vec<u8>> = Vec::new();
    for round in 0..3u8 {
        let srv = Server::start_in(tmp.path());
        let c = srv.client().await;
        // Everything from earlier rounds still decrypts.
        for (i, ct) in cts.iter().enumerate() {
            let d = ok(c.decrypt().ciphertext_blob(blob(ct)).send().await);
            assert_eq!(
                d.plaintext().unwrap().as_ref(),
                &[i as u8; 8],
                "round {round}"
            );
        }
        let id = create_key(&c).await;
        let out = ok(c
            .encrypt()
            .key_id(&id)
            .plaintext(blob(&[round; 8]))
            .send()
            .await);
        cts.push(out.ciphertext_blob().unwrap().as_ref().to_vec());
        assert_eq!(
            ok(c.list_keys().send().await).keys().len(),
            round as usize + 1
        );
    }
}

#[tokio::test]
async fn no_plaintext_or_data_key_is_stored_at_rest() {
    let mut srv = Server::start();
    let c = srv.client().await;
    let known: &[u8; 32] = b"TRESOR-AT-REST-PLAINTEXT-0123456";
    let mut secrets: Vec<(String, Vec<u8>)> = vec![("known plaintext".into(), known.to_vec())];
    let mut ids = Vec::new();
    for i in 0..3 {
        let id = create_key(&c).await;
        ok(c.create_alias()
            .alias_name(format!("alias/rest-{i}"))
            .target_key_id(&id)
            .send()
            .await);
        ids.push(id);
    }
    for (i, id) in ids.iter().enumerate() {
        let out = ok(c.encrypt().key_id(id).plaintext(blob(known)).send().await);
        let d = ok(c
            .decrypt()
            .ciphertext_blob(out.ciphertext_blob().unwrap().clone())
            .send()
            .await);
        assert_eq!(d.plaintext().unwrap().as_ref(), known);
        for spec in [DataKeySpec::Aes256, DataKeySpec::Aes128] {
            let dk = ok(c
                .generate_data_key()
                .key_id(id)
                .key_spec(spec.clone())
                .encryption_context("n", i.to_string())
                .send()
                .await);
            secrets.push((
                format!("data key {spec:?} of key {i}"),
                dk.plaintext().unwrap().as_ref().to_vec(),
            ));
        }
        let dk = ok(c
            .generate_data_key()
            .key_id(id)
            .number_of_bytes(64)
            .send()
            .await);
        secrets.push((
            format!("64-byte data key of key {i}"),
            dk.plaintext().unwrap().as_ref().to_vec(),
        ));
        // Decrypting a data key must not persist it either.
        let wp = ok(c
            .generate_data_key_without_plaintext()
            .key_id(id)
            .key_spec(DataKeySpec::Aes256)
            .send()
            .await);
        let d = ok(c
            .decrypt()
            .ciphertext_blob(wp.ciphertext_blob().unwrap().clone())
            .send()
            .await);
        secrets.push((
            format!("decrypted data key of key {i}"),
            d.plaintext().unwrap().as_ref().to_vec(),
        ));
    }
    let random = ok(c.generate_random().number_of_bytes(32).send().await);
    secrets.push((
        "GenerateRandom output".into(),
        random.plaintext().unwrap().as_ref().to_vec(),
    ));
    let re = ok(c
        .re_encrypt()
        .ciphertext_blob(
            ok(c.encrypt()
                .key_id(&ids[0])
                .plaintext(blob(known))
                .send()
                .await)
            .ciphertext_blob
            .unwrap(),
        )
        .destination_key_id(&ids[1])
        .send()
        .await);
    assert!(re.ciphertext_blob().is_some());

    let data_dir = srv.data_dir.clone();
    assert!(
        !files_under(&data_dir).is_empty(),
        "the data dir holds no files at all"
    );
    let leaks = scan_for_secrets(&data_dir, &secrets);
    assert!(
        leaks.is_empty(),
        "secrets found at rest while running:\n{}",
        leaks.join("\n")
    );
    // Logs must not carry them either.
    let stderr = srv.stderr();
    for (label, s) in &secrets {
        for (enc, pat) in encodings(s) {
            assert!(
                !contains(stderr.as_bytes(), &pat),
                "{label} ({enc}) appears in the server log"
            );
        }
    }

    // And after the process is gone (WAL checkpointed or not).
    srv.stop();
    let leaks = scan_for_secrets(&data_dir, &secrets);
    assert!(
        leaks.is_empty(),
        "secrets found at rest after stop:\n{}",
        leaks.join("\n")
    );

    // Sanity check of the scanner itself: it finds a planted secret.
    std::fs::write(
        data_dir.join("planted.bin"),
        [b"xx".as_slice(), known.as_slice()].concat(),
    )
    .unwrap();
    assert!(
        !scan_for_secrets(&data_dir, &secrets[..1]).is_empty(),
        "scanner failed to find a planted secret"
    );
}
