//! The benchmarked operations: their names, what each needs created first, and the request
//! each worker sends.

use crate::client::{Client, Endpoint, Outcome};
use crate::sigv4::{Credentials, Signer};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// One benchmarked operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// Encrypt 64 bytes under a symmetric key.
    Encrypt64,
    /// Encrypt 4 KiB under a symmetric key.
    Encrypt4k,
    /// Decrypt a 64-byte ciphertext.
    Decrypt,
    /// GenerateDataKey (AES_256).
    GenerateDataKey,
    /// ReEncrypt a 64-byte ciphertext to the same key.
    ReEncrypt,
    /// Sign 32 bytes with ECC_NIST_P256 / ECDSA_SHA_256.
    SignP256,
    /// Sign 32 bytes with RSA_2048 / RSASSA_PSS_SHA_256.
    SignRsa2048,
    /// Verify an ECDSA_SHA_256 signature (P-256).
    Verify,
    /// GenerateMac with an HMAC_256 key.
    GenerateMac,
    /// DescribeKey.
    DescribeKey,
    /// CreateKey (symmetric).
    CreateKey,
}

impl Op {
    /// Every operation, in the default order (CreateKey last, as it grows the database).
    pub const ALL: [Op; 11] = [
        Op::Encrypt64,
        Op::Encrypt4k,
        Op::Decrypt,
        Op::GenerateDataKey,
        Op::ReEncrypt,
        Op::SignP256,
        Op::SignRsa2048,
        Op::Verify,
        Op::GenerateMac,
        Op::DescribeKey,
        Op::CreateKey,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Op::Encrypt64 => "Encrypt64",
            Op::Encrypt4k => "Encrypt4k",
            Op::Decrypt => "Decrypt",
            Op::GenerateDataKey => "GenerateDataKey",
            Op::ReEncrypt => "ReEncrypt",
            Op::SignP256 => "SignP256",
            Op::SignRsa2048 => "SignRsa2048",
            Op::Verify => "Verify",
            Op::GenerateMac => "GenerateMac",
            Op::DescribeKey => "DescribeKey",
            Op::CreateKey => "CreateKey",
        }
    }

    /// The KMS API operation sent.
    pub fn api(self) -> &'static str {
        match self {
            Op::Encrypt64 | Op::Encrypt4k => "Encrypt",
            Op::SignP256 | Op::SignRsa2048 => "Sign",
            other => other.name(),
        }
    }

    /// Parses a name, case-insensitively.
    pub fn parse(s: &str) -> Result<Op, String> {
        let s = s.trim();
        Op::ALL
            .into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown operation {s:?}; known: {}",
                    Op::ALL.map(Op::name).join(", ")
                )
            })
    }

    /// Parses a comma-separated list (`all` for every operation); duplicates are dropped.
    pub fn parse_list(s: &str) -> Result<Vec<Op>, String> {
        let mut out: Vec<Op> = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part.eq_ignore_ascii_case("all") {
                out.extend(
                    Op::ALL
                        .iter()
                        .filter(|o| !out.contains(o))
                        .collect::<Vec<_>>(),
                );
                continue;
            }
            let op = Op::parse(part)?;
            if !out.contains(&op) {
                out.push(op);
            }
        }
        if out.is_empty() {
            return Err("no operation given".into());
        }
        Ok(out)
    }

    /// Whether it uses the pool of symmetric keys.
    pub fn needs_symmetric(self) -> bool {
        matches!(
            self,
            Op::Encrypt64
                | Op::Encrypt4k
                | Op::Decrypt
                | Op::GenerateDataKey
                | Op::ReEncrypt
                | Op::DescribeKey
        )
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The request body a worker sends: fixed, or with a key picked at random per request.
#[derive(Debug, Clone)]
pub enum Body {
    /// The same body every time.
    Fixed(Bytes),
    /// `prefix + key + suffix` with `key` one of `keys` (already JSON strings).
    PerKey {
        /// JSON up to the key id.
        prefix: String,
        /// Quoted key ids.
        keys: Arc<[String]>,
        /// JSON after the key id.
        suffix: String,
    },
}

/// What the workers of one operation send.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The KMS operation (`X-Amz-Target: TrentService.<api>`).
    pub api: &'static str,
    /// The body.
    pub body: Body,
}

impl Plan {
    /// The next request's body.
    pub fn body(&self, rng: &mut fastrand::Rng) -> Bytes {
        match &self.body {
            Body::Fixed(b) => b.clone(),
            Body::PerKey {
                prefix,
                keys,
                suffix,
            } => {
                let key = keys
                    .get(rng.usize(..keys.len().max(1)))
                    .map(String::as_str)
                    .unwrap_or("\"\"");
                let mut s = String::with_capacity(prefix.len() + key.len() + suffix.len());
                s.push_str(prefix);
                s.push_str(key);
                s.push_str(suffix);
                Bytes::from(s)
            }
        }
    }

    /// A body with `KeyId` first, then `rest`'s fields, for one key or a random one of many.
    fn keyed(api: &'static str, keys: &[String], rest: &Value) -> Plan {
        let quoted: Vec<String> = keys
            .iter()
            .map(|k| Value::String(k.clone()).to_string())
            .collect();
        // `rest` is an object; splice its members after KeyId.
        let rest = rest.to_string();
        let members = rest
            .strip_prefix('{')
            .and_then(|r| r.strip_suffix('}'))
            .unwrap_or_default();
        let suffix = if members.is_empty() {
            "}".to_string()
        } else {
            format!(",{members}}}")
        };
        let prefix = "{\"KeyId\":".to_string();
        match quoted.as_slice() {
            [one] => Plan {
                api,
                body: Body::Fixed(Bytes::from(format!("{prefix}{one}{suffix}"))),
            },
            _ => Plan {
                api,
                body: Body::PerKey {
                    prefix,
                    keys: quoted.into(),
                    suffix,
                },
            },
        }
    }
}

/// Why an operation could not be prepared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupError {
    /// The server answered `UnsupportedOperationException` (e.g. a key spec it lacks).
    Unsupported(String),
    /// Anything else.
    Failed(String),
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::Unsupported(m) | SetupError::Failed(m) => f.write_str(m),
        }
    }
}

fn setup_error(what: &str, outcome: &Outcome) -> SetupError {
    let msg = format!("{what}: {outcome}");
    match outcome {
        Outcome::Error { kind, .. } if kind == "UnsupportedOperationException" => {
            SetupError::Unsupported(msg)
        }
        _ => SetupError::Failed(msg),
    }
}

/// Calls `api` and returns the JSON answer.
async fn call_json(client: &mut Client, api: &str, body: &Value) -> Result<Value, SetupError> {
    match client.call(api, Bytes::from(body.to_string())).await {
        Outcome::Ok(b) => serde_json::from_slice(&b)
            .map_err(|e| SetupError::Failed(format!("{api}: answer is not JSON: {e}"))),
        other => Err(setup_error(api, &other)),
    }
}

fn string_field(v: &Value, path: &[&str]) -> Option<String> {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// CreateKey with `body`; returns the key id.
pub async fn create_key(client: &mut Client, body: &Value) -> Result<String, SetupError> {
    let v = call_json(client, "CreateKey", body).await?;
    string_field(&v, &["KeyMetadata", "KeyId"])
        .ok_or_else(|| SetupError::Failed("CreateKey: no KeyMetadata.KeyId in the answer".into()))
}

/// Creates `n` symmetric keys over up to `parallel` connections; ids in no special order.
pub async fn create_keys(
    endpoint: &Endpoint,
    creds: &Credentials,
    n: usize,
    parallel: usize,
) -> Result<Vec<String>, SetupError> {
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..parallel.clamp(1, n.max(1)) {
        let (next, stop) = (next.clone(), stop.clone());
        let mut client = Client::new(
            endpoint.clone(),
            Signer::new(creds.clone(), endpoint.host.clone()),
        );
        tasks.spawn(async move {
            let mut ids = Vec::new();
            while !stop.load(Ordering::Relaxed) && next.fetch_add(1, Ordering::Relaxed) < n {
                match create_key(&mut client, &json!({ "Description": "tresor-bench" })).await {
                    Ok(id) => ids.push(id),
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
            Ok(ids)
        });
    }
    let mut all = Vec::with_capacity(n);
    let mut first_err = None;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(ids)) => all.extend(ids),
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(e) => {
                first_err.get_or_insert(SetupError::Failed(format!("CreateKey task: {e}")));
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(all),
    }
}

/// Deterministic filler bytes.
pub fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(7))
        .collect()
}

/// Creates what the operations need, once, and builds each operation's plan.
pub struct Preparer {
    client: Client,
    /// The symmetric keys (at least one once any symmetric operation is prepared).
    symmetric: Vec<String>,
    ciphertext: Option<Result<String, SetupError>>,
    p256: Option<Result<String, SetupError>>,
    rsa: Option<Result<String, SetupError>>,
    hmac: Option<Result<String, SetupError>>,
    p256_signature: Option<Result<String, SetupError>>,
}

impl Preparer {
    /// A preparer talking to `endpoint`, with the given symmetric keys already created.
    pub fn new(endpoint: &Endpoint, creds: &Credentials, symmetric: Vec<String>) -> Self {
        Self {
            client: Client::new(
                endpoint.clone(),
                Signer::new(creds.clone(), endpoint.host.clone()),
            ),
            symmetric,
            ciphertext: None,
            p256: None,
            rsa: None,
            hmac: None,
            p256_signature: None,
        }
    }

    fn first_key(&self) -> Result<String, SetupError> {
        self.symmetric
            .first()
            .cloned()
            .ok_or_else(|| SetupError::Failed("no symmetric key was created".into()))
    }

    async fn cached_key(
        client: &mut Client,
        slot: &mut Option<Result<String, SetupError>>,
        spec: &str,
        usage: &str,
    ) -> Result<String, SetupError> {
        if slot.is_none() {
            let body = json!({ "KeySpec": spec, "KeyUsage": usage, "Description": "tresor-bench" });
            *slot = Some(create_key(client, &body).await.map_err(|e| match e {
                SetupError::Unsupported(m) => {
                    SetupError::Unsupported(format!("{spec}/{usage}: {m}"))
                }
                SetupError::Failed(m) => SetupError::Failed(format!("{spec}/{usage}: {m}")),
            }));
        }
        slot.clone()
            .unwrap_or_else(|| Err(SetupError::Failed("unreachable".into())))
    }

    async fn ciphertext(&mut self) -> Result<String, SetupError> {
        if self.ciphertext.is_none() {
            let key = self.first_key()?;
            let body = json!({ "KeyId": key, "Plaintext": B64.encode(payload(64)) });
            let r = call_json(&mut self.client, "Encrypt", &body)
                .await
                .and_then(|v| {
                    string_field(&v, &["CiphertextBlob"]).ok_or_else(|| {
                        SetupError::Failed("Encrypt: no CiphertextBlob in the answer".into())
                    })
                });
            self.ciphertext = Some(r);
        }
        self.ciphertext
            .clone()
            .unwrap_or_else(|| Err(SetupError::Failed("unreachable".into())))
    }

    fn message() -> String {
        B64.encode(payload(32))
    }

    async fn p256_signature(&mut self) -> Result<(String, String), SetupError> {
        let key = Self::cached_key(
            &mut self.client,
            &mut self.p256,
            "ECC_NIST_P256",
            "SIGN_VERIFY",
        )
        .await?;
        if self.p256_signature.is_none() {
            let body = json!({
                "KeyId": key, "Message": Self::message(), "MessageType": "RAW",
                "SigningAlgorithm": "ECDSA_SHA_256",
            });
            let r = call_json(&mut self.client, "Sign", &body)
                .await
                .and_then(|v| {
                    string_field(&v, &["Signature"]).ok_or_else(|| {
                        SetupError::Failed("Sign: no Signature in the answer".into())
                    })
                });
            self.p256_signature = Some(r);
        }
        let sig = self
            .p256_signature
            .clone()
            .unwrap_or_else(|| Err(SetupError::Failed("unreachable".into())))?;
        Ok((key, sig))
    }

    /// Creates what `op` needs (keys, a ciphertext, a signature) and returns its plan.
    pub async fn plan(&mut self, op: Op) -> Result<Plan, SetupError> {
        let api = op.api();
        let plan = match op {
            Op::Encrypt64 | Op::Encrypt4k => {
                let len = if op == Op::Encrypt64 { 64 } else { 4096 };
                self.first_key()?;
                Plan::keyed(
                    api,
                    &self.symmetric,
                    &json!({ "Plaintext": B64.encode(payload(len)) }),
                )
            }
            Op::DescribeKey => {
                self.first_key()?;
                Plan::keyed(api, &self.symmetric, &json!({}))
            }
            Op::GenerateDataKey => {
                let key = self.first_key()?;
                Plan::keyed(api, &[key], &json!({ "KeySpec": "AES_256" }))
            }
            Op::Decrypt => {
                let blob = self.ciphertext().await?;
                fixed(api, &json!({ "CiphertextBlob": blob }))
            }
            Op::ReEncrypt => {
                let key = self.first_key()?;
                let blob = self.ciphertext().await?;
                fixed(
                    api,
                    &json!({ "CiphertextBlob": blob, "DestinationKeyId": key }),
                )
            }
            Op::SignP256 => {
                let key = Self::cached_key(
                    &mut self.client,
                    &mut self.p256,
                    "ECC_NIST_P256",
                    "SIGN_VERIFY",
                )
                .await?;
                let rest = json!({
                    "Message": Self::message(), "MessageType": "RAW",
                    "SigningAlgorithm": "ECDSA_SHA_256",
                });
                Plan::keyed(api, &[key], &rest)
            }
            Op::SignRsa2048 => {
                let key =
                    Self::cached_key(&mut self.client, &mut self.rsa, "RSA_2048", "SIGN_VERIFY")
                        .await?;
                let rest = json!({
                    "Message": Self::message(), "MessageType": "RAW",
                    "SigningAlgorithm": "RSASSA_PSS_SHA_256",
                });
                Plan::keyed(api, &[key], &rest)
            }
            Op::Verify => {
                let (key, sig) = self.p256_signature().await?;
                let rest = json!({
                    "Message": Self::message(), "MessageType": "RAW",
                    "Signature": sig, "SigningAlgorithm": "ECDSA_SHA_256",
                });
                Plan::keyed(api, &[key], &rest)
            }
            Op::GenerateMac => {
                let key = Self::cached_key(
                    &mut self.client,
                    &mut self.hmac,
                    "HMAC_256",
                    "GENERATE_VERIFY_MAC",
                )
                .await?;
                Plan::keyed(
                    api,
                    &[key],
                    &json!({ "Message": Self::message(), "MacAlgorithm": "HMAC_SHA_256" }),
                )
            }
            Op::CreateKey => fixed(api, &json!({ "Description": "tresor-bench" })),
        };
        // One request now, so a plan that cannot work is reported instead of measured.
        let mut rng = fastrand::Rng::with_seed(1);
        match self.client.call(plan.api, plan.body(&mut rng)).await {
            Outcome::Ok(_) => Ok(plan),
            other => Err(setup_error(&format!("first {api}"), &other)),
        }
    }
}

fn fixed(api: &'static str, body: &Value) -> Plan {
    Plan {
        api,
        body: Body::Fixed(Bytes::from(body.to_string())),
    }
}

/// The baseline's request: the same target and body size as Encrypt64 with one key.
pub fn baseline_plan() -> Plan {
    Plan::keyed(
        "Encrypt",
        &["1234abcd-12ab-34cd-56ef-1234567890ab".to_string()],
        &json!({ "Plaintext": B64.encode(payload(64)) }),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in Op::ALL {
            assert_eq!(Op::parse(op.name()).unwrap(), op);
            assert_eq!(Op::parse(&op.name().to_lowercase()).unwrap(), op);
        }
        assert!(Op::parse("Nope").is_err());
        assert_eq!(
            Op::parse_list("Encrypt64, describekey,Encrypt64").unwrap(),
            vec![Op::Encrypt64, Op::DescribeKey]
        );
        assert_eq!(Op::parse_list("all").unwrap(), Op::ALL.to_vec());
        assert!(Op::parse_list(" , ").is_err());
    }

    #[test]
    fn unsupported_key_specs_are_told_apart() {
        let unsupported = Outcome::Error {
            kind: "UnsupportedOperationException".into(),
            message: "KeySpec RSA_2048 is not supported".into(),
        };
        assert!(matches!(
            setup_error("CreateKey", &unsupported),
            SetupError::Unsupported(m) if m.contains("RSA_2048")
        ));
        let other = Outcome::Error {
            kind: "AccessDeniedException".into(),
            message: "no".into(),
        };
        assert!(matches!(
            setup_error("CreateKey", &other),
            SetupError::Failed(_)
        ));
        assert!(matches!(
            setup_error("CreateKey", &Outcome::Timeout),
            SetupError::Failed(_)
        ));
    }

    #[test]
    fn keyed_bodies_are_valid_json() {
        let one = Plan::keyed("Encrypt", &["k1".into()], &json!({ "Plaintext": "AA==" }));
        let mut rng = fastrand::Rng::with_seed(3);
        let v: Value = serde_json::from_slice(&one.body(&mut rng)).unwrap();
        assert_eq!(v, json!({ "KeyId": "k1", "Plaintext": "AA==" }));
        assert!(matches!(one.body, Body::Fixed(_)));

        let keys: Vec<String> = (0..5).map(|i| format!("k{i}")).collect();
        let many = Plan::keyed("DescribeKey", &keys, &json!({}));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let v: Value = serde_json::from_slice(&many.body(&mut rng)).unwrap();
            let k = v.get("KeyId").and_then(Value::as_str).unwrap().to_string();
            assert!(keys.contains(&k));
            assert_eq!(v.as_object().unwrap().len(), 1);
            seen.insert(k);
        }
        // Random per request: every key is picked at some point.
        assert_eq!(seen.len(), keys.len());
    }
}
