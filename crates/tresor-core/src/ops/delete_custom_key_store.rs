//! DeleteCustomKeyStore: removes a DISCONNECTED store that holds no keys (any state,
//! including PendingDeletion, counts) — CustomKeyStoreInvalidStateException /
//! CustomKeyStoreHasCMKsException otherwise. Key material in the token is left there,
//! as AWS leaves it in the CloudHSM cluster.

use super::Empty;
use crate::custom_key_stores::{self as cks, state};
use crate::error::{KmsError, KmsResult};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;
use tresor_store::Write;

/// DeleteCustomKeyStore.
pub struct DeleteCustomKeyStore;

/// DeleteCustomKeyStore request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub custom_key_store_id: Option<String>,
}

impl Operation for DeleteCustomKeyStore {
    const NAME: &'static str = "DeleteCustomKeyStore";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let id = req.custom_key_store_id.unwrap_or_default();
        call.authorize_account("kms:DeleteCustomKeyStore", Facts::NONE)?;
        let kms = call.kms;
        let caller = call.caller;
        kms.write(|| {
            let rec = kms.custom_key_store_of(&caller.account, &caller.region, &id)?;
            if rec.connection_state != state::DISCONNECTED {
                return Err(cks::invalid_state(
                    &rec,
                    "it must be DISCONNECTED before it can be deleted.",
                ));
            }
            if kms.store.custom_key_store_key_count(&id)? > 0 {
                return Err(KmsError::CustomKeyStoreHasCmks(format!(
                    "Custom key store {id} still contains KMS keys; delete them first."
                )));
            }
            Ok((vec![Write::DeleteCustomKeyStore { id: id.clone() }], ()))
        })?;
        Ok(Empty {})
    }
}
