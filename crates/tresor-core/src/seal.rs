//! The root key as the service holds it: absent while sealed, installed at unseal,
//! dropped (with every cache of decrypted material) at seal.
//!
//! The database numbers root keys by generation (`root_generations`); every wrapped
//! value carries the generation it is under, so a root rotation can run online and be
//! resumed after a crash (see [`crate::root_rotation`]). While one runs, the ring holds
//! the new root (current) and the previous one.

use crate::error::{KmsError, KmsResult};
use crate::service::Kms;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tresor_crypto::{RootKey, SecretBytes, WrapPurpose};
use tresor_store::{RootGenerationRecord, Write};

/// What sealed requests are told.
pub const SEALED_MESSAGE: &str =
    "Tresor is sealed; unseal it with `tresor operator unseal` (a quorum of key shares).";

/// How old a root generation above the unsealed one must be to count as an interrupted
/// rotation's rather than one another node is making.
const STALE_GENERATION_MS: i64 = 10 * 60 * 1000;

/// The root keys in use: the current generation, and the previous one while a root
/// rotation re-wraps what is still under it.
pub struct RootRing {
    pub(crate) current: (u32, Arc<RootKey>),
    pub(crate) previous: Option<(u32, Arc<RootKey>)>,
}

impl std::fmt::Debug for RootRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootRing")
            .field("current", &self.current.0)
            .field("previous", &self.previous.as_ref().map(|p| p.0))
            .finish()
    }
}

impl RootRing {
    /// The current generation and its key (for new wraps).
    pub fn current(&self) -> (u32, &RootKey) {
        (self.current.0, &self.current.1)
    }

    /// The key of `generation`, if this ring holds it.
    pub fn get(&self, generation: u32) -> Option<&RootKey> {
        if self.current.0 == generation {
            return Some(&self.current.1);
        }
        self.previous
            .as_ref()
            .filter(|p| p.0 == generation)
            .map(|p| p.1.as_ref())
    }

    /// Wraps `secret` under the current generation; returns the blob and its generation.
    pub fn wrap(
        &self,
        purpose: WrapPurpose<'_>,
        secret: &SecretBytes,
    ) -> KmsResult<(Vec<u8>, u32)> {
        let (generation, key) = self.current();
        let wrapped = key.wrap(purpose, secret).map_err(KmsError::internal)?;
        Ok((wrapped, generation))
    }
}

/// Where the sealed flag and the ring live inside [`Kms`].
#[derive(Default)]
pub(crate) struct RootSlot {
    pub(crate) ring: parking_lot::RwLock<Option<Arc<RootRing>>>,
    pub(crate) sealed: std::sync::atomic::AtomicBool,
    /// One root rotation (or unseal, or seal) at a time.
    pub(crate) transition: parking_lot::Mutex<()>,
    /// Opens the deployment's current seal, to follow other nodes' rotations.
    pub(crate) follower: parking_lot::RwLock<Option<crate::root_follow::RootFollower>>,
    /// Wakes the follower thread.
    pub(crate) follow: crate::root_follow::FollowSignal,
}

impl RootSlot {
    pub(crate) fn sealed() -> Self {
        let slot = Self::default();
        slot.sealed.store(true, Ordering::SeqCst);
        slot
    }
}

/// Waits until nobody but the caller holds `ring` (requests that wrapped under it have
/// written what they wrapped), at most `limit`.
pub(crate) fn drain(ring: &Arc<RootRing>, limit: Duration) -> bool {
    let start = Instant::now();
    while Arc::strong_count(ring) > 1 {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

impl Kms {
    /// True while the root key is absent: every request but unseal is refused.
    pub fn is_sealed(&self) -> bool {
        self.root_slot.sealed.load(Ordering::Acquire)
    }

    /// The root keys, or the sealed error.
    pub fn ring(&self) -> KmsResult<Arc<RootRing>> {
        self.root_slot
            .ring
            .read()
            .clone()
            .ok_or_else(|| KmsError::Sealed(SEALED_MESSAGE.into()))
    }

    pub(crate) fn install_ring(&self, ring: RootRing) -> Arc<RootRing> {
        let ring = Arc::new(ring);
        *self.root_slot.ring.write() = Some(ring.clone());
        ring
    }

    /// Unwraps `wrapped` (under `generation`) with `ring`, or with the service's current
    /// ring when a root rotation moved on since `ring` was taken.
    pub(crate) fn unwrap_under(
        &self,
        ring: &RootRing,
        generation: u32,
        purpose: WrapPurpose<'_>,
        wrapped: &[u8],
    ) -> KmsResult<SecretBytes> {
        if let Some(key) = ring.get(generation) {
            return key.unwrap(purpose, wrapped).map_err(KmsError::internal);
        }
        let mut fresh = self.ring()?;
        if fresh.get(generation).is_none() && generation > fresh.current().0 {
            // Another node rotated the root key and this one has not followed yet.
            if let Err(e) = self.follow_root() {
                tracing::warn!(error = %e, "cannot follow another node's root rotation");
            }
            fresh = self.ring()?;
        }
        let key = fresh.get(generation).ok_or_else(|| {
            KmsError::internal(format!("no root key of generation {generation} is loaded"))
        })?;
        key.unwrap(purpose, wrapped).map_err(KmsError::internal)
    }

    /// Installs the unsealed root key: finds which of the database's root generations it
    /// is (the first unseal of a database records it as generation 1), loads the
    /// previous root when a rotation was interrupted, and starts serving.
    pub fn unseal(&self, root: RootKey) -> KmsResult<()> {
        let _t = self.root_slot.transition.lock();
        if !self.is_sealed() {
            return Ok(());
        }
        let ring = self.ring_for(root)?;
        self.install_ring(ring);
        self.root_slot.sealed.store(false, Ordering::Release);
        tracing::info!("unsealed");
        Ok(())
    }

    fn ring_for(&self, root: RootKey) -> KmsResult<RootRing> {
        let check = root.check_value();
        let generations = self.store.root_generations()?;
        let Some(mine) = generations.iter().find(|g| g.check == check) else {
            if !generations.is_empty() {
                return Err(KmsError::internal(
                    "the unsealed root key is not one of this database's root keys (a seal file from another data directory?)",
                ));
            }
            let ring = RootRing {
                current: (1, Arc::new(root)),
                previous: None,
            };
            let record = self.generation_record(&ring, None)?;
            self.store.apply(vec![Write::PutRootGeneration(record)])?;
            return Ok(ring);
        };
        let generation = mine.generation;
        let mine = mine.clone();
        // Generations above the unsealed one: a rotation that stopped before the seal
        // file was replaced; nothing was wrapped under them. A recent one may be another
        // node's rotation between its two steps: it is left alone.
        let mut stale = Vec::new();
        let settled = self.now_ms().saturating_sub(STALE_GENERATION_MS);
        for g in generations
            .iter()
            .filter(|g| g.generation > generation && g.created_ms < settled)
        {
            if !self.store.wrapped_under(g.generation, 1)?.is_empty() {
                return Err(KmsError::internal(format!(
                    "values are stored under root generation {}, but the seal holds generation {generation}",
                    g.generation
                )));
            }
            stale.push(Write::DeleteRootGeneration {
                generation: g.generation,
            });
        }
        if !stale.is_empty() {
            tracing::warn!("dropping root generations of an interrupted root rotation");
            self.store.apply(stale)?;
        }
        let ring = self.ring_of(root, &mine)?;
        if ring.previous.is_some() {
            tracing::warn!(
                generation,
                "a root rotation is unfinished; run `tresor operator rotate-root` to finish it"
            );
        }
        Ok(ring)
    }

    /// Seals the running service: drops the root key and every cache holding decrypted
    /// material (keys, credentials); requests from now on are refused until unsealed.
    pub fn seal(&self) {
        let _t = self.root_slot.transition.lock();
        self.root_slot.sealed.store(true, Ordering::Release);
        let ring = self.root_slot.ring.write().take();
        if let Some(ring) = ring {
            // Let requests that already hold the key finish (and cache what they load)
            // before the caches are emptied.
            if !drain(&ring, Duration::from_secs(10)) {
                tracing::warn!("sealing while requests still hold the root key");
            }
        }
        self.drop_decrypted_caches();
        tracing::info!("sealed");
    }

    /// Whether a root rotation is unfinished (values are still under the previous root).
    pub fn root_rotation_pending(&self) -> KmsResult<bool> {
        Ok(self.ring()?.previous.is_some())
    }

    pub(crate) fn generation_record(
        &self,
        ring: &RootRing,
        previous: Option<&RootKey>,
    ) -> KmsResult<RootGenerationRecord> {
        let (generation, key) = ring.current();
        let (wrapped_fingerprint_seed, _) = ring.wrap_seed()?;
        let wrapped_previous = previous
            .map(|p| key.wrap_root(generation, p))
            .transpose()
            .map_err(KmsError::internal)?;
        Ok(RootGenerationRecord {
            generation,
            check: key.check_value().to_vec(),
            wrapped_fingerprint_seed,
            wrapped_previous,
            created_ms: self.now_ms(),
        })
    }
}

impl RootRing {
    fn wrap_seed(&self) -> KmsResult<(Vec<u8>, u32)> {
        let (generation, key) = self.current();
        self.wrap(
            WrapPurpose::FingerprintSeed { generation },
            key.fingerprint_seed(),
        )
    }
}
