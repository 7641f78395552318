//! Symmetric cryptography: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(+WithoutPlaintext),
//! GenerateRandom, encryption context binding, tampering, DryRun and size limits.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::{DataKeySpec, EncryptionAlgorithmSpec};
use aws_sdk_kms::Client;
use common::*;

async fn encrypt(c: &Client, key: &str, pt: &[u8]) -> Vec<u8> {
    let out = ok(c.encrypt().key_id(key).plaintext(blob(pt)).send().await);
    out.ciphertext_blob()
        .expect("CiphertextBlob")
        .as_ref()
        .to_vec()
}

#[tokio::test]
async fn encrypt_decrypt_roundtrip_reports_key_arn() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let arn = key_arn(REGION, &id);
    let pt = b"attack at dawn";
    let out = ok(c.encrypt().key_id(&id).plaintext(blob(pt)).send().await);
    assert_eq!(
        out.key_id(),
        Some(arn.as_str()),
        "Encrypt KeyId must be the key ARN"
    );
    assert_eq!(
        out.encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::SymmetricDefault)
    );
    let ct = out.ciphertext_blob().unwrap().as_ref().to_vec();
    assert!(ct.len() > pt.len(), "ciphertext must carry overhead");
    assert!(
        !ct.windows(pt.len()).any(|w| w == pt),
        "the plaintext must not appear in the ciphertext"
    );

    // KeyId is optional for symmetric ciphertext.
    let d = ok(c.decrypt().ciphertext_blob(blob(&ct)).send().await);
    assert_eq!(d.plaintext().unwrap().as_ref(), pt);
    assert_eq!(
        d.key_id(),
        Some(arn.as_str()),
        "Decrypt KeyId must be the key ARN"
    );
    assert_eq!(
        d.encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::SymmetricDefault)
    );

    // Naming the right key in any form works.
    ok(c.create_alias()
        .alias_name("alias/rt")
        .target_key_id(&id)
        .send()
        .await);
    for ident in [
        id.clone(),
        arn.clone(),
        "alias/rt".into(),
        alias_arn(REGION, "alias/rt"),
    ] {
        let d = ok(c
            .decrypt()
            .key_id(&ident)
            .ciphertext_blob(blob(&ct))
            .send()
            .await);
        assert_eq!(
            d.plaintext().unwrap().as_ref(),
            pt,
            "decrypt with KeyId {ident}"
        );
        assert_eq!(d.key_id(), Some(arn.as_str()));
    }
    // Encrypting by alias also reports the key ARN.
    let out = ok(c
        .encrypt()
        .key_id("alias/rt")
        .plaintext(blob(pt))
        .send()
        .await);
    assert_eq!(out.key_id(), Some(arn.as_str()));
}

#[tokio::test]
async fn encrypt_is_randomized_and_handles_size_limits() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let a = encrypt(&c, &id, b"same").await;
    let b = encrypt(&c, &id, b"same").await;
    assert_ne!(a, b, "two encryptions of the same plaintext must differ");

    for len in [1usize, 4096] {
        let pt: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let ct = encrypt(&c, &id, &pt).await;
        assert!(
            ct.len() <= 6144,
            "ciphertext of {len} bytes must fit CiphertextType (6144)"
        );
        let d = ok(c.decrypt().ciphertext_blob(blob(&ct)).send().await);
        assert_eq!(d.plaintext().unwrap().as_ref(), &pt[..]);
    }
    assert_code(
        c.encrypt()
            .key_id(&id)
            .plaintext(blob(&vec![0u8; 4097]))
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.encrypt().key_id(&id).plaintext(blob(b"")).send().await,
        "ValidationException",
    );
    // Ciphertext longer than 6144 bytes violates the model.
    assert_code(
        c.decrypt()
            .ciphertext_blob(blob(&vec![1u8; 6145]))
            .send()
            .await,
        "ValidationException",
    );
}

#[tokio::test]
async fn decrypt_with_a_different_key_id_is_incorrect_key() {
    let srv = Server::start();
    let c = srv.client().await;
    let k1 = create_key(&c).await;
    let k2 = create_key(&c).await;
    let ct = encrypt(&c, &k1, b"for k1").await;
    let e = assert_code(
        c.decrypt()
            .key_id(&k2)
            .ciphertext_blob(blob(&ct))
            .send()
            .await,
        "IncorrectKeyException",
    );
    assert_eq!(
        e.message.as_deref(),
        Some("The key ID in the request does not identify a CMK that can perform this operation.")
    );
    assert_code(
        c.decrypt()
            .key_id(key_arn(REGION, &k2))
            .ciphertext_blob(blob(&ct))
            .send()
            .await,
        "IncorrectKeyException",
    );
    // A KeyId that does not exist at all.
    assert_code(
        c.decrypt()
            .key_id("0b5d6a3e-1111-4222-8333-944455556666")
            .ciphertext_blob(blob(&ct))
            .send()
            .await,
        "NotFoundException",
    );
}

#[tokio::test]
async fn tampered_or_garbage_ciphertext_is_invalid_ciphertext() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let ct = encrypt(&c, &id, b"integrity matters").await;

    // Flip a bit in the last byte (authentication tag / body).
    let mut t = ct.clone();
    *t.last_mut().unwrap() ^= 0x01;
    assert_code(
        c.decrypt().ciphertext_blob(blob(&t)).send().await,
        "InvalidCiphertextException",
    );
    assert_code(
        c.decrypt()
            .key_id(&id)
            .ciphertext_blob(blob(&t))
            .send()
            .await,
        "InvalidCiphertextException",
    );
    // Flip a bit in the middle.
    let mut t = ct.clone();
    let mid = t.len() - 20;
    t[mid] ^= 0x80;
    assert_code(
        c.decrypt().ciphertext_blob(blob(&t)).send().await,
        "InvalidCiphertextException",
    );
    // Truncated.
    assert_code(
        c.decrypt()
            .ciphertext_blob(blob(&ct[..ct.len() - 1]))
            .send()
            .await,
        "InvalidCiphertextException",
    );
    // Random bytes and a single byte.
    let garbage: Vec<u8> = (0..120u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert_code(
        c.decrypt().ciphertext_blob(blob(&garbage)).send().await,
        "InvalidCiphertextException",
    );
    assert_code(
        c.decrypt().ciphertext_blob(blob(&[0x01])).send().await,
        "InvalidCiphertextException",
    );
}

#[tokio::test]
async fn encryption_context_binds_the_ciphertext() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let out = ok(c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"bound"))
        .encryption_context("purpose", "test")
        .encryption_context("tenant", "42")
        .send()
        .await);
    let ct = out.ciphertext_blob().unwrap().clone();

    // Exact match, inserted in the other order: works.
    let d = ok(c
        .decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("tenant", "42")
        .encryption_context("purpose", "test")
        .send()
        .await);
    assert_eq!(d.plaintext().unwrap().as_ref(), b"bound");

    // Missing context.
    assert_code(
        c.decrypt().ciphertext_blob(ct.clone()).send().await,
        "InvalidCiphertextException",
    );
    // Wrong value.
    assert_code(
        c.decrypt()
            .ciphertext_blob(ct.clone())
            .encryption_context("purpose", "test")
            .encryption_context("tenant", "43")
            .send()
            .await,
        "InvalidCiphertextException",
    );
    // Missing one pair.
    assert_code(
        c.decrypt()
            .ciphertext_blob(ct.clone())
            .encryption_context("purpose", "test")
            .send()
            .await,
        "InvalidCiphertextException",
    );
    // Extra pair.
    assert_code(
        c.decrypt()
            .ciphertext_blob(ct.clone())
            .encryption_context("purpose", "test")
            .encryption_context("tenant", "42")
            .encryption_context("extra", "1")
            .send()
            .await,
        "InvalidCiphertextException",
    );
    // Case-sensitive keys.
    assert_code(
        c.decrypt()
            .ciphertext_blob(ct.clone())
            .encryption_context("Purpose", "test")
            .encryption_context("tenant", "42")
            .send()
            .await,
        "InvalidCiphertextException",
    );

    // A ciphertext made without context does not decrypt with one.
    let plain_ct = encrypt(&c, &id, b"no ctx").await;
    assert_code(
        c.decrypt()
            .ciphertext_blob(blob(&plain_ct))
            .encryption_context("a", "b")
            .send()
            .await,
        "InvalidCiphertextException",
    );
}

#[tokio::test]
async fn re_encrypt_moves_ciphertext_between_keys_and_contexts() {
    let srv = Server::start();
    let c = srv.client().await;
    let src = create_key(&c).await;
    let dst = create_key(&c).await;
    let out = ok(c
        .encrypt()
        .key_id(&src)
        .plaintext(blob(b"moving"))
        .encryption_context("stage", "one")
        .send()
        .await);
    let ct = out.ciphertext_blob().unwrap().clone();

    let re = ok(c
        .re_encrypt()
        .ciphertext_blob(ct.clone())
        .source_encryption_context("stage", "one")
        .destination_key_id(&dst)
        .destination_encryption_context("stage", "two")
        .send()
        .await);
    assert_eq!(re.source_key_id(), Some(key_arn(REGION, &src).as_str()));
    assert_eq!(re.key_id(), Some(key_arn(REGION, &dst).as_str()));
    assert_eq!(
        re.source_encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::SymmetricDefault)
    );
    assert_eq!(
        re.destination_encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::SymmetricDefault)
    );
    let new_ct = re.ciphertext_blob().unwrap().clone();

    let d = ok(c
        .decrypt()
        .ciphertext_blob(new_ct.clone())
        .encryption_context("stage", "two")
        .send()
        .await);
    assert_eq!(d.plaintext().unwrap().as_ref(), b"moving");
    assert_eq!(d.key_id(), Some(key_arn(REGION, &dst).as_str()));
    assert_code(
        c.decrypt()
            .key_id(&src)
            .ciphertext_blob(new_ct.clone())
            .encryption_context("stage", "two")
            .send()
            .await,
        "IncorrectKeyException",
    );

    // Wrong source context.
    assert_code(
        c.re_encrypt()
            .ciphertext_blob(ct.clone())
            .destination_key_id(&dst)
            .send()
            .await,
        "InvalidCiphertextException",
    );
    // Wrong SourceKeyId.
    assert_code(
        c.re_encrypt()
            .ciphertext_blob(ct.clone())
            .source_key_id(&dst)
            .source_encryption_context("stage", "one")
            .destination_key_id(&dst)
            .send()
            .await,
        "IncorrectKeyException",
    );
    // Unknown destination.
    assert_code(
        c.re_encrypt()
            .ciphertext_blob(ct.clone())
            .source_encryption_context("stage", "one")
            .destination_key_id("alias/nope")
            .send()
            .await,
        "NotFoundException",
    );
    // Re-encrypting under the same key yields a fresh ciphertext.
    let same = ok(c
        .re_encrypt()
        .ciphertext_blob(ct.clone())
        .source_encryption_context("stage", "one")
        .destination_key_id(&src)
        .destination_encryption_context("stage", "one")
        .send()
        .await);
    assert_ne!(same.ciphertext_blob().unwrap().as_ref(), ct.as_ref());
}

#[tokio::test]
async fn generate_data_key_sizes_and_decryptability() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let arn = key_arn(REGION, &id);
    for (spec, n) in [
        (Some(DataKeySpec::Aes256), 32usize),
        (Some(DataKeySpec::Aes128), 16),
        (None, 64),
    ] {
        let mut req = c
            .generate_data_key()
            .key_id(&id)
            .encryption_context("k", "v");
        req = match &spec {
            Some(s) => req.key_spec(s.clone()),
            None => req.number_of_bytes(n as i32),
        };
        let out = ok(req.send().await);
        assert_eq!(out.key_id(), Some(arn.as_str()));
        let pt = out.plaintext().expect("Plaintext").as_ref().to_vec();
        assert_eq!(pt.len(), n, "{spec:?}");
        assert!(
            pt.iter().any(|b| *b != 0),
            "data key must be random, not zeros"
        );
        let ct = out.ciphertext_blob().expect("CiphertextBlob").clone();
        let d = ok(c
            .decrypt()
            .ciphertext_blob(ct.clone())
            .encryption_context("k", "v")
            .send()
            .await);
        assert_eq!(d.plaintext().unwrap().as_ref(), &pt[..]);
        assert_code(
            c.decrypt().ciphertext_blob(ct).send().await,
            "InvalidCiphertextException",
        );
    }
    let a = ok(c
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await);
    let b = ok(c
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await);
    assert_ne!(
        a.plaintext().unwrap().as_ref(),
        b.plaintext().unwrap().as_ref()
    );
    // NumberOfBytes bounds.
    ok(c.generate_data_key()
        .key_id(&id)
        .number_of_bytes(1)
        .send()
        .await);
    ok(c.generate_data_key()
        .key_id(&id)
        .number_of_bytes(1024)
        .send()
        .await);
}

#[tokio::test]
async fn generate_data_key_needs_exactly_one_of_keyspec_and_numberofbytes() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    assert_code(
        c.generate_data_key().key_id(&id).send().await,
        "ValidationException",
    );
    assert_code(
        c.generate_data_key()
            .key_id(&id)
            .key_spec(DataKeySpec::Aes256)
            .number_of_bytes(32)
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.generate_data_key()
            .key_id(&id)
            .number_of_bytes(0)
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.generate_data_key()
            .key_id(&id)
            .number_of_bytes(1025)
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.generate_data_key()
            .key_id(&id)
            .key_spec(DataKeySpec::from("AES_512"))
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.generate_data_key_without_plaintext()
            .key_id(&id)
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.generate_data_key_without_plaintext()
            .key_id(&id)
            .key_spec(DataKeySpec::Aes128)
            .number_of_bytes(16)
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.generate_data_key()
            .key_id("alias/missing")
            .key_spec(DataKeySpec::Aes256)
            .send()
            .await,
        "NotFoundException",
    );
}

#[tokio::test]
async fn generate_data_key_without_plaintext() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let out = ok(c
        .generate_data_key_without_plaintext()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes128)
        .encryption_context("who", "me")
        .send()
        .await);
    assert_eq!(out.key_id(), Some(key_arn(REGION, &id).as_str()));
    let ct = out.ciphertext_blob().expect("CiphertextBlob").clone();
    let d = ok(c
        .decrypt()
        .ciphertext_blob(ct)
        .encryption_context("who", "me")
        .send()
        .await);
    assert_eq!(d.plaintext().unwrap().as_ref().len(), 16);

    let out = ok(c
        .generate_data_key_without_plaintext()
        .key_id(&id)
        .number_of_bytes(48)
        .send()
        .await);
    let d = ok(c
        .decrypt()
        .ciphertext_blob(out.ciphertext_blob().unwrap().clone())
        .send()
        .await);
    assert_eq!(d.plaintext().unwrap().as_ref().len(), 48);
}

#[tokio::test]
async fn generate_random_lengths_and_bounds() {
    let srv = Server::start();
    let c = srv.client().await;
    for n in [1, 32, 1024] {
        let out = ok(c.generate_random().number_of_bytes(n).send().await);
        assert_eq!(out.plaintext().unwrap().as_ref().len(), n as usize);
    }
    let a = ok(c.generate_random().number_of_bytes(32).send().await);
    let b = ok(c.generate_random().number_of_bytes(32).send().await);
    assert_ne!(
        a.plaintext().unwrap().as_ref(),
        b.plaintext().unwrap().as_ref()
    );
    assert_code(
        c.generate_random().number_of_bytes(0).send().await,
        "ValidationException",
    );
    assert_code(
        c.generate_random().number_of_bytes(1025).send().await,
        "ValidationException",
    );
    assert_code(c.generate_random().send().await, "ValidationException");
}

#[tokio::test]
async fn dry_run_reports_dry_run_operation_exception() {
    let srv = Server::start();
    let c = srv.client().await;
    let id = create_key(&c).await;
    let other = create_key(&c).await;
    let ct = encrypt(&c, &id, b"dry").await;

    assert_code(
        c.encrypt()
            .key_id(&id)
            .plaintext(blob(b"x"))
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    assert_code(
        c.decrypt()
            .ciphertext_blob(blob(&ct))
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    assert_code(
        c.generate_data_key()
            .key_id(&id)
            .key_spec(DataKeySpec::Aes256)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    assert_code(
        c.generate_data_key_without_plaintext()
            .key_id(&id)
            .key_spec(DataKeySpec::Aes256)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    assert_code(
        c.re_encrypt()
            .ciphertext_blob(blob(&ct))
            .destination_key_id(&other)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
    );
    // DryRun=false behaves normally.
    ok(c.encrypt()
        .key_id(&id)
        .plaintext(blob(b"x"))
        .dry_run(false)
        .send()
        .await);

    // A dry run that would fail reports the real failure instead.
    assert_code(
        c.decrypt()
            .key_id(&other)
            .ciphertext_blob(blob(&ct))
            .dry_run(true)
            .send()
            .await,
        "IncorrectKeyException",
    );
    assert_code(
        c.encrypt()
            .key_id("alias/nothing-here")
            .plaintext(blob(b"x"))
            .dry_run(true)
            .send()
            .await,
        "NotFoundException",
    );
    ok(c.disable_key().key_id(&id).send().await);
    assert_code(
        c.encrypt()
            .key_id(&id)
            .plaintext(blob(b"x"))
            .dry_run(true)
            .send()
            .await,
        "DisabledException",
    );
}
