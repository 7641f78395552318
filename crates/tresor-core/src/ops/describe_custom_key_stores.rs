//! DescribeCustomKeyStores: the caller's custom key stores in the region, all of them
//! (paged, by id) or one by `CustomKeyStoreId` or by `CustomKeyStoreName`.

use crate::custom_key_stores::{self as cks, CustomKeyStoreEntry};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{cut_page, parse_marker};
use serde::{Deserialize, Serialize};

/// DescribeCustomKeyStores.
pub struct DescribeCustomKeyStores;

/// DescribeCustomKeyStores request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub custom_key_store_id: Option<String>,
    pub custom_key_store_name: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

/// DescribeCustomKeyStores response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub custom_key_stores: Vec<CustomKeyStoreEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

impl Operation for DescribeCustomKeyStores {
    const NAME: &'static str = "DescribeCustomKeyStores";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        if req.custom_key_store_id.is_some() && req.custom_key_store_name.is_some() {
            return Err(KmsError::Validation(
                "You can specify either CustomKeyStoreId or CustomKeyStoreName, but not both."
                    .into(),
            ));
        }
        let after = parse_marker(&req.marker)?;
        call.authorize_account("kms:DescribeCustomKeyStores", Facts::NONE)?;
        let caller = call.caller;
        let mut rows = call
            .kms
            .store
            .custom_key_stores(&caller.account, &caller.region)?;
        if let Some(id) = &req.custom_key_store_id {
            rows.retain(|r| &r.id == id);
            if rows.is_empty() {
                return Err(cks::not_found(id));
            }
        }
        if let Some(name) = &req.custom_key_store_name {
            rows.retain(|r| &r.name == name);
            if rows.is_empty() {
                return Err(KmsError::CustomKeyStoreNotFound(format!(
                    "Custom key store with name '{name}' does not exist."
                )));
            }
        }
        if let Some(after) = &after {
            rows.retain(|r| r.id.as_str() > after.as_str());
        }
        let limit = usize::try_from(req.limit.unwrap_or(1000)).unwrap_or(1000);
        let (truncated, next_marker) = cut_page(&mut rows, limit, |r| r.id.clone());
        Ok(Response {
            custom_key_stores: rows.iter().map(CustomKeyStoreEntry::from_record).collect(),
            next_marker,
            truncated,
        })
    }
}
