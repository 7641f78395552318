//! The `custom_key_stores` table: reads and the writes of [`Write`]'s custom key store
//! variants.

use super::is_unique_violation;
use crate::{CustomKeyStoreRecord, StoreError, StoreResult};
use rusqlite::{params, Connection, OptionalExtension, Row};

const COLUMNS: &str = "id, account, region, name, store_type, connection_state, \
     connection_error_code, created_ms, cloud_hsm_cluster_id, trust_anchor_certificate, \
     xks_proxy_uri_endpoint, xks_proxy_uri_path, xks_proxy_vpc_endpoint_service_name, \
     xks_proxy_connectivity, xks_access_key_id, wrapped_secret, root_generation, revision";

fn from_row(r: &Row<'_>) -> rusqlite::Result<CustomKeyStoreRecord> {
    Ok(CustomKeyStoreRecord {
        id: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        name: r.get(3)?,
        store_type: r.get(4)?,
        connection_state: r.get(5)?,
        connection_error_code: r.get(6)?,
        created_ms: r.get(7)?,
        cloud_hsm_cluster_id: r.get(8)?,
        trust_anchor_certificate: r.get(9)?,
        xks_proxy_uri_endpoint: r.get(10)?,
        xks_proxy_uri_path: r.get(11)?,
        xks_proxy_vpc_endpoint_service_name: r.get(12)?,
        xks_proxy_connectivity: r.get(13)?,
        xks_access_key_id: r.get(14)?,
        wrapped_secret: r.get(15)?,
        root_generation: r.get(16)?,
        revision: r.get(17)?,
    })
}

pub(super) fn get(conn: &Connection, id: &str) -> StoreResult<Option<CustomKeyStoreRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM custom_key_stores WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], from_row).optional()?)
}

pub(super) fn list(
    conn: &Connection,
    account: &str,
    region: &str,
) -> StoreResult<Vec<CustomKeyStoreRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM custom_key_stores WHERE account = ?1 AND region = ?2 ORDER BY id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([account, region], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn key_count(conn: &Connection, id: &str) -> StoreResult<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM keys WHERE custom_key_store_id = ?1",
        [id],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The `Duplicate` of a custom key store write says which uniqueness failed:
/// [`crate::DUPLICATE_CLUSTER`] or [`crate::DUPLICATE_STORE_NAME`].
fn duplicate(e: rusqlite::Error) -> StoreError {
    if !is_unique_violation(&e) {
        return e.into();
    }
    if e.to_string().contains("cloud_hsm_cluster_id") {
        StoreError::Duplicate(crate::DUPLICATE_CLUSTER.into())
    } else {
        StoreError::Duplicate(crate::DUPLICATE_STORE_NAME.into())
    }
}

pub(super) fn insert(tx: &Connection, c: &CustomKeyStoreRecord) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO custom_key_stores ({COLUMNS}) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)"
    );
    tx.execute(
        &sql,
        params![
            c.id,
            c.account,
            c.region,
            c.name,
            c.store_type,
            c.connection_state,
            c.connection_error_code,
            c.created_ms,
            c.cloud_hsm_cluster_id,
            c.trust_anchor_certificate,
            c.xks_proxy_uri_endpoint,
            c.xks_proxy_uri_path,
            c.xks_proxy_vpc_endpoint_service_name,
            c.xks_proxy_connectivity,
            c.xks_access_key_id,
            c.wrapped_secret,
            c.root_generation,
            c.revision
        ],
    )
    .map_err(duplicate)?;
    Ok(())
}

pub(super) fn update(tx: &Connection, c: &CustomKeyStoreRecord) -> StoreResult<()> {
    let n = tx
        .execute(
            "UPDATE custom_key_stores SET name=?2, connection_state=?3, connection_error_code=?4, \
             cloud_hsm_cluster_id=?5, trust_anchor_certificate=?6, xks_proxy_uri_endpoint=?7, \
             xks_proxy_uri_path=?8, xks_proxy_vpc_endpoint_service_name=?9, xks_proxy_connectivity=?10, \
             xks_access_key_id=?11, wrapped_secret=?12, root_generation=?13, revision=?14 \
             WHERE id=?1 AND revision=?15",
            params![
                c.id,
                c.name,
                c.connection_state,
                c.connection_error_code,
                c.cloud_hsm_cluster_id,
                c.trust_anchor_certificate,
                c.xks_proxy_uri_endpoint,
                c.xks_proxy_uri_path,
                c.xks_proxy_vpc_endpoint_service_name,
                c.xks_proxy_connectivity,
                c.xks_access_key_id,
                c.wrapped_secret,
                c.root_generation,
                c.revision,
                c.revision - 1
            ],
        )
        .map_err(duplicate)?;
    if n != 1 {
        return Err(StoreError::Conflict(format!("custom key store {}", c.id)));
    }
    Ok(())
}

pub(super) fn rewrap(
    tx: &Connection,
    id: &str,
    from_generation: u32,
    wrapped: &[u8],
    to_generation: u32,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE custom_key_stores SET wrapped_secret = ?1, root_generation = ?2 \
         WHERE id = ?3 AND root_generation = ?4",
        params![wrapped, to_generation, id, from_generation],
    )?;
    Ok(())
}
