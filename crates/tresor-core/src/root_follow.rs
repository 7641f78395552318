//! Following another node's root rotation. Nodes of one database share one sealed root
//! key; when one node rotates it, the others take the new root without a restart: each
//! opens the database's new seal with what it already holds (a Shamir share set's
//! derived key, or its HSM session), so no shares are needed again.
//!
//! A node hears of a rotation from the store's change notifications (a root generation
//! record is a change to everything), from a poll every [`POLL`], and at once when it
//! meets a value under a generation it lacks. Until it follows it keeps wrapping under
//! the old generation, which the rotating node re-wraps; once the rotation retires the
//! old generation the store refuses such values ([`tresor_store::StoreError::RootRetired`],
//! a retryable 500) and the node follows before the client's retry.

use crate::error::{KmsError, KmsResult};
use crate::seal::RootRing;
use crate::service::Kms;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tresor_crypto::{RootKey, WrapPurpose};
use tresor_store::RootGenerationRecord;

/// Opens the deployment's current sealed root key (the server's seal supplies it);
/// `None` when it cannot be read now (the node's own seal change is running).
pub type RootFollower = Arc<dyn Fn() -> Result<Option<RootKey>, String> + Send + Sync>;

/// How often a node checks for a rotation it was not told of.
pub const POLL: Duration = Duration::from_secs(1);

/// While another node's rotation is between its new generation record and its new seal,
/// how often the follower tries again.
const RETRY: Duration = Duration::from_millis(100);

/// Wakes the follower thread.
#[derive(Default)]
pub(crate) struct FollowSignal {
    woken: parking_lot::Mutex<bool>,
    wake: parking_lot::Condvar,
}

impl Kms {
    /// Lets this node follow root rotations made by other nodes of its database.
    pub fn set_root_follower(&self, follower: RootFollower) {
        *self.root_slot.follower.write() = Some(follower);
    }

    /// Takes the root key another node rotated to, if the database has a newer root
    /// generation than this node and the seal already holds it. Returns the generation
    /// taken.
    pub fn follow_root(&self) -> KmsResult<Option<u32>> {
        if self.is_sealed() {
            return Ok(None);
        }
        let Some(follower) = self.root_slot.follower.read().clone() else {
            return Ok(None);
        };
        let ring = self.ring()?;
        let mine = ring.current().0;
        let generations = self.store.root_generations()?;
        // The rotation this node followed midway has finished elsewhere: the previous
        // root is no longer needed.
        if ring.previous.is_some()
            && generations
                .iter()
                .any(|g| g.generation == mine && g.wrapped_previous.is_none())
        {
            let _t = self.root_slot.transition.lock();
            let now = self.ring()?;
            if now.current().0 == mine && now.previous.is_some() {
                self.install_ring(RootRing {
                    current: now.current.clone(),
                    previous: None,
                });
                tracing::info!(generation = mine, "another node finished the root rotation");
            }
        }
        drop(ring);
        if generations.last().is_none_or(|g| g.generation <= mine) {
            return Ok(None);
        }
        let Some(root) = follower()
            .map_err(|e| KmsError::internal(format!("opening the rotated root key: {e}")))?
        else {
            return Ok(None);
        };
        let check = root.check_value();
        // The seal not holding a newer generation yet: the rotation is between its steps.
        let Some(record) = generations
            .iter()
            .find(|g| g.check == check && g.generation > mine)
        else {
            return Ok(None);
        };
        let _t = self.root_slot.transition.lock();
        if self.is_sealed() || self.ring()?.current().0 >= record.generation {
            return Ok(None);
        }
        let ring = self.ring_of(root, record)?;
        self.install_ring(ring);
        tracing::info!(
            generation = record.generation,
            "took the root key another node rotated to"
        );
        Ok(Some(record.generation))
    }

    /// Wakes the follower thread (a root generation changed elsewhere, perhaps).
    pub(crate) fn wake_root_follower(&self) {
        *self.root_slot.follow.woken.lock() = true;
        self.root_slot.follow.wake.notify_one();
    }

    /// Starts the thread that follows other nodes' root rotations; it ends with the
    /// service.
    pub fn spawn_root_follower(self: &Arc<Self>) -> std::io::Result<()> {
        let kms = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("tresor-root-follower".into())
            .spawn(move || follow_loop(&kms))
            .map(drop)
    }

    /// The ring of `root`, which is generation `record`: its fingerprint seed, and the
    /// previous root while the rotation to it is unfinished.
    pub(crate) fn ring_of(
        &self,
        root: RootKey,
        record: &RootGenerationRecord,
    ) -> KmsResult<RootRing> {
        let generation = record.generation;
        let seed = root
            .unwrap(
                WrapPurpose::FingerprintSeed { generation },
                &record.wrapped_fingerprint_seed,
            )
            .map_err(|e| KmsError::internal(format!("fingerprint seed: {e}")))?;
        let root = root.with_fingerprint_seed(seed);
        let previous = match &record.wrapped_previous {
            Some(w) => {
                let prev = root
                    .unwrap_root(generation, w)
                    .map_err(|e| KmsError::internal(format!("previous root key: {e}")))?;
                Some((generation.saturating_sub(1), Arc::new(prev)))
            }
            None => None,
        };
        Ok(RootRing {
            current: (generation, Arc::new(root)),
            previous,
        })
    }
}

fn follow_loop(kms: &Weak<Kms>) {
    let mut last_error: Option<Instant> = None;
    let mut retry_until: Option<Instant> = None;
    loop {
        let Some(k) = kms.upgrade() else { return };
        let wait = if retry_until.is_some_and(|t| Instant::now() < t) {
            RETRY
        } else {
            POLL
        };
        {
            let signal = &k.root_slot.follow;
            let mut woken = signal.woken.lock();
            if !*woken {
                // Holding no strong reference while waiting would be nicer, but the
                // wait is bounded: the service ends at most one poll later.
                signal.wake.wait_for(&mut woken, wait);
            }
            if std::mem::take(&mut *woken) {
                retry_until = Some(Instant::now() + Duration::from_secs(5));
            }
        }
        match k.follow_root() {
            Ok(Some(_)) => retry_until = None,
            Ok(None) => {}
            Err(e) => {
                if last_error.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                    tracing::warn!(error = %e, "cannot follow the root rotation of another node; restart and unseal this node");
                    last_error = Some(Instant::now());
                }
            }
        }
    }
}
