//! The PostgreSQL schema, as versioned migrations applied in order at start-up under an
//! advisory lock (nodes starting together migrate once).
//!
//! Version 1 is the SQLite schema at its version 6 (same tables, columns and
//! meanings; integers are BIGINT, blobs BYTEA, flags BOOLEAN, text compares bytewise
//! with the "C" collation as SQLite's does, whatever the database's locale); version 3
//! is SQLite's version 7 (SQLite's 8, the named-grant index, is in version 2). Add a
//! table or column by appending a migration here, a `Write` arm in `apply.rs` and the
//! reads in `reads.rs`; never edit a released migration.

/// Schema migrations; index + 1 is the schema version (`tresor_schema.version`).
pub(super) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE keys (
    key_id TEXT COLLATE "C" PRIMARY KEY,
    account TEXT COLLATE "C" NOT NULL,
    region TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    key_spec TEXT COLLATE "C" NOT NULL,
    key_usage TEXT COLLATE "C" NOT NULL,
    origin TEXT COLLATE "C" NOT NULL,
    key_state TEXT COLLATE "C" NOT NULL,
    deletion_ms BIGINT,
    pending_window_days BIGINT,
    current_version BIGINT NOT NULL,
    policy TEXT COLLATE "C",
    revision BIGINT NOT NULL,
    public_key BYTEA,
    rotation_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    rotation_period_days BIGINT,
    next_rotation_ms BIGINT,
    on_demand_rotations BIGINT NOT NULL DEFAULT 0,
    valid_to_ms BIGINT,
    expiration_model TEXT COLLATE "C",
    imported_material_id TEXT COLLATE "C"
);
CREATE INDEX keys_by_owner ON keys(account, region, key_id);
CREATE INDEX keys_by_deletion ON keys(deletion_ms) WHERE deletion_ms IS NOT NULL;
CREATE INDEX keys_by_rotation ON keys(next_rotation_ms) WHERE rotation_enabled;
CREATE INDEX keys_by_valid_to ON keys(valid_to_ms) WHERE valid_to_ms IS NOT NULL;
CREATE TABLE materials (
    key_id TEXT COLLATE "C" NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    material_id TEXT COLLATE "C" NOT NULL,
    wrapped BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    rotation_type TEXT COLLATE "C",
    root_generation BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (key_id, version)
);
CREATE INDEX materials_by_root ON materials(root_generation);
CREATE TABLE aliases (
    account TEXT COLLATE "C" NOT NULL,
    region TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    target_key_id TEXT COLLATE "C" NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE INDEX aliases_by_target ON aliases(target_key_id);
CREATE TABLE tags (
    key_id TEXT COLLATE "C" NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
    tag_key TEXT COLLATE "C" NOT NULL,
    tag_value TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (key_id, tag_key)
);
CREATE TABLE access_keys (
    access_key_id TEXT COLLATE "C" PRIMARY KEY,
    account TEXT COLLATE "C" NOT NULL,
    principal_arn TEXT COLLATE "C" NOT NULL,
    wrapped_secret BYTEA NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_ms BIGINT NOT NULL,
    operator BOOLEAN NOT NULL DEFAULT FALSE,
    root_generation BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX access_keys_by_principal ON access_keys(principal_arn);
CREATE INDEX access_keys_by_root ON access_keys(root_generation);
CREATE TABLE import_tokens (
    token_id TEXT COLLATE "C" PRIMARY KEY,
    key_id TEXT COLLATE "C" NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
    wrapping_algorithm TEXT COLLATE "C" NOT NULL,
    wrapping_key_spec TEXT COLLATE "C" NOT NULL,
    wrapped_private_key BYTEA NOT NULL,
    expires_ms BIGINT NOT NULL,
    root_generation BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX import_tokens_by_root ON import_tokens(root_generation);
CREATE TABLE principals (
    arn TEXT COLLATE "C" PRIMARY KEY,
    account TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX principals_by_account ON principals(account, name);
CREATE TABLE principal_policies (
    principal_arn TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    document TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (principal_arn, name)
);
CREATE TABLE grants (
    grant_id TEXT COLLATE "C" PRIMARY KEY,
    key_id TEXT COLLATE "C" NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
    name TEXT COLLATE "C",
    grantee TEXT COLLATE "C" NOT NULL,
    retiring TEXT COLLATE "C",
    issuing_account TEXT COLLATE "C" NOT NULL,
    operations TEXT COLLATE "C" NOT NULL,
    constraints TEXT COLLATE "C",
    created_ms BIGINT NOT NULL
);
CREATE INDEX grants_by_key ON grants(key_id, created_ms);
CREATE INDEX grants_by_retiring ON grants(retiring);
CREATE TABLE root_generations (
    generation BIGINT PRIMARY KEY,
    check_value BYTEA NOT NULL,
    wrapped_fingerprint_seed BYTEA NOT NULL,
    wrapped_previous BYTEA,
    created_ms BIGINT NOT NULL
);
"#,
    // Many nodes: idempotent CreateGrant names are unique in the database (two nodes
    // racing the same named grant make one), values shared by every node (the dev root
    // key, the sealed root), and the change counter behind cache coherence.
    r#"
CREATE UNIQUE INDEX grants_by_name ON grants (key_id, md5(
    name || chr(31) || grantee || chr(31) || COALESCE(retiring, '') || chr(31) ||
    operations || chr(31) || COALESCE(constraints, ''))) WHERE name IS NOT NULL;
CREATE TABLE shared_values (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE SEQUENCE change_seq;
"#,
    // SQLite's migration 7: multi-Region keys, several imported materials per key,
    // custom key stores, XKS proxy credentials.
    r#"
ALTER TABLE keys ADD COLUMN primary_region TEXT COLLATE "C";
ALTER TABLE materials ADD COLUMN description TEXT COLLATE "C";
ALTER TABLE materials ADD COLUMN valid_to_ms BIGINT;
ALTER TABLE materials ADD COLUMN expiration_model TEXT COLLATE "C";
UPDATE materials SET valid_to_ms = k.valid_to_ms, expiration_model = k.expiration_model
    FROM keys k WHERE k.key_id = materials.key_id AND k.origin = 'EXTERNAL';
CREATE INDEX materials_by_valid_to ON materials(valid_to_ms) WHERE valid_to_ms IS NOT NULL;
ALTER TABLE keys ADD COLUMN custom_key_store_id TEXT COLLATE "C";
ALTER TABLE keys ADD COLUMN xks_key_id TEXT COLLATE "C";
CREATE INDEX keys_by_custom_key_store ON keys(custom_key_store_id)
    WHERE custom_key_store_id IS NOT NULL;
CREATE TABLE custom_key_stores (
    id TEXT COLLATE "C" PRIMARY KEY,
    account TEXT COLLATE "C" NOT NULL,
    region TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    store_type TEXT COLLATE "C" NOT NULL,
    connection_state TEXT COLLATE "C" NOT NULL,
    connection_error_code TEXT COLLATE "C",
    created_ms BIGINT NOT NULL,
    cloud_hsm_cluster_id TEXT COLLATE "C",
    trust_anchor_certificate TEXT COLLATE "C",
    xks_proxy_uri_endpoint TEXT COLLATE "C",
    xks_proxy_uri_path TEXT COLLATE "C",
    xks_proxy_vpc_endpoint_service_name TEXT COLLATE "C",
    xks_proxy_connectivity TEXT COLLATE "C",
    xks_access_key_id TEXT COLLATE "C",
    wrapped_secret BYTEA NOT NULL,
    root_generation BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    CONSTRAINT custom_key_stores_name UNIQUE (account, region, name),
    CONSTRAINT custom_key_stores_cluster UNIQUE (cloud_hsm_cluster_id)
);
CREATE INDEX custom_key_stores_by_root ON custom_key_stores(root_generation);
ALTER TABLE access_keys ADD COLUMN xks_proxy BOOLEAN NOT NULL DEFAULT FALSE;
"#,
    // SQLite's migration 9: the deployment's seal (seal.json), every revision kept, so
    // that every node unseals the same root key.
    r#"
CREATE TABLE seals (
    revision BIGINT PRIMARY KEY,
    document TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL
);
"#,
    // SQLite's migration 10: GetKeyLastUsage, kept across restarts and shared by the
    // nodes (each key's latest flushed use, and when tracking started).
    r#"
CREATE TABLE key_usage (
    key_id TEXT COLLATE "C" PRIMARY KEY REFERENCES keys(key_id) ON DELETE CASCADE,
    operation TEXT COLLATE "C" NOT NULL,
    time_ms BIGINT NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    request_id TEXT COLLATE "C" NOT NULL
);
CREATE TABLE key_usage_tracking (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    started_ms BIGINT NOT NULL
);
"#,
];
