//! Background jobs: automatic rotations, material expiries, deletions and transient
//! states (see [`crate::transitions`]) that are due.

use super::*;

impl Kms {
    /// Runs every job that is due: automatic rotations, then deletions of keys whose
    /// waiting period is over. Returns how many jobs ran.
    pub fn run_due_jobs(&self) -> KmsResult<usize> {
        if self.is_sealed() {
            return Ok(0);
        }
        // Each job is a change that needs its record: none runs while none can be kept.
        // (Admitting 0 bytes checks without holding a reservation the records do not
        // give back.)
        if let Err(e) = self.audit.admit(0) {
            tracing::warn!(target: "tresor::scheduler", "due jobs wait for the audit log: {e}");
            return Ok(0);
        }
        let rotated = self.run_due_rotations()?;
        let expired = self.run_due_expiries()?;
        // Keys left Creating / Updating by a crash or by another node settle here.
        self.adopt_stored_transitions()?;
        let settled = self.run_due_transitions()?;
        Ok(rotated + expired + settled + self.run_due_deletions()?)
    }

    fn run_due_rotations(&self) -> KmsResult<usize> {
        let now = self.now_ms();
        let mut rotated = 0;
        for key in self.store.keys_due_for_rotation(now)? {
            if key.primary_region.is_some() && !crate::multi_region::is_primary(&key) {
                // A replica rotates with its primary.
                continue;
            }
            let result = self.rotate_key(&key.key_id, "AUTOMATIC", |rec| {
                let due = rec.rotation_enabled
                    && rec.key_state == "Enabled"
                    && rec.next_rotation_ms.is_some_and(|t| t <= now);
                if !due {
                    return Err(KmsError::InvalidState("no longer due".into()));
                }
                let period = rec
                    .rotation_period_days
                    .unwrap_or(crate::ops::enable_key_rotation::DEFAULT_PERIOD_DAYS);
                rec.next_rotation_ms = Some(now + period * crate::ops::enable_key_rotation::DAY_MS);
                Ok(())
            });
            match result {
                Ok(_) => {
                    self.audit_service_event("RotateKey", &key);
                    tracing::info!(target: "tresor::scheduler", key_id = %key.key_id, "rotated key material");
                    rotated += 1;
                }
                Err(KmsError::InvalidState(_)) => {}
                Err(e) => {
                    tracing::error!(target: "tresor::scheduler", key_id = %key.key_id, "rotation failed: {e:?}")
                }
            }
        }
        Ok(rotated)
    }

    fn run_due_expiries(&self) -> KmsResult<usize> {
        let now = self.now_ms();
        let mut expired = 0;
        for key in self.store.keys_with_expired_material(now)? {
            let result = self.update_key(&key.key_id, |rec| {
                let rows = self.store.materials(&rec.key_id)?;
                let writes = crate::imported::expire(rec, &rows, now);
                if writes.is_empty() {
                    return Err(KmsError::InvalidState("no longer due".into()));
                }
                Ok((writes, ()))
            });
            match result {
                Ok(_) => {
                    self.invalidate_key(&key.key_id);
                    self.audit_service_event("DeleteExpiredKeyMaterial", &key);
                    tracing::info!(target: "tresor::scheduler", key_id = %key.key_id, "imported key material expired");
                    expired += 1;
                }
                Err(KmsError::InvalidState(_)) => {}
                Err(e) => {
                    tracing::error!(target: "tresor::scheduler", key_id = %key.key_id, "expiry failed: {e:?}")
                }
            }
        }
        Ok(expired)
    }

    fn run_due_deletions(&self) -> KmsResult<usize> {
        let now = self.now_ms();
        let due = self.store.keys_due_for_deletion(now)?;
        let mut deleted = 0;
        for key in due {
            let _guard = self.write_lock.lock();
            // Re-check under the lock: CancelKeyDeletion may have won the race.
            let Some(fresh) = self.store.key(&key.key_id)? else {
                continue;
            };
            if fresh.key_state != "PendingDeletion" || fresh.deletion_ms.is_none_or(|d| d > now) {
                continue;
            }
            // The revision bump claims the job: of nodes deleting at once, one does.
            let mut claim = fresh.clone();
            claim.revision += 1;
            let mut writes = vec![
                Write::UpdateKey(claim),
                Write::DeleteKey {
                    key_id: key.key_id.clone(),
                },
            ];
            let primary = crate::multi_region::primary_after_replica_deleted(self, &fresh, now)?;
            writes.extend(primary.iter().cloned());
            match self.store.apply(writes) {
                Ok(()) => {}
                Err(tresor_store::StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
            for w in &primary {
                if let Write::UpdateKey(p) = w {
                    self.keys.remove(&CompactId::new(&p.key_id));
                }
            }
            self.keys.remove(&CompactId::new(&key.key_id));
            self.grants.remove(&key.key_id);
            let id = key.key_id.clone();
            self.aliases.remove_where(|target| *target == id);
            self.audit_service_event("DeleteKey", &key);
            tracing::info!(target: "tresor::scheduler", key_id = %key.key_id, "deleted key after its waiting period");
            deleted += 1;
        }
        Ok(deleted)
    }
}
