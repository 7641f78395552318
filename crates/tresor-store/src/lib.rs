//! Tresor's storage contract and its SQLite and PostgreSQL implementations.
//!
//! The store holds typed records and never sees plaintext key material: material and
//! secrets arrive already wrapped under the root key. All writes go through
//! [`Store::apply`], an atomic batch with optimistic revision checks, so a mutation is
//! either wholly durable or not there at all.
#![deny(missing_docs)]

pub mod changes;
mod postgres;
mod records;
mod sqlite;
pub mod testing;

pub use changes::{Change, ChangeSink, SharedSink};
pub use postgres::PostgresStore;
pub use records::*;
pub use sqlite::{backup_database, check_database, SqliteStore};

/// How often (at worst) a node of a shared database re-checks that it heard every
/// change, and how long that check may take: a change another node commits is
/// enforced within `2 * COHERENCE_POLL + COHERENCE_POLL_TIMEOUT`.
pub use postgres::{POLL as COHERENCE_POLL, POLL_TIMEOUT as COHERENCE_POLL_TIMEOUT};

/// Why a storage call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A batch's revision check failed: someone else changed the record first.
    #[error("conflicting concurrent update of {0}")]
    Conflict(String),
    /// A record to be created already exists.
    #[error("{0} already exists")]
    Duplicate(String),
    /// The database failed.
    #[error("database error: {0}")]
    Backend(String),
    /// A [`Write::CheckLimit`] found its limit reached; the text is the check's refusal.
    #[error("{0}")]
    LimitExceeded(String),
    /// The database cannot be reached or did not answer in time (retryable).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The batch stores a value wrapped under a root generation that a root rotation
    /// retired (another node rotated the root key; this one has not taken it yet).
    #[error("root key generation {0} is retired")]
    RootRetired(u32),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

/// What [`StoreError::Duplicate`] names when a custom key store's HSM cluster is taken.
pub const DUPLICATE_CLUSTER: &str = "custom key store cluster";
/// What [`StoreError::Duplicate`] names when a custom key store's name is taken.
pub const DUPLICATE_STORE_NAME: &str = "custom key store name";

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// The storage contract. Implementations must make [`Store::apply`] atomic and durable
/// (fsync'd) before returning.
pub trait Store: Send + Sync {
    /// A key by its UUID.
    fn key(&self, key_id: &str) -> StoreResult<Option<KeyRecord>>;
    /// Every Region's record of multi-Region key `mrk_id` (`mrk-` + 32 hex), that is
    /// the records whose `key_id` is `mrk_id@REGION`, ordered by region.
    fn multi_region_keys(&self, mrk_id: &str) -> StoreResult<Vec<KeyRecord>>;
    /// How many keys there are, in every account, region and state.
    fn key_count(&self) -> StoreResult<u64>;
    /// Keys of an account in a region, ordered by key id, after `after` (exclusive).
    fn list_keys(
        &self,
        account: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<KeyRecord>>;
    /// Keys in `PendingDeletion` whose deletion date is at or before `now_ms`.
    fn keys_due_for_deletion(&self, now_ms: i64) -> StoreResult<Vec<KeyRecord>>;
    /// Keys with automatic rotation on, Enabled, whose next rotation is at or before `now_ms`.
    fn keys_due_for_rotation(&self, now_ms: i64) -> StoreResult<Vec<KeyRecord>>;
    /// Keys in a transient state (`Creating` or `Updating`) that the service finishes by
    /// itself shortly after.
    fn keys_in_transition(&self) -> StoreResult<Vec<KeyRecord>>;
    /// EXTERNAL keys with a material version whose `valid_to_ms` is at or before
    /// `now_ms` and that is still present ([`MaterialRecord::is_present`]).
    fn keys_with_expired_material(&self, now_ms: i64) -> StoreResult<Vec<KeyRecord>>;
    /// An import token by id.
    fn import_token(&self, token_id: &str) -> StoreResult<Option<ImportTokenRecord>>;
    /// Every material version of a key, ascending.
    fn materials(&self, key_id: &str) -> StoreResult<Vec<MaterialRecord>>;
    /// One alias.
    fn alias(&self, account: &str, region: &str, name: &str) -> StoreResult<Option<AliasRecord>>;
    /// Aliases of an account in a region (optionally only those for one key), ordered by
    /// name, after `after` (exclusive).
    fn list_aliases(
        &self,
        account: &str,
        region: &str,
        target_key_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AliasRecord>>;
    /// Number of aliases that point at a key.
    fn alias_count(&self, key_id: &str) -> StoreResult<usize>;
    /// A key's tags, ordered by tag key.
    fn tags(&self, key_id: &str) -> StoreResult<Vec<TagRecord>>;
    /// An access key by id.
    fn access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>>;
    /// The access keys of a principal, oldest first.
    fn access_keys_of(&self, principal_arn: &str) -> StoreResult<Vec<AccessKeyRecord>>;
    /// A principal by ARN.
    fn principal(&self, arn: &str) -> StoreResult<Option<PrincipalRecord>>;
    /// The principals of an account, by name.
    fn list_principals(&self, account: &str) -> StoreResult<Vec<PrincipalRecord>>;
    /// The identity policies attached to a principal, by name.
    fn principal_policies(&self, principal_arn: &str) -> StoreResult<Vec<PrincipalPolicyRecord>>;
    /// The grants of a key, oldest first.
    fn grants_for_key(&self, key_id: &str) -> StoreResult<Vec<GrantRecord>>;
    /// Grants whose retiring principal is `principal_arn`, oldest first.
    fn grants_retirable_by(&self, principal_arn: &str) -> StoreResult<Vec<GrantRecord>>;
    /// A grant by id.
    fn grant(&self, grant_id: &str) -> StoreResult<Option<GrantRecord>>;
    /// The root generations, ascending.
    fn root_generations(&self) -> StoreResult<Vec<RootGenerationRecord>>;
    /// Every revision of the deployment's seal, ascending (empty before the first).
    fn seals(&self) -> StoreResult<Vec<SealRecord>>;
    /// Up to `limit` wrapped values under root generation `generation`.
    fn wrapped_under(&self, generation: u32, limit: usize) -> StoreResult<Vec<WrappedValue>>;
    /// A custom key store by id.
    fn custom_key_store(&self, id: &str) -> StoreResult<Option<CustomKeyStoreRecord>>;
    /// The custom key stores of an account in a region, ordered by id (AWS allows a few
    /// per account, so this is small).
    fn custom_key_stores(
        &self,
        account: &str,
        region: &str,
    ) -> StoreResult<Vec<CustomKeyStoreRecord>>;
    /// How many keys (in any state) live in a custom key store.
    fn custom_key_store_key_count(&self, id: &str) -> StoreResult<u64>;
    /// The last use of a key that was flushed ([`Write::PutKeyUsage`]).
    fn key_usage(&self, key_id: &str) -> StoreResult<Option<KeyUsageRecord>>;
    /// When usage tracking started ([`Write::StartUsageTracking`]), if it has.
    fn usage_tracking_start(&self) -> StoreResult<Option<i64>>;
    /// Applies every write of `batch` atomically and durably.
    fn apply(&self, batch: Vec<Write>) -> StoreResult<()>;
    /// Starts telling `sink` about the changes other nodes commit to a shared
    /// database. A store only one process uses has nothing to tell.
    fn subscribe(&self, _sink: SharedSink) {}
}

#[cfg(test)]
mod contract;
#[cfg(test)]
mod contract_races;
#[cfg(test)]
mod contract_usage;
