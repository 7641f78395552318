//! The request-quota point: consulted once per request before the operation runs.

use crate::caller::Caller;
use crate::error::KmsResult;

/// Decides whether a request fits within its account's request quota.
pub trait RequestQuota: Send + Sync {
    /// `Err(Throttling)` when `caller` has exhausted the quota for `operation`.
    fn admit(&self, caller: &Caller, operation: &str) -> KmsResult<()>;
}

/// No quotas (the default until per-account quotas are configured).
#[derive(Debug, Default)]
pub struct Unlimited;

impl RequestQuota for Unlimited {
    fn admit(&self, _caller: &Caller, _operation: &str) -> KmsResult<()> {
        Ok(())
    }
}
