//! RotateKeyOnDemand: rotates a symmetric key's material now, leaving the automatic
//! schedule alone. At most 25 on-demand rotations in a key's life. An EXTERNAL key
//! rotates onto the material imported with `ImportType NEW_KEY_MATERIAL`.

use super::enable_key_rotation::{require_rotatable, require_rotation_state};
use super::key_id_member;
use crate::cache::CachedKey;
use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, Origin};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::{Deserialize, Serialize};
use tresor_store::{MaterialRecord, Write};

/// The lifetime quota of on-demand rotations per key.
pub const MAX_ON_DEMAND_ROTATIONS: i64 = 25;
/// An on-demand rotation is refused while an automatic one is due this soon.
const CONFLICT_WINDOW_MS: i64 = 20 * 60 * 1000;

/// RotateKeyOnDemand.
pub struct RotateKeyOnDemand;

/// RotateKeyOnDemand request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    /// The key.
    pub key_id: Option<String>,
}

/// RotateKeyOnDemand response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    /// The key ARN.
    pub key_id: String,
}

impl Operation for RotateKeyOnDemand {
    const NAME: &'static str = "RotateKeyOnDemand";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let key = call.key(key_id, "kms:RotateKeyOnDemand", Facts::NONE)?;
        // The key's state before its type, as AWS checks them.
        require_rotation_state(&key.to_record(), &key)?;
        if key.origin == Origin::External && key.spec == KeySpec::SymmetricDefault {
            return rotate_imported(call, &key);
        }
        require_rotatable(&key)?;
        crate::multi_region::refuse_on_replica(&key.to_record(), &key.arn)?;
        let now = call.now_ms();
        call.kms.rotate_key(key.key_id(), "ON_DEMAND", |rec| {
            require_rotation_state(rec, &key)?;
            if rec.on_demand_rotations >= MAX_ON_DEMAND_ROTATIONS {
                return Err(KmsError::LimitExceeded(
                    crate::messages::on_demand_rotation_limit(&key.arn),
                ));
            }
            if rec.rotation_enabled
                && rec
                    .next_rotation_ms
                    .is_some_and(|t| t <= now + CONFLICT_WINDOW_MS)
            {
                return Err(KmsError::Conflict(format!(
                    "An automatic rotation of {} is due within 20 minutes; try again after it.",
                    key.arn
                )));
            }
            rec.on_demand_rotations += 1;
            Ok(())
        })?;
        Ok(Response {
            key_id: key.arn.clone(),
        })
    }
}

/// Makes an EXTERNAL key's material pending rotation its current material.
fn rotate_imported(call: &mut Call<'_>, key: &CachedKey) -> KmsResult<Response> {
    let kms = call.kms;
    let now = call.now_ms();
    kms.update_key(key.key_id(), |rec| {
        require_rotation_state(rec, key)?;
        if rec.on_demand_rotations >= MAX_ON_DEMAND_ROTATIONS {
            return Err(KmsError::LimitExceeded(
                crate::messages::on_demand_rotation_limit(&key.arn),
            ));
        }
        let rows = kms.store.materials(&rec.key_id)?;
        let Some(pending) = crate::imported::pending(rec, &rows).filter(|m| m.is_present()) else {
            return Err(KmsError::InvalidState(format!(
                "No available key material pending rotation for the key: {}.",
                key.arn
            )));
        };
        rec.current_version = pending.version;
        rec.valid_to_ms = pending.valid_to_ms;
        rec.expiration_model.clone_from(&pending.expiration_model);
        rec.on_demand_rotations += 1;
        Ok((
            vec![Write::UpdateMaterial(MaterialRecord {
                created_ms: now,
                rotation_type: Some("ON_DEMAND".into()),
                ..pending
            })],
            (),
        ))
    })?;
    kms.invalidate_key(key.key_id());
    Ok(Response {
        key_id: key.arn.clone(),
    })
}
