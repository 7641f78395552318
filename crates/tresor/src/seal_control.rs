//! The running server's seal: collects unseal and rekey shares (Shamir), seals, and
//! rotates the root key, on the data directory's `seal.json`, which is a copy of the
//! database's seal (see [`crate::seal_store`]): a rekey or rotation stores the new seal
//! in the database before replacing the file.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tresor_core::{Kms, KmsError};
use tresor_crypto::RootKey;
use tresor_seal::pkcs11::{Pkcs11Config, Pkcs11Sealer};
use tresor_seal::shamir::{Resealer, ShamirParams, Step, Unsealer};
use tresor_seal::{RootMaterial, SealError, SealFile, Sealer, SealerKind};
use tresor_server::operator::SealControl;

/// Where the deployment's seal lives besides the data directory.
pub struct Shared {
    /// The store holding the seal's revisions.
    pub store: Arc<dyn tresor_store::Store>,
    /// The same store when it is PostgreSQL: rekeys and root rotations of its nodes
    /// take its advisory lock, one at a time.
    pub postgres: Option<Arc<tresor_store::PostgresStore>>,
    /// The seal revision this node's `seal.json` is.
    pub revision: i64,
}

/// The seal of a production data directory.
pub struct ServerSeal {
    dir: PathBuf,
    kms: Arc<Kms>,
    store: Arc<dyn tresor_store::Store>,
    postgres: Option<Arc<tresor_store::PostgresStore>>,
    /// The seal revision `dir/seal.json` is.
    revision: parking_lot::Mutex<i64>,
    kind: SealerKind,
    pkcs11: Option<Pkcs11Config>,
    state: parking_lot::Mutex<State>,
    /// Held by what rewrites the seal file (rekey, root rotation) and by a backup, so
    /// that a backup's seal file and database belong together.
    exclusive: parking_lot::Mutex<()>,
}

#[derive(Default)]
struct State {
    /// Shamir, while sealed: the shares submitted so far.
    unsealer: Option<Unsealer>,
    /// Shamir, while unsealed: re-encrypts a new root under the current share set.
    resealer: Option<Arc<Resealer>>,
    /// A rekey in progress: a fresh quorum of the current shares, and the new layout.
    rekey: Option<(Unsealer, ShamirParams)>,
}

/// How a refused share is reported: nothing but the reason.
fn share_error(e: SealError) -> KmsError {
    match e {
        SealError::MalformedShare(_) | SealError::DuplicateShare(_) => {
            KmsError::Validation(e.to_string())
        }
        SealError::ForeignShare | SealError::WrongShares => KmsError::AccessDenied(e.to_string()),
        other => KmsError::internal(other),
    }
}

impl ServerSeal {
    /// A Shamir-sealed server, starting sealed.
    pub fn shamir(dir: &Path, kms: Arc<Kms>, shared: Shared) -> Result<Self, String> {
        let unsealer = Unsealer::open(dir).map_err(|e| e.to_string())?;
        Ok(Self {
            dir: dir.to_path_buf(),
            kms,
            store: shared.store,
            postgres: shared.postgres,
            revision: parking_lot::Mutex::new(shared.revision),
            kind: SealerKind::Shamir,
            pkcs11: None,
            state: parking_lot::Mutex::new(State {
                unsealer: Some(unsealer),
                ..State::default()
            }),
            exclusive: parking_lot::Mutex::new(()),
        })
    }

    /// A PKCS#11-sealed server (already unsealed from the token).
    pub fn pkcs11(dir: &Path, kms: Arc<Kms>, config: Pkcs11Config, shared: Shared) -> Self {
        Self {
            dir: dir.to_path_buf(),
            kms,
            store: shared.store,
            postgres: shared.postgres,
            revision: parking_lot::Mutex::new(shared.revision),
            kind: SealerKind::Pkcs11,
            pkcs11: Some(config),
            state: parking_lot::Mutex::new(State::default()),
            exclusive: parking_lot::Mutex::new(()),
        }
    }

    fn status_of(&self, state: &State) -> Value {
        let progress = state.unsealer.as_ref().map(Unsealer::progress);
        let mut v = json!({
            "Sealed": self.kms.is_sealed(),
            "Sealer": self.kind.name(),
        });
        if let Some(p) = progress {
            set(&mut v, "Threshold", json!(p.threshold));
            set(&mut v, "Progress", json!(p.progress));
        } else if let Ok(SealFile {
            sealer: tresor_seal::SealerRecord::Shamir(r),
            ..
        }) = SealFile::read(&self.dir)
        {
            set(&mut v, "Threshold", json!(r.threshold));
            set(&mut v, "Progress", json!(0));
        }
        if let Some((u, _)) = &state.rekey {
            set(&mut v, "RekeyProgress", json!(u.progress().progress));
        }
        v
    }

    /// Replaces the PKCS#11 seal with one of `root` (a new wrapping key in the token).
    fn reseal_pkcs11(&self, root: &RootMaterial) -> Result<(), String> {
        let config = self.pkcs11.clone().ok_or("no PKCS#11 configuration")?;
        let tmp = self.dir.join(".seal-rotation");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let result = Pkcs11Sealer::new(config)
            .init(&tmp, Some(root.clone()))
            .map_err(|e| e.to_string())
            .and_then(|_| self.publish(&tmp));
        let _ = std::fs::remove_dir_all(&tmp);
        result
    }

    /// The deployment's current root key, opened without shares, for following another
    /// node's root rotation: the database's newest seal (copied into this directory
    /// first) opened with this node's share-set key or its HSM. `None` while this node's
    /// own rekey, rotation or backup runs.
    pub fn current_root(&self) -> Result<Option<RootKey>, String> {
        let Some(_exclusive) = self.exclusive.try_lock() else {
            return Ok(None);
        };
        self.take_newer_seal().map_err(|e| e.to_string())?;
        let material = match self.kind {
            SealerKind::Shamir => {
                let Some(resealer) = self.state.lock().resealer.clone() else {
                    return Ok(None);
                };
                resealer.open_root(&self.dir).map_err(|e| match e {
                    SealError::Tampered => "the seal's share set changed (a rekey on another node): restart this node and unseal it with the new shares".to_string(),
                    other => other.to_string(),
                })?
            }
            _ => {
                let config = self.pkcs11.clone().ok_or("no PKCS#11 configuration")?;
                Pkcs11Sealer::new(config)
                    .unseal(&self.dir, &())
                    .map_err(|e| e.to_string())?
            }
        };
        material.root_key().map(Some).map_err(|e| e.to_string())
    }

    /// An unsealer of the database's seal when it is newer than this directory's copy
    /// (which is then replaced).
    fn refreshed_unsealer(&self) -> Result<Option<Unsealer>, KmsError> {
        if !self.take_newer_seal()? {
            return Ok(None);
        }
        Unsealer::open(&self.dir)
            .map(Some)
            .map_err(KmsError::internal)
    }

    /// Makes this directory's seal file the database's newer revision, if there is one;
    /// whether it did.
    fn take_newer_seal(&self) -> Result<bool, KmsError> {
        let mut revision = self.revision.lock();
        let latest = self.store.seals()?.last().map(|s| s.revision).unwrap_or(0);
        if latest == *revision {
            return Ok(false);
        }
        match crate::seal_store::sync(&self.dir, self.store.as_ref(), now_ms())
            .map_err(KmsError::internal)?
        {
            crate::seal_store::Synced::Current { revision: r } => *revision = r,
            crate::seal_store::Synced::Uninitialized => return Ok(false),
        }
        tracing::info!(revision = *revision, "took the database's newer seal");
        Ok(true)
    }

    /// Stores the seal a sealer wrote into `tmp` as the database's next revision, then
    /// as this directory's seal file.
    fn publish(&self, tmp: &Path) -> Result<(), String> {
        let mut revision = self.revision.lock();
        *revision =
            crate::seal_store::publish(&self.dir, tmp, self.store.as_ref(), *revision, now_ms())?;
        Ok(())
    }

    /// Runs `f` as the only seal change of the deployment: under the shared database's
    /// advisory lock, and only if this node still has the database's current seal and
    /// root generation (another node's rekey or rotation needs a restart of this one).
    fn exclusively<T>(&self, f: impl FnOnce() -> Result<T, KmsError>) -> Result<T, KmsError> {
        let checked = || {
            let latest = self.store.seals()?.last().map(|s| s.revision).unwrap_or(0);
            let generation = self.store.root_generations()?.last().map(|g| g.generation);
            let mine = self.kms.ring()?.current().0;
            if latest != *self.revision.lock() || generation.is_some_and(|g| g > mine) {
                return Err(KmsError::Conflict(
                    "Another node changed the seal or the root key; restart this node (and unseal it) to use the new one, then retry.".into(),
                ));
            }
            f()
        };
        match &self.postgres {
            Some(pg) => pg.with_startup_lock(checked).map_err(KmsError::from)?,
            None => checked(),
        }
    }
}

impl SealControl for ServerSeal {
    fn status(&self) -> Value {
        self.status_of(&self.state.lock())
    }

    fn unseal(&self, share: &str) -> Result<Value, KmsError> {
        let mut state = self.state.lock();
        if !self.kms.is_sealed() {
            return Ok(self.status_of(&state));
        }
        // Before the first share: take a seal another node changed meanwhile (a rekey
        // there issued the shares the operators now hold).
        if state
            .unsealer
            .as_ref()
            .is_some_and(|u| u.progress().progress == 0)
        {
            if let Some(fresh) = self.refreshed_unsealer()? {
                state.unsealer = Some(fresh);
            }
        }
        let Some(unsealer) = state.unsealer.as_mut() else {
            return Err(KmsError::UnsupportedOperation(
                "This server unseals from its HSM at start; restart it to unseal.".into(),
            ));
        };
        match unsealer.submit(share).map_err(share_error)? {
            Step::Progress(_) => {}
            Step::Unsealed(done) => {
                let (material, resealer) = done.into_parts();
                let root = material.root_key().map_err(KmsError::internal)?;
                self.kms.unseal(root)?;
                state.unsealer = None;
                state.resealer = Some(Arc::new(resealer));
            }
        }
        Ok(self.status_of(&state))
    }

    fn reset(&self) -> Value {
        let mut state = self.state.lock();
        if let Some(u) = state.unsealer.as_mut() {
            u.reset();
        }
        self.status_of(&state)
    }

    fn seal(&self) -> Result<Value, KmsError> {
        let mut state = self.state.lock();
        if self.kind != SealerKind::Shamir {
            return Err(KmsError::UnsupportedOperation(
                "A PKCS#11 server unseals itself from the HSM; stop the process instead of sealing it.".into(),
            ));
        }
        let unsealer = match self.refreshed_unsealer()? {
            Some(u) => u,
            None => Unsealer::open(&self.dir).map_err(KmsError::internal)?,
        };
        self.kms.seal();
        state.resealer = None;
        state.rekey = None;
        state.unsealer = Some(unsealer);
        Ok(self.status_of(&state))
    }

    fn rekey(&self, request: &Value) -> Result<Value, KmsError> {
        let _exclusive = self.exclusive.lock();
        let mut state = self.state.lock();
        if self.kind != SealerKind::Shamir || self.kms.is_sealed() {
            return Err(KmsError::InvalidState(
                "Rekey needs an unsealed server with Shamir shares.".into(),
            ));
        }
        if request.get("Cancel").and_then(Value::as_bool) == Some(true) {
            state.rekey = None;
            return Ok(json!({ "Started": false }));
        }
        let Some(share) = request.get("Share").and_then(Value::as_str) else {
            let n = request.get("Shares").and_then(Value::as_u64).unwrap_or(5);
            let t = request
                .get("Threshold")
                .and_then(Value::as_u64)
                .unwrap_or(3);
            let params =
                ShamirParams::new(u8::try_from(n).unwrap_or(0), u8::try_from(t).unwrap_or(0))
                    .map_err(|e| KmsError::Validation(e.to_string()))?;
            let unsealer = Unsealer::open(&self.dir).map_err(KmsError::internal)?;
            let p = unsealer.progress();
            state.rekey = Some((unsealer, params));
            return Ok(json!({ "Started": true, "Threshold": p.threshold, "Progress": 0 }));
        };
        let Some((unsealer, params)) = state.rekey.as_mut() else {
            return Err(KmsError::InvalidState(
                "No rekey in progress; start one with `tresor operator rekey --start`.".into(),
            ));
        };
        let params = *params;
        let done = match unsealer.submit(share).map_err(share_error)? {
            Step::Progress(p) => {
                return Ok(
                    json!({ "Started": true, "Threshold": p.threshold, "Progress": p.progress }),
                )
            }
            Step::Unsealed(done) => done,
        };
        state.rekey = None;
        let shares = self.exclusively(|| {
            let tmp = crate::seal_store::staging(&self.dir).map_err(KmsError::internal)?;
            let made = done
                .rekey(&tmp, params)
                .map_err(KmsError::internal)
                .and_then(|shares| {
                    self.publish(&tmp).map_err(KmsError::internal)?;
                    Ok(shares)
                });
            let _ = std::fs::remove_dir_all(&tmp);
            made
        })?;
        // The new share set's resealer, for later root rotations.
        let mut fresh = Unsealer::open(&self.dir).map_err(KmsError::internal)?;
        for s in &shares {
            if let Step::Unsealed(u) = fresh.submit_share(s.clone()).map_err(KmsError::internal)? {
                state.resealer = Some(Arc::new(u.into_parts().1));
                break;
            }
        }
        tracing::info!(
            shares = params.shares(),
            threshold = params.threshold(),
            "rekeyed: new shares issued, the old ones no longer unseal"
        );
        let texts: Vec<String> = shares
            .iter()
            .map(|s| s.encode().expose().to_string())
            .collect();
        Ok(json!({ "Shares": texts, "Threshold": params.threshold() }))
    }

    fn rotate_root(&self) -> Result<Value, KmsError> {
        // Take what other nodes rotated or finished first.
        self.kms.follow_root()?;
        let _exclusive = self.exclusive.lock();
        let resealer = self.state.lock().resealer.clone();
        let report = self.exclusively(|| {
            if self.kms.root_rotation_pending()? {
                return self.kms.finish_root_rotation();
            }
            let material = RootMaterial::generate().map_err(KmsError::internal)?;
            let root = material.root_key().map_err(KmsError::internal)?;
            self.kms.rotate_root(root, || match self.kind {
                SealerKind::Shamir => {
                    let resealer = resealer
                        .ok_or_else(|| "the server is not unsealed with shares".to_string())?;
                    let tmp = crate::seal_store::staging(&self.dir)?;
                    let made = resealer
                        .replace_root(&tmp, &material)
                        .map_err(|e| e.to_string())
                        .and_then(|()| self.publish(&tmp));
                    let _ = std::fs::remove_dir_all(&tmp);
                    made
                }
                _ => self.reseal_pkcs11(&material),
            })
        })?;
        Ok(json!({
            "Generation": report.generation,
            "Rewrapped": report.rewrapped,
            "Seconds": report.elapsed.as_secs_f64(),
        }))
    }

    fn backup(&self) -> Result<Value, KmsError> {
        self.take_backup()
    }
}

impl ServerSeal {
    /// `TresorOperator.Backup`: the database and seal file as one backup file.
    fn take_backup(&self) -> Result<Value, KmsError> {
        let Some(_exclusive) = self.exclusive.try_lock() else {
            return Err(KmsError::Conflict(
                "A rekey or root rotation is running; back up when it is done.".into(),
            ));
        };
        let started = std::time::Instant::now();
        let bytes = crate::backup::create(&self.dir).map_err(KmsError::internal)?;
        tracing::info!(
            bytes = bytes.len(),
            ms = started.elapsed().as_millis() as u64,
            "backup taken"
        );
        Ok(crate::backup::answer(&bytes))
    }
}

/// Wall-clock milliseconds, for the seal's revision records.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Sets `key` of a JSON object (no-op on anything else).
fn set(v: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), value);
    }
}
