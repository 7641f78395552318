//! The transient key states AWS shows for multi-Region keys: a new replica is `Creating`
//! and the two keys of an UpdatePrimaryRegion are `Updating` for a short while, then they
//! settle (`Enabled`, or `PendingImport` for an EXTERNAL replica) with no client action.
//!
//! The state is in the store; the due time is kept in memory by the node that started
//! the transition (`delay` after it). Keys found in a transient state that no node here
//! started (left by a crash, or by another node that went away) are adopted by the
//! periodic jobs and settled `delay` after they were found. Settling is a
//! revision-conditional update of a key still in the transient state, so of several
//! nodes that try, one changes the key and the others find nothing to do.
//!
//! AWS documents no CloudTrail event for the end of these transitions, so none is
//! audited (the ReplicateKey / UpdatePrimaryRegion call that started them is).

use crate::error::{KmsError, KmsResult};
use crate::model::{KeyState, Origin};
use crate::service::Kms;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The default time a key stays `Creating` / `Updating`.
pub const DEFAULT_DELAY_MS: i64 = 100;

/// How long a transition that failed to settle waits before the next try.
const RETRY_MS: i64 = 1000;

type Waker = Arc<dyn Fn() + Send + Sync>;

/// Keys in a transient state and when each settles.
pub(crate) struct Transitions {
    delay_ms: AtomicI64,
    /// Stored key id → when it settles (ms since the epoch).
    due: Mutex<HashMap<String, i64>>,
    /// Called when a transition is added, so that the runner need not poll.
    waker: Mutex<Option<Waker>>,
}

impl Default for Transitions {
    fn default() -> Self {
        Self {
            delay_ms: AtomicI64::new(DEFAULT_DELAY_MS),
            due: Mutex::new(HashMap::new()),
            waker: Mutex::new(None),
        }
    }
}

/// The state a key in `state` settles in, if it is transient.
fn settled_state(state: &str, origin: &str) -> Option<KeyState> {
    match state {
        "Creating" if origin == Origin::External.as_str() => Some(KeyState::PendingImport),
        "Creating" | "Updating" => Some(KeyState::Enabled),
        _ => None,
    }
}

impl Kms {
    /// Sets how long a new replica stays `Creating` and UpdatePrimaryRegion's keys stay
    /// `Updating` (0: they settle right after the call returns).
    pub fn set_transition_delay(&self, delay: std::time::Duration) {
        let ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        self.transitions.delay_ms.store(ms, Ordering::Relaxed);
    }

    /// Registers `wake`, called whenever a transition starts (the server's runner waits
    /// for it and for [`Kms::next_transition_in`]).
    pub fn set_transition_waker(&self, wake: impl Fn() + Send + Sync + 'static) {
        *self.transitions.waker.lock() = Some(Arc::new(wake));
    }

    /// How long until the next known transition is due (zero when one is), or `None`
    /// when none is pending on this node.
    pub fn next_transition_in(&self) -> Option<std::time::Duration> {
        let next = self.transitions.due.lock().values().min().copied()?;
        let wait = next.saturating_sub(self.now_ms()).max(0);
        Some(std::time::Duration::from_millis(
            u64::try_from(wait).unwrap_or(0),
        ))
    }

    /// Notes that the keys `key_ids` (stored ids) just entered a transient state.
    pub(crate) fn transition_started(&self, key_ids: &[String]) {
        self.add_transitions(key_ids.iter().cloned(), true);
    }

    /// Adds `key_ids` settling one delay from now (`replace`: also those known already)
    /// and wakes the runner.
    fn add_transitions(&self, key_ids: impl Iterator<Item = String>, replace: bool) {
        let due = self
            .now_ms()
            .saturating_add(self.transitions.delay_ms.load(Ordering::Relaxed));
        let mut added = false;
        {
            let mut pending = self.transitions.due.lock();
            for id in key_ids {
                if replace || !pending.contains_key(&id) {
                    pending.insert(id, due);
                    added = true;
                }
            }
        }
        let waker = self.transitions.waker.lock().clone();
        if let (true, Some(wake)) = (added, waker) {
            wake();
        }
    }

    /// Adopts keys the store shows in a transient state that this node does not know of
    /// (they settle one delay from now).
    pub(crate) fn adopt_stored_transitions(&self) -> KmsResult<()> {
        let stored = self.store.keys_in_transition()?;
        self.add_transitions(stored.into_iter().map(|k| k.key_id), false);
        Ok(())
    }

    /// Settles every transition that is due; returns how many keys changed state.
    pub fn run_due_transitions(&self) -> KmsResult<usize> {
        if self.is_sealed() {
            return Ok(0);
        }
        let now = self.now_ms();
        let due: Vec<String> = self
            .transitions
            .due
            .lock()
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        let mut settled = 0;
        for key_id in due {
            let result = self.update_key(&key_id, |rec| {
                let target = settled_state(&rec.key_state, &rec.origin)
                    .ok_or_else(|| KmsError::InvalidState("no longer in transition".into()))?;
                rec.key_state = target.as_str().into();
                Ok((Vec::new(), ()))
            });
            match result {
                Ok(_) => {
                    tracing::debug!(target: "tresor::scheduler", key_id = %key_id, "key left its transient state");
                    settled += 1;
                }
                // Settled by another node, deleted, or changed state meanwhile.
                Err(KmsError::InvalidState(_) | KmsError::NotFound(_)) => {}
                Err(e) => {
                    // Kept, and tried again a second later.
                    tracing::warn!(target: "tresor::scheduler", key_id = %key_id, "settling a transient state failed: {e:?}");
                    if let Some(at) = self.transitions.due.lock().get_mut(&key_id) {
                        *at = now.saturating_add(RETRY_MS);
                    }
                    continue;
                }
            }
            self.transitions.due.lock().remove(&key_id);
        }
        Ok(settled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_states_settle_by_origin() {
        assert_eq!(
            settled_state("Creating", "AWS_KMS"),
            Some(KeyState::Enabled)
        );
        assert_eq!(
            settled_state("Creating", "EXTERNAL"),
            Some(KeyState::PendingImport)
        );
        assert_eq!(
            settled_state("Updating", "EXTERNAL"),
            Some(KeyState::Enabled)
        );
        assert_eq!(settled_state("Enabled", "AWS_KMS"), None);
        assert_eq!(settled_state("PendingDeletion", "AWS_KMS"), None);
    }
}
