//! `tresor encrypt` / `tresor decrypt`: client-side envelope encryption of files in the
//! AWS Encryption SDK message format (version 2), interoperable with
//! `aws-encryption-sdk-cli` and the ESDKs. Data keys come from the KMS endpoint
//! (GenerateDataKey on the first `--key`, Encrypt on the others; Decrypt on the way
//! back); the data itself never leaves the machine.

use crate::client::Target;
use crate::files::{open_input, Output};
use base64::Engine;
use clap::Args;
use serde_json::{json, Value};
use tresor_crypto::SecretBytes;
use tresor_esdk::{
    EncryptedDataKey, EncryptionContext, Limits, Suite, PROVIDER_AWS_KMS, RESERVED_PREFIX,
};

/// Where and how to reach the KMS endpoint, and what to print.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// KMS endpoint (default: AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL, or http://127.0.0.1:7390);
    /// credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (default: the dev key).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Region to sign for (default: AWS_REGION, AWS_DEFAULT_REGION, or us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// No progress bar (it is shown only when stderr is a terminal).
    #[arg(long, short)]
    pub quiet: bool,
}

/// `tresor encrypt`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// KMS key (id, ARN, alias name or alias ARN) to protect the data key with; repeat for
    /// more (each can decrypt the message alone).
    #[arg(long = "key", value_name = "KEY", required = true)]
    pub keys: Vec<String>,
    /// Encryption context entry; repeatable.
    #[arg(long = "context", value_name = "K=V")]
    pub context: Vec<String>,
    /// Algorithm suite.
    #[arg(long, default_value = "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
          value_parser = ["AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384", "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"])]
    pub algorithm: String,
    /// Plaintext bytes per frame (1 to 67108864).
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=i64::from(tresor_esdk::MAX_FRAME_LENGTH)))]
    pub frame_length: u32,
    #[command(flatten)]
    pub client: ClientArgs,
    /// File to encrypt (`-`: stdin).
    #[arg(value_name = "IN")]
    pub input: String,
    /// Where to write the message (`-`: stdout).
    #[arg(value_name = "OUT")]
    pub output: String,
}

/// `tresor decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// KMS key allowed to decrypt (strict mode): only data keys encrypted under one of these
    /// are tried. Key ARN, or an id/alias resolved to its key ARN. Repeatable.
    #[arg(
        long = "key",
        value_name = "KEY",
        required_unless_present = "discovery"
    )]
    pub keys: Vec<String>,
    /// Try every KMS data key of the message whatever its key (discovery mode).
    #[arg(long, conflicts_with = "keys")]
    pub discovery: bool,
    /// With --discovery: only keys of this account; repeatable.
    #[arg(long, value_name = "ACCOUNT", requires = "discovery")]
    pub discovery_account: Vec<String>,
    /// Entry the message's encryption context must have; repeatable.
    #[arg(long = "context", value_name = "K=V")]
    pub context: Vec<String>,
    /// Refuse messages with more encrypted data keys than this.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_encrypted_data_keys: usize,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Message to decrypt (`-`: stdin).
    #[arg(value_name = "IN")]
    pub input: String,
    /// Where to write the plaintext (`-`: stdout). A file appears only once the whole
    /// message has been authenticated.
    #[arg(value_name = "OUT")]
    pub output: String,
}

/// Runs `tresor encrypt`.
pub fn encrypt(args: EncryptArgs) -> Result<(), String> {
    let suite = Suite::from_name(&args.algorithm)
        .ok_or_else(|| format!("unknown algorithm suite {}", args.algorithm))?;
    let context = parse_context(&args.context)?;
    let target = Target::from_env(
        args.client.endpoint.as_deref(),
        args.client.region.as_deref(),
    )?;
    let (context, signer) =
        tresor_esdk::signing_context(suite, context).map_err(|e| e.to_string())?;
    let (mut input, progress) = open_input(&args.input, args.client.quiet)?;
    let mut output = Output::create(&args.output)?;
    let (data_key, data_keys) = runtime()?.block_on(data_keys(&target, &args.keys, &context))?;
    let materials = tresor_esdk::Materials {
        suite,
        data_key,
        data_keys,
        context,
        signer,
        frame_length: args.frame_length,
    };
    let result = (|| {
        let mut encryptor =
            tresor_esdk::Encryptor::new(output.writer(), materials).map_err(|e| e.to_string())?;
        std::io::copy(&mut input, &mut encryptor).map_err(|e| io_error(&args, e))?;
        encryptor.finish().map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    })();
    progress.finish();
    result?;
    output.commit()
}

/// GenerateDataKey under the first key, Encrypt of the data key under the others.
async fn data_keys(
    target: &Target,
    keys: &[String],
    context: &EncryptionContext,
) -> Result<(SecretBytes, Vec<EncryptedDataKey>), String> {
    let (first, others) = keys.split_first().ok_or("--key is required")?;
    let answer = target
        .call(
            "TrentService.GenerateDataKey",
            &json!({"KeyId": first, "NumberOfBytes": 32, "EncryptionContext": context}),
        )
        .await
        .map_err(|e| format!("GenerateDataKey with {first}: {e}"))?;
    let data_key = SecretBytes::new(b64_field(&answer, "Plaintext")?);
    if data_key.len() != tresor_esdk::KEY_LEN {
        return Err(format!(
            "GenerateDataKey returned a {}-byte key",
            data_key.len()
        ));
    }
    let mut out = vec![edk(&answer)?];
    let plaintext = base64::engine::general_purpose::STANDARD.encode(data_key.expose());
    for key in others {
        let answer = target
            .call(
                "TrentService.Encrypt",
                &json!({"KeyId": key, "Plaintext": plaintext, "EncryptionContext": context}),
            )
            .await
            .map_err(|e| format!("Encrypt with {key}: {e}"))?;
        out.push(edk(&answer)?);
    }
    Ok((data_key, out))
}

/// The encrypted data key of a GenerateDataKey/Encrypt answer (provider info: its KeyId,
/// the key ARN).
fn edk(answer: &Value) -> Result<EncryptedDataKey, String> {
    let arn = answer
        .get("KeyId")
        .and_then(Value::as_str)
        .ok_or("the KMS answer has no KeyId")?;
    Ok(EncryptedDataKey {
        provider_id: PROVIDER_AWS_KMS.into(),
        provider_info: arn.as_bytes().to_vec(),
        ciphertext: b64_field(answer, "CiphertextBlob")?,
    })
}

/// Runs `tresor decrypt`.
pub fn decrypt(args: DecryptArgs) -> Result<(), String> {
    let required = parse_context(&args.context)?;
    let target = Target::from_env(
        args.client.endpoint.as_deref(),
        args.client.region.as_deref(),
    )?;
    let runtime = runtime()?;
    let allowed = runtime.block_on(resolve_keys(&target, &args.keys))?;
    let (mut input, progress) = open_input(&args.input, args.client.quiet)?;
    let limits = Limits {
        max_data_keys: args.max_encrypted_data_keys,
        ..Limits::default()
    };
    let parsed = tresor_esdk::read_header(&mut input, &limits).map_err(|e| e.to_string())?;
    let context = &parsed.header.context;
    for (k, v) in &required {
        if context.get(k) != Some(v) {
            return Err(format!(
                "the message's encryption context does not contain {k}={v}"
            ));
        }
    }
    let filter = KeyFilter {
        allowed: &allowed,
        accounts: &args.discovery_account,
    };
    let data_key = runtime.block_on(decrypt_data_key(&target, &parsed.header, &filter))?;
    let decryptor =
        tresor_esdk::Decryptor::new(&parsed, data_key.expose()).map_err(|e| e.to_string())?;
    drop(data_key);
    let mut output = Output::create(&args.output)?;
    let result = decryptor
        .decrypt(&mut input, |plaintext| output.writer().write_all(plaintext))
        .map_err(|e| match e {
            tresor_esdk::Error::Io(e) => format!("{}: {e}", args.output),
            e => e.to_string(),
        });
    progress.finish();
    result?;
    output.commit()
}

/// Which data keys decrypt may try: those of the `allowed` key ARNs (strict mode), or,
/// with an empty `allowed` (discovery), any KMS key ARN of the `accounts` (all if none).
struct KeyFilter<'a> {
    allowed: &'a [String],
    accounts: &'a [String],
}

impl KeyFilter<'_> {
    fn admits(&self, edk: &EncryptedDataKey) -> Option<String> {
        if edk.provider_id != PROVIDER_AWS_KMS {
            return None;
        }
        let arn = std::str::from_utf8(&edk.provider_info).ok()?;
        let account = key_arn_account(arn)?;
        if !self.allowed.is_empty() {
            return self
                .allowed
                .iter()
                .any(|a| a == arn)
                .then(|| arn.to_string());
        }
        (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account))
            .then(|| arn.to_string())
    }
}

/// The account of a KMS key ARN (`arn:PARTITION:kms:REGION:ACCOUNT:key/ID`).
fn key_arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("kms"), Some(_), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    resource.strip_prefix("key/").filter(|id| !id.is_empty())?;
    Some(account)
}

/// Key ARNs of the `--key` values: ARNs as given, ids and aliases through DescribeKey.
async fn resolve_keys(target: &Target, keys: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        if key_arn_account(key).is_some() {
            out.push(key.clone());
            continue;
        }
        let answer = target
            .call("TrentService.DescribeKey", &json!({"KeyId": key}))
            .await
            .map_err(|e| format!("--key {key}: {e}"))?;
        let arn = answer
            .pointer("/KeyMetadata/Arn")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("--key {key}: DescribeKey returned no Arn"))?;
        out.push(arn.to_string());
    }
    Ok(out)
}

/// Tries the admitted data keys in message order until KMS decrypts one.
async fn decrypt_data_key(
    target: &Target,
    header: &tresor_esdk::Header,
    filter: &KeyFilter<'_>,
) -> Result<SecretBytes, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut failures = Vec::new();
    for edk in &header.data_keys {
        let Some(arn) = filter.admits(edk) else {
            continue;
        };
        let request = json!({
            "KeyId": arn,
            "CiphertextBlob": b64.encode(&edk.ciphertext),
            "EncryptionContext": header.context,
        });
        match target.call("TrentService.Decrypt", &request).await {
            Ok(answer) => {
                if answer.get("KeyId").and_then(Value::as_str) != Some(arn.as_str()) {
                    failures.push(format!("{arn}: KMS answered for another key"));
                    continue;
                }
                let key = SecretBytes::new(b64_field(&answer, "Plaintext")?);
                if key.len() == tresor_esdk::KEY_LEN {
                    return Ok(key);
                }
                failures.push(format!("{arn}: the data key is {} bytes", key.len()));
            }
            Err(e) => failures.push(format!("{arn}: {e}")),
        }
    }
    if failures.is_empty() {
        let keys: Vec<String> = header
            .data_keys
            .iter()
            .map(|k| {
                format!(
                    "{} {}",
                    k.provider_id,
                    String::from_utf8_lossy(&k.provider_info)
                )
            })
            .collect();
        return Err(format!(
            "no encrypted data key of the message is under an allowed key (the message has: {})",
            keys.join(", ")
        ));
    }
    Err(format!(
        "could not decrypt a data key: {}",
        failures.join("; ")
    ))
}

/// `K=V` entries into a context (no duplicate keys, no reserved `aws-crypto-` keys).
fn parse_context(entries: &[String]) -> Result<EncryptionContext, String> {
    let mut context = EncryptionContext::new();
    for entry in entries {
        let (k, v) = entry
            .split_once('=')
            .ok_or_else(|| format!("--context {entry:?}: expected KEY=VALUE"))?;
        if k.is_empty() {
            return Err(format!("--context {entry:?}: empty key"));
        }
        if k.starts_with(RESERVED_PREFIX) {
            return Err(format!(
                "--context {entry:?}: keys starting with {RESERVED_PREFIX} are reserved"
            ));
        }
        if context.insert(k.to_string(), v.to_string()).is_some() {
            return Err(format!("--context: {k} given twice"));
        }
    }
    Ok(context)
}

fn b64_field(answer: &Value, field: &str) -> Result<Vec<u8>, String> {
    let text = answer
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the KMS answer has no {field}"))?;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| format!("the KMS answer's {field} is not base64"))
}

fn io_error(args: &EncryptArgs, e: std::io::Error) -> String {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<tresor_esdk::Error>())
    {
        Some(inner) => inner.to_string(),
        None => format!("{} → {}: {e}", args.input, args.output),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}
