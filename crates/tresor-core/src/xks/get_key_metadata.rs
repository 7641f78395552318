//! XKS GetKeyMetadata (`POST …/keys/{externalKeyId}/metadata`): the key's spec, usage
//! and status, authorized as `kms:DescribeKey`. A Tresor key reads `ENABLED` while it
//! can encrypt (Enabled, with material) and `DISABLED` in every other state.

use super::{check_metadata, external_key, RequestMetadata, Required};
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use serde::{Deserialize, Serialize};

/// XKS GetKeyMetadata.
pub struct XksGetKeyMetadata;

/// The request body, with the path's `externalKeyId`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Request {
    pub external_key_id: Option<String>,
    pub request_metadata: Option<RequestMetadata>,
}

/// The response body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Response {
    pub key_spec: &'static str,
    pub key_usage: [&'static str; 2],
    pub key_status: &'static str,
}

impl Operation for XksGetKeyMetadata {
    const NAME: &'static str = "XksGetKeyMetadata";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        check_metadata(
            &req.request_metadata,
            Required {
                principal: true,
                key_arn: false,
            },
        )?;
        let key = external_key(call, &req.external_key_id, "kms:DescribeKey")?;
        let usable = crate::states::require_usable(&key).is_ok() && key.current_material().is_ok();
        Ok(Response {
            key_spec: "AES_256",
            key_usage: ["ENCRYPT", "DECRYPT"],
            key_status: if usable { "ENABLED" } else { "DISABLED" },
        })
    }
}
