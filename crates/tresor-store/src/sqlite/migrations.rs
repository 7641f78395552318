//! The schema, as versioned migrations applied in order at start-up.

/// Schema migrations; index + 1 is the schema version (SQLite's `user_version`).
pub(super) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE keys (
    key_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    description TEXT NOT NULL,
    key_spec TEXT NOT NULL,
    key_usage TEXT NOT NULL,
    origin TEXT NOT NULL,
    key_state TEXT NOT NULL,
    deletion_ms INTEGER,
    pending_window_days INTEGER,
    current_version INTEGER NOT NULL,
    policy TEXT,
    revision INTEGER NOT NULL
);
CREATE INDEX keys_by_owner ON keys(account, region, key_id);
CREATE INDEX keys_by_deletion ON keys(deletion_ms) WHERE deletion_ms IS NOT NULL;
CREATE TABLE materials (
    key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    material_id TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (key_id, version)
);
CREATE TABLE aliases (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    target_key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE INDEX aliases_by_target ON aliases(target_key_id);
CREATE TABLE tags (
    key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (key_id, tag_key)
);
CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    principal_arn TEXT NOT NULL,
    wrapped_secret BLOB NOT NULL,
    enabled INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
"#,
    r#"
ALTER TABLE keys ADD COLUMN public_key BLOB;
"#,
    r#"
ALTER TABLE keys ADD COLUMN rotation_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN rotation_period_days INTEGER;
ALTER TABLE keys ADD COLUMN next_rotation_ms INTEGER;
ALTER TABLE keys ADD COLUMN on_demand_rotations INTEGER NOT NULL DEFAULT 0;
ALTER TABLE materials ADD COLUMN rotation_type TEXT;
CREATE INDEX keys_by_rotation ON keys(next_rotation_ms) WHERE rotation_enabled = 1;
"#,
    r#"
ALTER TABLE keys ADD COLUMN valid_to_ms INTEGER;
ALTER TABLE keys ADD COLUMN expiration_model TEXT;
ALTER TABLE keys ADD COLUMN imported_material_id TEXT;
CREATE INDEX keys_by_valid_to ON keys(valid_to_ms) WHERE valid_to_ms IS NOT NULL;
CREATE TABLE import_tokens (
    token_id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
    wrapping_algorithm TEXT NOT NULL,
    wrapping_key_spec TEXT NOT NULL,
    wrapped_private_key BLOB NOT NULL,
    expires_ms INTEGER NOT NULL
);
"#,
    r#"
ALTER TABLE access_keys ADD COLUMN operator INTEGER NOT NULL DEFAULT 0;
CREATE INDEX access_keys_by_principal ON access_keys(principal_arn);
CREATE TABLE principals (
    arn TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX principals_by_account ON principals(account, name);
CREATE TABLE principal_policies (
    principal_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (principal_arn, name)
);
CREATE TABLE grants (
    grant_id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES keys(key_id) ON DELETE CASCADE,
    name TEXT,
    grantee TEXT NOT NULL,
    retiring TEXT,
    issuing_account TEXT NOT NULL,
    operations TEXT NOT NULL,
    constraints TEXT,
    created_ms INTEGER NOT NULL
);
CREATE INDEX grants_by_key ON grants(key_id, created_ms);
CREATE INDEX grants_by_retiring ON grants(retiring);
"#,
    r#"
ALTER TABLE materials ADD COLUMN root_generation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE access_keys ADD COLUMN root_generation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE import_tokens ADD COLUMN root_generation INTEGER NOT NULL DEFAULT 1;
CREATE INDEX materials_by_root ON materials(root_generation);
CREATE INDEX access_keys_by_root ON access_keys(root_generation);
CREATE INDEX import_tokens_by_root ON import_tokens(root_generation);
CREATE TABLE root_generations (
    generation INTEGER PRIMARY KEY,
    check_value BLOB NOT NULL,
    wrapped_fingerprint_seed BLOB NOT NULL,
    wrapped_previous BLOB,
    created_ms INTEGER NOT NULL
);
"#,
    r#"
ALTER TABLE keys ADD COLUMN primary_region TEXT;
ALTER TABLE materials ADD COLUMN description TEXT;
ALTER TABLE materials ADD COLUMN valid_to_ms INTEGER;
ALTER TABLE materials ADD COLUMN expiration_model TEXT;
UPDATE materials SET
    valid_to_ms = (SELECT k.valid_to_ms FROM keys k WHERE k.key_id = materials.key_id),
    expiration_model = (SELECT k.expiration_model FROM keys k WHERE k.key_id = materials.key_id)
    WHERE key_id IN (SELECT key_id FROM keys WHERE origin = 'EXTERNAL');
CREATE INDEX materials_by_valid_to ON materials(valid_to_ms) WHERE valid_to_ms IS NOT NULL;
ALTER TABLE keys ADD COLUMN custom_key_store_id TEXT;
ALTER TABLE keys ADD COLUMN xks_key_id TEXT;
CREATE INDEX keys_by_custom_key_store ON keys(custom_key_store_id) WHERE custom_key_store_id IS NOT NULL;
CREATE TABLE custom_key_stores (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    store_type TEXT NOT NULL,
    connection_state TEXT NOT NULL,
    connection_error_code TEXT,
    created_ms INTEGER NOT NULL,
    cloud_hsm_cluster_id TEXT,
    trust_anchor_certificate TEXT,
    xks_proxy_uri_endpoint TEXT,
    xks_proxy_uri_path TEXT,
    xks_proxy_vpc_endpoint_service_name TEXT,
    xks_proxy_connectivity TEXT,
    xks_access_key_id TEXT,
    wrapped_secret BLOB NOT NULL,
    root_generation INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    UNIQUE (account, region, name),
    UNIQUE (cloud_hsm_cluster_id)
);
CREATE INDEX custom_key_stores_by_root ON custom_key_stores(root_generation);
ALTER TABLE access_keys ADD COLUMN xks_proxy INTEGER NOT NULL DEFAULT 0;
"#,
    // Idempotent CreateGrant names are unique in the database, not only under a lock.
    r#"
CREATE UNIQUE INDEX grants_by_name ON grants (key_id, name, grantee, COALESCE(retiring, ''),
    operations, COALESCE(constraints, '')) WHERE name IS NOT NULL;
"#,
    // The deployment's seal (seal.json) in the database, every revision kept.
    r#"
CREATE TABLE seals (
    revision INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
"#,
    // GetKeyLastUsage, kept across restarts and shared by the nodes: each key's latest
    // flushed use, and when tracking started.
    r#"
CREATE TABLE key_usage (
    key_id TEXT PRIMARY KEY REFERENCES keys(key_id) ON DELETE CASCADE,
    operation TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    request_id TEXT NOT NULL
);
CREATE TABLE key_usage_tracking (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    started_ms INTEGER NOT NULL
);
"#,
];
