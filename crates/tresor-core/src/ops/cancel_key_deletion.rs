//! CancelKeyDeletion: a key pending deletion returns to Disabled (not Enabled).

use super::key_id_member;
use crate::error::{KmsError, KmsResult};
use crate::model::KeyState;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::{Deserialize, Serialize};

/// CancelKeyDeletion.
pub struct CancelKeyDeletion;

/// CancelKeyDeletion request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    /// The key.
    pub key_id: Option<String>,
}

/// CancelKeyDeletion response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    /// The key ARN.
    pub key_id: String,
}

impl Operation for CancelKeyDeletion {
    const NAME: &'static str = "CancelKeyDeletion";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let key = call.key(key_id, "kms:CancelKeyDeletion", Facts::NONE)?;
        let (key, ()) = call.kms.update_key(key.key_id(), |rec| {
            if rec.key_state != KeyState::PendingDeletion.as_str()
                && rec.key_state != KeyState::PendingReplicaDeletion.as_str()
            {
                let arn = crate::ids::stored_key_arn(&rec.region, &rec.account, &rec.key_id);
                return Err(KmsError::InvalidState(format!(
                    "{arn} is not pending deletion."
                )));
            }
            rec.key_state = KeyState::Disabled.as_str().into();
            rec.deletion_ms = None;
            rec.pending_window_days = None;
            Ok((Vec::new(), ()))
        })?;
        Ok(Response {
            key_id: key.arn.clone(),
        })
    }
}
