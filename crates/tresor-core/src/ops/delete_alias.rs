//! DeleteAlias: removes an alias; the key is untouched.

use super::Empty;
use crate::error::{KmsError, KmsResult};
use crate::ids::alias_arn;
use crate::pipeline::{not_found_alias, Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;
use tresor_store::Write;

/// DeleteAlias.
pub struct DeleteAlias;

/// DeleteAlias request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    /// The alias to delete.
    pub alias_name: Option<String>,
}

impl Operation for DeleteAlias {
    const NAME: &'static str = "DeleteAlias";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let name = req.alias_name.as_deref().unwrap_or_default();
        crate::ids::validate_alias_name(name, false)?;
        let (account, region) = (call.caller.account.clone(), call.caller.region.clone());
        let kms = call.kms;
        let Some(existing) = kms.store.alias(&account, &region, name)? else {
            return Err(not_found_alias(&alias_arn(&region, &account, name)));
        };
        call.key(
            crate::ids::public_id(&existing.target_key_id),
            "kms:DeleteAlias",
            Facts::NONE,
        )?;
        kms.write(|| {
            if kms.store.alias(&account, &region, name)?.is_none() {
                return Err(KmsError::NotFound(format!(
                    "Alias {} is not found.",
                    alias_arn(&region, &account, name)
                )));
            }
            let w = Write::DeleteAlias {
                account: account.clone(),
                region: region.clone(),
                name: name.to_string(),
            };
            Ok((vec![w], ()))
        })?;
        kms.cache_alias(&account, &region, name, None);
        Ok(Empty {})
    }
}
