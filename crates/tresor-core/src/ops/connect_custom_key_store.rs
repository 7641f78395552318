//! ConnectCustomKeyStore: logs in to the store's token with its KeyStorePassword
//! (`AWS_CLOUDHSM`), or calls the proxy's GetHealthStatus with the store's credential
//! (`EXTERNAL_KEY_STORE`; a failure records the XKS ConnectionErrorCode, e.g.
//! INVALID_CREDENTIALS, XKS_PROXY_NOT_REACHABLE, XKS_PROXY_TIMED_OUT).
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
        let outcome = if rec.store_type == CLOUDHSM {
            kms.open_hsm(&rec)?.map(|_| ())
        } else {
            kms.open_xks(&rec, call.xks_who(None))?.map(|_| ())
        };
        let (new_state, code) = match outcome {
            Ok(()) => (state::CONNECTED, None),
            Err(code) => (state::FAILED, Some(code.to_owned())),
        };
        rec.connection_state = new_state.into();
        rec.connection_error_code = code;
        rec.revision += 1;
        let written = kms.write(|| Ok((vec![Write::UpdateCustomKeyStore(rec)], ())));
        if written.is_err() {
            kms.close_store(&id);
        }
        written?;
        kms.invalidate_store_keys(&id);
        Ok(Empty {})
    }
}
