//! DisconnectCustomKeyStore: ends the store's token session; its keys become
//! Unavailable (cryptographic use → KMSInvalidStateException) until it connects again.
//! A FAILED store may be disconnected (to clear the failure); a DISCONNECTED or
//! DISCONNECTING one cannot (CustomKeyStoreInvalidStateException).

use super::Empty;
use crate::custom_key_stores::{self as cks, state};
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;
use tresor_store::Write;

/// DisconnectCustomKeyStore.
pub struct DisconnectCustomKeyStore;

/// DisconnectCustomKeyStore request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub custom_key_store_id: Option<String>,
}

impl Operation for DisconnectCustomKeyStore {
    const NAME: &'static str = "DisconnectCustomKeyStore";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let id = req.custom_key_store_id.unwrap_or_default();
        call.authorize_account("kms:DisconnectCustomKeyStore", Facts::NONE)?;
        let kms = call.kms;
        let caller = call.caller;
        let mut rec = kms.custom_key_store_of(&caller.account, &caller.region, &id)?;
        if matches!(
            rec.connection_state.as_str(),
            state::DISCONNECTED | state::DISCONNECTING
        ) {
            return Err(cks::invalid_state(&rec, "it cannot be disconnected."));
        }
        rec.connection_state = state::DISCONNECTED.into();
        rec.connection_error_code = None;
        rec.revision += 1;
        kms.write(|| Ok((vec![Write::UpdateCustomKeyStore(rec)], ())))?;
        kms.close_store(&id);
        Ok(Empty {})
    }
}
