//! [`Store::apply`] over PostgreSQL: one transaction per batch, every check-then-write
//! a conditional statement (revision checks, unique constraints), and one change
//! notification sent with the commit.

use super::reads::KEY_COLUMNS;
use super::{pg_err, pool_err, CHANNEL};
use crate::changes::{change_of, encode, push_change, Change};
use crate::*;
use deadpool_postgres::{Pool, Transaction};
use tokio_postgres::types::ToSql;

/// Largest notification text (PostgreSQL allows just under 8000 bytes).
const NOTIFY_LIMIT: usize = 7000;

type P<'a> = &'a (dyn ToSql + Sync);

async fn exec(tx: &Transaction<'_>, sql: &str, params: &[P<'_>]) -> StoreResult<u64> {
    let stmt = tx.prepare_cached(sql).await.map_err(pg_err)?;
    tx.execute(&stmt, params).await.map_err(pg_err)
}

/// `e` as [`StoreError::Duplicate`] of `what` if it is a unique violation.
fn dup(what: impl FnOnce() -> String) -> impl FnOnce(StoreError) -> StoreError {
    move |e| match e {
        StoreError::Duplicate(_) => StoreError::Duplicate(what()),
        other => other,
    }
}

/// A custom key store write's `Duplicate` says which uniqueness failed, as SQLite's
/// does: [`crate::DUPLICATE_CLUSTER`] or [`crate::DUPLICATE_STORE_NAME`] (also for a
/// taken id).
fn store_duplicate(e: StoreError) -> StoreError {
    match e {
        StoreError::Duplicate(constraint) if constraint == "custom_key_stores_cluster" => {
            StoreError::Duplicate(crate::DUPLICATE_CLUSTER.into())
        }
        StoreError::Duplicate(_) => StoreError::Duplicate(crate::DUPLICATE_STORE_NAME.into()),
        other => other,
    }
}

/// Applies `batch` in one transaction and notifies the other nodes of what changed.
pub(super) async fn apply_batch(pool: &Pool, batch: Vec<Write>, node: &str) -> StoreResult<()> {
    let mut client = pool.get().await.map_err(pool_err)?;
    let tx = client.transaction().await.map_err(pg_err)?;
    check_generations(&tx, &batch).await?;
    let mut changes = Vec::new();
    for w in batch {
        // A deleted grant's key is looked up while deleting it (below).
        if !matches!(w, Write::DeleteGrant { .. }) {
            if let Some(c) = change_of(&w) {
                push_change(&mut changes, c);
            }
        }
        apply_one(&tx, w, &mut changes).await?;
    }
    if !changes.is_empty() {
        let text = encode(&changes, NOTIFY_LIMIT);
        // The sequence number lets a listener notice notifications it missed.
        exec(
            &tx,
            "SELECT pg_notify($1, $2 || ' ' || nextval('change_seq')::TEXT || chr(10) || $3)",
            &[&CHANNEL, &node, &text],
        )
        .await?;
    }
    tx.commit().await.map_err(pg_err)
}

/// Refuses a batch storing values under a retired root generation. The key-share lock on
/// the generation's row makes a root rotation's retirement (its delete) wait for this
/// batch, whose values the rotation's last pass then re-wraps.
async fn check_generations(tx: &Transaction<'_>, batch: &[Write]) -> StoreResult<()> {
    for g in crate::generations_of(batch) {
        let stmt = tx
            .prepare_cached(
                "SELECT generation FROM root_generations WHERE generation >= $1 \
                 ORDER BY generation LIMIT 1 FOR KEY SHARE",
            )
            .await
            .map_err(pg_err)?;
        let rows = tx.query(&stmt, &[&u(g)]).await.map_err(pg_err)?;
        if let Some(row) = rows.first() {
            let next: i64 = super::get(row, 0)?;
            if next != u(g) {
                return Err(StoreError::RootRetired(g));
            }
        }
    }
    Ok(())
}

fn u(v: u32) -> i64 {
    i64::from(v)
}

async fn apply_one(tx: &Transaction<'_>, w: Write, changes: &mut Vec<Change>) -> StoreResult<()> {
    match w {
        Write::InsertKey(k) => {
            let sql = format!(
                "INSERT INTO keys ({KEY_COLUMNS}) VALUES \
                 ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25)"
            );
            let version = u(k.current_version);
            exec(
                tx,
                &sql,
                &[
                    &k.key_id,
                    &k.account,
                    &k.region,
                    &k.created_ms,
                    &k.description,
                    &k.key_spec,
                    &k.key_usage,
                    &k.origin,
                    &k.key_state,
                    &k.deletion_ms,
                    &k.pending_window_days,
                    &version,
                    &k.policy,
                    &k.revision,
                    &k.public_key,
                    &k.rotation_enabled,
                    &k.rotation_period_days,
                    &k.next_rotation_ms,
                    &k.on_demand_rotations,
                    &k.valid_to_ms,
                    &k.expiration_model,
                    &k.imported_material_id,
                    &k.primary_region,
                    &k.custom_key_store_id,
                    &k.xks_key_id,
                ],
            )
            .await
            .map_err(dup(|| format!("key {}", k.key_id)))?;
        }
        Write::UpdateKey(k) => {
            let version = u(k.current_version);
            let previous = k.revision - 1;
            let n = exec(
                tx,
                "UPDATE keys SET description=$2, key_state=$3, deletion_ms=$4, pending_window_days=$5, \
                 current_version=$6, policy=$7, revision=$8, rotation_enabled=$10, rotation_period_days=$11, \
                 next_rotation_ms=$12, on_demand_rotations=$13, valid_to_ms=$14, expiration_model=$15, \
                 imported_material_id=$16, public_key=$17, primary_region=$18 WHERE key_id=$1 AND revision=$9",
                &[
                    &k.key_id,
                    &k.description,
                    &k.key_state,
                    &k.deletion_ms,
                    &k.pending_window_days,
                    &version,
                    &k.policy,
                    &k.revision,
                    &previous,
                    &k.rotation_enabled,
                    &k.rotation_period_days,
                    &k.next_rotation_ms,
                    &k.on_demand_rotations,
                    &k.valid_to_ms,
                    &k.expiration_model,
                    &k.imported_material_id,
                    &k.public_key,
                    &k.primary_region,
                ],
            )
            .await?;
            if n != 1 {
                return Err(StoreError::Conflict(format!("key {}", k.key_id)));
            }
        }
        Write::DeleteKey { key_id } => {
            exec(tx, "DELETE FROM keys WHERE key_id = $1", &[&key_id]).await?;
        }
        Write::InsertMaterial(m) => {
            let (version, generation) = (u(m.version), u(m.root_generation));
            exec(
                tx,
                "INSERT INTO materials (key_id, version, material_id, wrapped, created_ms, rotation_type, root_generation, \
                 description, valid_to_ms, expiration_model) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
                &[&m.key_id, &version, &m.material_id, &m.wrapped, &m.created_ms, &m.rotation_type, &generation,
                    &m.description, &m.valid_to_ms, &m.expiration_model],
            )
            .await
            .map_err(dup(|| format!("material {} v{}", m.key_id, m.version)))?;
        }
        Write::UpdateMaterial(m) => {
            let (version, generation) = (u(m.version), u(m.root_generation));
            let n = exec(
                tx,
                "UPDATE materials SET wrapped = $3, created_ms = $4, rotation_type = $5, root_generation = $6, \
                 description = $7, valid_to_ms = $8, expiration_model = $9 WHERE key_id = $1 AND version = $2",
                &[&m.key_id, &version, &m.wrapped, &m.created_ms, &m.rotation_type, &generation,
                    &m.description, &m.valid_to_ms, &m.expiration_model],
            )
            .await?;
            if n != 1 {
                return Err(StoreError::Conflict(format!(
                    "material {} v{}",
                    m.key_id, m.version
                )));
            }
        }
        Write::DeleteMaterials { key_id } => {
            exec(tx, "DELETE FROM materials WHERE key_id = $1", &[&key_id]).await?;
        }
        Write::PutImportToken(t) => {
            // Expired tokens of the key are dropped as new ones are issued.
            let cutoff = t.expires_ms - 2 * 86_400_000;
            exec(
                tx,
                "DELETE FROM import_tokens WHERE key_id = $1 AND expires_ms < $2",
                &[&t.key_id, &cutoff],
            )
            .await?;
            let generation = u(t.root_generation);
            exec(
                tx,
                "INSERT INTO import_tokens (token_id, key_id, wrapping_algorithm, wrapping_key_spec, wrapped_private_key, expires_ms, root_generation) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7)",
                &[&t.token_id, &t.key_id, &t.wrapping_algorithm, &t.wrapping_key_spec, &t.wrapped_private_key, &t.expires_ms, &generation],
            )
            .await?;
        }
        Write::InsertAlias(a) => {
            exec(
                tx,
                "INSERT INTO aliases (account, region, name, target_key_id, created_ms, updated_ms) VALUES ($1,$2,$3,$4,$5,$6)",
                &[&a.account, &a.region, &a.name, &a.target_key_id, &a.created_ms, &a.updated_ms],
            )
            .await
            .map_err(dup(|| format!("alias {}", a.name)))?;
        }
        Write::UpdateAlias(a) => {
            let n = exec(
                tx,
                "UPDATE aliases SET target_key_id=$4, updated_ms=$5 WHERE account=$1 AND region=$2 AND name=$3",
                &[&a.account, &a.region, &a.name, &a.target_key_id, &a.updated_ms],
            )
            .await?;
            if n != 1 {
                return Err(StoreError::Conflict(format!("alias {}", a.name)));
            }
        }
        Write::DeleteAlias {
            account,
            region,
            name,
        } => {
            exec(
                tx,
                "DELETE FROM aliases WHERE account=$1 AND region=$2 AND name=$3",
                &[&account, &region, &name],
            )
            .await?;
        }
        Write::SetTags { key_id, tags } => {
            exec(tx, "DELETE FROM tags WHERE key_id = $1", &[&key_id]).await?;
            for t in tags {
                exec(
                    tx,
                    "INSERT INTO tags (key_id, tag_key, tag_value) VALUES ($1,$2,$3)",
                    &[&key_id, &t.key, &t.value],
                )
                .await?;
            }
        }
        Write::PutAccessKey(a) => {
            let generation = u(a.root_generation);
            exec(
                tx,
                "INSERT INTO access_keys (access_key_id, account, principal_arn, wrapped_secret, enabled, created_ms, operator, root_generation, xks_proxy) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (access_key_id) DO UPDATE SET account=excluded.account, \
                 principal_arn=excluded.principal_arn, enabled=excluded.enabled, operator=excluded.operator, \
                 xks_proxy=excluded.xks_proxy, \
                 wrapped_secret=CASE WHEN excluded.root_generation >= access_keys.root_generation \
                   THEN excluded.wrapped_secret ELSE access_keys.wrapped_secret END, \
                 root_generation=GREATEST(excluded.root_generation, access_keys.root_generation)",
                &[&a.access_key_id, &a.account, &a.principal_arn, &a.wrapped_secret, &a.enabled, &a.created_ms, &a.operator, &generation, &a.xks_proxy],
            )
            .await?;
        }
        Write::DeleteAccessKey { access_key_id } => {
            exec(
                tx,
                "DELETE FROM access_keys WHERE access_key_id = $1",
                &[&access_key_id],
            )
            .await?;
        }
        Write::DisableAccessKeys { principal_arn } => {
            exec(
                tx,
                "UPDATE access_keys SET enabled = FALSE WHERE principal_arn = $1",
                &[&principal_arn],
            )
            .await?;
        }
        Write::PutPrincipal(p) => {
            exec(
                tx,
                "INSERT INTO principals (arn, account, name, enabled, created_ms) VALUES ($1,$2,$3,$4,$5) \
                 ON CONFLICT (arn) DO UPDATE SET enabled=excluded.enabled",
                &[&p.arn, &p.account, &p.name, &p.enabled, &p.created_ms],
            )
            .await?;
        }
        Write::PutPrincipalPolicy(p) => {
            exec(
                tx,
                "INSERT INTO principal_policies (principal_arn, name, document) VALUES ($1,$2,$3) \
                 ON CONFLICT (principal_arn, name) DO UPDATE SET document=excluded.document",
                &[&p.principal_arn, &p.name, &p.document],
            )
            .await?;
        }
        Write::DeletePrincipalPolicy {
            principal_arn,
            name,
        } => {
            exec(
                tx,
                "DELETE FROM principal_policies WHERE principal_arn=$1 AND name=$2",
                &[&principal_arn, &name],
            )
            .await?;
        }
        Write::InsertGrant(g) => {
            exec(
                tx,
                "INSERT INTO grants (grant_id, key_id, name, grantee, retiring, issuing_account, operations, constraints, created_ms) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                &[&g.grant_id, &g.key_id, &g.name, &g.grantee, &g.retiring, &g.issuing_account, &g.operations, &g.constraints, &g.created_ms],
            )
            .await
            .map_err(dup(|| format!("grant {}", g.name.as_deref().unwrap_or(&g.grant_id))))?;
        }
        Write::DeleteGrant { grant_id } => {
            let stmt = tx
                .prepare_cached("DELETE FROM grants WHERE grant_id = $1 RETURNING key_id")
                .await
                .map_err(pg_err)?;
            let rows = tx.query(&stmt, &[&grant_id]).await.map_err(pg_err)?;
            for r in &rows {
                let key_id: String = super::get(r, 0)?;
                push_change(changes, Change::Grants(key_id));
            }
        }
        Write::PutRootGeneration(g) => {
            let generation = u(g.generation);
            exec(
                tx,
                "INSERT INTO root_generations (generation, check_value, wrapped_fingerprint_seed, wrapped_previous, created_ms) \
                 VALUES ($1,$2,$3,$4,$5) ON CONFLICT (generation) DO UPDATE SET check_value=excluded.check_value, \
                 wrapped_fingerprint_seed=excluded.wrapped_fingerprint_seed, wrapped_previous=excluded.wrapped_previous",
                &[&generation, &g.check, &g.wrapped_fingerprint_seed, &g.wrapped_previous, &g.created_ms],
            )
            .await?;
        }
        Write::InsertSeal(seal) => {
            // Two nodes adding the same revision: the primary key refuses the second.
            let n = exec(
                tx,
                "INSERT INTO seals (revision, document, created_ms) SELECT $1, $2, $3 \
                 WHERE COALESCE((SELECT MAX(revision) FROM seals), 0) = $1::BIGINT - 1",
                &[&seal.revision, &seal.document, &seal.created_ms],
            )
            .await
            .map_err(|e| match e {
                StoreError::Duplicate(_) => {
                    StoreError::Conflict(format!("seal revision {}", seal.revision))
                }
                other => other,
            })?;
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
            // The key's row lock makes racing checks of one key wait for each other; the
            // count after it sees what the winner committed (a fresh snapshot per
            // statement under READ COMMITTED).
            let key_id = counted.key_id();
            exec(
                tx,
                "SELECT 1 FROM keys WHERE key_id = $1 FOR UPDATE",
                &[&key_id],
            )
            .await?;
            let sql = match &counted {
                Counted::GrantsOfKey(_) => "SELECT COUNT(*) FROM grants WHERE key_id = $1",
                Counted::AliasesOfKey(_) => "SELECT COUNT(*) FROM aliases WHERE target_key_id = $1",
            };
            let stmt = tx.prepare_cached(sql).await.map_err(pg_err)?;
            let row = tx.query_one(&stmt, &[&key_id]).await.map_err(pg_err)?;
            let n: i64 = super::get(&row, 0)?;
            if u64::try_from(n).unwrap_or(0) >= limit {
                return Err(StoreError::LimitExceeded(refusal));
            }
        }
        Write::DeleteRootGeneration { generation } => {
            let generation = u(generation);
            exec(
                tx,
                "DELETE FROM root_generations WHERE generation = $1",
                &[&generation],
            )
            .await?;
        }
        Write::Rewrap {
            target,
            from_generation,
            wrapped,
            to_generation,
        } => {
            let (from, to) = (u(from_generation), u(to_generation));
            match target {
                WrappedRef::Material {
                    key_id, version, ..
                } => {
                    let version = u(version);
                    exec(
                        tx,
                        "UPDATE materials SET wrapped = $1, root_generation = $2 \
                         WHERE key_id = $3 AND version = $4 AND root_generation = $5",
                        &[&wrapped, &to, &key_id, &version, &from],
                    )
                    .await?;
                }
                WrappedRef::AccessKey { access_key_id } => {
                    exec(
                        tx,
                        "UPDATE access_keys SET wrapped_secret = $1, root_generation = $2 \
                         WHERE access_key_id = $3 AND root_generation = $4",
                        &[&wrapped, &to, &access_key_id, &from],
                    )
                    .await?;
                }
                WrappedRef::ImportToken { token_id } => {
                    exec(
                        tx,
                        "UPDATE import_tokens SET wrapped_private_key = $1, root_generation = $2 \
                         WHERE token_id = $3 AND root_generation = $4",
                        &[&wrapped, &to, &token_id, &from],
                    )
                    .await?;
                }
                WrappedRef::CustomKeyStore { id } => {
                    exec(
                        tx,
                        "UPDATE custom_key_stores SET wrapped_secret = $1, root_generation = $2 \
                         WHERE id = $3 AND root_generation = $4",
                        &[&wrapped, &to, &id, &from],
                    )
                    .await?;
                }
            }
        }
        Write::InsertCustomKeyStore(c) => {
            let (generation, sql) = (
                u(c.root_generation),
                concat!(
                    "INSERT INTO custom_key_stores (",
                    super::reads::cks_columns!(),
                    ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)"
                ),
            );
            exec(
                tx,
                sql,
                &[
                    &c.id,
                    &c.account,
                    &c.region,
                    &c.name,
                    &c.store_type,
                    &c.connection_state,
                    &c.connection_error_code,
                    &c.created_ms,
                    &c.cloud_hsm_cluster_id,
                    &c.trust_anchor_certificate,
                    &c.xks_proxy_uri_endpoint,
                    &c.xks_proxy_uri_path,
                    &c.xks_proxy_vpc_endpoint_service_name,
                    &c.xks_proxy_connectivity,
                    &c.xks_access_key_id,
                    &c.wrapped_secret,
                    &generation,
                    &c.revision,
                ],
            )
            .await
            .map_err(store_duplicate)?;
        }
        Write::UpdateCustomKeyStore(c) => {
            let (generation, previous) = (u(c.root_generation), c.revision - 1);
            let n = exec(
                tx,
                "UPDATE custom_key_stores SET name=$2, connection_state=$3, connection_error_code=$4, \
                 cloud_hsm_cluster_id=$5, trust_anchor_certificate=$6, xks_proxy_uri_endpoint=$7, \
                 xks_proxy_uri_path=$8, xks_proxy_vpc_endpoint_service_name=$9, xks_proxy_connectivity=$10, \
                 xks_access_key_id=$11, wrapped_secret=$12, root_generation=$13, revision=$14 \
                 WHERE id=$1 AND revision=$15",
                &[
                    &c.id,
                    &c.name,
                    &c.connection_state,
                    &c.connection_error_code,
                    &c.cloud_hsm_cluster_id,
                    &c.trust_anchor_certificate,
                    &c.xks_proxy_uri_endpoint,
                    &c.xks_proxy_uri_path,
                    &c.xks_proxy_vpc_endpoint_service_name,
                    &c.xks_proxy_connectivity,
                    &c.xks_access_key_id,
                    &c.wrapped_secret,
                    &generation,
                    &c.revision,
                    &previous,
                ],
            )
            .await
            .map_err(store_duplicate)?;
            if n != 1 {
                return Err(StoreError::Conflict(format!("custom key store {}", c.id)));
            }
        }
        Write::DeleteCustomKeyStore { id } => {
            exec(tx, "DELETE FROM custom_key_stores WHERE id = $1", &[&id]).await?;
        }
        Write::PutKeyUsage(u) => {
            // Monotonic: an earlier (or equal) time leaves the stored use alone, so nodes
            // racing keep the latest (the row lock orders them).
            exec(
                tx,
                "INSERT INTO key_usage (key_id, operation, time_ms, event_id, request_id) \
                 SELECT $1::TEXT, $2::TEXT, $3::BIGINT, $4::TEXT, $5::TEXT \
                 WHERE EXISTS (SELECT 1 FROM keys WHERE key_id = $1::TEXT) \
                 ON CONFLICT (key_id) DO UPDATE SET operation = EXCLUDED.operation, \
                 time_ms = EXCLUDED.time_ms, event_id = EXCLUDED.event_id, \
                 request_id = EXCLUDED.request_id WHERE EXCLUDED.time_ms > key_usage.time_ms",
                &[
                    &u.key_id,
                    &u.operation,
                    &u.time_ms,
                    &u.event_id,
                    &u.request_id,
                ],
            )
            .await?;
        }
        Write::StartUsageTracking { started_ms } => {
            exec(
                tx,
                "INSERT INTO key_usage_tracking (id, started_ms) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE \
                 SET started_ms = LEAST(key_usage_tracking.started_ms, EXCLUDED.started_ms)",
                &[&started_ms],
            )
            .await?;
        }
    }
    Ok(())
}
