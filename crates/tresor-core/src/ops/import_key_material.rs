//! ImportKeyMaterial: unwraps material sent under GetParametersForImport's wrapping key
//! and makes it the EXTERNAL key's material. Re-importing is allowed only for the same
//! material (`IncorrectKeyMaterialException` otherwise); with KEY_MATERIAL_EXPIRES the
//! material is deleted at ValidTo. `ImportType NEW_KEY_MATERIAL` adds another material
//! to a symmetric key, pending rotation (see [`crate::imported`]).

use super::get_parameters_for_import::{require_importable, token_id};
use super::key_id_member;
use crate::cache::KeyMaterial;
use crate::error::{KmsError, KmsResult};
use crate::imported::{plan_import, ImportTarget, ImportType};
use crate::model::{KeySpec, KeyState};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::Blob;
use serde::{Deserialize, Serialize};
use tresor_crypto::asymmetric::{OaepHash, PrivateKey};
use tresor_crypto::{SecretBytes, WrapPurpose};
use tresor_store::{MaterialRecord, Write};

/// The furthest ahead ValidTo may be.
const MAX_VALID_TO_MS: i64 = 365 * 86_400_000;

/// ImportKeyMaterial.
pub struct ImportKeyMaterial;

/// ImportKeyMaterial request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub import_token: Option<Blob>,
    pub encrypted_key_material: Option<Blob>,
    pub valid_to: Option<f64>,
    pub expiration_model: Option<String>,
    pub import_type: Option<String>,
    pub key_material_description: Option<String>,
    pub key_material_id: Option<String>,
}

/// ImportKeyMaterial response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    pub key_material_id: String,
}

fn invalid_ciphertext() -> KmsError {
    KmsError::InvalidCiphertext(
        "The wrapped key material could not be decrypted with the import parameters.".into(),
    )
}

/// Unwraps `encrypted` with the token's private wrapping key and algorithm.
fn unwrap(
    wrapping: &PrivateKey,
    algorithm: &str,
    spec: &str,
    encrypted: &[u8],
) -> KmsResult<SecretBytes> {
    let (hash, kwp) = match algorithm {
        "RSAES_OAEP_SHA_1" => (OaepHash::Sha1, false),
        "RSAES_OAEP_SHA_256" => (OaepHash::Sha256, false),
        "RSA_AES_KEY_WRAP_SHA_1" => (OaepHash::Sha1, true),
        "RSA_AES_KEY_WRAP_SHA_256" => (OaepHash::Sha256, true),
        other => {
            return Err(KmsError::internal(format!(
                "stored wrapping algorithm {other}"
            )))
        }
    };
    if !kwp {
        return wrapping
            .decrypt(hash, encrypted)
            .map_err(|_| invalid_ciphertext());
    }
    let modulus = match spec {
        "RSA_2048" => 256,
        "RSA_3072" => 384,
        _ => 512,
    };
    if encrypted.len() <= modulus {
        return Err(invalid_ciphertext());
    }
    let (wrapped_aes, wrapped_material) = encrypted.split_at(modulus);
    let aes = wrapping
        .decrypt(hash, wrapped_aes)
        .map_err(|_| invalid_ciphertext())?;
    tresor_crypto::keywrap::unwrap_padded(&aes, wrapped_material).map_err(|_| invalid_ciphertext())
}

/// Checks imported bytes against the key spec and builds the material.
fn material_for(spec: KeySpec, bytes: SecretBytes) -> KmsResult<KeyMaterial> {
    let len = bytes.len();
    let ok_len = match spec {
        KeySpec::SymmetricDefault => len == 32,
        KeySpec::Hmac224 => (28..=64).contains(&len),
        KeySpec::Hmac256 => (32..=64).contains(&len),
        KeySpec::Hmac384 => (48..=128).contains(&len),
        KeySpec::Hmac512 => (64..=128).contains(&len),
        _ => true,
    };
    if !ok_len {
        return Err(KmsError::Validation(format!(
            "Imported key material of {len} bytes is not valid for a {spec} key."
        )));
    }
    KeyMaterial::from_secret(spec, bytes).map_err(|_| {
        KmsError::Validation(format!(
            "The imported key material is not a valid {spec} private key (PKCS#8 DER expected)."
        ))
    })
}

impl Operation for ImportKeyMaterial {
    const NAME: &'static str = "ImportKeyMaterial";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let now = call.now_ms();
        let expires = match req.expiration_model.as_deref() {
            None | Some("KEY_MATERIAL_EXPIRES") => true,
            Some("KEY_MATERIAL_DOES_NOT_EXPIRE") => false,
            Some(other) => {
                return Err(KmsError::Validation(format!(
                    "1 validation error detected: Value '{other}' at 'expirationModel' failed to satisfy constraint: Member must satisfy enum value set: [KEY_MATERIAL_EXPIRES, KEY_MATERIAL_DOES_NOT_EXPIRE]"
                )))
            }
        };
        #[allow(clippy::cast_possible_truncation)]
        let valid_to = req.valid_to.map(|t| (t * 1000.0) as i64);
        match (expires, valid_to) {
            (true, None) => {
                return Err(KmsError::Validation(
                    crate::messages::VALID_TO_REQUIRED.into(),
                ))
            }
            (false, Some(_)) => {
                return Err(KmsError::Validation(
                    "ValidTo must not be set when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE."
                        .into(),
                ))
            }
            (true, Some(t)) if t <= now || t > now + MAX_VALID_TO_MS => {
                return Err(KmsError::Validation(
                    "ValidTo must be in the future and at most 365 days from now.".into(),
                ))
            }
            _ => {}
        }
        let token = token_id(
            req.import_token
                .as_ref()
                .map(|b| b.0.as_slice())
                .unwrap_or_default(),
        )?;
        let key = call.key(
            key_id,
            "kms:ImportKeyMaterial",
            Facts {
                expiration_model: req.expiration_model.as_deref(),
                ..Facts::NONE
            },
        )?;
        require_importable(&key)?;
        let import_type = match req.import_type.as_deref() {
            None => ImportType::Default,
            Some("EXISTING_KEY_MATERIAL") => ImportType::Existing,
            Some("NEW_KEY_MATERIAL") => ImportType::New,
            Some(other) => {
                return Err(KmsError::Validation(format!(
                    "1 validation error detected: Value '{other}' at 'importType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_KEY_MATERIAL, EXISTING_KEY_MATERIAL]"
                )))
            }
        };
        let kms = call.kms;
        let record = kms.store.import_token(&token)?;
        let Some(record) = record.filter(|r| r.key_id == key.key_id()) else {
            return Err(KmsError::InvalidImportToken(format!(
                "The import token is not valid for {}.",
                key.arn
            )));
        };
        if record.expires_ms <= now {
            return Err(KmsError::ExpiredImportToken(
                "The import token has expired; call GetParametersForImport again.".into(),
            ));
        }
        let ring = kms.ring()?;
        let wrapping_pkcs8 = kms.unwrap_under(
            &ring,
            record.root_generation,
            WrapPurpose::ImportWrappingKey { token_id: &token },
            &record.wrapped_private_key,
        )?;
        let wrapping = PrivateKey::from_pkcs8(
            match record.wrapping_key_spec.as_str() {
                "RSA_2048" => tresor_crypto::asymmetric::AsymmetricSpec::Rsa2048,
                "RSA_3072" => tresor_crypto::asymmetric::AsymmetricSpec::Rsa3072,
                _ => tresor_crypto::asymmetric::AsymmetricSpec::Rsa4096,
            },
            &wrapping_pkcs8,
        )
        .map_err(KmsError::internal)?;
        let encrypted = req
            .encrypted_key_material
            .as_ref()
            .map(|b| b.0.as_slice())
            .unwrap_or_default();
        let bytes = unwrap(
            &wrapping,
            &record.wrapping_algorithm,
            &record.wrapping_key_spec,
            encrypted,
        )?;
        let fingerprint = hex::encode(ring.current().1.fingerprint(
            // The public id: every Region's replica accepts only the same material.
            &format!("tresor:imported-material:v1:{}", key.id()),
            &bytes,
        ));
        if req
            .key_material_id
            .as_ref()
            .is_some_and(|m| *m != fingerprint)
        {
            return Err(KmsError::IncorrectKeyMaterial(
                "The key material does not match the KeyMaterialId in the request.".into(),
            ));
        }
        let material = material_for(key.spec, bytes)?;
        let public_key = match &material {
            KeyMaterial::Asymmetric(k) => Some(k.public_key()?.spki().to_vec()),
            _ => None,
        };
        let model = if expires {
            "KEY_MATERIAL_EXPIRES"
        } else {
            "KEY_MATERIAL_DOES_NOT_EXPIRE"
        };
        let symmetric = key.spec == KeySpec::SymmetricDefault;
        kms.update_key(key.key_id(), |rec| {
            let rows = kms.store.materials(&rec.key_id)?;
            let target = plan_import(rec, &rows, &fingerprint, import_type, symmetric, &key.arn)?;
            let version = match target {
                ImportTarget::First => 1,
                ImportTarget::Existing(v) | ImportTarget::New(v) => v,
            };
            let (wrapped, root_generation) =
                crate::Kms::wrap_material(&ring, &key.arn, version, &material)?;
            let existing = rows.iter().find(|m| m.version == version);
            let row = MaterialRecord {
                key_id: rec.key_id.clone(),
                version,
                material_id: fingerprint.clone(),
                wrapped,
                created_ms: existing.map_or(now, |m| m.created_ms),
                rotation_type: existing.and_then(|m| m.rotation_type.clone()),
                root_generation,
                description: req
                    .key_material_description
                    .clone()
                    .or_else(|| existing.and_then(|m| m.description.clone())),
                valid_to_ms: valid_to,
                expiration_model: Some(model.to_string()),
            };
            let mut writes = Vec::new();
            match target {
                ImportTarget::First => {
                    writes.push(Write::DeleteMaterials {
                        key_id: rec.key_id.clone(),
                    });
                    writes.push(Write::InsertMaterial(row));
                    rec.current_version = 1;
                    rec.imported_material_id = Some(fingerprint.clone());
                }
                ImportTarget::Existing(_) => writes.push(Write::UpdateMaterial(row)),
                ImportTarget::New(_) => writes.push(Write::InsertMaterial(row)),
            }
            // The key's ValidTo / ExpirationModel are its current material's.
            if version == rec.current_version {
                if rec.key_state == KeyState::PendingImport.as_str() {
                    rec.key_state = KeyState::Enabled.as_str().into();
                }
                rec.valid_to_ms = valid_to;
                rec.expiration_model = Some(model.to_string());
                if public_key.is_some() {
                    rec.public_key.clone_from(&public_key);
                }
            }
            Ok((writes, ()))
        })?;
        kms.invalidate_key(key.key_id());
        Ok(Response {
            key_id: key.arn.clone(),
            key_material_id: fingerprint,
        })
    }
}
