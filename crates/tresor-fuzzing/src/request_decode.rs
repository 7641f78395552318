//! `request_decode`: arbitrary bytes as the request body of one operation, run through
//! the whole pipeline ([`Kms::handle`]: decode, validate, resolve, authorize, execute,
//! audit) against a real SQLite-backed service, as the dev operator.
//!
//! Input: the first byte picks the operation ([`operations`]`[b % len]`, by name, so a
//! reordering of `ops::ALL` keeps the corpus meaningful), the rest is the body.
//! The service holds one key of each kind under a short alias (`alias/s` symmetric,
//! `alias/r` RSA encryption, `alias/g` RSA signing, `alias/e` ECC signing, `alias/h`
//! HMAC, `alias/a` key agreement, `alias/m` ML-KEM, `alias/x` external), so generated
//! bodies reach execution; a mutation that succeeds is undone before the next input.

use std::sync::{Arc, OnceLock};
use tresor_audit::event;
use tresor_core::audit::{AuditError, AuditRecord, AuditSink};
use tresor_core::{ops, Caller, Kms, KmsConfig, KmsError, OperationEntry, SystemClock};

/// The account and region every input runs in.
pub const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";

/// `(alias name, CreateKey body)` of the keys every input may use.
pub const KEYS: &[(&str, &str)] = &[
    ("alias/s", r#"{}"#),
    (
        "alias/r",
        r#"{"KeySpec":"RSA_2048","KeyUsage":"ENCRYPT_DECRYPT"}"#,
    ),
    (
        "alias/g",
        r#"{"KeySpec":"RSA_2048","KeyUsage":"SIGN_VERIFY"}"#,
    ),
    (
        "alias/e",
        r#"{"KeySpec":"ECC_NIST_P256","KeyUsage":"SIGN_VERIFY"}"#,
    ),
    (
        "alias/h",
        r#"{"KeySpec":"HMAC_256","KeyUsage":"GENERATE_VERIFY_MAC"}"#,
    ),
    (
        "alias/a",
        r#"{"KeySpec":"ECC_NIST_P256","KeyUsage":"KEY_AGREEMENT"}"#,
    ),
    (
        "alias/m",
        r#"{"KeySpec":"ML_KEM_768","KeyUsage":"ENCAPSULATE_DECAPSULATE"}"#,
    ),
    ("alias/x", r#"{"Origin":"EXTERNAL"}"#),
];

struct Env {
    kms: Kms,
    caller: Caller,
    key_ids: Vec<(String, String)>,
}

/// The service's data directory; statics are never dropped, so [`remove_data_dir`]
/// deletes it when a test is done (a fuzzing session leaves it in the temp directory).
static DATA_DIR: std::sync::Mutex<Option<tempfile::TempDir>> = std::sync::Mutex::new(None);

/// Deletes the service's data directory; no input may run afterwards.
pub fn remove_data_dir() {
    if let Ok(mut dir) = DATA_DIR.lock() {
        dir.take();
    }
}

/// Serializes every record as the file sink would, then drops it: audit formatting of
/// arbitrary request members is on the fuzzed path too.
struct FormattingSink;

impl AuditSink for FormattingSink {
    fn record(&self, record: &AuditRecord<'_>) -> Result<(), AuditError> {
        event::to_json(record, "00000000-0000-0000-0000-000000000000")
            .map(drop)
            .map_err(|e| AuditError(e.to_string()))
    }
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| match build_env() {
        Ok(env) => env,
        Err(e) => unreachable_setup(&e),
    })
}

#[allow(clippy::panic)]
fn unreachable_setup(e: &str) -> ! {
    panic!("fuzz environment setup failed: {e}")
}

fn build_env() -> Result<Env, String> {
    // tmpfs when there is one: fsync is free there, and the fuzzer runs many mutations.
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .map_err(|e| e.to_string())?;
    let store = tresor_store::SqliteStore::open(&dir.path().join("fuzz.sqlite"))
        .map_err(|e| e.to_string())?;
    let material = tresor_crypto::random::secret(32).map_err(|e| e.to_string())?;
    let root = tresor_crypto::RootKey::from_material(&material).map_err(|e| e.to_string())?;
    let kms = Kms::new(
        Arc::new(store),
        root,
        Arc::new(SystemClock::new()),
        KmsConfig::default(),
    )
    .map_err(|e| e.to_string())?
    .with_audit(Arc::new(FormattingSink));
    let caller = Caller {
        account: ACCOUNT.into(),
        principal_arn: tresor_core::ids::account_root_arn(ACCOUNT),
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        region: REGION.into(),
        operator: true,
        source_ip: "127.0.0.1".into(),
        user_agent: "tresor-fuzz".into(),
        request_id: "fuzz".into(),
        secure_transport: false,
    };
    let mut key_ids = Vec::new();
    for (alias, body) in KEYS {
        let out = call(&kms, &caller, "CreateKey", body.as_bytes())
            .map_err(|e| format!("CreateKey {body}: {e}"))?;
        let v: serde_json::Value = serde_json::from_slice(&out).map_err(|e| e.to_string())?;
        let id = v
            .pointer("/KeyMetadata/KeyId")
            .and_then(|v| v.as_str())
            .ok_or("CreateKey answered no KeyId")?
            .to_string();
        let alias_body = serde_json::json!({"AliasName": alias, "TargetKeyId": id}).to_string();
        call(&kms, &caller, "CreateAlias", alias_body.as_bytes())
            .map_err(|e| format!("CreateAlias: {e}"))?;
        key_ids.push(((*alias).to_string(), id));
    }
    if let Ok(mut slot) = DATA_DIR.lock() {
        *slot = Some(dir);
    }
    Ok(Env {
        kms,
        caller,
        key_ids,
    })
}

fn call(kms: &Kms, caller: &Caller, op: &str, body: &[u8]) -> Result<Vec<u8>, KmsError> {
    let entry =
        tresor_core::operation(op).ok_or_else(|| KmsError::UnknownOperation(op.to_string()))?;
    kms.handle(entry, body, caller)
}

/// Every operation, sorted by name: the selector byte of an input indexes this.
pub fn operations() -> &'static [OperationEntry] {
    static OPS: OnceLock<Vec<OperationEntry>> = OnceLock::new();
    OPS.get_or_init(|| {
        let mut all = ops::ALL.to_vec();
        all.sort_by_key(|e| e.name);
        all
    })
}

/// Runs one input. Panics only on an internal error (a client mistake must never be
/// one) or when the pipeline itself panics.
pub fn run(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let ops = operations();
    let Some(op) = ops.get(usize::from(selector) % ops.len().max(1)) else {
        return;
    };
    let env = env();
    let result = env.kms.handle(*op, body, &env.caller);
    if let Err(KmsError::Internal(detail)) = &result {
        internal_error(op.name, body, detail);
    }
    if result.is_ok() && op.mutates {
        restore(env, op.name);
    }
}

#[allow(clippy::panic)]
fn internal_error(op: &str, body: &[u8], detail: &str) -> ! {
    panic!(
        "{op} answered KMSInternalException ({detail}) for {:?}",
        String::from_utf8_lossy(body)
    )
}

/// Undoes what a successful mutation may have done to the shared keys.
fn restore(env: &Env, op: &str) {
    let account_policy = tresor_core::policy::default_key_policy(ACCOUNT);
    for (alias, id) in &env.key_ids {
        let key = serde_json::json!({ "KeyId": id }).to_string();
        let steps: Vec<(&str, String)> = match op {
            "DisableKey" => vec![("EnableKey", key)],
            "ScheduleKeyDeletion" => vec![("CancelKeyDeletion", key.clone()), ("EnableKey", key)],
            "PutKeyPolicy" => vec![(
                "PutKeyPolicy",
                serde_json::json!({"KeyId": id, "PolicyName": "default", "Policy": account_policy})
                    .to_string(),
            )],
            "DeleteAlias" | "UpdateAlias" | "CreateAlias" => {
                let body = serde_json::json!({"AliasName": alias, "TargetKeyId": id}).to_string();
                vec![("UpdateAlias", body.clone()), ("CreateAlias", body)]
            }
            _ => Vec::new(),
        };
        for (step, body) in steps {
            // Best effort: a step that does not apply (the key was not disabled…) fails.
            let _ = call(&env.kms, &env.caller, step, body.as_bytes());
        }
    }
}
