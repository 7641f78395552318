//! ListKeyRotations: a symmetric key's completed rotations (or, with
//! ALL_KEY_MATERIAL, every material version), oldest first, paged. For an EXTERNAL key
//! each entry also carries its description, import state and expiration.

use super::enable_key_rotation::require_rotatable;
use super::key_id_member;
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{parse_marker, Timestamp};
use serde::{Deserialize, Serialize};

/// ListKeyRotations.
pub struct ListKeyRotations;

/// ListKeyRotations request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub include_key_material: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

/// One rotation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct RotationsListEntry {
    pub key_id: String,
    pub key_material_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_state: Option<&'static str>,
    pub key_material_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_type: Option<String>,
}

/// ListKeyRotations response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub rotations: Vec<RotationsListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

impl Operation for ListKeyRotations {
    const NAME: &'static str = "ListKeyRotations";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let all = match req.include_key_material.as_deref() {
            None | Some("ROTATIONS_ONLY") => false,
            Some("ALL_KEY_MATERIAL") => true,
            Some(other) => {
                return Err(crate::KmsError::Validation(format!(
                    "1 validation error detected: Value '{other}' at 'includeKeyMaterial' failed to satisfy constraint: Member must satisfy enum value set: [ALL_KEY_MATERIAL, ROTATIONS_ONLY]"
                )))
            }
        };
        let after = parse_marker(&req.marker)?.and_then(|m| m.parse::<u32>().ok());
        let key = call.key(key_id, "kms:ListKeyRotations", Facts::NONE)?;
        let imported = key.origin == crate::model::Origin::External;
        if !(imported && key.spec == crate::model::KeySpec::SymmetricDefault) {
            require_rotatable(&key)?;
        }
        let limit = usize::try_from(req.limit.unwrap_or(100)).unwrap_or(100);
        let mut page: Vec<_> = call
            .kms
            .store
            .materials(key.key_id())?
            .into_iter()
            .filter(|m| all || m.rotation_type.is_some())
            .filter(|m| after.is_none_or(|a| m.version > a))
            .collect();
        let (truncated, next_marker) =
            crate::wire::cut_page(&mut page, limit, |m| m.version.to_string());
        let rotations = page
            .into_iter()
            .map(|m| RotationsListEntry {
                key_id: key.id().to_string(),
                key_material_state: crate::imported::material_state(key.current_version, m.version),
                import_state: imported.then_some(if m.is_present() {
                    "IMPORTED"
                } else {
                    "PENDING_IMPORT"
                }),
                key_material_description: m.description.clone(),
                expiration_model: m.expiration_model.clone().filter(|_| imported),
                valid_to: m.valid_to_ms.filter(|_| imported).map(Timestamp),
                key_material_id: m.material_id,
                rotation_date: m.rotation_type.as_ref().map(|_| Timestamp(m.created_ms)),
                rotation_type: m.rotation_type,
            })
            .collect();
        Ok(Response {
            rotations,
            next_marker,
            truncated,
        })
    }
}
