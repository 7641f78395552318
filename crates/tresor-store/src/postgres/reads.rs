//! The [`Store`] trait over PostgreSQL: one query per read, records mapped by column
//! position (the same order as the SQLite store's).

use super::{get, get_u32, Param, PostgresStore};
use crate::changes::SharedSink;
use crate::*;
use tokio_postgres::Row;

pub(super) const KEY_COLUMNS: &str =
    "key_id, account, region, created_ms, description, key_spec, key_usage, origin, \
     key_state, deletion_ms, pending_window_days, current_version, policy, revision, public_key, \
     rotation_enabled, rotation_period_days, next_rotation_ms, on_demand_rotations, valid_to_ms, \
     expiration_model, imported_material_id, primary_region, custom_key_store_id, xks_key_id";

fn key_from_row(r: &Row) -> StoreResult<KeyRecord> {
    Ok(KeyRecord {
        key_id: get(r, 0)?,
        account: get(r, 1)?,
        region: get(r, 2)?,
        created_ms: get(r, 3)?,
        description: get(r, 4)?,
        key_spec: get(r, 5)?,
        key_usage: get(r, 6)?,
        origin: get(r, 7)?,
        key_state: get(r, 8)?,
        deletion_ms: get(r, 9)?,
        pending_window_days: get(r, 10)?,
        current_version: get_u32(r, 11)?,
        policy: get(r, 12)?,
        revision: get(r, 13)?,
        public_key: get(r, 14)?,
        rotation_enabled: get(r, 15)?,
        rotation_period_days: get(r, 16)?,
        next_rotation_ms: get(r, 17)?,
        on_demand_rotations: get(r, 18)?,
        valid_to_ms: get(r, 19)?,
        expiration_model: get(r, 20)?,
        imported_material_id: get(r, 21)?,
        primary_region: get(r, 22)?,
        custom_key_store_id: get(r, 23)?,
        xks_key_id: get(r, 24)?,
    })
}

fn alias_from_row(r: &Row) -> StoreResult<AliasRecord> {
    Ok(AliasRecord {
        account: get(r, 0)?,
        region: get(r, 1)?,
        name: get(r, 2)?,
        target_key_id: get(r, 3)?,
        created_ms: get(r, 4)?,
        updated_ms: get(r, 5)?,
    })
}

fn principal_from_row(r: &Row) -> StoreResult<PrincipalRecord> {
    Ok(PrincipalRecord {
        arn: get(r, 0)?,
        account: get(r, 1)?,
        name: get(r, 2)?,
        enabled: get(r, 3)?,
        created_ms: get(r, 4)?,
    })
}

fn access_key_from_row(r: &Row) -> StoreResult<AccessKeyRecord> {
    Ok(AccessKeyRecord {
        access_key_id: get(r, 0)?,
        account: get(r, 1)?,
        principal_arn: get(r, 2)?,
        wrapped_secret: get(r, 3)?,
        enabled: get(r, 4)?,
        created_ms: get(r, 5)?,
        operator: get(r, 6)?,
        root_generation: get_u32(r, 7)?,
        xks_proxy: get(r, 8)?,
    })
}

fn grant_from_row(r: &Row) -> StoreResult<GrantRecord> {
    Ok(GrantRecord {
        grant_id: get(r, 0)?,
        key_id: get(r, 1)?,
        name: get(r, 2)?,
        grantee: get(r, 3)?,
        retiring: get(r, 4)?,
        issuing_account: get(r, 5)?,
        operations: get(r, 6)?,
        constraints: get(r, 7)?,
        created_ms: get(r, 8)?,
    })
}

/// The columns of `custom_key_stores`, in [`custom_key_store_from_row`]'s order.
macro_rules! cks_columns {
    () => {
        "id, account, region, name, store_type, connection_state, connection_error_code, \
         created_ms, cloud_hsm_cluster_id, trust_anchor_certificate, xks_proxy_uri_endpoint, \
         xks_proxy_uri_path, xks_proxy_vpc_endpoint_service_name, xks_proxy_connectivity, \
         xks_access_key_id, wrapped_secret, root_generation, revision"
    };
}
pub(super) use cks_columns;

macro_rules! cks_where {
    ($cond:literal) => {
        concat!(
            "SELECT ",
            cks_columns!(),
            " FROM custom_key_stores WHERE ",
            $cond
        )
    };
}

fn custom_key_store_from_row(r: &Row) -> StoreResult<CustomKeyStoreRecord> {
    Ok(CustomKeyStoreRecord {
        id: get(r, 0)?,
        account: get(r, 1)?,
        region: get(r, 2)?,
        name: get(r, 3)?,
        store_type: get(r, 4)?,
        connection_state: get(r, 5)?,
        connection_error_code: get(r, 6)?,
        created_ms: get(r, 7)?,
        cloud_hsm_cluster_id: get(r, 8)?,
        trust_anchor_certificate: get(r, 9)?,
        xks_proxy_uri_endpoint: get(r, 10)?,
        xks_proxy_uri_path: get(r, 11)?,
        xks_proxy_vpc_endpoint_service_name: get(r, 12)?,
        xks_proxy_connectivity: get(r, 13)?,
        xks_access_key_id: get(r, 14)?,
        wrapped_secret: get(r, 15)?,
        root_generation: get_u32(r, 16)?,
        revision: get(r, 17)?,
    })
}

fn all<T>(rows: Vec<Row>, f: fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect()
}

fn first<T>(rows: Vec<Row>, f: fn(&Row) -> StoreResult<T>) -> StoreResult<Option<T>> {
    rows.first().map(f).transpose()
}

fn s(v: &str) -> Param {
    Box::new(v.to_string())
}

fn limit(n: usize) -> Param {
    Box::new(i64::try_from(n).unwrap_or(i64::MAX))
}

fn count(rows: &[Row]) -> StoreResult<i64> {
    match rows.first() {
        Some(r) => get(r, 0),
        None => Ok(0),
    }
}

macro_rules! keys_where {
    ($cond:literal) => {
        concat!(
            "SELECT key_id, account, region, created_ms, description, key_spec, key_usage, origin, \
             key_state, deletion_ms, pending_window_days, current_version, policy, revision, public_key, \
             rotation_enabled, rotation_period_days, next_rotation_ms, on_demand_rotations, valid_to_ms, \
             expiration_model, imported_material_id, primary_region, custom_key_store_id, \
             xks_key_id FROM keys WHERE ",
            $cond
        )
    };
}

impl Store for PostgresStore {
    fn key(&self, key_id: &str) -> StoreResult<Option<KeyRecord>> {
        let rows = self.query(keys_where!("key_id = $1"), vec![s(key_id)])?;
        first(rows, key_from_row)
    }

    fn multi_region_keys(&self, mrk_id: &str) -> StoreResult<Vec<KeyRecord>> {
        // Every Region's record is stored as `mrk_id@REGION`: a range of the primary key
        // ("C" collation: bytewise, as in SQLite).
        let rows = self.query(
            keys_where!("key_id > $1 AND key_id < $2 ORDER BY region"),
            vec![s(&format!("{mrk_id}@")), s(&format!("{mrk_id}A"))],
        )?;
        all(rows, key_from_row)
    }

    fn key_count(&self) -> StoreResult<u64> {
        let rows = self.query("SELECT COUNT(*) FROM keys", Vec::new())?;
        Ok(u64::try_from(count(&rows)?).unwrap_or(0))
    }

    fn list_keys(
        &self,
        account: &str,
        region: &str,
        after: Option<&str>,
        n: usize,
    ) -> StoreResult<Vec<KeyRecord>> {
        let rows = self.query(
            keys_where!("account = $1 AND region = $2 AND key_id > $3 ORDER BY key_id LIMIT $4"),
            vec![s(account), s(region), s(after.unwrap_or("")), limit(n)],
        )?;
        all(rows, key_from_row)
    }

    fn keys_due_for_deletion(&self, now_ms: i64) -> StoreResult<Vec<KeyRecord>> {
        let rows = self.query(
            keys_where!(
                "deletion_ms IS NOT NULL AND deletion_ms <= $1 AND key_state = 'PendingDeletion'"
            ),
            vec![Box::new(now_ms)],
        )?;
        all(rows, key_from_row)
    }

    fn keys_due_for_rotation(&self, now_ms: i64) -> StoreResult<Vec<KeyRecord>> {
        let rows = self.query(
            keys_where!("rotation_enabled AND next_rotation_ms <= $1 AND key_state = 'Enabled'"),
            vec![Box::new(now_ms)],
        )?;
        all(rows, key_from_row)
    }

    fn keys_in_transition(&self) -> StoreResult<Vec<KeyRecord>> {
        let rows = self.query(
            keys_where!("key_state IN ('Creating', 'Updating')"),
            Vec::new(),
        )?;
        all(rows, key_from_row)
    }

    fn keys_with_expired_material(&self, now_ms: i64) -> StoreResult<Vec<KeyRecord>> {
        let rows = self.query(
            keys_where!(
                "EXISTS (SELECT 1 FROM materials m WHERE m.key_id = keys.key_id \
                 AND m.valid_to_ms IS NOT NULL AND m.valid_to_ms <= $1 AND length(m.wrapped) > 0)"
            ),
            vec![Box::new(now_ms)],
        )?;
        all(rows, key_from_row)
    }

    fn import_token(&self, token_id: &str) -> StoreResult<Option<ImportTokenRecord>> {
        let rows = self.query(
            "SELECT token_id, key_id, wrapping_algorithm, wrapping_key_spec, wrapped_private_key, \
             expires_ms, root_generation FROM import_tokens WHERE token_id = $1",
            vec![s(token_id)],
        )?;
        first(rows, |r| {
            Ok(ImportTokenRecord {
                token_id: get(r, 0)?,
                key_id: get(r, 1)?,
                wrapping_algorithm: get(r, 2)?,
                wrapping_key_spec: get(r, 3)?,
                wrapped_private_key: get(r, 4)?,
                expires_ms: get(r, 5)?,
                root_generation: get_u32(r, 6)?,
            })
        })
    }

    fn materials(&self, key_id: &str) -> StoreResult<Vec<MaterialRecord>> {
        let rows = self.query(
            "SELECT key_id, version, material_id, wrapped, created_ms, rotation_type, root_generation, \
             description, valid_to_ms, expiration_model FROM materials WHERE key_id = $1 ORDER BY version",
            vec![s(key_id)],
        )?;
        all(rows, |r| {
            Ok(MaterialRecord {
                key_id: get(r, 0)?,
                version: get_u32(r, 1)?,
                material_id: get(r, 2)?,
                wrapped: get(r, 3)?,
                created_ms: get(r, 4)?,
                rotation_type: get(r, 5)?,
                root_generation: get_u32(r, 6)?,
                description: get(r, 7)?,
                valid_to_ms: get(r, 8)?,
                expiration_model: get(r, 9)?,
            })
        })
    }

    fn alias(&self, account: &str, region: &str, name: &str) -> StoreResult<Option<AliasRecord>> {
        let rows = self.query(
            "SELECT account, region, name, target_key_id, created_ms, updated_ms FROM aliases \
             WHERE account = $1 AND region = $2 AND name = $3",
            vec![s(account), s(region), s(name)],
        )?;
        first(rows, alias_from_row)
    }

    fn list_aliases(
        &self,
        account: &str,
        region: &str,
        target_key_id: Option<&str>,
        after: Option<&str>,
        n: usize,
    ) -> StoreResult<Vec<AliasRecord>> {
        let rows = self.query(
            "SELECT account, region, name, target_key_id, created_ms, updated_ms FROM aliases \
             WHERE account = $1 AND region = $2 AND ($3::TEXT IS NULL OR target_key_id = $3) \
             AND name > $4 ORDER BY name LIMIT $5",
            vec![
                s(account),
                s(region),
                Box::new(target_key_id.map(str::to_string)),
                s(after.unwrap_or("")),
                limit(n),
            ],
        )?;
        all(rows, alias_from_row)
    }

    fn alias_count(&self, key_id: &str) -> StoreResult<usize> {
        let rows = self.query(
            "SELECT COUNT(*) FROM aliases WHERE target_key_id = $1",
            vec![s(key_id)],
        )?;
        Ok(usize::try_from(count(&rows)?).unwrap_or(0))
    }

    fn tags(&self, key_id: &str) -> StoreResult<Vec<TagRecord>> {
        let rows = self.query(
            "SELECT tag_key, tag_value FROM tags WHERE key_id = $1 ORDER BY tag_key",
            vec![s(key_id)],
        )?;
        all(rows, |r| {
            Ok(TagRecord {
                key: get(r, 0)?,
                value: get(r, 1)?,
            })
        })
    }

    fn access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>> {
        let rows = self.query(
            "SELECT access_key_id, account, principal_arn, wrapped_secret, enabled, created_ms, \
             operator, root_generation, xks_proxy FROM access_keys WHERE access_key_id = $1",
            vec![s(access_key_id)],
        )?;
        first(rows, access_key_from_row)
    }

    fn access_keys_of(&self, principal_arn: &str) -> StoreResult<Vec<AccessKeyRecord>> {
        let rows = self.query(
            "SELECT access_key_id, account, principal_arn, wrapped_secret, enabled, created_ms, \
             operator, root_generation, xks_proxy FROM access_keys WHERE principal_arn = $1 \
             ORDER BY created_ms, access_key_id",
            vec![s(principal_arn)],
        )?;
        all(rows, access_key_from_row)
    }

    fn principal(&self, arn: &str) -> StoreResult<Option<PrincipalRecord>> {
        let rows = self.query(
            "SELECT arn, account, name, enabled, created_ms FROM principals WHERE arn = $1",
            vec![s(arn)],
        )?;
        first(rows, principal_from_row)
    }

    fn list_principals(&self, account: &str) -> StoreResult<Vec<PrincipalRecord>> {
        let rows = self.query(
            "SELECT arn, account, name, enabled, created_ms FROM principals WHERE account = $1 \
             ORDER BY name",
            vec![s(account)],
        )?;
        all(rows, principal_from_row)
    }

    fn principal_policies(&self, principal_arn: &str) -> StoreResult<Vec<PrincipalPolicyRecord>> {
        let rows = self.query(
            "SELECT principal_arn, name, document FROM principal_policies WHERE principal_arn = $1 \
             ORDER BY name",
            vec![s(principal_arn)],
        )?;
        all(rows, |r| {
            Ok(PrincipalPolicyRecord {
                principal_arn: get(r, 0)?,
                name: get(r, 1)?,
                document: get(r, 2)?,
            })
        })
    }

    fn grants_for_key(&self, key_id: &str) -> StoreResult<Vec<GrantRecord>> {
        let rows = self.query(
            "SELECT grant_id, key_id, name, grantee, retiring, issuing_account, operations, \
             constraints, created_ms FROM grants WHERE key_id = $1 \
             ORDER BY created_ms, grant_id",
            vec![s(key_id)],
        )?;
        all(rows, grant_from_row)
    }

    fn grants_retirable_by(&self, principal_arn: &str) -> StoreResult<Vec<GrantRecord>> {
        let rows = self.query(
            "SELECT grant_id, key_id, name, grantee, retiring, issuing_account, operations, \
             constraints, created_ms FROM grants WHERE retiring = $1 \
             ORDER BY created_ms, grant_id",
            vec![s(principal_arn)],
        )?;
        all(rows, grant_from_row)
    }

    fn grant(&self, grant_id: &str) -> StoreResult<Option<GrantRecord>> {
        let rows = self.query(
            "SELECT grant_id, key_id, name, grantee, retiring, issuing_account, operations, \
             constraints, created_ms FROM grants WHERE grant_id = $1",
            vec![s(grant_id)],
        )?;
        first(rows, grant_from_row)
    }

    fn root_generations(&self) -> StoreResult<Vec<RootGenerationRecord>> {
        let rows = self.query(
            "SELECT generation, check_value, wrapped_fingerprint_seed, wrapped_previous, created_ms \
             FROM root_generations ORDER BY generation",
            Vec::new(),
        )?;
        all(rows, |r| {
            Ok(RootGenerationRecord {
                generation: get_u32(r, 0)?,
                check: get(r, 1)?,
                wrapped_fingerprint_seed: get(r, 2)?,
                wrapped_previous: get(r, 3)?,
                created_ms: get(r, 4)?,
            })
        })
    }

    fn seals(&self) -> StoreResult<Vec<SealRecord>> {
        let rows = self.query(
            "SELECT revision, document, created_ms FROM seals ORDER BY revision",
            Vec::new(),
        )?;
        all(rows, |r| {
            Ok(SealRecord {
                revision: get(r, 0)?,
                document: get(r, 1)?,
                created_ms: get(r, 2)?,
            })
        })
    }

    fn key_usage(&self, key_id: &str) -> StoreResult<Option<KeyUsageRecord>> {
        let rows = self.query(
            "SELECT key_id, operation, time_ms, event_id, request_id FROM key_usage WHERE key_id = $1",
            vec![s(key_id)],
        )?;
        first(rows, |r| {
            Ok(KeyUsageRecord {
                key_id: get(r, 0)?,
                operation: get(r, 1)?,
                time_ms: get(r, 2)?,
                event_id: get(r, 3)?,
                request_id: get(r, 4)?,
            })
        })
    }

    fn usage_tracking_start(&self) -> StoreResult<Option<i64>> {
        let rows = self.query(
            "SELECT started_ms FROM key_usage_tracking WHERE id = 1",
            Vec::new(),
        )?;
        first(rows, |r| get(r, 0))
    }

    fn wrapped_under(&self, generation: u32, n: usize) -> StoreResult<Vec<WrappedValue>> {
        let g = i64::from(generation);
        let mut out = Vec::new();
        let rows = self.query(
            "SELECT m.key_id, k.account, k.region, m.version, m.wrapped FROM materials m \
             JOIN keys k ON k.key_id = m.key_id WHERE m.root_generation = $1 AND length(m.wrapped) > 0 \
             LIMIT $2",
            vec![Box::new(g), limit(n)],
        )?;
        for r in &rows {
            out.push(WrappedValue {
                target: WrappedRef::Material {
                    key_id: get(r, 0)?,
                    account: get(r, 1)?,
                    region: get(r, 2)?,
                    version: get_u32(r, 3)?,
                },
                wrapped: get(r, 4)?,
                root_generation: generation,
            });
        }
        let rows = self.query(
            "SELECT access_key_id, wrapped_secret FROM access_keys WHERE root_generation = $1 LIMIT $2",
            vec![Box::new(g), limit(n)],
        )?;
        for r in &rows {
            out.push(WrappedValue {
                target: WrappedRef::AccessKey {
                    access_key_id: get(r, 0)?,
                },
                wrapped: get(r, 1)?,
                root_generation: generation,
            });
        }
        let rows = self.query(
            "SELECT token_id, wrapped_private_key FROM import_tokens WHERE root_generation = $1 LIMIT $2",
            vec![Box::new(g), limit(n)],
        )?;
        for r in &rows {
            out.push(WrappedValue {
                target: WrappedRef::ImportToken {
                    token_id: get(r, 0)?,
                },
                wrapped: get(r, 1)?,
                root_generation: generation,
            });
        }
        let rows = self.query(
            "SELECT id, wrapped_secret FROM custom_key_stores WHERE root_generation = $1 LIMIT $2",
            vec![Box::new(g), limit(n)],
        )?;
        for r in &rows {
            out.push(WrappedValue {
                target: WrappedRef::CustomKeyStore { id: get(r, 0)? },
                wrapped: get(r, 1)?,
                root_generation: generation,
            });
        }
        Ok(out)
    }

    fn custom_key_store(&self, id: &str) -> StoreResult<Option<CustomKeyStoreRecord>> {
        let rows = self.query(cks_where!("id = $1"), vec![s(id)])?;
        first(rows, custom_key_store_from_row)
    }

    fn custom_key_stores(
        &self,
        account: &str,
        region: &str,
    ) -> StoreResult<Vec<CustomKeyStoreRecord>> {
        let rows = self.query(
            cks_where!("account = $1 AND region = $2 ORDER BY id"),
            vec![s(account), s(region)],
        )?;
        all(rows, custom_key_store_from_row)
    }

    fn custom_key_store_key_count(&self, id: &str) -> StoreResult<u64> {
        let rows = self.query(
            "SELECT COUNT(*) FROM keys WHERE custom_key_store_id = $1",
            vec![s(id)],
        )?;
        Ok(u64::try_from(count(&rows)?).unwrap_or(0))
    }

    fn apply(&self, batch: Vec<Write>) -> StoreResult<()> {
        let pool = self.pool.clone();
        let node = self.node_id.clone();
        self.run(async move { super::apply::apply_batch(&pool, batch, &node).await })
    }

    fn subscribe(&self, sink: SharedSink) {
        *self.sink.lock() = Some(sink);
        self.start_listener();
    }
}
