//! The typed records the store keeps. Times are milliseconds since the Unix epoch.

/// A KMS key's metadata (not its material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The key's UUID.
    pub key_id: String,
    /// Owning account (12 digits).
    pub account: String,
    /// Region the key lives in.
    pub region: String,
    /// Creation time.
    pub created_ms: i64,
    /// Description (may be empty).
    pub description: String,
    /// KeySpec, as the API spells it.
    pub key_spec: String,
    /// KeyUsage, as the API spells it.
    pub key_usage: String,
    /// Origin, as the API spells it.
    pub origin: String,
    /// KeyState, as the API spells it.
    pub key_state: String,
    /// When a key in `PendingDeletion` will be deleted.
    pub deletion_ms: Option<i64>,
    /// The pending window chosen at ScheduleKeyDeletion.
    pub pending_window_days: Option<i64>,
    /// The material version used for new encryptions.
    pub current_version: u32,
    /// The key policy document, if any.
    pub policy: Option<String>,
    /// DER SubjectPublicKeyInfo of an asymmetric key (public, stored in clear).
    pub public_key: Option<Vec<u8>>,
    /// Automatic rotation is on.
    pub rotation_enabled: bool,
    /// The automatic rotation period, when one was set.
    pub rotation_period_days: Option<i64>,
    /// When the next automatic rotation is due.
    pub next_rotation_ms: Option<i64>,
    /// How many on-demand rotations the key has had (lifetime quota).
    pub on_demand_rotations: i64,
    /// When imported material expires.
    pub valid_to_ms: Option<i64>,
    /// KEY_MATERIAL_EXPIRES / KEY_MATERIAL_DOES_NOT_EXPIRE, once material was imported.
    pub expiration_model: Option<String>,
    /// The KeyMaterialId (a keyed fingerprint) of the material imported into an EXTERNAL
    /// key; only the same material may be imported again.
    pub imported_material_id: Option<String>,
    /// For a multi-Region key: the Region of its primary key (this record's own Region
    /// when it is the primary). `None` for single-Region keys. Every Region's record of
    /// multi-Region key `mrk-X` is stored with `key_id = "mrk-X@REGION"`.
    pub primary_region: Option<String>,
    /// The custom key store the key lives in (`cks-…`), if any.
    pub custom_key_store_id: Option<String>,
    /// The external key's id at the XKS proxy (EXTERNAL_KEY_STORE keys).
    pub xks_key_id: Option<String>,
    /// Optimistic-concurrency revision; bumped by every update.
    pub revision: i64,
}

/// A custom key store (AWS_CLOUDHSM or EXTERNAL_KEY_STORE) and its connection state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomKeyStoreRecord {
    /// `cks-` + 17 hex digits.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Region.
    pub region: String,
    /// CustomKeyStoreName (unique in the account and region).
    pub name: String,
    /// `AWS_CLOUDHSM` or `EXTERNAL_KEY_STORE`.
    pub store_type: String,
    /// ConnectionState, as the API spells it.
    pub connection_state: String,
    /// ConnectionErrorCode while FAILED (kept until the next connect).
    pub connection_error_code: Option<String>,
    /// Creation time.
    pub created_ms: i64,
    /// CloudHsmClusterId (AWS_CLOUDHSM).
    pub cloud_hsm_cluster_id: Option<String>,
    /// TrustAnchorCertificate, PEM (AWS_CLOUDHSM).
    pub trust_anchor_certificate: Option<String>,
    /// XksProxyUriEndpoint (EXTERNAL_KEY_STORE).
    pub xks_proxy_uri_endpoint: Option<String>,
    /// XksProxyUriPath (EXTERNAL_KEY_STORE).
    pub xks_proxy_uri_path: Option<String>,
    /// XksProxyVpcEndpointServiceName (EXTERNAL_KEY_STORE over VPC_ENDPOINT_SERVICE).
    pub xks_proxy_vpc_endpoint_service_name: Option<String>,
    /// XksProxyConnectivity (EXTERNAL_KEY_STORE).
    pub xks_proxy_connectivity: Option<String>,
    /// The AccessKeyId of the XKS proxy credential (EXTERNAL_KEY_STORE).
    pub xks_access_key_id: Option<String>,
    /// The store's secret wrapped under the root key: the token PIN (KeyStorePassword)
    /// of an AWS_CLOUDHSM store, the RawSecretAccessKey of an external one.
    pub wrapped_secret: Vec<u8>,
    /// Generation of the root key `wrapped_secret` is under.
    pub root_generation: u32,
    /// Optimistic-concurrency revision; bumped by every update.
    pub revision: i64,
}

/// One version of a key's material, wrapped under the root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialRecord {
    /// The owning key's UUID.
    pub key_id: String,
    /// Version number, from 1.
    pub version: u32,
    /// The public KeyMaterialId (64 hex digits).
    pub material_id: String,
    /// Material wrapped under the root key.
    pub wrapped: Vec<u8>,
    /// Creation time (the rotation date for rotated material).
    pub created_ms: i64,
    /// `AUTOMATIC` / `ON_DEMAND` for material that a rotation created; `None` for the
    /// key's first material.
    pub rotation_type: Option<String>,
    /// Generation of the root key `wrapped` is under.
    pub root_generation: u32,
    /// KeyMaterialDescription of imported material.
    pub description: Option<String>,
    /// When imported material expires.
    pub valid_to_ms: Option<i64>,
    /// KEY_MATERIAL_EXPIRES / KEY_MATERIAL_DOES_NOT_EXPIRE of imported material.
    pub expiration_model: Option<String>,
}

impl MaterialRecord {
    /// False for imported material that was deleted or expired (ImportState
    /// PENDING_IMPORT): its row stays, with no `wrapped` bytes, so that its
    /// KeyMaterialId, description and history remain and only it can be re-imported.
    pub fn is_present(&self) -> bool {
        !self.wrapped.is_empty()
    }
}

/// An alias and the key it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRecord {
    /// Owning account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Full name, `alias/...`.
    pub name: String,
    /// Target key UUID.
    pub target_key_id: String,
    /// Creation time.
    pub created_ms: i64,
    /// Last UpdateAlias time.
    pub updated_ms: i64,
}

/// One tag of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRecord {
    /// Tag key.
    pub key: String,
    /// Tag value.
    pub value: String,
}

/// An access key for SigV4, its secret wrapped under the root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    /// Access key id (`AKIA...`).
    pub access_key_id: String,
    /// Owning account.
    pub account: String,
    /// The principal ARN the key authenticates as.
    pub principal_arn: String,
    /// Secret access key, wrapped under the root key.
    pub wrapped_secret: Vec<u8>,
    /// Disabled keys do not authenticate.
    pub enabled: bool,
    /// The service operator's key: may administer every account.
    pub operator: bool,
    /// An XKS proxy credential: it signs only requests to the XKS proxy API (service
    /// `kms-xks-proxy`), never KMS or admin requests; other keys never sign XKS ones.
    pub xks_proxy: bool,
    /// Creation time.
    pub created_ms: i64,
    /// Generation of the root key `wrapped_secret` is under.
    pub root_generation: u32,
}

/// Parameters issued by GetParametersForImport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportTokenRecord {
    /// Token id (what the opaque ImportToken carries).
    pub token_id: String,
    /// The key the token imports into.
    pub key_id: String,
    /// WrappingAlgorithm.
    pub wrapping_algorithm: String,
    /// WrappingKeySpec.
    pub wrapping_key_spec: String,
    /// The RSA private wrapping key (PKCS#8), wrapped under the root key.
    pub wrapped_private_key: Vec<u8>,
    /// When the token stops being accepted.
    pub expires_ms: i64,
    /// Generation of the root key `wrapped_private_key` is under.
    pub root_generation: u32,
}

/// One generation of the root key, as the database knows it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootGenerationRecord {
    /// Generation number, from 1; the highest is the current root key.
    pub generation: u32,
    /// A keyed check value telling which generation an unsealed root key is.
    pub check: Vec<u8>,
    /// The fingerprint seed (stable across root rotations), wrapped under this generation.
    pub wrapped_fingerprint_seed: Vec<u8>,
    /// While a rotation to this generation runs: the previous root key, wrapped under
    /// this one. Cleared when nothing is stored under the previous generation any more.
    pub wrapped_previous: Option<Vec<u8>>,
    /// Creation time.
    pub created_ms: i64,
}

/// One revision of the deployment's seal: the seal file (`seal.json`: the sealed root
/// key, its check value and the sealer's configuration) as every node of the database
/// uses it. Revisions only grow; earlier ones are kept, so that a node can tell an
/// older copy of this deployment's seal from another deployment's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealRecord {
    /// From 1; the highest is current.
    pub revision: i64,
    /// The seal file's JSON text.
    pub document: String,
    /// When this revision was written.
    pub created_ms: i64,
}

/// The last successful cryptographic use of a key (GetKeyLastUsage), as a node flushed
/// it from memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUsageRecord {
    /// The key's store id.
    pub key_id: String,
    /// The operation (`Encrypt`, `Sign`, …).
    pub operation: String,
    /// When.
    pub time_ms: i64,
    /// The audit record's `eventID`.
    pub event_id: String,
    /// The request id.
    pub request_id: String,
}

/// What a [`Write::CheckLimit`] counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counted {
    /// The grants of a key.
    GrantsOfKey(String),
    /// The aliases pointing at a key.
    AliasesOfKey(String),
}

impl Counted {
    /// The key whose row the check locks.
    pub fn key_id(&self) -> &str {
        match self {
            Counted::GrantsOfKey(k) | Counted::AliasesOfKey(k) => k,
        }
    }
}

/// Which stored value a wrapped blob is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrappedRef {
    /// A material version.
    Material {
        /// Key UUID.
        key_id: String,
        /// The key's account (part of the wrapping binding).
        account: String,
        /// The key's region (part of the wrapping binding).
        region: String,
        /// Material version.
        version: u32,
    },
    /// An access key's secret.
    AccessKey {
        /// Access key id.
        access_key_id: String,
    },
    /// An import token's private wrapping key.
    ImportToken {
        /// Token id.
        token_id: String,
    },
    /// A custom key store's secret.
    CustomKeyStore {
        /// CustomKeyStoreId.
        id: String,
    },
}

/// A wrapped value and where it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedValue {
    /// Where it is.
    pub target: WrappedRef,
    /// The wrapped bytes.
    pub wrapped: Vec<u8>,
    /// The root generation they are under.
    pub root_generation: u32,
}

/// A principal (IAM user) of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalRecord {
    /// `arn:aws:iam::ACCOUNT:user/NAME`.
    pub arn: String,
    /// Owning account.
    pub account: String,
    /// User name.
    pub name: String,
    /// Disabled principals cannot authenticate.
    pub enabled: bool,
    /// Creation time.
    pub created_ms: i64,
}

/// An identity policy attached to a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalPolicyRecord {
    /// The principal's ARN.
    pub principal_arn: String,
    /// Policy name.
    pub name: String,
    /// The policy document (JSON).
    pub document: String,
}

/// A grant on a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// GrantId.
    pub grant_id: String,
    /// The key UUID.
    pub key_id: String,
    /// Name (for idempotent CreateGrant).
    pub name: Option<String>,
    /// GranteePrincipal.
    pub grantee: String,
    /// RetiringPrincipal.
    pub retiring: Option<String>,
    /// The account that created the grant.
    pub issuing_account: String,
    /// Operations, as a JSON array of names.
    pub operations: String,
    /// Constraints, as JSON (`{"EncryptionContextSubset": {...}}`), if any.
    pub constraints: Option<String>,
    /// Creation time.
    pub created_ms: i64,
}

/// One write of an atomic batch.
#[derive(Debug, Clone)]
pub enum Write {
    /// Creates a key; fails with `Duplicate` if it exists.
    InsertKey(KeyRecord),
    /// Replaces a key whose stored revision is `record.revision - 1`, else `Conflict`.
    UpdateKey(KeyRecord),
    /// Removes a key with its materials, aliases and tags.
    DeleteKey {
        /// Key UUID.
        key_id: String,
    },
    /// Removes every material version of a key (imported material deleted or expired).
    DeleteMaterials {
        /// Key UUID.
        key_id: String,
    },
    /// Replaces an existing material version (same key and version): re-imported or
    /// deleted imported material, a pending material becoming current.
    UpdateMaterial(MaterialRecord),
    /// Stores an import token.
    PutImportToken(ImportTokenRecord),
    /// Adds a material version.
    InsertMaterial(MaterialRecord),
    /// Creates an alias; fails with `Duplicate` if the name is taken.
    InsertAlias(AliasRecord),
    /// Re-points an existing alias.
    UpdateAlias(AliasRecord),
    /// Removes an alias.
    DeleteAlias {
        /// Account.
        account: String,
        /// Region.
        region: String,
        /// Alias name.
        name: String,
    },
    /// Replaces all tags of a key.
    SetTags {
        /// Key UUID.
        key_id: String,
        /// The complete new tag set.
        tags: Vec<TagRecord>,
    },
    /// Creates or replaces an access key.
    PutAccessKey(AccessKeyRecord),
    /// Removes an access key.
    DeleteAccessKey {
        /// Access key id.
        access_key_id: String,
    },
    /// Disables every access key of a principal.
    DisableAccessKeys {
        /// Principal ARN.
        principal_arn: String,
    },
    /// Creates or replaces a principal.
    PutPrincipal(PrincipalRecord),
    /// Creates or replaces an identity policy.
    PutPrincipalPolicy(PrincipalPolicyRecord),
    /// Removes an identity policy.
    DeletePrincipalPolicy {
        /// Principal ARN.
        principal_arn: String,
        /// Policy name.
        name: String,
    },
    /// Creates a grant.
    InsertGrant(GrantRecord),
    /// Removes a grant.
    DeleteGrant {
        /// GrantId.
        grant_id: String,
    },
    /// Creates a custom key store; `Duplicate` if its id or (account, region, name) is
    /// taken.
    InsertCustomKeyStore(CustomKeyStoreRecord),
    /// Replaces a custom key store whose stored revision is `record.revision - 1`, else
    /// `Conflict`; `Duplicate` if the new name is taken.
    UpdateCustomKeyStore(CustomKeyStoreRecord),
    /// Removes a custom key store.
    DeleteCustomKeyStore {
        /// CustomKeyStoreId.
        id: String,
    },
    /// Creates or replaces a root generation record.
    PutRootGeneration(RootGenerationRecord),
    /// Removes a root generation record.
    DeleteRootGeneration {
        /// Generation.
        generation: u32,
    },
    /// Adds seal revision `record.revision`, which must be one above the highest stored
    /// (1 on an empty table), else `Conflict`: the first seal is a conditional insert,
    /// a later one a revision check.
    InsertSeal(SealRecord),
    /// Records a key's last use unless a later one is stored: only a later `time_ms`
    /// replaces the stored use, so nodes flushing in any order keep the latest. A key
    /// that is no longer stored is skipped (its use is forgotten with it).
    PutKeyUsage(KeyUsageRecord),
    /// Records when usage tracking started, keeping the earliest time any node gave.
    StartUsageTracking {
        /// When this node started tracking.
        started_ms: i64,
    },
    /// Refuses the batch with [`crate::StoreError::LimitExceeded`]`(refusal)` when
    /// `counted` is already `limit` or more. Put it before the insert it guards: it locks
    /// the key's row, so batches checking the same key run one after another.
    CheckLimit {
        /// What is counted.
        counted: Counted,
        /// The most there may be after the batch's insert, minus one.
        limit: u64,
        /// The error text when the limit is reached.
        refusal: String,
    },
    /// Replaces a wrapped value if it is still under `from_generation` (a value changed
    /// or deleted meanwhile is left alone).
    Rewrap {
        /// Where.
        target: WrappedRef,
        /// The generation it must still be under.
        from_generation: u32,
        /// The new wrapped bytes.
        wrapped: Vec<u8>,
        /// Their generation.
        to_generation: u32,
    },
}

impl Write {
    /// The root generation of the wrapped value this write stores, if it stores one.
    /// A batch storing a value under a retired generation (one a root rotation deleted
    /// while a higher one exists) is refused with [`crate::StoreError::RootRetired`]:
    /// the node that wrapped it has not taken the new root key yet.
    pub fn root_generation(&self) -> Option<u32> {
        match self {
            Write::InsertMaterial(m) | Write::UpdateMaterial(m) => Some(m.root_generation),
            Write::PutImportToken(t) => Some(t.root_generation),
            Write::PutAccessKey(a) => Some(a.root_generation),
            Write::InsertCustomKeyStore(c) | Write::UpdateCustomKeyStore(c) => {
                Some(c.root_generation)
            }
            Write::Rewrap { to_generation, .. } => Some(*to_generation),
            _ => None,
        }
    }
}

/// The distinct root generations `batch` stores values under, ascending.
pub fn generations_of(batch: &[Write]) -> Vec<u32> {
    let mut out: Vec<u32> = batch.iter().filter_map(Write::root_generation).collect();
    out.sort_unstable();
    out.dedup();
    out
}
