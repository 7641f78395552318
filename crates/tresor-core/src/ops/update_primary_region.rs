//! UpdatePrimaryRegion: makes the replica in `PrimaryRegion` the primary of its
//! multi-Region key and the current primary a replica. Needs kms:UpdatePrimaryRegion on
//! both keys; both must be Enabled.
//!
//! Every Region's record gets the new primary Region in one transaction; as in AWS, the
//! two keys are then `Updating` for a short while (crypto keeps working; enabling,
//! disabling, replicating and scheduling deletion are refused) and become `Enabled`
//! again by themselves (see [`crate::transitions`]).

use crate::error::{KmsError, KmsResult};
use crate::ids;
use crate::model::KeyState;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;
use tresor_store::Write;

use super::Empty;

/// UpdatePrimaryRegion.
pub struct UpdatePrimaryRegion;

/// UpdatePrimaryRegion request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub primary_region: Option<String>,
}

impl Operation for UpdatePrimaryRegion {
    const NAME: &'static str = "UpdatePrimaryRegion";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let key_id = super::key_id_member("keyId", &req.key_id)?;
        let new_region = req.primary_region.clone().unwrap_or_default();
        let facts = Facts {
            primary_region: Some(&new_region),
            ..Facts::NONE
        };
        let primary = call.key_no_alias(key_id, "kms:UpdatePrimaryRegion", facts)?;
        if !crate::multi_region::is_primary(&primary.to_record()) {
            return Err(crate::multi_region::not_primary(&primary.arn));
        }
        let kms = call.kms;
        let new_arn = ids::key_arn(&new_region, primary.account(), primary.id());
        let replica = kms
            .key_by_id(&ids::storage_id(primary.id(), &new_region))?
            .filter(|k| k.account() == primary.account() && new_region != primary.region())
            .ok_or_else(|| crate::pipeline::not_found_key(&new_arn))?;
        call.authorize_key(&replica, "kms:UpdatePrimaryRegion", facts)?;
        for k in [&primary, &replica] {
            if k.state != KeyState::Enabled {
                return Err(crate::states::state_error(k));
            }
        }
        let touched = kms.write(|| {
            let all = crate::multi_region::related(kms, &primary.to_record())?;
            if !all
                .iter()
                .any(|r| crate::multi_region::is_primary(r) && r.key_id == primary.key_id())
            {
                return Err(crate::multi_region::not_primary(&primary.arn));
            }
            let mut writes = Vec::new();
            let mut touched = Vec::new();
            for mut r in all {
                let swapped = r.key_id == replica.key_id() || r.key_id == primary.key_id();
                if swapped && r.key_state != KeyState::Enabled.as_str() {
                    // Changed since the check above (under the write lock now).
                    let arn = ids::stored_key_arn(&r.region, &r.account, &r.key_id);
                    return Err(KmsError::InvalidState(format!("{arn} is not enabled.")));
                }
                r.primary_region = Some(new_region.clone());
                if swapped {
                    r.key_state = KeyState::Updating.as_str().into();
                }
                r.revision += 1;
                touched.push(r.key_id.clone());
                writes.push(Write::UpdateKey(r));
            }
            Ok((writes, touched))
        })?;
        touched.iter().for_each(|k| kms.invalidate_key(k));
        kms.transition_started(&[primary.key_id().to_string(), replica.key_id().to_string()]);
        Ok(Empty {})
    }
}
