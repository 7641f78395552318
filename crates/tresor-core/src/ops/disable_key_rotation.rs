//! DisableKeyRotation: turns automatic rotation off; existing material versions stay.

use super::enable_key_rotation::{require_rotatable, require_rotation_state};
use super::{key_id_member, Empty};
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;

/// DisableKeyRotation.
pub struct DisableKeyRotation;

/// DisableKeyRotation request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    /// The key.
    pub key_id: Option<String>,
}

impl Operation for DisableKeyRotation {
    const NAME: &'static str = "DisableKeyRotation";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let key = call.key(key_id, "kms:DisableKeyRotation", Facts::NONE)?;
        require_rotatable(&key)?;
        crate::multi_region::refuse_on_replica(&key.to_record(), &key.arn)?;
        let kms = call.kms;
        let (_, replicas) = kms.update_key(key.key_id(), |rec| {
            require_rotation_state(rec, &key)?;
            rec.rotation_enabled = false;
            rec.next_rotation_ms = None;
            crate::multi_region::sync_writes(kms, rec)
        })?;
        replicas.iter().for_each(|r| kms.invalidate_key(r));
        Ok(Empty {})
    }
}
