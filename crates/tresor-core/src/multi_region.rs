//! Multi-Region keys: one `mrk-` key id with one record per Region (stored as
//! `mrk-…@REGION`, see [`crate::ids::storage_id`]). The records share material (each
//! wrapped under its own ARN), spec, usage, origin and rotation; each Region keeps its
//! own policy, grants, aliases, tags, description and state. `primary_region` on every
//! record names the Region of the primary key.

use crate::error::{KmsError, KmsResult};
use crate::ids;
use crate::model::KeyState;
use crate::service::Kms;
use serde::Serialize;
use tresor_store::{KeyRecord, Write};

/// `MultiRegionConfiguration` of `KeyMetadata`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionConfiguration {
    /// `PRIMARY` or `REPLICA`.
    pub multi_region_key_type: &'static str,
    /// The primary key.
    pub primary_key: MultiRegionKey,
    /// Every replica key (empty when the primary is alone).
    pub replica_keys: Vec<MultiRegionKey>,
}

/// One key of a multi-Region key set.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionKey {
    /// Its key ARN.
    pub arn: String,
    /// Its Region.
    pub region: String,
}

/// True when `record` is the primary of its multi-Region key.
pub fn is_primary(record: &KeyRecord) -> bool {
    record.primary_region.as_deref() == Some(record.region.as_str())
}

/// Every Region's record of the multi-Region key `record` belongs to (itself included),
/// ordered by Region; only `record` for a single-Region key.
pub fn related(kms: &Kms, record: &KeyRecord) -> KmsResult<Vec<KeyRecord>> {
    if record.primary_region.is_none() {
        return Ok(vec![record.clone()]);
    }
    Ok(kms
        .store
        .multi_region_keys(ids::public_id(&record.key_id))?
        .into_iter()
        .filter(|r| r.account == record.account)
        .collect())
}

/// The configuration DescribeKey shows for `record` (`None` for single-Region keys).
pub fn configuration(kms: &Kms, record: &KeyRecord) -> KmsResult<Option<MultiRegionConfiguration>> {
    let Some(primary_region) = &record.primary_region else {
        return Ok(None);
    };
    let all = related(kms, record)?;
    Ok(Some(configuration_of(record, primary_region, &all)))
}

/// [`configuration`] of a cached key (its record rebuilt only for a multi-Region key).
pub fn key_configuration(
    kms: &Kms,
    key: &crate::cache::CachedKey,
) -> KmsResult<Option<MultiRegionConfiguration>> {
    if !key.is_multi_region() {
        return Ok(None);
    }
    configuration(kms, &key.to_record())
}

/// The configuration of `record` given every record of its key set.
pub fn configuration_of(
    record: &KeyRecord,
    primary_region: &str,
    all: &[KeyRecord],
) -> MultiRegionConfiguration {
    let entry = |r: &KeyRecord| MultiRegionKey {
        arn: ids::stored_key_arn(&r.region, &r.account, &r.key_id),
        region: r.region.clone(),
    };
    let primary_key = MultiRegionKey {
        arn: ids::key_arn(
            primary_region,
            &record.account,
            ids::public_id(&record.key_id),
        ),
        region: primary_region.to_string(),
    };
    MultiRegionConfiguration {
        multi_region_key_type: if record.region == primary_region {
            "PRIMARY"
        } else {
            "REPLICA"
        },
        primary_key,
        replica_keys: all
            .iter()
            .filter(|r| r.region != primary_region)
            .map(entry)
            .collect(),
    }
}

/// Copies what the Regions share (rotation status, schedule and counters, the current
/// material version) from `from` onto `to`.
pub fn copy_shared(from: &KeyRecord, to: &mut KeyRecord) {
    to.rotation_enabled = from.rotation_enabled;
    to.rotation_period_days = from.rotation_period_days;
    to.next_rotation_ms = from.next_rotation_ms;
    to.on_demand_rotations = from.on_demand_rotations;
    to.primary_region.clone_from(&from.primary_region);
}

/// The writes that bring every other Region's record of `primary`'s key set in line
/// with it (see [`copy_shared`]); returns them with the stored ids they touch (whose
/// cache entries must go). Run under the service's write lock.
pub fn sync_writes(kms: &Kms, primary: &KeyRecord) -> KmsResult<(Vec<Write>, Vec<String>)> {
    if primary.primary_region.is_none() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut writes = Vec::new();
    let mut touched = Vec::new();
    for mut r in related(kms, primary)? {
        if r.key_id == primary.key_id {
            continue;
        }
        copy_shared(primary, &mut r);
        r.revision += 1;
        touched.push(r.key_id.clone());
        writes.push(Write::UpdateKey(r));
    }
    Ok((writes, touched))
}

/// `UnsupportedOperationException` for an operation only the primary key allows.
pub fn not_primary(arn: &str) -> KmsError {
    KmsError::UnsupportedOperation(format!("{arn} is not a multi-region primary key."))
}

/// Refuses rotation management on a replica: the primary's rotation reaches every
/// replica, so a replica's own is not configurable (as in AWS).
pub fn refuse_on_replica(record: &KeyRecord, arn: &str) -> KmsResult<()> {
    if record.primary_region.is_some() && !is_primary(record) {
        return Err(KmsError::UnsupportedOperation(format!(
            "{arn} is a multi-Region replica key; rotation is managed on its primary key."
        )));
    }
    Ok(())
}

/// After `deleted` (a replica) is gone: its primary, if waiting in
/// `PendingReplicaDeletion` with no replica left, starts its deletion countdown.
/// Returns the writes to apply (empty when nothing changes).
pub fn primary_after_replica_deleted(
    kms: &Kms,
    deleted: &KeyRecord,
    now_ms: i64,
) -> KmsResult<Vec<Write>> {
    if deleted.primary_region.is_none() || is_primary(deleted) {
        return Ok(Vec::new());
    }
    let others: Vec<KeyRecord> = related(kms, deleted)?
        .into_iter()
        .filter(|r| r.key_id != deleted.key_id)
        .collect();
    let Some(primary) = others.iter().find(|r| is_primary(r)) else {
        return Ok(Vec::new());
    };
    if primary.key_state != KeyState::PendingReplicaDeletion.as_str() || others.len() > 1 {
        return Ok(Vec::new());
    }
    let mut p = primary.clone();
    let days = p.pending_window_days.unwrap_or(30);
    p.key_state = KeyState::PendingDeletion.as_str().into();
    p.deletion_ms = Some(now_ms + days * crate::ops::enable_key_rotation::DAY_MS);
    p.revision += 1;
    Ok(vec![Write::UpdateKey(p)])
}
