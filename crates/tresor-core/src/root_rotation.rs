//! Root rotation, online: a new root key becomes current at once, and everything stored
//! under the previous one (material versions, access-key secrets, import tokens) is
//! re-wrapped in batches while requests keep running.
//!
//! Crash safety, in order:
//! 1. the new generation's record (the previous root wrapped under the new one) is
//!    written to the database;
//! 2. the caller persists the new root in the seal (`persist`); a crash before this
//!    leaves a generation nothing is wrapped under, dropped at the next unseal;
//! 3. the new ring is installed and requests that still wrap under the old root are
//!    waited for;
//! 4. values are re-wrapped (each conditional on still being under the old generation);
//! 5. the previous root is deleted from the database. A crash in 3–4 is resumed by
//!    running the rotation again: unseal loads the previous root from step 1.

use crate::error::{KmsError, KmsResult};
use crate::seal::{drain, RootRing};
use crate::service::Kms;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tresor_crypto::{RootKey, WrapPurpose};
use tresor_store::{WrappedRef, WrappedValue, Write};

const BATCH: usize = 500;

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationReport {
    /// The root generation now current.
    pub generation: u32,
    /// Values re-wrapped.
    pub rewrapped: usize,
    /// Wall time.
    pub elapsed: Duration,
}

impl Kms {
    /// Makes `new_root` the current root key and re-wraps everything under it.
    /// `persist` must durably replace the sealed root key with `new_root` (the seal
    /// file); it runs after the database can recover the previous root and before
    /// anything is wrapped under the new one. Refused while another rotation is
    /// unfinished: finish it with [`Kms::finish_root_rotation`].
    pub fn rotate_root(
        &self,
        new_root: RootKey,
        persist: impl FnOnce() -> Result<(), String>,
    ) -> KmsResult<RotationReport> {
        let start = Instant::now();
        let t = self.root_slot.transition.lock();
        let old = self.ring()?;
        if old.previous.is_some() {
            return Err(KmsError::Conflict(
                "A root rotation is unfinished; finish it first.".into(),
            ));
        }
        let (generation, old_key) = old.current();
        let next = generation + 1;
        let new_root = new_root.with_fingerprint_seed(old_key.fingerprint_seed().clone());
        let ring = RootRing {
            current: (next, Arc::new(new_root)),
            previous: Some((generation, old.current.1.clone())),
        };
        let record = self.generation_record(&ring, Some(old_key))?;
        self.store.apply(vec![Write::PutRootGeneration(record)])?;
        if let Err(e) = persist() {
            self.store
                .apply(vec![Write::DeleteRootGeneration { generation: next }])?;
            return Err(KmsError::internal(format!(
                "persisting the new root key: {e}"
            )));
        }
        self.install_ring(ring);
        tracing::info!(generation = next, "new root key installed; re-wrapping");
        // Requests that took the old ring may still be writing values wrapped under it.
        if !drain(&old, Duration::from_secs(60)) {
            return Err(KmsError::internal(
                "requests kept the old root key for 60 s; run the rotation again to finish",
            ));
        }
        drop(old);
        drop(t);
        let mut report = self.finish_root_rotation()?;
        report.elapsed = start.elapsed();
        Ok(report)
    }

    /// Re-wraps everything still under the previous root and forgets it. A no-op when
    /// no rotation is unfinished.
    pub fn finish_root_rotation(&self) -> KmsResult<RotationReport> {
        let start = Instant::now();
        let _t = self.root_slot.transition.lock();
        let ring = self.ring()?;
        let (generation, key) = ring.current();
        let Some((previous, old_key)) = ring.previous.clone() else {
            return Ok(RotationReport {
                generation,
                rewrapped: 0,
                elapsed: start.elapsed(),
            });
        };
        let mut rewrapped = self.rewrap_all(&old_key, key, previous, generation)?;
        // Retire the old generations: from now on the store refuses values under them
        // (other nodes that have not taken the new root yet). Their record rows are
        // locked by every batch storing under them, so the delete waits for batches in
        // flight, and the pass after it re-wraps what they stored.
        let retired: Vec<Write> = self
            .store
            .root_generations()?
            .into_iter()
            .filter(|g| g.generation < generation)
            .map(|g| Write::DeleteRootGeneration {
                generation: g.generation,
            })
            .collect();
        if !retired.is_empty() {
            self.store.apply(retired)?;
        }
        rewrapped += self.rewrap_all(&old_key, key, previous, generation)?;
        // The previous root is still in this generation's record until here: a crash
        // before this resumes the rotation at the next unseal.
        let record = self.generation_record(
            &RootRing {
                current: (generation, ring.current.1.clone()),
                previous: None,
            },
            None,
        )?;
        self.store.apply(vec![Write::PutRootGeneration(record)])?;
        self.install_ring(RootRing {
            current: (generation, ring.current.1.clone()),
            previous: None,
        });
        tracing::info!(generation, rewrapped, "root rotation finished");
        Ok(RotationReport {
            generation,
            rewrapped,
            elapsed: start.elapsed(),
        })
    }
}

impl Kms {
    /// Re-wraps every value under `from` (key `old`) to `to` (key `new`), in batches;
    /// the count.
    fn rewrap_all(&self, old: &RootKey, new: &RootKey, from: u32, to: u32) -> KmsResult<usize> {
        let mut rewrapped = 0;
        loop {
            let batch = self.store.wrapped_under(from, BATCH)?;
            if batch.is_empty() {
                return Ok(rewrapped);
            }
            let mut writes = Vec::with_capacity(batch.len());
            for value in batch {
                writes.push(rewrap(old, new, from, to, value)?);
            }
            rewrapped += writes.len();
            self.store.apply(writes)?;
        }
    }
}

fn rewrap(
    old: &RootKey,
    new: &RootKey,
    from: u32,
    to: u32,
    value: WrappedValue,
) -> KmsResult<Write> {
    let arn;
    let purpose = match &value.target {
        WrappedRef::Material {
            key_id,
            account,
            region,
            version,
        } => {
            arn = crate::ids::stored_key_arn(region, account, key_id);
            WrapPurpose::KeyMaterial {
                key_arn: &arn,
                version: *version,
            }
        }
        WrappedRef::AccessKey { access_key_id } => WrapPurpose::AccessKeySecret { access_key_id },
        WrappedRef::ImportToken { token_id } => WrapPurpose::ImportWrappingKey { token_id },
        WrappedRef::CustomKeyStore { id } => WrapPurpose::CustomKeyStoreSecret { id },
    };
    let secret = old
        .unwrap(purpose, &value.wrapped)
        .map_err(|e| KmsError::internal(format!("re-wrapping {:?}: {e}", value.target)))?;
    let wrapped = new.wrap(purpose, &secret).map_err(KmsError::internal)?;
    Ok(Write::Rewrap {
        target: value.target,
        from_generation: from,
        wrapped,
        to_generation: to,
    })
}
