//! UntagResource: removes tags by key; keys that are not there are ignored.

use super::{key_id_member, Empty};
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;
use tresor_store::Write;

/// UntagResource.
pub struct UntagResource;

/// UntagResource request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

impl Operation for UntagResource {
    const NAME: &'static str = "UntagResource";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let remove = req.tag_keys.unwrap_or_default();
        let key = call.key_no_alias(
            key_id,
            "kms:UntagResource",
            Facts {
                tag_keys: &remove,
                ..Facts::NONE
            },
        )?;
        crate::states::require_not_pending_deletion(&key)?;
        let kms = call.kms;
        kms.write(|| {
            let mut current = kms.store.tags(key.key_id())?;
            current.retain(|t| !remove.contains(&t.key));
            Ok((
                vec![Write::SetTags {
                    key_id: key.key_id().to_string(),
                    tags: current,
                }],
                (),
            ))
        })?;
        Ok(Empty {})
    }
}
