//! The one authorization point. Every key an operation touches and every account-level
//! action passes through [`Authorizer::authorize`]; the pipeline refuses to answer an
//! operation that never called it.
//!
//! Today's rule (until key policies, identity policies and grants arrive): a principal
//! may do anything with its own account's keys, and nothing with anyone else's.

use crate::caller::Caller;
use crate::error::{KmsError, KmsResult};

/// What an action is performed on.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// A KMS key, by owning account and ARN.
    Key {
        /// Owning account.
        account: &'a str,
        /// Key ARN.
        arn: &'a str,
    },
    /// An account-level action (CreateKey, ListKeys, GenerateRandom, …) in the caller's
    /// account and region.
    Account,
}

/// Decides whether a caller may perform an action on a resource.
#[derive(Debug, Default)]
pub struct Authorizer;

impl Authorizer {
    /// `Ok` when `caller` may perform `action` (e.g. `kms:Encrypt`) on `resource`.
    pub fn authorize(
        &self,
        caller: &Caller,
        action: &str,
        resource: Resource<'_>,
    ) -> KmsResult<()> {
        match resource {
            Resource::Account => Ok(()),
            Resource::Key { account, .. } if account == caller.account => Ok(()),
            Resource::Key { arn, .. } => Err(KmsError::AccessDenied(format!(
                "User: {} is not authorized to perform: {action} on resource: {arn} because no resource-based policy allows the {action} action",
                caller.principal_arn
            ))),
        }
    }
}
