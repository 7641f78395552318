//! ReplicateKey: a replica of a multi-Region primary key in another Region of the same
//! account. The replica shares the primary's material (each version rewrapped under the
//! replica's ARN), spec, usage, origin and rotation; it gets its own policy (the default
//! one when none is given), description and tags. Replicas of EXTERNAL keys start in
//! `PendingImport` and accept only the material imported into the primary. The caller
//! needs kms:ReplicateKey on the primary and kms:CreateKey in the replica Region (and
//! kms:TagResource there when it gives Tags).
//!
//! As in AWS, the new replica is `Creating` (and the response says so); it becomes
//! `Enabled` (or `PendingImport`) by itself shortly after (see [`crate::transitions`]).

use super::create_key::NewKeyPolicy;
use crate::cache::CachedKey;
use crate::error::{KmsError, KmsResult};
use crate::ids;
use crate::model::{KeyState, Origin};
use crate::pipeline::{Call, Operation};
use crate::policy::Facts;
use crate::wire::{validate_tags, KeyMetadata, Tag, MAX_TAGS};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tresor_store::{KeyRecord, MaterialRecord, TagRecord, Write};

/// ReplicateKey.
pub struct ReplicateKey;

/// ReplicateKey request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Request {
    pub key_id: Option<String>,
    pub replica_region: Option<String>,
    pub policy: Option<String>,
    pub bypass_policy_lockout_safety_check: Option<bool>,
    pub description: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

/// A tag as ReplicateKey returns it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct TagOut {
    pub tag_key: String,
    pub tag_value: String,
}

/// ReplicateKey response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Response {
    pub replica_key_metadata: KeyMetadata,
    pub replica_policy: String,
    pub replica_tags: Vec<TagOut>,
}

impl Operation for ReplicateKey {
    const NAME: &'static str = "ReplicateKey";
    const USES_STORAGE: bool = true;
    const MUTATES: bool = true;
    type Request = Request;
    type Response = Response;

    fn execute(call: &mut Call<'_>, req: Request) -> KmsResult<Response> {
        let key_id = super::key_id_member("keyId", &req.key_id)?;
        let replica_region = req.replica_region.clone().unwrap_or_default();
        let tags = validate_tags(req.tags.as_deref().unwrap_or_default())?;
        if tags.len() > MAX_TAGS {
            return Err(KmsError::Tag(format!(
                "A key can have at most {MAX_TAGS} tags."
            )));
        }
        let parsed_policy = req
            .policy
            .as_deref()
            .map(crate::policy::parse_key_policy)
            .transpose()?;
        let primary = call.key_no_alias(
            key_id,
            "kms:ReplicateKey",
            Facts {
                bypass_policy_lockout_safety_check: req.bypass_policy_lockout_safety_check,
                tags: req.tags.as_deref().unwrap_or_default(),
                replica_region: Some(&replica_region),
                ..Facts::NONE
            },
        )?;
        // As AWS requires: the replica is a key created in the replica Region, so the
        // caller also needs kms:CreateKey there (identity policies, as for CreateKey).
        // Its AccessDenied names resource `*`, as AWS's CreateKey denial does; AWS's
        // wording for this case is not published.
        call.authorize_account_in(
            &replica_region,
            "kms:CreateKey",
            Facts {
                key_spec: Some(primary.spec.as_str()),
                key_usage: Some(primary.usage.as_str()),
                key_origin: Some(primary.origin.as_str()),
                bypass_policy_lockout_safety_check: req.bypass_policy_lockout_safety_check,
                tags: req.tags.as_deref().unwrap_or_default(),
                ..Facts::NONE
            },
        )?;
        // Tags on the replica also need kms:TagResource in the replica Region (AWS).
        if !tags.is_empty() {
            call.authorize_account_in(
                &replica_region,
                "kms:TagResource",
                Facts {
                    tags: req.tags.as_deref().unwrap_or_default(),
                    ..Facts::NONE
                },
            )
            .map_err(super::create_key::tag_resource_denied)?;
        }
        if !crate::multi_region::is_primary(&primary.to_record()) {
            return Err(crate::multi_region::not_primary(&primary.arn));
        }
        // An EXTERNAL primary whose material expired or was deleted may be replicated
        // (the replica then waits for that same material); one that never had any
        // may not, as there is no material the replica could be held to.
        let awaiting_known_material = primary.origin == Origin::External
            && primary.state == KeyState::PendingImport
            && primary.rare().imported_material_id.is_some();
        if primary.state != KeyState::Enabled && !awaiting_known_material {
            return Err(crate::states::state_error(&primary));
        }
        let public_id = primary.id().to_string();
        let replica_arn = ids::key_arn(&replica_region, primary.account(), &public_id);
        let policy = NewKeyPolicy {
            text: req.policy,
            parsed: parsed_policy,
            bypass_lockout_check: req.bypass_policy_lockout_safety_check == Some(true),
        }
        .checked(call, &replica_arn)?;
        let kms = call.kms;
        let now = call.now_ms();
        let ring = kms.ring()?;
        let stored_materials = kms.store.materials(primary.key_id())?;
        let replica = kms.write(|| {
            let related = crate::multi_region::related(kms, &primary.to_record())?;
            if related.iter().any(|r| r.region == replica_region) {
                return Err(KmsError::AlreadyExists(format!(
                    "Key '{replica_arn}' already exists"
                )));
            }
            let record = replica_record(&primary, &replica_region, &policy, &req.description, now);
            let mut writes = vec![
                Write::InsertKey(record.clone()),
                Write::SetTags {
                    key_id: record.key_id.clone(),
                    tags: tags
                        .iter()
                        .map(|(key, value)| TagRecord {
                            key: key.clone(),
                            value: value.clone(),
                        })
                        .collect(),
                },
            ];
            if primary.origin != Origin::External {
                for (version, m) in primary.materials.iter() {
                    let (wrapped, root_generation) =
                        crate::Kms::wrap_material(&ring, &replica_arn, *version, &m.key)?;
                    let stored = stored_materials.iter().find(|s| s.version == *version);
                    writes.push(Write::InsertMaterial(MaterialRecord {
                        key_id: record.key_id.clone(),
                        version: *version,
                        material_id: m.material_id.to_string(),
                        wrapped,
                        created_ms: stored.map_or(now, |s| s.created_ms),
                        rotation_type: stored.and_then(|s| s.rotation_type.clone()),
                        root_generation,
                        description: stored.and_then(|s| s.description.clone()),
                        valid_to_ms: None,
                        expiration_model: None,
                    }));
                }
            }
            Ok((writes, record))
        })?;
        drop(ring);
        call.created(&replica_arn);
        kms.invalidate_key(&replica.key_id);
        kms.transition_started(std::slice::from_ref(&replica.key_id));
        let all = crate::multi_region::related(kms, &replica)?;
        let current_id = primary
            .current_material()
            .ok()
            .filter(|_| primary.origin != Origin::External)
            .map(|(_, m)| m.material_id.to_string());
        let mut replica_key_metadata = KeyMetadata::from_record(&replica, current_id)?;
        replica_key_metadata.multi_region_configuration = Some(
            crate::multi_region::configuration_of(&replica, primary.region(), &all),
        );
        let replica_policy = replica
            .policy
            .clone()
            .unwrap_or_else(|| crate::policy::default_key_policy(&replica.account));
        Ok(Response {
            replica_key_metadata,
            replica_policy,
            replica_tags: tags
                .into_iter()
                .map(|(tag_key, tag_value)| TagOut { tag_key, tag_value })
                .collect(),
        })
    }
}

/// The replica's record: shared properties from `primary`, its own Region, policy,
/// description and state.
fn replica_record(
    primary: &Arc<CachedKey>,
    region: &str,
    policy: &Option<String>,
    description: &Option<String>,
    now: i64,
) -> KeyRecord {
    let p = &primary.to_record();
    let mut r = KeyRecord {
        key_id: ids::storage_id(primary.id(), region),
        account: p.account.clone(),
        region: region.to_string(),
        created_ms: now,
        description: description.clone().unwrap_or_default(),
        key_spec: p.key_spec.clone(),
        key_usage: p.key_usage.clone(),
        origin: p.origin.clone(),
        key_state: KeyState::Creating.as_str().into(),
        deletion_ms: None,
        pending_window_days: None,
        current_version: p.current_version,
        policy: policy.clone(),
        revision: 1,
        public_key: p.public_key.clone(),
        rotation_enabled: false,
        rotation_period_days: None,
        next_rotation_ms: None,
        on_demand_rotations: 0,
        valid_to_ms: None,
        expiration_model: None,
        // Only the primary's material may be imported into the replica.
        imported_material_id: p.imported_material_id.clone(),
        primary_region: None,
        // Multi-Region keys are never in a custom key store.
        custom_key_store_id: None,
        xks_key_id: None,
    };
    crate::multi_region::copy_shared(p, &mut r);
    r
}
