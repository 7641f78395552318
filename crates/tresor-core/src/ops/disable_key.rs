//! DisableKey: an Enabled key becomes Disabled; cryptographic use then fails with
//! `DisabledException` until EnableKey.

use super::enable_key::{set_enabled, Request};
use super::{key_id_member, Empty};
use crate::error::KmsResult;
use crate::pipeline::{Call, Operation};

/// DisableKey.
pub struct DisableKey;

impl Operation for DisableKey {
    const NAME: &'static str = "DisableKey";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Empty;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Empty> {
        let key_id = key_id_member("keyId", &req.key_id)?;
        set_enabled(call, key_id, "kms:DisableKey", false)
    }
}
