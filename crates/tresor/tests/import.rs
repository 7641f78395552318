//! Bring your own key: CreateKey with Origin EXTERNAL, GetParametersForImport,
//! ImportKeyMaterial (material wrapped locally with the independent RustCrypto `rsa` and
//! `aes-kw` crates), expiry, re-import, DeleteImportedKeyMaterial and the error cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::{
    AlgorithmSpec, ExpirationModelType, KeySpec, KeyState, KeyUsageType, MacAlgorithmSpec,
    OriginType, WrappingKeySpec,
};
use aws_sdk_kms::Client;
use common::*;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Oaep, RsaPublicKey};

const DAY: u64 = 86_400;

async fn external_key(c: &Client, spec: KeySpec, usage: KeyUsageType) -> String {
    let md = ok(c
        .create_key()
        .origin(OriginType::External)
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await)
    .key_metadata
    .unwrap();
    assert_eq!(md.key_state(), Some(&KeyState::PendingImport));
    assert!(!md.enabled());
    assert_eq!(md.origin(), Some(&OriginType::External));
    md.key_id().to_string()
}

struct Params {
    token: Vec<u8>,
    public: RsaPublicKey,
}

async fn params(c: &Client, key: &str, alg: AlgorithmSpec, spec: WrappingKeySpec) -> Params {
    let out = ok(c
        .get_parameters_for_import()
        .key_id(key)
        .wrapping_algorithm(alg)
        .wrapping_key_spec(spec)
        .send()
        .await);
    assert_eq!(out.key_id(), Some(key_arn(REGION, key).as_str()));
    // The server's clock may run ahead of the wall clock (the tests move it forward).
    let valid_for = out.parameters_valid_to().unwrap().as_secs_f64() - now_epoch();
    assert!(
        valid_for > DAY as f64 - 3600.0,
        "parameters valid for 24 hours ({valid_for} s)"
    );
    Params {
        token: out.import_token.unwrap().into_inner(),
        public: RsaPublicKey::from_public_key_der(out.public_key.unwrap().as_ref())
            .expect("wrapping key is DER SPKI"),
    }
}

/// Wraps `material` as AWS documents for each algorithm, with independent crates.
fn wrap(p: &Params, alg: &AlgorithmSpec, material: &[u8]) -> Vec<u8> {
    let mut rng = rand_core::OsRng;
    let oaep = |sha256: bool| {
        if sha256 {
            Oaep::new::<sha2::Sha256>()
        } else {
            Oaep::new::<sha1::Sha1>()
        }
    };
    match alg {
        AlgorithmSpec::RsaesOaepSha1 => p.public.encrypt(&mut rng, oaep(false), material).unwrap(),
        AlgorithmSpec::RsaesOaepSha256 => p.public.encrypt(&mut rng, oaep(true), material).unwrap(),
        AlgorithmSpec::RsaAesKeyWrapSha1 | AlgorithmSpec::RsaAesKeyWrapSha256 => {
            let aes_key: [u8; 32] = pattern(32, 99).try_into().unwrap();
            let sha256 = matches!(alg, AlgorithmSpec::RsaAesKeyWrapSha256);
            let mut out = p.public.encrypt(&mut rng, oaep(sha256), &aes_key).unwrap();
            let kek = aes_kw::KekAes256::from(aes_key);
            out.extend(kek.wrap_with_padding_vec(material).unwrap());
            out
        }
        other => panic!("no local wrapping for {other:?}"),
    }
}

async fn import(
    c: &Client,
    key: &str,
    p: &Params,
    alg: &AlgorithmSpec,
    material: &[u8],
    valid_to: Option<f64>,
) -> String {
    let mut req = c
        .import_key_material()
        .key_id(key)
        .import_token(blob(&p.token))
        .encrypted_key_material(blob(&wrap(p, alg, material)));
    req = match valid_to {
        Some(t) => req.valid_to(aws_sdk_kms::primitives::DateTime::from_secs_f64(t)),
        None => req.expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire),
    };
    let out = ok(req.send().await);
    assert_eq!(out.key_id(), Some(key_arn(REGION, key).as_str()));
    out.key_material_id().expect("KeyMaterialId").to_string()
}

#[tokio::test]
async fn import_symmetric_material_with_every_wrapping_algorithm() {
    let srv = Server::start();
    let c = srv.client().await;
    let algs = [
        (AlgorithmSpec::RsaesOaepSha1, WrappingKeySpec::Rsa2048),
        (AlgorithmSpec::RsaesOaepSha256, WrappingKeySpec::Rsa3072),
        (AlgorithmSpec::RsaAesKeyWrapSha1, WrappingKeySpec::Rsa2048),
        (AlgorithmSpec::RsaAesKeyWrapSha256, WrappingKeySpec::Rsa4096),
    ];
    for (alg, spec) in algs {
        let key = external_key(&c, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
        assert_code(
            c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
            "KMSInvalidStateException",
        );
        let p = params(&c, &key, alg.clone(), spec).await;
        let material = pattern(32, 7);
        let id = import(&c, &key, &p, &alg, &material, None).await;
        assert_eq!(id.len(), 64, "KeyMaterialId is 64 hex digits");
        let md = describe_key_metadata(&c, &key).await;
        assert_eq!(md.key_state(), Some(&KeyState::Enabled), "{alg:?}");
        assert_eq!(
            md.expiration_model(),
            Some(&ExpirationModelType::KeyMaterialDoesNotExpire)
        );
        let ct = ok(c
            .encrypt()
            .key_id(&key)
            .plaintext(blob(b"byok"))
            .send()
            .await)
        .ciphertext_blob
        .unwrap();
        let pt = ok(c.decrypt().ciphertext_blob(ct).send().await)
            .plaintext
            .unwrap();
        assert_eq!(pt.as_ref(), b"byok");
    }
}

#[tokio::test]
async fn reimport_rules_and_delete_imported_material() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = external_key(&c, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    let alg = AlgorithmSpec::RsaesOaepSha256;
    let p = params(&c, &key, alg.clone(), WrappingKeySpec::Rsa2048).await;
    let material = pattern(32, 1);
    let id = import(&c, &key, &p, &alg, &material, None).await;
    let ct = ok(c
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"kept"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap()
    .into_inner();

    // Different material is refused, even after deletion.
    let other = pattern(32, 2);
    let wrapped = wrap(&p, &alg, &other);
    assert_code(
        c.import_key_material()
            .key_id(&key)
            .import_token(blob(&p.token))
            .encrypted_key_material(blob(&wrapped))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "IncorrectKeyMaterialException",
    );
    let out = ok(c.delete_imported_key_material().key_id(&key).send().await);
    assert_eq!(out.key_material_id(), Some(id.as_str()));
    assert_eq!(
        describe_key_metadata(&c, &key).await.key_state(),
        Some(&KeyState::PendingImport)
    );
    assert_code(
        c.decrypt().ciphertext_blob(blob(&ct)).send().await,
        "KMSInvalidStateException",
    );
    assert_code(
        c.import_key_material()
            .key_id(&key)
            .import_token(blob(&p.token))
            .encrypted_key_material(blob(&wrapped))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "IncorrectKeyMaterialException",
    );
    // The same material, with new parameters and another algorithm, restores the key.
    let alg2 = AlgorithmSpec::RsaAesKeyWrapSha256;
    let p2 = params(&c, &key, alg2.clone(), WrappingKeySpec::Rsa3072).await;
    assert_eq!(
        import(&c, &key, &p2, &alg2, &material, None).await,
        id,
        "same material, same KeyMaterialId"
    );
    let pt = ok(c.decrypt().ciphertext_blob(blob(&ct)).send().await)
        .plaintext
        .unwrap();
    assert_eq!(pt.as_ref(), b"kept");
}

#[tokio::test]
async fn expired_material_makes_the_key_pending_import_until_reimported() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = external_key(&c, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    let alg = AlgorithmSpec::RsaesOaepSha256;
    let p = params(&c, &key, alg.clone(), WrappingKeySpec::Rsa2048).await;
    let material = pattern(32, 3);
    import(
        &c,
        &key,
        &p,
        &alg,
        &material,
        Some(now_epoch() + 2.0 * DAY as f64),
    )
    .await;
    let md = describe_key_metadata(&c, &key).await;
    assert_eq!(
        md.expiration_model(),
        Some(&ExpirationModelType::KeyMaterialExpires)
    );
    assert!(md.valid_to().is_some());
    let ct = ok(c
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"until"))
        .send()
        .await)
    .ciphertext_blob
    .unwrap()
    .into_inner();
    srv.advance_clock(DAY);
    ok(c.decrypt().ciphertext_blob(blob(&ct)).send().await);
    srv.advance_clock(2 * DAY);
    let md = describe_key_metadata(&c, &key).await;
    assert_eq!(
        md.key_state(),
        Some(&KeyState::PendingImport),
        "material expired"
    );
    assert_code(
        c.decrypt().ciphertext_blob(blob(&ct)).send().await,
        "KMSInvalidStateException",
    );
    let p2 = params(&c, &key, alg.clone(), WrappingKeySpec::Rsa2048).await;
    import(&c, &key, &p2, &alg, &material, None).await;
    let pt = ok(c.decrypt().ciphertext_blob(blob(&ct)).send().await)
        .plaintext
        .unwrap();
    assert_eq!(pt.as_ref(), b"until");
}

#[tokio::test]
async fn imported_hmac_key_matches_a_local_hmac() {
    use hmac::{Hmac, Mac};
    let srv = Server::start();
    let c = srv.client().await;
    let key = external_key(&c, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let alg = AlgorithmSpec::RsaesOaepSha256;
    let p = params(&c, &key, alg.clone(), WrappingKeySpec::Rsa2048).await;
    let material = pattern(32, 5);
    import(&c, &key, &p, &alg, &material, None).await;
    let mac = ok(c
        .generate_mac()
        .key_id(&key)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .message(blob(b"message"))
        .send()
        .await)
    .mac
    .unwrap()
    .into_inner();
    let mut local = Hmac::<sha2::Sha256>::new_from_slice(&material).unwrap();
    local.update(b"message");
    assert_eq!(mac, local.finalize().into_bytes().to_vec());
}

#[tokio::test]
async fn import_errors() {
    let srv = Server::start();
    let c = srv.client().await;
    let native = create_key(&c).await;
    assert_code(
        c.get_parameters_for_import()
            .key_id(&native)
            .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
            .wrapping_key_spec(WrappingKeySpec::Rsa2048)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    let key = external_key(&c, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    assert_code(
        c.get_parameters_for_import()
            .key_id(&key)
            .wrapping_algorithm(AlgorithmSpec::RsaesPkcs1V15)
            .wrapping_key_spec(WrappingKeySpec::Rsa2048)
            .send()
            .await,
        "ValidationException",
    );
    let alg = AlgorithmSpec::RsaesOaepSha256;
    let p = params(&c, &key, alg.clone(), WrappingKeySpec::Rsa2048).await;
    let wrapped = wrap(&p, &alg, &pattern(32, 9));
    // KEY_MATERIAL_EXPIRES (the default) needs ValidTo.
    assert_code(
        c.import_key_material()
            .key_id(&key)
            .import_token(blob(&p.token))
            .encrypted_key_material(blob(&wrapped))
            .send()
            .await,
        "ValidationException",
    );
    // Garbage instead of wrapped material.
    assert_code(
        c.import_key_material()
            .key_id(&key)
            .import_token(blob(&p.token))
            .encrypted_key_material(blob(&pattern(256, 1)))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "InvalidCiphertextException",
    );
    // Material of the wrong length for a symmetric key.
    assert_code(
        c.import_key_material()
            .key_id(&key)
            .import_token(blob(&p.token))
            .encrypted_key_material(blob(&wrap(&p, &alg, &pattern(16, 1))))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "ValidationException",
    );
    // A token issued for another key.
    let other = external_key(&c, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    assert_code(
        c.import_key_material()
            .key_id(&other)
            .import_token(blob(&p.token))
            .encrypted_key_material(blob(&wrapped))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "InvalidImportTokenException",
    );
    // An expired token.
    srv.advance_clock(DAY + 60);
    assert_code(
        c.import_key_material()
            .key_id(&key)
            .import_token(blob(&p.token))
            .encrypted_key_material(blob(&wrapped))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "ExpiredImportTokenException",
    );
    // Rotation is not offered for imported material.
    assert_code(
        c.enable_key_rotation().key_id(&key).send().await,
        "UnsupportedOperationException",
    );
    assert_code(
        c.delete_imported_key_material()
            .key_id(&native)
            .send()
            .await,
        "UnsupportedOperationException",
    );
}

#[tokio::test]
async fn imported_ecc_private_key_signs_verifiably() {
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let srv = Server::start();
    let c = srv.client().await;
    let key = external_key(&c, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let local = p256::SecretKey::random(&mut rand_core::OsRng);
    let pkcs8 = local.to_pkcs8_der().unwrap();
    // A PKCS#8 private key is too large for RSA-OAEP alone: RSA_AES_KEY_WRAP is required.
    let alg = AlgorithmSpec::RsaAesKeyWrapSha256;
    let p = params(&c, &key, alg.clone(), WrappingKeySpec::Rsa3072).await;
    import(&c, &key, &p, &alg, pkcs8.as_bytes(), None).await;
    let public = public_key_der(&c, &key).await;
    assert_eq!(
        public,
        local.public_key().to_public_key_der().unwrap().as_bytes(),
        "GetPublicKey is the imported key's"
    );
    let sig = ok(c
        .sign()
        .key_id(&key)
        .message(blob(b"imported"))
        .signing_algorithm(aws_sdk_kms::types::SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await)
    .signature
    .unwrap()
    .into_inner();
    let sig = p256::ecdsa::Signature::from_der(&sig).unwrap();
    p256::ecdsa::VerifyingKey::from(local.public_key())
        .verify(b"imported", &sig)
        .unwrap();
    // A P-384 key is not valid material for a P-256 key.
    let other = external_key(&c, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let p2 = params(&c, &other, alg.clone(), WrappingKeySpec::Rsa3072).await;
    let p384 = p384::SecretKey::random(&mut rand_core::OsRng)
        .to_pkcs8_der()
        .unwrap();
    assert_code(
        c.import_key_material()
            .key_id(&other)
            .import_token(blob(&p2.token))
            .encrypted_key_material(blob(&wrap(&p2, &alg, p384.as_bytes())))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "ValidationException",
    );
}
