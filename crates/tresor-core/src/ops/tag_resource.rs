//! TagResource: adds or overwrites tags on a key (at most 50; `aws:` keys reserved).

use super::{key_id_member, Empty};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{validate_tags, Tag, MAX_TAGS};
use serde::Deserialize;
use tresor_store::{TagRecord, Write};

/// TagResource.
pub struct TagResource;

/// TagResource request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

impl Operation for TagResource {
    const NAME: &'static str = "TagResource";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let tags = validate_tags(req.tags.as_deref().unwrap_or_default())?;
        let key = call.key_no_alias(
            key_id,
            "kms:TagResource",
            Facts {
                tags: req.tags.as_deref().unwrap_or_default(),
                ..Facts::NONE
            },
        )?;
        crate::states::require_not_pending_deletion(&key)?;
        let kms = call.kms;
        kms.write(|| {
            let mut current = kms.store.tags(key.key_id())?;
            for (k, v) in tags {
                match current.iter_mut().find(|t| t.key == k) {
                    Some(t) => t.value = v,
                    None => current.push(TagRecord { key: k, value: v }),
                }
            }
            if current.len() > MAX_TAGS {
                return Err(KmsError::Tag(crate::messages::TOO_MANY_TAGS.into()));
            }
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
