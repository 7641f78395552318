//! ListResourceTags: a key's tags, ordered by tag key, paged (at most 50 per page).

use super::key_id_member;
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::validate::Validator;
use crate::wire::{parse_marker, Tag};
use serde::{Deserialize, Serialize};

/// The service's page-size ceiling (the model allows up to 1000; the service refuses more than 50).
const MAX_LIMIT: i64 = 50;

/// ListResourceTags.
pub struct ListResourceTags;

/// ListResourceTags request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

/// ListResourceTags response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

impl Operation for ListResourceTags {
    const NAME: &'static str = "ListResourceTags";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        // The service's limit, stricter than the model's 1..=1000.
        Validator::new()
            .range("limit", req.limit, 1, MAX_LIMIT)
            .finish()?;
        let after = parse_marker(&req.marker)?;
        let key = call.key_no_alias(key_id, "kms:ListResourceTags", Facts::NONE)?;
        let limit = usize::try_from(req.limit.unwrap_or(MAX_LIMIT)).unwrap_or(50);
        let all = call.kms.store.tags(key.key_id())?;
        let mut page: Vec<_> = all
            .into_iter()
            .filter(|t| after.as_deref().is_none_or(|a| t.key.as_str() > a))
            .collect();
        let (truncated, next_marker) = crate::wire::cut_page(&mut page, limit, |t| t.key.clone());
        let tags = page
            .into_iter()
            .map(|t| Tag {
                tag_key: Some(t.key),
                tag_value: Some(t.value),
            })
            .collect();
        Ok(Response {
            tags,
            next_marker,
            truncated,
        })
    }
}
