//! DeleteImportedKeyMaterial: removes one imported material (the current one, or the one
//! `KeyMaterialId` names). Without its current material the key becomes PendingImport;
//! ciphertexts under a deleted material cannot be decrypted until the same material is
//! imported again. Other materials keep working.

use super::get_parameters_for_import::require_importable;
use super::key_id_member;
use crate::error::{KmsError, KmsResult};
use crate::model::KeyState;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::{Deserialize, Serialize};
use tresor_store::KeyRecord;

/// DeleteImportedKeyMaterial.
pub struct DeleteImportedKeyMaterial;

/// DeleteImportedKeyMaterial request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub key_material_id: Option<String>,
}

/// DeleteImportedKeyMaterial response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    pub key_material_id: String,
}

/// Puts a key whose material is going away into PendingImport (the caller deletes the
/// material rows in the same batch). The fingerprint stays, so only the same material
/// can come back.
pub(crate) fn forget_material(rec: &mut KeyRecord) {
    if rec.key_state != KeyState::PendingDeletion.as_str() {
        rec.key_state = KeyState::PendingImport.as_str().into();
    }
    rec.valid_to_ms = None;
    rec.expiration_model = None;
}

impl Operation for DeleteImportedKeyMaterial {
    const NAME: &'static str = "DeleteImportedKeyMaterial";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let key = call.key(key_id, "kms:DeleteImportedKeyMaterial", Facts::NONE)?;
        require_importable(&key)?;
        let kms = call.kms;
        let (_, deleted) = kms.update_key(key.key_id(), |rec| {
            let rows = kms.store.materials(&rec.key_id)?;
            let wanted = match &req.key_material_id {
                Some(id) => rows.iter().find(|m| m.material_id == *id),
                None => rows.iter().find(|m| m.version == rec.current_version),
            };
            let Some(m) = wanted else {
                // No row: a key whose material an older Tresor deleted, or none yet.
                let current = rec.imported_material_id.clone().unwrap_or_default();
                if req.key_material_id.as_ref().is_some_and(|m| *m != current) {
                    return Err(KmsError::NotFound(format!(
                        "Key material {} of {} does not exist",
                        req.key_material_id.clone().unwrap_or_default(),
                        key.arn
                    )));
                }
                forget_material(rec);
                return Ok((Vec::new(), current));
            };
            let id = m.material_id.clone();
            let write = crate::imported::delete_version(rec, m);
            Ok((vec![write], id))
        })?;
        kms.invalidate_key(key.key_id());
        Ok(Response {
            key_id: key.arn.clone(),
            key_material_id: deleted,
        })
    }
}
