//! CreateAlias: a friendly name (`alias/...`) for a customer managed key in the same
//! account and region. At most 50 aliases per key; `alias/aws/` is reserved.

use super::Empty;
use crate::error::{KmsError, KmsResult};
use crate::ids::{alias_arn, validate_alias_name};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;
use tresor_store::{AliasRecord, Counted, Write};

/// Most aliases one key may have.
pub const MAX_ALIASES_PER_KEY: usize = 50;

/// CreateAlias.
pub struct CreateAlias;

/// CreateAlias / UpdateAlias request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub alias_name: Option<String>,
    pub target_key_id: Option<String>,
}

/// The check, put before the write that gives key `key_id` (ARN `arn`) one more
/// alias, that it has fewer than [`MAX_ALIASES_PER_KEY`]. It runs inside the write's
/// transaction, so racing nodes cannot both take the last place.
pub(crate) fn alias_limit(key_id: &str, arn: &str) -> Write {
    Write::CheckLimit {
        counted: Counted::AliasesOfKey(key_id.to_string()),
        limit: MAX_ALIASES_PER_KEY as u64,
        refusal: format!("Key {arn} already has {MAX_ALIASES_PER_KEY} aliases"),
    }
}

/// Validates the members of CreateAlias / UpdateAlias.
pub(crate) fn members(req: &Request, creating: bool) -> KmsResult<(&str, &str)> {
    let (Some(name), Some(target)) = (req.alias_name.as_deref(), req.target_key_id.as_deref())
    else {
        return Err(KmsError::internal("validated members missing"));
    };
    validate_alias_name(name, creating)?;
    Ok((name, target))
}

impl Operation for CreateAlias {
    const NAME: &'static str = "CreateAlias";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let (name, target) = members(&req, true)?;
        let key = call.key_no_alias(target, "kms:CreateAlias", Facts::NONE)?;
        crate::states::require_not_pending_deletion(&key)?;
        let (account, region) = (call.caller.account.clone(), call.caller.region.clone());
        if key.account() != account {
            return Err(KmsError::NotFound(crate::messages::key_not_found(&key.arn)));
        }
        let kms = call.kms;
        let now = call.now_ms();
        let exists = || {
            KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                alias_arn(&region, &account, name)
            ))
        };
        kms.write_unique(
            || {
                if kms.store.alias(&account, &region, name)?.is_some() {
                    return Err(KmsError::AlreadyExists(format!(
                        "An alias with the name {} already exists",
                        alias_arn(&region, &account, name)
                    )));
                }
                let limit = alias_limit(key.key_id(), &key.arn);
                let record = AliasRecord {
                    account: account.clone(),
                    region: region.clone(),
                    name: name.to_string(),
                    target_key_id: key.key_id().to_string(),
                    created_ms: now,
                    updated_ms: now,
                };
                Ok((vec![limit, Write::InsertAlias(record)], ()))
            },
            // Another node created the alias between the check and the insert.
            |_| exists(),
        )?;
        kms.cache_alias(&account, &region, name, Some(key.key_id()));
        Ok(Empty {})
    }
}
