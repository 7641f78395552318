//! UpdateKeyDescription: replaces a key's description (refused while pending deletion).

use super::{key_id_member, Empty};
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;

/// UpdateKeyDescription.
pub struct UpdateKeyDescription;

/// UpdateKeyDescription request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub description: Option<String>,
}

impl Operation for UpdateKeyDescription {
    const NAME: &'static str = "UpdateKeyDescription";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let description = req.description.unwrap_or_default();
        let key = call.key(key_id, "kms:UpdateKeyDescription", Facts::NONE)?;
        call.kms.update_key(key.key_id(), |rec| {
            let current = key.with_record(rec.clone())?;
            crate::states::require_not_pending_deletion(&current)?;
            rec.description = description.clone();
            Ok((Vec::new(), ()))
        })?;
        Ok(Empty {})
    }
}
