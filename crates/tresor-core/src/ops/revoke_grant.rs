//! RevokeGrant: a key administrator removes a grant.

use super::{key_id_member, Empty};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;
use tresor_store::Write;

/// RevokeGrant.
pub struct RevokeGrant;

/// RevokeGrant request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub dry_run: Option<bool>,
}

impl Operation for RevokeGrant {
    const NAME: &'static str = "RevokeGrant";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        let grant_id = req.grant_id.clone().unwrap_or_default();
        let key = call.key_no_alias(key_id, "kms:RevokeGrant", Facts::NONE)?;
        let kms = call.kms;
        match kms.store.grant(&grant_id)? {
            Some(g) if g.key_id == key.key_id() => {}
            _ => return Err(KmsError::NotFound(format!("Grant ID {grant_id} not found"))),
        }
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        kms.write(|| {
            Ok((
                vec![Write::DeleteGrant {
                    grant_id: grant_id.clone(),
                }],
                (),
            ))
        })?;
        kms.forget_grants(key.key_id());
        Ok(Empty {})
    }
}
