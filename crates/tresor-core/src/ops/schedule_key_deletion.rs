//! ScheduleKeyDeletion: the key becomes PendingDeletion for 7–30 days (default 30);
//! the scheduler deletes it, with its material, aliases and tags, when the day comes.
//! A multi-Region primary that still has replicas waits in `PendingReplicaDeletion`
//! (no date) until the last replica is deleted; then its countdown starts.

use super::key_id_member;
use crate::error::{KmsError, KmsResult};
use crate::model::KeyState;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::validate::Validator;
use crate::wire::Timestamp;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;

/// ScheduleKeyDeletion.
pub struct ScheduleKeyDeletion;

/// ScheduleKeyDeletion request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub pending_window_in_days: Option<i64>,
}

/// ScheduleKeyDeletion response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
    pub key_state: &'static str,
    pub pending_window_in_days: i64,
}

impl Operation for ScheduleKeyDeletion {
    const NAME: &'static str = "ScheduleKeyDeletion";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        // The service allows a narrower window than the model.
        Validator::new()
            .range("pendingWindowInDays", req.pending_window_in_days, 7, 30)
            .finish()?;
        let days = req.pending_window_in_days.unwrap_or(30);
        let key = call.key(key_id, "kms:ScheduleKeyDeletion", Facts::NONE)?;
        let now = call.now_ms();
        let deletion_ms = now + days * DAY_MS;
        let kms = call.kms;
        let (key, ()) = call.kms.update_key(key.key_id(), |rec| {
            let current = key.with_record(rec.clone())?;
            match current.state {
                KeyState::PendingDeletion
                | KeyState::PendingReplicaDeletion
                | KeyState::Updating => return Err(crate::states::state_error(&current)),
                _ => {}
            }
            let has_replicas = crate::multi_region::is_primary(rec)
                && crate::multi_region::related(kms, rec)?.len() > 1;
            if has_replicas {
                rec.key_state = KeyState::PendingReplicaDeletion.as_str().into();
                rec.deletion_ms = None;
            } else {
                rec.key_state = KeyState::PendingDeletion.as_str().into();
                rec.deletion_ms = Some(deletion_ms);
            }
            rec.pending_window_days = Some(days);
            Ok((Vec::new(), ()))
        })?;
        if !matches!(
            key.state,
            KeyState::PendingDeletion | KeyState::PendingReplicaDeletion
        ) {
            return Err(KmsError::internal("scheduled key is not pending deletion"));
        }
        Ok(Response {
            key_id: key.arn.clone(),
            deletion_date: key.rare().deletion_ms.map(Timestamp),
            key_state: key.state.as_str(),
            pending_window_in_days: days,
        })
    }
}
