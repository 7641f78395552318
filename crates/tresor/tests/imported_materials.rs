//! Several imported key materials in one EXTERNAL symmetric key: ImportKeyMaterial with
//! ImportType NEW_KEY_MATERIAL / EXISTING_KEY_MATERIAL and KeyMaterialDescription,
//! RotateKeyOnDemand onto the pending material, ListKeyRotations, deleting one material,
//! expiry of one material, older materials still decrypting — and the refusals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::types::{
    AlgorithmSpec, ExpirationModelType, ImportState, ImportType, IncludeKeyMaterial,
    KeyMaterialState, KeySpec, KeyState, KeyUsageType, OriginType, RotationType, WrappingKeySpec,
};
use aws_sdk_kms::Client;
use common::*;

const DAY: u64 = 86_400;

struct Import<'a> {
    material: &'a [u8],
    import_type: Option<ImportType>,
    description: Option<&'a str>,
    material_id: Option<&'a str>,
    valid_to: Option<f64>,
}

impl<'a> Import<'a> {
    fn of(material: &'a [u8]) -> Self {
        Self {
            material,
            import_type: None,
            description: None,
            material_id: None,
            valid_to: None,
        }
    }
}

/// Imports `i` (wrapped locally with the independent RustCrypto `rsa` crate); the
/// KeyMaterialId, or the error code.
async fn import(c: &Client, key: &str, i: Import<'_>) -> Result<String, ErrInfo> {
    use rsa::pkcs8::DecodePublicKey;
    let p = ok(c
        .get_parameters_for_import()
        .key_id(key)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await);
    let public = rsa::RsaPublicKey::from_public_key_der(p.public_key.unwrap().as_ref()).unwrap();
    let wrapped = public
        .encrypt(
            &mut rand_core::OsRng,
            rsa::Oaep::new::<sha2::Sha256>(),
            i.material,
        )
        .unwrap();
    let mut req = c
        .import_key_material()
        .key_id(key)
        .import_token(p.import_token.unwrap())
        .encrypted_key_material(blob(&wrapped))
        .set_import_type(i.import_type)
        .set_key_material_description(i.description.map(Into::into))
        .set_key_material_id(i.material_id.map(Into::into));
    req = match i.valid_to {
        Some(t) => req.valid_to(aws_sdk_kms::primitives::DateTime::from_secs_f64(t)),
        None => req.expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire),
    };
    match req.send().await {
        Ok(out) => Ok(out.key_material_id.unwrap()),
        Err(e) => Err(expect_err::<(), _>(Err(e))),
    }
}

async fn encrypt(c: &Client, key: &str, pt: &[u8]) -> Vec<u8> {
    ok(c.encrypt().key_id(key).plaintext(blob(pt)).send().await)
        .ciphertext_blob
        .unwrap()
        .into_inner()
}

async fn decrypt(c: &Client, ct: &[u8]) -> Vec<u8> {
    ok(c.decrypt().ciphertext_blob(blob(ct)).send().await)
        .plaintext
        .unwrap()
        .into_inner()
}

async fn materials(c: &Client, key: &str) -> Vec<aws_sdk_kms::types::RotationsListEntry> {
    ok(c.list_key_rotations()
        .key_id(key)
        .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
        .send()
        .await)
    .rotations
    .unwrap_or_default()
}

#[tokio::test]
async fn new_material_rotates_in_and_every_material_keeps_decrypting() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = ok(c.create_key().origin(OriginType::External).send().await)
        .key_metadata
        .unwrap()
        .key_id()
        .to_string();
    let arn = key_arn(REGION, &key);
    let (a, b) = (pattern(32, 1), pattern(32, 2));
    let id_a = import(
        &c,
        &key,
        Import {
            description: Some("first"),
            ..Import::of(&a)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        describe_key_metadata(&c, &key)
            .await
            .current_key_material_id(),
        Some(id_a.as_str())
    );
    let ct_a = encrypt(&c, &key, b"under a").await;

    // Nothing pending: AWS's state error.
    let e = assert_code(
        c.rotate_key_on_demand().key_id(&key).send().await,
        "KMSInvalidStateException",
    );
    assert_eq!(
        e.message.as_deref(),
        Some(format!("No available key material pending rotation for the key: {arn}.").as_str())
    );

    let valid_to = now_epoch() + 10.0 * DAY as f64;
    let id_b = import(
        &c,
        &key,
        Import {
            import_type: Some(ImportType::NewKeyMaterial),
            description: Some("second"),
            valid_to: Some(valid_to),
            ..Import::of(&b)
        },
    )
    .await
    .unwrap();
    assert_ne!(id_a, id_b);
    // B waits; A is still current.
    assert_eq!(
        describe_key_metadata(&c, &key)
            .await
            .current_key_material_id(),
        Some(id_a.as_str())
    );
    let all = materials(&c, &key).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].key_material_id(), Some(id_a.as_str()));
    assert_eq!(
        all[0].key_material_state(),
        Some(&KeyMaterialState::Current)
    );
    assert_eq!(all[0].import_state(), Some(&ImportState::Imported));
    assert_eq!(all[0].key_material_description(), Some("first"));
    assert_eq!(
        all[0].expiration_model(),
        Some(&ExpirationModelType::KeyMaterialDoesNotExpire)
    );
    assert_eq!(
        all[1].key_material_state(),
        Some(&KeyMaterialState::PendingRotation)
    );
    assert_eq!(all[1].key_material_description(), Some("second"));
    assert_eq!(
        all[1].expiration_model(),
        Some(&ExpirationModelType::KeyMaterialExpires)
    );
    assert!((all[1].valid_to().unwrap().as_secs_f64() - valid_to).abs() < 2.0);

    // One pending material at a time (AWS's wording), and no material twice.
    let e = import(
        &c,
        &key,
        Import {
            import_type: Some(ImportType::NewKeyMaterial),
            ..Import::of(&pattern(32, 3))
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "KMSInvalidStateException");
    assert!(
        e.message.as_deref().unwrap().contains(&format!(
            "because another key material (id: {id_b}) is pending rotation."
        )),
        "{:?}",
        e.message
    );

    ok(c.rotate_key_on_demand().key_id(&key).send().await);
    assert_eq!(
        describe_key_metadata(&c, &key)
            .await
            .current_key_material_id(),
        Some(id_b.as_str())
    );
    let rotations = ok(c.list_key_rotations().key_id(&key).send().await)
        .rotations
        .unwrap();
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0].key_material_id(), Some(id_b.as_str()));
    assert_eq!(rotations[0].rotation_type(), Some(&RotationType::OnDemand));
    assert!(rotations[0].rotation_date().is_some());
    let ct_b = encrypt(&c, &key, b"under b").await;
    assert_eq!(decrypt(&c, &ct_a).await, b"under a");
    assert_eq!(decrypt(&c, &ct_b).await, b"under b");
    let md = describe_key_metadata(&c, &key).await;
    assert_eq!(
        md.expiration_model(),
        Some(&ExpirationModelType::KeyMaterialExpires)
    );

    // Known material is not new.
    let e = import(
        &c,
        &key,
        Import {
            import_type: Some(ImportType::NewKeyMaterial),
            ..Import::of(&a)
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "IncorrectKeyMaterialException");

    // Delete one (non-current) material: only its ciphertexts stop decrypting.
    let del = ok(c
        .delete_imported_key_material()
        .key_id(&key)
        .key_material_id(&id_a)
        .send()
        .await);
    assert_eq!(del.key_material_id(), Some(id_a.as_str()));
    assert_eq!(
        describe_key_metadata(&c, &key).await.key_state(),
        Some(&KeyState::Enabled)
    );
    assert_code(
        c.decrypt().ciphertext_blob(blob(&ct_a)).send().await,
        "InvalidCiphertextException",
    );
    assert_eq!(decrypt(&c, &ct_b).await, b"under b");
    let all = materials(&c, &key).await;
    assert_eq!(all[0].import_state(), Some(&ImportState::PendingImport));
    assert_eq!(
        all[0].key_material_state(),
        Some(&KeyMaterialState::NonCurrent)
    );
    // Attack: other material under A's id is refused; A itself comes back.
    let e = import(
        &c,
        &key,
        Import {
            material_id: Some(&id_a),
            ..Import::of(&pattern(32, 9))
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "IncorrectKeyMaterialException");
    let e = import(&c, &key, Import::of(&pattern(32, 9)))
        .await
        .unwrap_err();
    assert_eq!(e.code, "IncorrectKeyMaterialException");
    let back = import(
        &c,
        &key,
        Import {
            import_type: Some(ImportType::ExistingKeyMaterial),
            material_id: Some(&id_a),
            ..Import::of(&a)
        },
    )
    .await
    .unwrap();
    assert_eq!(back, id_a);
    assert_eq!(decrypt(&c, &ct_a).await, b"under a");
    assert_code(
        c.delete_imported_key_material()
            .key_id(&key)
            .key_material_id("ab".repeat(32))
            .send()
            .await,
        "NotFoundException",
    );

    // The current material (B) expires: the key waits for it; A stays imported.
    srv.advance_clock(11 * DAY);
    assert_eq!(
        describe_key_metadata(&c, &key).await.key_state(),
        Some(&KeyState::PendingImport)
    );
    let all = materials(&c, &key).await;
    assert_eq!(all[0].import_state(), Some(&ImportState::Imported));
    assert_eq!(all[1].import_state(), Some(&ImportState::PendingImport));
    import(&c, &key, Import::of(&b)).await.unwrap();
    assert_eq!(decrypt(&c, &ct_b).await, b"under b");
    assert_eq!(decrypt(&c, &ct_a).await, b"under a");
}

#[tokio::test]
async fn deleting_the_current_material_and_keys_that_hold_one_material() {
    let srv = Server::start();
    let c = srv.client().await;
    let key = ok(c.create_key().origin(OriginType::External).send().await)
        .key_metadata
        .unwrap()
        .key_id()
        .to_string();
    let a = pattern(32, 4);
    let id_a = import(&c, &key, Import::of(&a)).await.unwrap();
    let ct = encrypt(&c, &key, b"x").await;
    // Without KeyMaterialId the current material goes, and the key waits for it.
    let del = ok(c.delete_imported_key_material().key_id(&key).send().await);
    assert_eq!(del.key_material_id(), Some(id_a.as_str()));
    assert_eq!(
        describe_key_metadata(&c, &key).await.key_state(),
        Some(&KeyState::PendingImport)
    );
    assert_code(
        c.rotate_key_on_demand().key_id(&key).send().await,
        "UnsupportedOperationException",
    );
    import(&c, &key, Import::of(&a)).await.unwrap();
    assert_eq!(decrypt(&c, &ct).await, b"x");

    // An HMAC key holds one material.
    let hmac = ok(c
        .create_key()
        .origin(OriginType::External)
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await)
    .key_metadata
    .unwrap()
    .key_id()
    .to_string();
    import(&c, &hmac, Import::of(&pattern(32, 5)))
        .await
        .unwrap();
    let e = import(
        &c,
        &hmac,
        Import {
            import_type: Some(ImportType::NewKeyMaterial),
            ..Import::of(&pattern(32, 6))
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "UnsupportedOperationException");
}
