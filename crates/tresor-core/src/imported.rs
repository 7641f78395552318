//! The key materials of an EXTERNAL key: which version an import goes to, which one a
//! deletion removes, and what ListKeyRotations says about each.
//!
//! Every imported material is one row (version) of the key; a deleted or expired one
//! keeps its row without bytes ([`MaterialRecord::is_present`]), so only the same
//! material can come back. A symmetric key may hold several: `NEW_KEY_MATERIAL` adds
//! one that is `PENDING_ROTATION` (a version above the current one) until
//! RotateKeyOnDemand makes it current.

use crate::error::{KmsError, KmsResult};
use tresor_store::{KeyRecord, MaterialRecord, Write};

/// Where an import goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportTarget {
    /// The key's first material: version 1, the key becomes Enabled.
    First,
    /// Re-import into an existing version (the same material).
    Existing(u32),
    /// New material at this version, pending rotation.
    New(u32),
}

/// What the request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportType {
    /// `ImportType` absent.
    Default,
    /// `EXISTING_KEY_MATERIAL`.
    Existing,
    /// `NEW_KEY_MATERIAL`.
    New,
}

/// The version a material is pending rotation at, if any (present or not).
pub fn pending(rec: &KeyRecord, rows: &[MaterialRecord]) -> Option<MaterialRecord> {
    rows.iter()
        .filter(|m| m.version > rec.current_version)
        .max_by_key(|m| m.version)
        .cloned()
}

/// Decides where material with KeyMaterialId `fingerprint` goes. `symmetric` and
/// `multi_region` describe the key; `arn` names it in errors.
pub fn plan_import(
    rec: &KeyRecord,
    rows: &[MaterialRecord],
    fingerprint: &str,
    import_type: ImportType,
    symmetric: bool,
    arn: &str,
) -> KmsResult<ImportTarget> {
    let never_imported = rows.is_empty() && rec.imported_material_id.is_none();
    if never_imported {
        return Ok(ImportTarget::First);
    }
    let known = rows.iter().find(|m| m.material_id == fingerprint);
    match import_type {
        ImportType::New => {
            if !symmetric {
                return Err(KmsError::UnsupportedOperation(format!(
                    "{arn} is not a symmetric encryption key; only those hold several key materials."
                )));
            }
            if rec.primary_region.is_some() {
                return Err(KmsError::UnsupportedOperation(format!(
                    "{arn} is a multi-Region key; Tresor does not import new key material into multi-Region keys."
                )));
            }
            if let Some(p) = pending(rec, rows) {
                return Err(KmsError::InvalidState(format!(
                    "New key material (id: {fingerprint}) cannot be imported into KMS key {}, because another key material (id: {}) is pending rotation.",
                    crate::ids::public_id(&rec.key_id),
                    p.material_id
                )));
            }
            if known.is_some() || rec.imported_material_id.as_deref() == Some(fingerprint) {
                return Err(KmsError::IncorrectKeyMaterial(format!(
                    "The key material is already associated with {arn}; import it with ImportType EXISTING_KEY_MATERIAL."
                )));
            }
            let next = rows.iter().map(|m| m.version).max().unwrap_or(0) + 1;
            Ok(ImportTarget::New(next))
        }
        ImportType::Existing | ImportType::Default => match known {
            Some(m) => Ok(ImportTarget::Existing(m.version)),
            // A replica (or a key whose rows an older Tresor deleted) holds only the
            // fingerprint of its first material.
            None if rows.is_empty() && rec.imported_material_id.as_deref() == Some(fingerprint) => {
                Ok(ImportTarget::First)
            }
            None => Err(KmsError::IncorrectKeyMaterial(format!(
                "The key material is different from the material previously imported into {arn}."
            ))),
        },
    }
}

/// The row of `m` once its material is deleted: ImportState PENDING_IMPORT.
pub fn without_material(m: &MaterialRecord) -> MaterialRecord {
    MaterialRecord {
        wrapped: Vec::new(),
        valid_to_ms: None,
        ..m.clone()
    }
}

/// Deletes material `version` of `rec` (DeleteImportedKeyMaterial, expiry): its row
/// loses its bytes; when it is the current one, the key waits in PendingImport.
pub fn delete_version(rec: &mut KeyRecord, m: &MaterialRecord) -> Write {
    if m.version == rec.current_version {
        crate::ops::delete_imported_key_material::forget_material(rec);
    }
    Write::UpdateMaterial(without_material(m))
}

/// The writes that delete every material of `rec` whose ValidTo has passed at `now`.
pub fn expire(rec: &mut KeyRecord, rows: &[MaterialRecord], now: i64) -> Vec<Write> {
    rows.iter()
        .filter(|m| m.is_present() && m.valid_to_ms.is_some_and(|t| t <= now))
        .map(|m| delete_version(rec, m))
        .collect()
}

/// `KeyMaterialState` of a version: CURRENT, NON_CURRENT or PENDING_ROTATION.
pub fn material_state(current_version: u32, version: u32) -> &'static str {
    if version == current_version {
        "CURRENT"
    } else if version > current_version {
        "PENDING_ROTATION"
    } else {
        "NON_CURRENT"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn rec(current: u32, fingerprint: Option<&str>) -> KeyRecord {
        KeyRecord {
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            created_ms: 0,
            description: String::new(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            origin: "EXTERNAL".into(),
            key_state: "Enabled".into(),
            deletion_ms: None,
            pending_window_days: None,
            current_version: current,
            policy: None,
            public_key: None,
            rotation_enabled: false,
            rotation_period_days: None,
            next_rotation_ms: None,
            on_demand_rotations: 0,
            valid_to_ms: None,
            expiration_model: None,
            imported_material_id: fingerprint.map(Into::into),
            primary_region: None,
            custom_key_store_id: None,
            xks_key_id: None,
            revision: 1,
        }
    }

    fn row(version: u32, id: &str, present: bool) -> MaterialRecord {
        MaterialRecord {
            key_id: "k".into(),
            version,
            material_id: id.into(),
            wrapped: if present { vec![1] } else { Vec::new() },
            created_ms: 0,
            rotation_type: None,
            root_generation: 1,
            description: None,
            valid_to_ms: None,
            expiration_model: None,
        }
    }

    #[test]
    fn first_import_then_new_then_existing() {
        let r = rec(1, None);
        assert_eq!(
            plan_import(&r, &[], "a", ImportType::Default, true, "arn").unwrap(),
            ImportTarget::First
        );
        let r = rec(1, Some("a"));
        let rows = [row(1, "a", true)];
        assert_eq!(
            plan_import(&r, &rows, "b", ImportType::New, true, "arn").unwrap(),
            ImportTarget::New(2)
        );
        assert_eq!(
            plan_import(&r, &rows, "a", ImportType::Existing, true, "arn").unwrap(),
            ImportTarget::Existing(1)
        );
        assert_eq!(material_state(r.current_version, 2), "PENDING_ROTATION");
        assert_eq!(material_state(r.current_version, 1), "CURRENT");
    }

    #[test]
    fn refusals() {
        let r = rec(1, Some("a"));
        let rows = [row(1, "a", true), row(2, "b", true)];
        // A second pending material, with AWS's message.
        let e = plan_import(&r, &rows, "c", ImportType::New, true, "arn").unwrap_err();
        assert!(
            matches!(&e, KmsError::InvalidState(m) if m.contains("(id: b) is pending rotation"))
        );
        // Other material under EXISTING, or known material under NEW.
        assert!(matches!(
            plan_import(&r, &rows, "z", ImportType::Default, true, "arn"),
            Err(KmsError::IncorrectKeyMaterial(_))
        ));
        let r1 = rec(1, Some("a"));
        assert!(matches!(
            plan_import(&r1, &rows[..1], "a", ImportType::New, true, "arn"),
            Err(KmsError::IncorrectKeyMaterial(_))
        ));
        // Asymmetric / HMAC keys hold one material.
        assert!(matches!(
            plan_import(&r1, &rows[..1], "q", ImportType::New, false, "arn"),
            Err(KmsError::UnsupportedOperation(_))
        ));
        // A deleted material comes back only as itself.
        let gone = [row(1, "a", false)];
        assert_eq!(
            plan_import(&r1, &gone, "a", ImportType::Default, true, "arn").unwrap(),
            ImportTarget::Existing(1)
        );
        assert!(plan_import(&r1, &gone, "x", ImportType::Default, true, "arn").is_err());
    }
}
