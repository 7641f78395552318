//! GetKeyRotationStatus: whether automatic rotation is on, its period and next date.
//! A key pending deletion reads as not rotating (CancelKeyDeletion restores it).

use super::enable_key_rotation::require_rotatable;
use super::key_id_member;
use crate::error::KmsResult;
use crate::model::KeyState;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::Timestamp;
use serde::{Deserialize, Serialize};

/// GetKeyRotationStatus.
pub struct GetKeyRotationStatus;

/// GetKeyRotationStatus request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    /// The key.
    pub key_id: Option<String>,
}

/// GetKeyRotationStatus response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_rotation_enabled: bool,
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_date: Option<Timestamp>,
}

impl Operation for GetKeyRotationStatus {
    const NAME: &'static str = "GetKeyRotationStatus";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let key = call.key(key_id, "kms:GetKeyRotationStatus", Facts::NONE)?;
        require_rotatable(&key)?;
        let rec = key.rare();
        let enabled = rec.rotation_enabled && key.state != KeyState::PendingDeletion;
        Ok(Response {
            key_rotation_enabled: enabled,
            key_id: key.arn.clone(),
            rotation_period_in_days: rec.rotation_period_days.filter(|_| enabled),
            next_rotation_date: rec.next_rotation_ms.filter(|_| enabled).map(Timestamp),
        })
    }
}
