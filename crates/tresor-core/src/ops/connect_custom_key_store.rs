//! ConnectCustomKeyStore: logs in to the store's token with its KeyStorePassword.
//!
//! AWS connects asynchronously; Tresor's login takes milliseconds, so the store is
//! CONNECTED or FAILED (with its ConnectionErrorCode) when the call returns. A
//! CONNECTED store is left alone; a FAILED one must be disconnected first, and one that
//! is DISCONNECTING cannot connect (CustomKeyStoreInvalidStateException). A failed login
//! is not an error of the call: it is what DescribeCustomKeyStores then shows.

use super::Empty;
use crate::custom_key_stores::{self as cks, state, CLOUDHSM};
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use serde::Deserialize;
use tresor_store::Write;

/// ConnectCustomKeyStore.
pub struct ConnectCustomKeyStore;

/// ConnectCustomKeyStore request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub custom_key_store_id: Option<String>,
}

impl Operation for ConnectCustomKeyStore {
    const NAME: &'static str = "ConnectCustomKeyStore";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let id = req.custom_key_store_id.unwrap_or_default();
        call.authorize_account("kms:ConnectCustomKeyStore", Facts::NONE)?;
        let kms = call.kms;
        let caller = call.caller;
        let mut rec = kms.custom_key_store_of(&caller.account, &caller.region, &id)?;
        match rec.connection_state.as_str() {
            state::CONNECTED | state::CONNECTING => return Ok(Empty {}),
            state::DISCONNECTED => {}
            _ => {
                return Err(cks::invalid_state(
                    &rec,
                    "a FAILED store must be disconnected before it can connect again.",
                ))
            }
        }
        if rec.store_type != CLOUDHSM {
            return Err(crate::KmsError::internal(
                "external key stores are not built",
            ));
        }
        let outcome = kms.open_hsm(&rec)?;
        let (new_state, code) = match &outcome {
            Ok(_) => (state::CONNECTED, None),
            Err(code) => (state::FAILED, Some((*code).to_owned())),
        };
        rec.connection_state = new_state.into();
        rec.connection_error_code = code;
        rec.revision += 1;
        let written = kms.write(|| Ok((vec![Write::UpdateCustomKeyStore(rec)], ())));
        if written.is_err() {
            kms.close_hsm(&id);
        }
        written?;
        kms.invalidate_store_keys(&id);
        Ok(Empty {})
    }
}
