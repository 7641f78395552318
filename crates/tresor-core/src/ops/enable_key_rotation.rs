//! EnableKeyRotation: automatic rotation of a symmetric AWS_KMS key every
//! RotationPeriodInDays (90–2560, default 365). Each rotation adds a material version
//! that becomes current; older versions keep decrypting until the key is deleted.

use super::{key_id_member, Empty};
use crate::cache::CachedKey;
use crate::error::{KmsError, KmsResult};
use crate::model::{KeySpec, KeyState, Origin};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;
use tresor_store::KeyRecord;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
/// The rotation period when none is given.
pub const DEFAULT_PERIOD_DAYS: i64 = 365;

/// EnableKeyRotation.
pub struct EnableKeyRotation;

/// EnableKeyRotation request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub rotation_period_in_days: Option<i64>,
}

/// Rotation is offered only for symmetric keys with AWS_KMS origin.
pub(crate) fn require_rotatable(key: &CachedKey) -> KmsResult<()> {
    if key.spec != KeySpec::SymmetricDefault {
        // AWS answers this one without a message.
        return Err(KmsError::UnsupportedOperation(crate::messages::NONE));
    }
    if key.origin != Origin::AwsKms {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} has {} origin; Tresor rotates only keys whose material it generated.",
            key.arn, key.origin
        )));
    }
    Ok(())
}

/// The key-state rule of Enable/DisableKeyRotation and RotateKeyOnDemand.
pub(crate) fn require_rotation_state(rec: &KeyRecord, materials: &CachedKey) -> KmsResult<()> {
    let current = materials.with_record(rec.clone())?;
    match current.state {
        KeyState::Enabled | KeyState::Updating => Ok(()),
        KeyState::PendingImport | KeyState::Unavailable => {
            Err(KmsError::UnsupportedOperation(format!(
                "{} is {}; rotation is not available in that state.",
                current.arn, current.state
            )))
        }
        _ => Err(crate::states::state_error(&current)),
    }
}

impl Operation for EnableKeyRotation {
    const NAME: &'static str = "EnableKeyRotation";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let period = req.rotation_period_in_days.unwrap_or(DEFAULT_PERIOD_DAYS);
        let key = call.key(
            key_id,
            "kms:EnableKeyRotation",
            Facts {
                rotation_period_in_days: req.rotation_period_in_days,
                ..Facts::NONE
            },
        )?;
        require_rotatable(&key)?;
        crate::multi_region::refuse_on_replica(&key.to_record(), &key.arn)?;
        let kms = call.kms;
        let last = kms
            .store
            .materials(key.key_id())?
            .iter()
            .map(|m| m.created_ms)
            .max()
            .unwrap_or(key.created_ms);
        let now = call.now_ms();
        let (_, replicas) = kms.update_key(key.key_id(), |rec| {
            require_rotation_state(rec, &key)?;
            rec.rotation_enabled = true;
            rec.rotation_period_days = Some(period);
            rec.next_rotation_ms = Some((last + period * DAY_MS).max(now));
            crate::multi_region::sync_writes(kms, rec)
        })?;
        replicas.iter().for_each(|r| kms.invalidate_key(r));
        Ok(Empty {})
    }
}
