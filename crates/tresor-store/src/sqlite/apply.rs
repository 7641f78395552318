//! One write of a batch, as SQL. Every statement is prepared once per connection and
//! kept (`prepare_cached`): the writer thread runs the same few dozen statements all
//! day, and parsing them each time was a good part of its work.

use super::*;
use std::sync::LazyLock;

/// Refuses a batch storing values under a retired root generation (one a root
/// rotation deleted while a higher one exists).
pub(super) fn check_generations(tx: &Connection, batch: &[Write]) -> StoreResult<()> {
    for g in crate::generations_of(batch) {
        let next: Option<i64> = tx
            .prepare_cached("SELECT MIN(generation) FROM root_generations WHERE generation >= ?1")?
            .query_row([i64::from(g)], |r| r.get(0))?;
        if next.is_some_and(|n| n != i64::from(g)) {
            return Err(StoreError::RootRetired(g));
        }
    }
    Ok(())
}

static INSERT_KEY: LazyLock<String> = LazyLock::new(|| {
    format!("INSERT INTO keys ({KEY_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25)")
});

/// Runs `sql` (prepared once and cached on the connection) with `p`.
fn run<P: rusqlite::Params>(tx: &Connection, sql: &str, p: P) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(p)
}

pub(super) fn apply_one(tx: &Connection, w: &Write) -> StoreResult<()> {
    match w {
        Write::InsertKey(k) => {
            run(
                tx,
                &INSERT_KEY,
                params![
                    k.key_id,
                    k.account,
                    k.region,
                    k.created_ms,
                    k.description,
                    k.key_spec,
                    k.key_usage,
                    k.origin,
                    k.key_state,
                    k.deletion_ms,
                    k.pending_window_days,
                    k.current_version,
                    k.policy,
                    k.revision,
                    k.public_key,
                    k.rotation_enabled,
                    k.rotation_period_days,
                    k.next_rotation_ms,
                    k.on_demand_rotations,
                    k.valid_to_ms,
                    k.expiration_model,
                    k.imported_material_id,
                    k.primary_region,
                    k.custom_key_store_id,
                    k.xks_key_id
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Duplicate(format!("key {}", k.key_id))
                } else {
                    e.into()
                }
            })?;
        }
        Write::UpdateKey(k) => {
            let n = run(
                tx,
                "UPDATE keys SET description=?2, key_state=?3, deletion_ms=?4, pending_window_days=?5, \
                 current_version=?6, policy=?7, revision=?8, rotation_enabled=?10, rotation_period_days=?11, \
                 next_rotation_ms=?12, on_demand_rotations=?13, valid_to_ms=?14, expiration_model=?15, \
                 imported_material_id=?16, public_key=?17, primary_region=?18 WHERE key_id=?1 AND revision=?9",
                params![
                    k.key_id, k.description, k.key_state, k.deletion_ms, k.pending_window_days,
                    k.current_version, k.policy, k.revision, k.revision - 1, k.rotation_enabled,
                    k.rotation_period_days, k.next_rotation_ms, k.on_demand_rotations, k.valid_to_ms,
                    k.expiration_model, k.imported_material_id, k.public_key, k.primary_region
                ],
            )?;
            if n != 1 {
                return Err(StoreError::Conflict(format!("key {}", k.key_id)));
            }
        }
        Write::DeleteKey { key_id } => {
            run(tx, "DELETE FROM keys WHERE key_id = ?1", [key_id])?;
        }
        Write::InsertMaterial(m) => {
            run(
                tx,
                "INSERT INTO materials (key_id, version, material_id, wrapped, created_ms, rotation_type, root_generation, \
                 description, valid_to_ms, expiration_model) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                params![m.key_id, m.version, m.material_id, m.wrapped, m.created_ms, m.rotation_type, m.root_generation,
                    m.description, m.valid_to_ms, m.expiration_model],
            )
            .map_err(|e| if is_unique_violation(&e) { StoreError::Duplicate(format!("material {} v{}", m.key_id, m.version)) } else { e.into() })?;
        }
        Write::UpdateMaterial(m) => {
            let n = run(
                tx,
                "UPDATE materials SET wrapped = ?3, created_ms = ?4, rotation_type = ?5, root_generation = ?6, \
                 description = ?7, valid_to_ms = ?8, expiration_model = ?9 WHERE key_id = ?1 AND version = ?2",
                params![m.key_id, m.version, m.wrapped, m.created_ms, m.rotation_type, m.root_generation,
                    m.description, m.valid_to_ms, m.expiration_model],
            )?;
            if n != 1 {
                return Err(StoreError::Conflict(format!(
                    "material {} v{}",
                    m.key_id, m.version
                )));
            }
        }
        Write::DeleteMaterials { key_id } => {
            run(tx, "DELETE FROM materials WHERE key_id = ?1", [key_id])?;
        }
        Write::PutImportToken(t) => {
            // Expired tokens of the key are dropped as new ones are issued.
            run(
                tx,
                "DELETE FROM import_tokens WHERE key_id = ?1 AND expires_ms < ?2",
                params![t.key_id, t.expires_ms - 2 * 86_400_000],
            )?;
            run(
                tx,
                "INSERT INTO import_tokens (token_id, key_id, wrapping_algorithm, wrapping_key_spec, wrapped_private_key, expires_ms, root_generation) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7)",
                params![t.token_id, t.key_id, t.wrapping_algorithm, t.wrapping_key_spec, t.wrapped_private_key, t.expires_ms, t.root_generation],
            )?;
        }
        Write::InsertAlias(a) => {
            run(
                tx,
                "INSERT INTO aliases (account, region, name, target_key_id, created_ms, updated_ms) VALUES (?1,?2,?3,?4,?5,?6)",
                params![a.account, a.region, a.name, a.target_key_id, a.created_ms, a.updated_ms],
            )
            .map_err(|e| if is_unique_violation(&e) { StoreError::Duplicate(format!("alias {}", a.name)) } else { e.into() })?;
        }
        Write::UpdateAlias(a) => {
            let n = run(
                tx,
                "UPDATE aliases SET target_key_id=?4, updated_ms=?5 WHERE account=?1 AND region=?2 AND name=?3",
                params![a.account, a.region, a.name, a.target_key_id, a.updated_ms],
            )?;
            if n != 1 {
                return Err(StoreError::Conflict(format!("alias {}", a.name)));
            }
        }
        Write::DeleteAlias {
            account,
            region,
            name,
        } => {
            run(
                tx,
                "DELETE FROM aliases WHERE account=?1 AND region=?2 AND name=?3",
                [account, region, name],
            )?;
        }
        Write::SetTags { key_id, tags } => {
            run(tx, "DELETE FROM tags WHERE key_id = ?1", [&key_id])?;
            for t in tags {
                run(
                    tx,
                    "INSERT INTO tags (key_id, tag_key, tag_value) VALUES (?1,?2,?3)",
                    params![key_id, t.key, t.value],
                )?;
            }
        }
        Write::PutAccessKey(a) => {
            run(
                tx,
                "INSERT INTO access_keys (access_key_id, account, principal_arn, wrapped_secret, enabled, created_ms, operator, root_generation, xks_proxy) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(access_key_id) DO UPDATE SET account=excluded.account, \
                 principal_arn=excluded.principal_arn, enabled=excluded.enabled, operator=excluded.operator, \
                 xks_proxy=excluded.xks_proxy, \
                 wrapped_secret=CASE WHEN excluded.root_generation >= access_keys.root_generation \
                   THEN excluded.wrapped_secret ELSE access_keys.wrapped_secret END, \
                 root_generation=MAX(excluded.root_generation, access_keys.root_generation)",
                params![a.access_key_id, a.account, a.principal_arn, a.wrapped_secret, a.enabled, a.created_ms, a.operator, a.root_generation, a.xks_proxy],
            )?;
        }
        Write::DeleteAccessKey { access_key_id } => {
            run(
                tx,
                "DELETE FROM access_keys WHERE access_key_id = ?1",
                [access_key_id],
            )?;
        }
        Write::DisableAccessKeys { principal_arn } => {
            run(
                tx,
                "UPDATE access_keys SET enabled = 0 WHERE principal_arn = ?1",
                [principal_arn],
            )?;
        }
        Write::PutPrincipal(p) => {
            run(
                tx,
                "INSERT INTO principals (arn, account, name, enabled, created_ms) VALUES (?1,?2,?3,?4,?5) \
                 ON CONFLICT(arn) DO UPDATE SET enabled=excluded.enabled",
                params![p.arn, p.account, p.name, p.enabled, p.created_ms],
            )?;
        }
        Write::PutPrincipalPolicy(p) => {
            run(
                tx,
                "INSERT INTO principal_policies (principal_arn, name, document) VALUES (?1,?2,?3) \
                 ON CONFLICT(principal_arn, name) DO UPDATE SET document=excluded.document",
                params![p.principal_arn, p.name, p.document],
            )?;
        }
        Write::DeletePrincipalPolicy {
            principal_arn,
            name,
        } => {
            run(
                tx,
                "DELETE FROM principal_policies WHERE principal_arn=?1 AND name=?2",
                [principal_arn, name],
            )?;
        }
        Write::InsertGrant(g) => {
            run(
                tx,
                "INSERT INTO grants (grant_id, key_id, name, grantee, retiring, issuing_account, operations, constraints, created_ms) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                params![g.grant_id, g.key_id, g.name, g.grantee, g.retiring, g.issuing_account, g.operations, g.constraints, g.created_ms],
            )
            .map_err(|e| if is_unique_violation(&e) { StoreError::Duplicate(format!("grant {}", g.name.as_deref().unwrap_or(&g.grant_id))) } else { e.into() })?;
        }
        Write::DeleteGrant { grant_id } => {
            run(tx, "DELETE FROM grants WHERE grant_id = ?1", [grant_id])?;
        }
        Write::PutRootGeneration(g) => {
            run(
                tx,
                "INSERT INTO root_generations (generation, check_value, wrapped_fingerprint_seed, wrapped_previous, created_ms) \
                 VALUES (?1,?2,?3,?4,?5) ON CONFLICT(generation) DO UPDATE SET check_value=excluded.check_value, \
                 wrapped_fingerprint_seed=excluded.wrapped_fingerprint_seed, wrapped_previous=excluded.wrapped_previous",
                params![g.generation, g.check, g.wrapped_fingerprint_seed, g.wrapped_previous, g.created_ms],
            )?;
        }
        Write::InsertSeal(seal) => {
            let n = run(
                tx,
                "INSERT OR IGNORE INTO seals (revision, document, created_ms) SELECT ?1, ?2, ?3 \
                 WHERE COALESCE((SELECT MAX(revision) FROM seals), 0) = ?1 - 1",
                params![seal.revision, seal.document, seal.created_ms],
            )?;
            if n != 1 {
                return Err(StoreError::Conflict(format!(
                    "seal revision {}",
                    seal.revision
                )));
            }
        }
        Write::CheckLimit {
            counted,
            limit,
            refusal,
        } => {
            let sql = match counted {
                Counted::GrantsOfKey(_) => "SELECT COUNT(*) FROM grants WHERE key_id = ?1",
                Counted::AliasesOfKey(_) => "SELECT COUNT(*) FROM aliases WHERE target_key_id = ?1",
            };
            let n: i64 = tx
                .prepare_cached(sql)?
                .query_row([counted.key_id()], |r| r.get(0))?;
            if u64::try_from(n).unwrap_or(0) >= *limit {
                return Err(StoreError::LimitExceeded(refusal.clone()));
            }
        }
        Write::DeleteRootGeneration { generation } => {
            run(
                tx,
                "DELETE FROM root_generations WHERE generation = ?1",
                [generation],
            )?;
        }
        Write::Rewrap {
            target,
            from_generation,
            wrapped,
            to_generation,
        } => match target {
            WrappedRef::Material {
                key_id, version, ..
            } => {
                run(
                    tx,
                    "UPDATE materials SET wrapped = ?1, root_generation = ?2 \
                     WHERE key_id = ?3 AND version = ?4 AND root_generation = ?5",
                    params![wrapped, to_generation, key_id, version, from_generation],
                )?;
            }
            WrappedRef::AccessKey { access_key_id } => {
                run(
                    tx,
                    "UPDATE access_keys SET wrapped_secret = ?1, root_generation = ?2 \
                     WHERE access_key_id = ?3 AND root_generation = ?4",
                    params![wrapped, to_generation, access_key_id, from_generation],
                )?;
            }
            WrappedRef::ImportToken { token_id } => {
                run(
                    tx,
                    "UPDATE import_tokens SET wrapped_private_key = ?1, root_generation = ?2 \
                     WHERE token_id = ?3 AND root_generation = ?4",
                    params![wrapped, to_generation, token_id, from_generation],
                )?;
            }
            WrappedRef::CustomKeyStore { id } => {
                custom_key_stores::rewrap(tx, id, *from_generation, wrapped, *to_generation)?;
            }
        },
        Write::PutKeyUsage(u) => {
            // Monotonic: an earlier (or equal) time leaves the stored use alone.
            run(
                tx,
                "INSERT INTO key_usage (key_id, operation, time_ms, event_id, request_id) \
                 SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM keys WHERE key_id = ?1) \
                 ON CONFLICT(key_id) DO UPDATE SET operation = excluded.operation, \
                 time_ms = excluded.time_ms, event_id = excluded.event_id, \
                 request_id = excluded.request_id WHERE excluded.time_ms > key_usage.time_ms",
                params![u.key_id, u.operation, u.time_ms, u.event_id, u.request_id],
            )?;
        }
        Write::StartUsageTracking { started_ms } => {
            run(
                tx,
                "INSERT INTO key_usage_tracking (id, started_ms) VALUES (1, ?1) \
                 ON CONFLICT(id) DO UPDATE SET started_ms = MIN(started_ms, excluded.started_ms)",
                [*started_ms],
            )?;
        }
        Write::InsertCustomKeyStore(c) => custom_key_stores::insert(tx, c)?,
        Write::UpdateCustomKeyStore(c) => custom_key_stores::update(tx, c)?,
        Write::DeleteCustomKeyStore { id } => {
            run(tx, "DELETE FROM custom_key_stores WHERE id = ?1", [id])?;
        }
    }
    Ok(())
}
