//! Custom key stores: the store records' rules shared by the six operations, the HSM
//! clusters the operator declared, and the live connections of this process.
//!
//! A store's record (in the [`tresor_store::Store`]) says what the store is and its
//! ConnectionState; this module holds what only a running process has: the logged-in
//! PKCS#11 session of each CONNECTED `AWS_CLOUDHSM` store. A store recorded CONNECTED
//! whose session this process does not have yet (after a restart) is logged in again on
//! first use.

pub mod external;
mod hsm;
mod wire;
pub mod xks;

pub use hsm::{HsmConnection, HSM_VERSION};
pub use wire::{check_trust_anchor, CustomKeyStoreEntry, XksProxyConfiguration};
pub use xks::{XksConnection, XksTransport};

use crate::error::{KmsError, KmsResult};
use crate::service::Kms;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tresor_crypto::{SecretBytes, WrapPurpose};
use tresor_seal::token::Module;
use tresor_store::CustomKeyStoreRecord;

/// `AWS_CLOUDHSM`.
pub const CLOUDHSM: &str = "AWS_CLOUDHSM";
/// `EXTERNAL_KEY_STORE`.
pub const EXTERNAL: &str = "EXTERNAL_KEY_STORE";
/// Most custom key stores per account and region (AWS's quota).
pub const MAX_STORES: usize = 10;

/// ConnectionState values.
pub mod state {
    /// Connected: keys in the store can be used.
    pub const CONNECTED: &str = "CONNECTED";
    /// Connection in progress.
    pub const CONNECTING: &str = "CONNECTING";
    /// The last connection attempt failed (see ConnectionErrorCode).
    pub const FAILED: &str = "FAILED";
    /// Not connected.
    pub const DISCONNECTED: &str = "DISCONNECTED";
    /// Disconnection in progress.
    pub const DISCONNECTING: &str = "DISCONNECTING";
}

/// An HSM "cluster" the operator declared (`--hsm-cluster ID=MODULE:TOKEN_LABEL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsmCluster {
    /// `cluster-` + 11–16 characters of `[a-z2-7]`.
    pub id: String,
    /// The PKCS#11 module.
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
}

impl HsmCluster {
    /// Parses `ID=MODULE_PATH:TOKEN_LABEL`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (id, rest) = spec
            .split_once('=')
            .ok_or_else(|| format!("{spec:?}: expected ID=MODULE_PATH:TOKEN_LABEL"))?;
        let (module, token_label) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("{spec:?}: expected ID=MODULE_PATH:TOKEN_LABEL"))?;
        if !valid_cluster_id(id) {
            return Err(format!(
                "{id:?} is not a cluster id: `cluster-` and 11 to 16 of a-z and 2-7"
            ));
        }
        if module.is_empty() || token_label.is_empty() {
            return Err(format!(
                "{spec:?}: the module path and token label are required"
            ));
        }
        Ok(Self {
            id: id.to_owned(),
            module: PathBuf::from(module),
            token_label: token_label.to_owned(),
        })
    }
}

/// True for AWS's cluster id form as Tresor accepts it in its configuration.
pub fn valid_cluster_id(id: &str) -> bool {
    id.strip_prefix("cluster-").is_some_and(|rest| {
        (11..=16).contains(&rest.len())
            && rest.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'))
    })
}

/// The process-wide part of custom key stores: declared clusters, loaded modules and
/// live connections.
#[derive(Debug, Default)]
pub struct Registry {
    clusters: HashMap<String, HsmCluster>,
    modules: Mutex<HashMap<PathBuf, Arc<Module>>>,
    connections: RwLock<HashMap<String, Arc<HsmConnection>>>,
    /// The proxies of CONNECTED external key stores.
    xks_connections: RwLock<HashMap<String, Arc<XksConnection>>>,
    /// The HTTP client of external key stores (none: they cannot connect).
    transport: Option<Arc<dyn XksTransport>>,
    /// Serializes connects, disconnects and reconnects.
    transition: Mutex<()>,
}

impl Registry {
    /// A registry of the declared `clusters`.
    pub fn new(clusters: Vec<HsmCluster>) -> Self {
        Self {
            clusters: clusters.into_iter().map(|c| (c.id.clone(), c)).collect(),
            ..Self::default()
        }
    }

    /// The declared cluster `id`.
    pub fn cluster(&self, id: &str) -> Option<&HsmCluster> {
        self.clusters.get(id)
    }

    fn module(&self, cluster: &HsmCluster) -> Result<Arc<Module>, tresor_seal::token::TokenError> {
        let mut modules = self.modules.lock();
        if let Some(m) = modules.get(&cluster.module) {
            return Ok(m.clone());
        }
        let m = Module::load(&cluster.module)?;
        modules.insert(cluster.module.clone(), m.clone());
        Ok(m)
    }

    /// The live connection of store `id`, if this process has one.
    pub fn connection(&self, id: &str) -> Option<Arc<HsmConnection>> {
        self.connections.read().get(id).cloned()
    }

    /// The live proxy connection of external store `id`, if this process has one.
    pub fn xks_connection(&self, id: &str) -> Option<Arc<XksConnection>> {
        self.xks_connections.read().get(id).cloned()
    }
}

/// `CustomKeyStoreNotFoundException` for `id`.
pub fn not_found(id: &str) -> KmsError {
    KmsError::CustomKeyStoreNotFound(format!("Custom key store '{id}' does not exist."))
}

/// `CustomKeyStoreInvalidStateException` naming the store's state.
pub fn invalid_state(rec: &CustomKeyStoreRecord, doing: &str) -> KmsError {
    KmsError::CustomKeyStoreInvalidState(format!(
        "Custom key store {} is {}; {doing}",
        rec.id, rec.connection_state
    ))
}

/// A new CustomKeyStoreId: `cks-` + 17 hex digits.
pub fn new_store_id() -> KmsResult<String> {
    let mut b = [0u8; 9];
    tresor_crypto::random::fill(&mut b).map_err(KmsError::internal)?;
    let mut hex = hex::encode(b);
    hex.truncate(17);
    Ok(format!("cks-{hex}"))
}

impl Kms {
    /// The declared HSM clusters and live connections.
    pub fn custom_key_stores(&self) -> &Registry {
        &self.cks
    }

    /// Store `id` of the caller's account and region, or CustomKeyStoreNotFound.
    pub(crate) fn custom_key_store_of(
        &self,
        account: &str,
        region: &str,
        id: &str,
    ) -> KmsResult<CustomKeyStoreRecord> {
        match self.store.custom_key_store(id)? {
            Some(r) if r.account == account && r.region == region => Ok(r),
            _ => Err(not_found(id)),
        }
    }

    /// DescribeKey's metadata of a cached key: its state as operations see it
    /// (Unavailable while its custom key store is not connected) and its store's
    /// CloudHsmClusterId.
    pub fn key_metadata(
        &self,
        key: &crate::cache::CachedKey,
    ) -> KmsResult<crate::wire::KeyMetadata> {
        let material_id = key
            .current_material()
            .ok()
            .map(|(_, m)| m.material_id.to_string());
        let mut meta = crate::wire::KeyMetadata::from_cached(key, material_id);
        meta.key_state = key.state.as_str();
        meta.enabled = key.state == crate::model::KeyState::Enabled;
        meta.cloud_hsm_cluster_id = key
            .materials
            .store()
            .and_then(|l| l.cloud_hsm_cluster_id.clone());
        Ok(meta)
    }

    /// Wraps a store secret (token PIN, XKS secret) under the root key.
    pub(crate) fn wrap_store_secret(
        &self,
        ring: &crate::seal::RootRing,
        id: &str,
        secret: &SecretBytes,
    ) -> KmsResult<(Vec<u8>, u32)> {
        ring.wrap(WrapPurpose::CustomKeyStoreSecret { id }, secret)
    }

    pub(crate) fn store_secret(&self, rec: &CustomKeyStoreRecord) -> KmsResult<SecretBytes> {
        let ring = self.ring()?;
        self.unwrap_under(
            &ring,
            rec.root_generation,
            WrapPurpose::CustomKeyStoreSecret { id: &rec.id },
            &rec.wrapped_secret,
        )
    }

    /// Logs in to the store's token. `Err` carries the ConnectionErrorCode to record.
    pub(crate) fn open_hsm(
        &self,
        rec: &CustomKeyStoreRecord,
    ) -> KmsResult<Result<Arc<HsmConnection>, &'static str>> {
        use tresor_seal::token::TokenError;
        let _t = self.cks.transition.lock();
        if let Some(c) = self.cks.connection(&rec.id) {
            return Ok(Ok(c));
        }
        let Some(cluster) = rec
            .cloud_hsm_cluster_id
            .as_deref()
            .and_then(|c| self.cks.cluster(c))
        else {
            return Ok(Err("CLUSTER_NOT_FOUND"));
        };
        let pin = self.store_secret(rec)?;
        let pin = std::str::from_utf8(pin.expose())
            .map_err(|_| KmsError::internal("stored KeyStorePassword is not UTF-8"))?;
        let opened = self
            .cks
            .module(cluster)
            .and_then(|m| m.login(&cluster.token_label, pin));
        let session = match opened {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(custom_key_store_id = %rec.id, "connecting failed: {e}");
                return Ok(Err(match e {
                    TokenError::PinIncorrect => "INVALID_CREDENTIALS",
                    TokenError::PinLocked => "USER_LOCKED_OUT",
                    TokenError::PinNotInitialized => "USER_NOT_FOUND",
                    TokenError::TokenNotFound(_) => "CLUSTER_NOT_FOUND",
                    TokenError::Module(_) => "NETWORK_ERRORS",
                    _ => "INTERNAL_ERROR",
                }));
            }
        };
        let conn = Arc::new(HsmConnection::new(rec.id.clone(), session));
        self.cks
            .connections
            .write()
            .insert(rec.id.clone(), conn.clone());
        Ok(Ok(conn))
    }

    /// Closes this process's connection to store `id` (its keys become Unavailable).
    pub(crate) fn close_store(&self, id: &str) {
        let _t = self.cks.transition.lock();
        if let Some(c) = self.cks.connections.write().remove(id) {
            c.close();
        }
        if let Some(c) = self.cks.xks_connections.write().remove(id) {
            c.close();
        }
        self.invalidate_store_keys(id);
    }

    /// Forgets this process's proxy connection of store `id` (its settings changed);
    /// a CONNECTED store's keys build a new one on their next use.
    pub(crate) fn reset_xks_connection(&self, id: &str) {
        let _t = self.cks.transition.lock();
        self.cks.xks_connections.write().remove(id);
        self.invalidate_store_keys(id);
    }

    /// Installs the HTTP client external key stores call their proxies with.
    pub fn with_xks_transport(mut self, transport: Arc<dyn XksTransport>) -> Self {
        self.cks.transport = Some(transport);
        self
    }

    /// A connection object for external store `rec` (not yet checked with the proxy).
    pub(crate) fn xks_connection_for(
        &self,
        rec: &CustomKeyStoreRecord,
    ) -> KmsResult<XksConnection> {
        self.xks_connection_with(rec, self.store_secret(rec)?)
    }

    /// A connection object for `rec` signing with `secret`.
    pub(crate) fn xks_connection_with(
        &self,
        rec: &CustomKeyStoreRecord,
        secret: SecretBytes,
    ) -> KmsResult<XksConnection> {
        let Some(transport) = self.cks.transport.clone() else {
            return Err(KmsError::internal(
                "no XKS transport is installed: external key stores cannot reach a proxy",
            ));
        };
        let target = xks::XksTarget {
            store_id: rec.id.clone(),
            endpoint: rec.xks_proxy_uri_endpoint.clone().unwrap_or_default(),
            uri_path: rec.xks_proxy_uri_path.clone().unwrap_or_default(),
            region: rec.region.clone(),
            access_key_id: rec.xks_access_key_id.clone().unwrap_or_default(),
            secret,
        };
        Ok(XksConnection::new(target, transport))
    }

    /// Checks the proxy's health for `rec` and keeps the connection. `Err` carries the
    /// ConnectionErrorCode to record.
    pub(crate) fn open_xks(
        &self,
        rec: &CustomKeyStoreRecord,
        who: xks::Who<'_>,
    ) -> KmsResult<Result<Arc<XksConnection>, &'static str>> {
        let _t = self.cks.transition.lock();
        if let Some(c) = self.cks.xks_connection(&rec.id) {
            return Ok(Ok(c));
        }
        let conn = Arc::new(self.xks_connection_for(rec)?);
        if let Err(f) = conn.health(who) {
            tracing::warn!(custom_key_store_id = %rec.id, "connecting failed: {f:?}");
            return Ok(Err(f.connection_error_code()));
        }
        self.cks
            .xks_connections
            .write()
            .insert(rec.id.clone(), conn.clone());
        Ok(Ok(conn))
    }

    /// The link keys of store `id` hold: this process's connection, or a new login when
    /// the store is recorded CONNECTED (after a restart); no connection while it is not
    /// connected.
    pub(crate) fn store_link(&self, id: &str) -> KmsResult<crate::cache::StoreLink> {
        let rec = self.store.custom_key_store(id)?;
        let cloud_hsm_cluster_id = rec.as_ref().and_then(|r| r.cloud_hsm_cluster_id.clone());
        let connected = rec
            .as_ref()
            .filter(|r| r.connection_state == state::CONNECTED);
        let hsm = match (self.cks.connection(id), connected) {
            (Some(c), _) => Some(c),
            (None, Some(rec)) if rec.store_type == CLOUDHSM => self.open_hsm(rec)?.ok(),
            _ => None,
        };
        let xks = match (self.cks.xks_connection(id), connected) {
            (Some(c), _) => Some(c),
            // Recorded CONNECTED by this or another node: the proxy is called on use.
            (None, Some(rec)) if rec.store_type == EXTERNAL => {
                let _t = self.cks.transition.lock();
                let c = match self.cks.xks_connection(id) {
                    Some(c) => c,
                    None => {
                        let c = Arc::new(self.xks_connection_for(rec)?);
                        self.cks
                            .xks_connections
                            .write()
                            .insert(id.to_owned(), c.clone());
                        c
                    }
                };
                Some(c)
            }
            _ => None,
        };
        Ok(crate::cache::StoreLink {
            store_id: id.to_owned(),
            cloud_hsm_cluster_id,
            hsm,
            xks,
        })
    }
}
