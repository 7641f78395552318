//! GetKeyLastUsage: the last successful cryptographic operation on a key since tracking
//! started (see [`crate::usage`]), with its time, audit event id and request id. Read
//! from this node's unflushed uses and the store (every node's flushed ones). KeyId is a
//! key ID or key ARN (AWS documents no alias here).

use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::Timestamp;
use serde::{Deserialize, Serialize};

/// GetKeyLastUsage.
pub struct GetKeyLastUsage;

/// GetKeyLastUsage request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
}

/// The last use.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct KeyLastUsage {
    pub operation: &'static str,
    pub timestamp: Timestamp,
    pub cloud_trail_event_id: String,
    pub kms_request_id: String,
}

/// GetKeyLastUsage response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_last_usage: Option<KeyLastUsage>,
    pub tracking_start_date: Timestamp,
    pub key_creation_date: Timestamp,
}

impl Operation for GetKeyLastUsage {
    const NAME: &'static str = "GetKeyLastUsage";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = super::key_id_member("keyId", &req.key_id)?;
        let key = call.key_no_alias(key_id, "kms:GetKeyLastUsage", Facts::NONE)?;
        let last = call.kms.last_use(key.key_id())?;
        // AWS: tracking's start for this key, or the key's creation, whichever is later.
        let tracking_start = call.kms.last_uses.tracking_start_ms().max(key.created_ms);
        Ok(Response {
            key_id: key.arn.clone(),
            key_last_usage: last.map(|u| KeyLastUsage {
                operation: u.operation,
                timestamp: Timestamp(u.time_ms),
                cloud_trail_event_id: u.event_id,
                kms_request_id: u.request_id,
            }),
            tracking_start_date: Timestamp(tracking_start),
            key_creation_date: Timestamp(key.created_ms),
        })
    }
}
