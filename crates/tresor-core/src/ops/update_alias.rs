//! UpdateAlias: points an existing alias at another key of the same key type and usage.
//! The new key must have fewer than 50 aliases, as for CreateAlias.

use super::create_alias::{alias_limit, members, Request};
use super::Empty;
use crate::error::{KmsError, KmsResult};
use crate::ids::alias_arn;
use crate::pipeline::{not_found_alias, Call, Operation};
use crate::policy::Facts;
use tresor_store::Write;

/// UpdateAlias.
pub struct UpdateAlias;

impl Operation for UpdateAlias {
    const NAME: &'static str = "UpdateAlias";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let (name, target) = members(&req, true)?;
        let (account, region) = (call.caller.account.clone(), call.caller.region.clone());
        let kms = call.kms;
        let Some(existing) = kms.store.alias(&account, &region, name)? else {
            return Err(not_found_alias(&alias_arn(&region, &account, name)));
        };
        let old = call.key(
            crate::ids::public_id(&existing.target_key_id),
            "kms:UpdateAlias",
            Facts::NONE,
        )?;
        let new = call.key_no_alias(target, "kms:UpdateAlias", Facts::NONE)?;
        if new.account() != account {
            return Err(KmsError::NotFound(crate::messages::key_not_found(&new.arn)));
        }
        crate::states::require_not_pending_deletion(&new)?;
        if old.spec != new.spec || old.usage != new.usage {
            return Err(KmsError::Validation(format!(
                "Alias {name} must point to a key of the same type and usage: {} {} vs {} {}",
                old.spec, old.usage, new.spec, new.usage
            )));
        }
        let now = call.now_ms();
        kms.write(|| {
            let Some(mut current) = kms.store.alias(&account, &region, name)? else {
                return Err(not_found_alias(&alias_arn(&region, &account, name)));
            };
            let mut writes = Vec::with_capacity(2);
            // An alias left on its key does not add one to it.
            if current.target_key_id != new.key_id() {
                writes.push(alias_limit(new.key_id(), &new.arn));
            }
            current.target_key_id = new.key_id().to_string();
            current.updated_ms = now;
            writes.push(Write::UpdateAlias(current));
            Ok((writes, ()))
        })?;
        kms.cache_alias(&account, &region, name, Some(new.key_id()));
        Ok(Empty {})
    }
}
