//! EnableKey: a Disabled key becomes Enabled (Enabled stays Enabled).

use super::{key_id_member, Empty};
use crate::error::KmsResult;
use crate::model::KeyState;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;

/// EnableKey.
pub struct EnableKey;

/// EnableKey / DisableKey request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    /// The key.
    pub key_id: Option<String>,
}

/// Sets a key Enabled or Disabled, per the key-state table: refused while the key is
/// pending deletion or import, creating or updating.
pub(crate) fn set_enabled(
    call: &mut Call<'_>,
    key_id: &str,
    action: &str,
    enabled: bool,
) -> KmsResult<Empty> {
    let key = call.key(key_id, action, Facts::NONE)?;
    call.kms.update_key(key.key_id(), |rec| {
        let current = key.with_record(rec.clone())?;
        match current.state {
            KeyState::Enabled | KeyState::Disabled | KeyState::Unavailable => {}
            _ => return Err(crate::states::state_error(&current)),
        }
        let target = if enabled {
            KeyState::Enabled
        } else {
            KeyState::Disabled
        };
        rec.key_state = target.as_str().to_string();
        Ok((Vec::new(), ()))
    })?;
    Ok(Empty {})
}

impl Operation for EnableKey {
    const NAME: &'static str = "EnableKey";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        set_enabled(call, key_id, "kms:EnableKey", true)
    }
}
