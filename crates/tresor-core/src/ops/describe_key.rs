//! DescribeKey: a key's metadata, by any of the four KeyId forms.

use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::KeyMetadata;
use serde::{Deserialize, Serialize};

/// DescribeKey.
pub struct DescribeKey;

/// DescribeKey request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
}

/// DescribeKey response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    /// The key's metadata.
    pub key_metadata: KeyMetadata,
}

impl Operation for DescribeKey {
    const NAME: &'static str = "DescribeKey";
    const USES_STORAGE: bool = false;
    const MUTATES: bool = false;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = super::key_id_member("keyId", &req.key_id)?;
        let key = call.key(key_id, "kms:DescribeKey", Facts::NONE)?;
        let mut key_metadata = call.kms.key_metadata(&key)?;
        key_metadata.multi_region_configuration =
            crate::multi_region::key_configuration(call.kms, &key)?;
        Ok(Response { key_metadata })
    }
}
