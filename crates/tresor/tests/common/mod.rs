//! Shared black-box test harness for the `tresor` binary.
//!
//! * [`Server`] spawns `tresor serve --dev --test-clock` on an ephemeral port with its own
//!   data directory and kills it on drop.
//! * [`Server::client`] builds an `aws-sdk-kms` client against it (no retries).
//! * [`Server::kms_raw`] sends a hand-built, SigV4-signed `TrentService.<Op>` request over a raw
//!   `TcpStream`, for protocol tests the SDK cannot express.
//! * [`Server::advance_clock`] drives the `--test-clock` endpoint.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Debug;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::Client;

pub const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "us-east-1";

mod admin;
mod audit_log;
mod cluster;
mod identity;
pub mod multi_region;
mod production;
mod raw;
mod test_store;
mod tls;
#[allow(unused_imports)]
pub use admin::*;
#[allow(unused_imports)]
pub use audit_log::*;
#[allow(unused_imports)]
pub use cluster::*;
#[allow(unused_imports)]
pub use identity::*;
#[allow(unused_imports)]
pub use production::*;
pub use raw::*;
#[allow(unused_imports)]
pub use test_store::{on_postgres, production_store_url};
#[allow(unused_imports)]
pub use tls::*;

const READY_PREFIX: &str = "Tresor listening on ";
const XKS_PREFIX: &str = "Tresor XKS proxy listening on ";

/// A running `tresor` server. Killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    pub endpoint: String,
    /// The XKS proxy listener's port (`--xks-listen`), from its banner line.
    pub xks_port: Option<u16>,
    pub data_dir: PathBuf,
    /// The CA to trust when the server speaks TLS (`--dev --tls`: DATA_DIR/tls/ca.pem).
    pub ca_bundle: Option<PathBuf>,
    stderr: Arc<Mutex<String>>,
    _tmp: Option<tempfile::TempDir>,
}

impl Server {
    /// Start a server on a fresh temporary data directory.
    pub fn start() -> Server {
        let tmp = tempfile::tempdir().expect("create temp dir");
        let dir = tmp.path().to_path_buf();
        let mut s = Server::start_with(&dir, &[]);
        s._tmp = Some(tmp);
        s
    }

    /// Start a server on an existing data directory (not removed on drop).
    pub fn start_in(dir: &Path) -> Server {
        Server::start_with(dir, &[])
    }

    /// Start a server on `dir` with extra environment variables.
    pub fn start_with(dir: &Path, envs: &[(&str, &str)]) -> Server {
        Server::start_opts(dir, &["--dev", "--test-clock"], envs)
    }

    /// Start a server on `dir` with `flags` (e.g. `--dev`) and environment variables;
    /// without `--dev`, `dir` must hold a data directory made by a dev start.
    /// With `TRESOR_TEST_STORE=postgres`, a `--dev` start runs on a database of its
    /// own (the same one again for the same `dir`).
    pub fn start_opts(dir: &Path, flags: &[&str], envs: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tresor"));
        cmd.arg("serve").args(flags);
        if let Some(url) = test_store::store_url_for(dir, flags) {
            cmd.args(["--store", &url]);
        }
        cmd.args(["--listen", "127.0.0.1:0", "--data-dir"]).arg(dir);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        Server::start_command(cmd, dir)
    }

    /// Start `cmd`, a command line that ends up running `tresor serve … --listen
    /// 127.0.0.1:0 --data-dir dir` (e.g. under `setpriv` or `prlimit`).
    pub fn start_command(mut cmd: Command, dir: &Path) -> Server {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn tresor binary");
        let stdout = child.stdout.take().expect("child stdout");
        let stderr = child.stderr.take().expect("child stderr");

        let err_buf = Arc::new(Mutex::new(String::new()));
        {
            let err_buf = Arc::clone(&err_buf);
            std::thread::spawn(move || {
                let reader = BufReader::new(stderr);
                for line in reader.lines() {
                    let Ok(line) = line else { break };
                    if let Ok(mut b) = err_buf.lock() {
                        if b.len() < 64 * 1024 {
                            b.push_str(&line);
                            b.push('\n');
                        }
                    }
                }
            });
        }
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let reader = BufReader::new(stdout);
            let mut tx = Some(tx);
            // Keep draining stdout for the whole life of the child.
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if let Some(t) = &tx {
                    if t.send(line).is_err() {
                        tx = None;
                    }
                }
            }
        });

        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut seen = String::new();
        let mut xks_port = None;
        let (scheme, port) = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "tresor did not print '{READY_PREFIX}PORT' within 30 s\nstdout:\n{seen}\nstderr:\n{}",
                    err_buf.lock().map(|s| s.clone()).unwrap_or_default()
                );
            }
            match rx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) => {
                    seen.push_str(&line);
                    seen.push('\n');
                    if let Some(pos) = line.find(XKS_PREFIX) {
                        xks_port = line[pos + XKS_PREFIX.len()..]
                            .split("://")
                            .nth(1)
                            .and_then(|rest| rest.split('/').next())
                            .and_then(|hp| hp.rsplit(':').next())
                            .and_then(|p| p.parse().ok());
                    }
                    if let Some(pos) = line.find(READY_PREFIX) {
                        let url = &line[pos + READY_PREFIX.len()..];
                        let (scheme, rest) = url
                            .split_once("://")
                            .unwrap_or_else(|| panic!("no URL in ready line {line:?}"));
                        let scheme = scheme.to_string();
                        let hostport = rest
                            .split(|c: char| c.is_whitespace() || c == '/')
                            .next()
                            .unwrap_or("");
                        let port: u16 = hostport
                            .rsplit(':')
                            .next()
                            .and_then(|p| p.parse().ok())
                            .unwrap_or_else(|| {
                                panic!("cannot parse port from ready line {line:?}")
                            });
                        break (scheme, port);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        std::thread::sleep(Duration::from_millis(100));
                        panic!(
                            "tresor exited early with {status}\nstdout:\n{seen}\nstderr:\n{}",
                            err_buf.lock().map(|s| s.clone()).unwrap_or_default()
                        );
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(200));
                    let status = child.try_wait().ok().flatten();
                    panic!(
                        "tresor closed stdout before becoming ready (exit: {status:?})\nstdout:\n{seen}\nstderr:\n{}",
                        err_buf.lock().map(|s| s.clone()).unwrap_or_default()
                    );
                }
            }
        };
        let ca = dir.join("tls").join("ca.pem");
        Server {
            child,
            port,
            endpoint: format!("{scheme}://127.0.0.1:{port}"),
            xks_port,
            data_dir: dir.to_path_buf(),
            ca_bundle: (scheme == "https" && ca.is_file()).then_some(ca),
            stderr: err_buf,
            _tmp: None,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Captured stderr so far (for diagnostics).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits up to `limit` for the child to exit by itself; its status if it did.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Stop the server (kill and reap). Safe to call more than once.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Is the child process still running?
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SDK client in us-east-1 with the dev credentials.
    pub async fn client(&self) -> Client {
        self.client_with(REGION, ACCESS_KEY, SECRET_KEY).await
    }

    /// SDK client in `region` with the dev credentials.
    pub async fn client_in(&self, region: &str) -> Client {
        self.client_with(region, ACCESS_KEY, SECRET_KEY).await
    }

    /// SDK client with explicit region and credentials. Retries are disabled.
    pub async fn client_with(&self, region: &str, access: &str, secret: &str) -> Client {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(ca) = &self.ca_bundle {
            loader = loader.http_client(https_client_trusting(ca));
        }
        let conf = loader
            .region(Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(access, secret, None, None, "tresor-tests"))
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            )
            .load()
            .await;
        Client::new(&conf)
    }

    /// Advance the server's business clock by `seconds` and run due jobs. Returns `Now`.
    pub fn advance_clock(&self, seconds: u64) -> f64 {
        let body = format!("{{\"Seconds\": {seconds}}}");
        let resp = http_request(
            self.port,
            "POST",
            "/_tresor/test/advance-clock",
            &[("Content-Type".into(), "application/json".into())],
            body.as_bytes(),
        );
        assert_eq!(
            resp.status,
            200,
            "advance-clock failed: {} {}",
            resp.status,
            resp.body_str()
        );
        let v = resp.json();
        v.get("Now").and_then(|n| n.as_f64()).unwrap_or_else(|| {
            panic!(
                "advance-clock answer has no numeric Now: {}",
                resp.body_str()
            )
        })
    }

    /// Signed raw KMS request with the dev credentials in us-east-1.
    pub fn kms_raw(&self, op: &str, body: &[u8]) -> RawResponse {
        self.kms_raw_with(op, body, REGION, ACCESS_KEY, SECRET_KEY)
    }

    /// Signed raw KMS request with explicit region and credentials.
    pub fn kms_raw_with(
        &self,
        op: &str,
        body: &[u8],
        region: &str,
        access: &str,
        secret: &str,
    ) -> RawResponse {
        let headers = sign_kms_request(self.port, op, body, region, access, secret);
        http_request(self.port, "POST", "/", &headers, body)
    }
}

/// The SDK's default (rustls, aws-lc) HTTPS client, trusting only the CA in `ca`.
pub fn https_client_trusting(ca: &Path) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    let pem = std::fs::read(ca).expect("read CA bundle");
    let context = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(pem))
        .build()
        .expect("TLS context");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if self._tmp.is_some() {
            // Its data directory goes with it, and so does its database.
            test_store::forget(&self.data_dir);
        }
    }
}

// ---------------------------------------------------------------------------
// SDK helpers
// ---------------------------------------------------------------------------

/// A failed SDK call reduced to what tests assert on.
#[derive(Debug, Clone)]
pub struct ErrInfo {
    pub code: String,
    pub message: Option<String>,
    pub status: Option<u16>,
}

/// Assert `res` is an error and return its code/message/status. Panics if it succeeded.
pub fn expect_err<T: Debug, E>(res: Result<T, SdkError<E, HttpResponse>>) -> ErrInfo
where
    E: ProvideErrorMetadata + Debug,
{
    match res {
        Ok(v) => panic!("expected an error, got success: {v:?}"),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            match e.code() {
                Some(code) => ErrInfo {
                    code: code.rsplit('#').next().unwrap_or(code).to_string(),
                    message: e.message().map(str::to_string),
                    status,
                },
                None => ErrInfo {
                    code: format!("<no error code: {e:?}>"),
                    message: None,
                    status,
                },
            }
        }
    }
}

/// Assert `res` failed with exactly `code`; returns the message (may be empty).
#[track_caller]
pub fn assert_code<T: Debug, E>(res: Result<T, SdkError<E, HttpResponse>>, code: &str) -> ErrInfo
where
    E: ProvideErrorMetadata + Debug,
{
    let info = expect_err(res);
    assert_eq!(info.code, code, "unexpected error: {info:?}");
    if let Some(s) = info.status {
        assert!(
            (400..500).contains(&s),
            "client error {code} must have a 4xx status, got {s}"
        );
    }
    info
}

/// Assert `res` failed with one of `codes`.
#[track_caller]
pub fn assert_code_in<T: Debug, E>(
    res: Result<T, SdkError<E, HttpResponse>>,
    codes: &[&str],
) -> ErrInfo
where
    E: ProvideErrorMetadata + Debug,
{
    let info = expect_err(res);
    assert!(
        codes.contains(&info.code.as_str()),
        "expected one of {codes:?}, got {info:?}"
    );
    if let Some(s) = info.status {
        assert!(
            (400..500).contains(&s),
            "client error must have a 4xx status, got {s}"
        );
    }
    info
}

/// Unwrap an SDK result with a readable panic message.
#[track_caller]
pub fn ok<T, E: ProvideErrorMetadata + Debug>(res: Result<T, SdkError<E, HttpResponse>>) -> T {
    match res {
        Ok(v) => v,
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            match e.code() {
                Some(code) => panic!(
                    "unexpected SDK error: {code} (HTTP {status:?}): {}",
                    e.message().unwrap_or("")
                ),
                None => panic!("unexpected SDK failure (HTTP {status:?}): {e:?}"),
            }
        }
    }
}

pub fn key_arn(region: &str, key_id: &str) -> String {
    format!("arn:aws:kms:{region}:{ACCOUNT}:key/{key_id}")
}

pub fn alias_arn(region: &str, alias: &str) -> String {
    format!("arn:aws:kms:{region}:{ACCOUNT}:{alias}")
}

/// Lower-case canonical UUID (8-4-4-4-12 hex)?
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().zip([8usize, 4, 4, 4, 12]).all(|(p, n)| {
            p.len() == n
                && p.chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        })
}

/// Create a default symmetric key and return its key id (UUID).
pub async fn create_key(client: &Client) -> String {
    let out = ok(client.create_key().send().await);
    out.key_metadata()
        .map(|m| m.key_id().to_string())
        .expect("CreateKey returned KeyMetadata")
}

pub fn blob(bytes: &[u8]) -> aws_sdk_kms::primitives::Blob {
    aws_sdk_kms::primitives::Blob::new(bytes.to_vec())
}

pub fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

// ---------------------------------------------------------------------------
// Asymmetric / HMAC helpers
// ---------------------------------------------------------------------------

/// Create a key with the given `KeySpec` and `KeyUsage` wire names; returns the key id.
pub async fn create_key_spec(client: &Client, spec: &str, usage: &str) -> String {
    use aws_sdk_kms::types::{KeySpec, KeyUsageType};
    let out = client
        .create_key()
        .key_spec(KeySpec::from(spec))
        .key_usage(KeyUsageType::from(usage))
        .send()
        .await;
    match out {
        Ok(o) => o
            .key_metadata()
            .map(|m| m.key_id().to_string())
            .expect("CreateKey returned KeyMetadata"),
        Err(e) => panic!(
            "CreateKey {spec}/{usage} failed: {:?} {:?}",
            e.code(),
            e.message()
        ),
    }
}

/// Create several keys concurrently (`(KeySpec, KeyUsage)` wire names); ids in input order.
pub async fn create_keys_spec(client: &Client, specs: &[(&str, &str)]) -> Vec<String> {
    let handles: Vec<_> = specs
        .iter()
        .map(|(s, u)| {
            let c = client.clone();
            let (s, u) = (s.to_string(), u.to_string());
            tokio::spawn(async move { create_key_spec(&c, &s, &u).await })
        })
        .collect();
    let mut ids = Vec::with_capacity(handles.len());
    for h in handles {
        ids.push(h.await.expect("CreateKey task"));
    }
    ids
}

/// DescribeKey and return the metadata.
pub async fn describe_key_metadata(client: &Client, key: &str) -> aws_sdk_kms::types::KeyMetadata {
    let out = ok(client.describe_key().key_id(key).send().await);
    out.key_metadata().expect("KeyMetadata").clone()
}

/// GetPublicKey and return the DER SubjectPublicKeyInfo bytes.
pub async fn public_key_der(client: &Client, key: &str) -> Vec<u8> {
    let out = ok(client.get_public_key().key_id(key).send().await);
    out.public_key().expect("PublicKey").as_ref().to_vec()
}

/// Deterministic test bytes of length `len`.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Sorted wire names of an SDK enum list, for order-insensitive comparison.
pub fn names<T: AsRef<str>>(items: &[T]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|i| i.as_ref().to_string()).collect();
    v.sort();
    v
}

/// Sorted owned copy of a list of wire names.
pub fn sorted(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------
// Independent (RustCrypto) checks of asymmetric output
// ---------------------------------------------------------------------------

/// RSASSA algorithm names, in the order AWS lists them.
pub const RSA_SIGNING_ALGS: [&str; 6] = [
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
];

/// The hash that `alg` uses, applied to `msg`.
pub fn hash_for(alg: &str, msg: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256, Sha384, Sha512};
    if alg.ends_with("SHA_256") {
        Sha256::digest(msg).to_vec()
    } else if alg.ends_with("SHA_384") {
        Sha384::digest(msg).to_vec()
    } else if alg.ends_with("SHA_512") {
        Sha512::digest(msg).to_vec()
    } else {
        panic!("no hash for {alg}")
    }
}

/// Verify `sig` independently. `prehashed` means `input` is already the digest.
pub fn verify_local(spec: &str, spki: &[u8], alg: &str, input: &[u8], prehashed: bool, sig: &[u8]) {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::hazmat::PrehashVerifier;
    use rsa::signature::Verifier;
    use sha2::{Sha256, Sha384, Sha512};
    let ctx = format!("{spec}/{alg} prehashed={prehashed}");
    macro_rules! check {
        ($vk:expr, $sig:expr) => {{
            let (vk, s) = ($vk, $sig);
            let r = if prehashed {
                vk.verify_prehash(input, &s)
            } else {
                vk.verify(input, &s)
            };
            r.unwrap_or_else(|e| panic!("independent verification failed for {ctx}: {e}"));
        }};
    }
    if spec.starts_with("RSA_") {
        let pk = rsa::RsaPublicKey::from_public_key_der(spki).expect("RSA SPKI");
        let pss = || rsa::pss::Signature::try_from(sig).expect("PSS signature");
        let v15 = || rsa::pkcs1v15::Signature::try_from(sig).expect("PKCS1 signature");
        match alg {
            "RSASSA_PSS_SHA_256" => check!(rsa::pss::VerifyingKey::<Sha256>::new(pk), pss()),
            "RSASSA_PSS_SHA_384" => check!(rsa::pss::VerifyingKey::<Sha384>::new(pk), pss()),
            "RSASSA_PSS_SHA_512" => check!(rsa::pss::VerifyingKey::<Sha512>::new(pk), pss()),
            "RSASSA_PKCS1_V1_5_SHA_256" => {
                check!(rsa::pkcs1v15::VerifyingKey::<Sha256>::new(pk), v15())
            }
            "RSASSA_PKCS1_V1_5_SHA_384" => {
                check!(rsa::pkcs1v15::VerifyingKey::<Sha384>::new(pk), v15())
            }
            "RSASSA_PKCS1_V1_5_SHA_512" => {
                check!(rsa::pkcs1v15::VerifyingKey::<Sha512>::new(pk), v15())
            }
            _ => panic!("unexpected {ctx}"),
        }
        return;
    }
    match (spec, alg) {
        ("ECC_NIST_P256", "ECDSA_SHA_256") => {
            let vk = p256::ecdsa::VerifyingKey::from_public_key_der(spki).expect("P-256 SPKI");
            check!(vk, p256::ecdsa::Signature::from_der(sig).expect("DER sig"))
        }
        ("ECC_NIST_P384", "ECDSA_SHA_384") => {
            let vk = p384::ecdsa::VerifyingKey::from_public_key_der(spki).expect("P-384 SPKI");
            check!(vk, p384::ecdsa::Signature::from_der(sig).expect("DER sig"))
        }
        ("ECC_NIST_P521", "ECDSA_SHA_512") => {
            let pk = p521::PublicKey::from_public_key_der(spki).expect("P-521 SPKI");
            let vk = p521::ecdsa::VerifyingKey::from_affine(*pk.as_affine()).unwrap();
            check!(vk, p521::ecdsa::Signature::from_der(sig).expect("DER sig"))
        }
        ("ECC_SECG_P256K1", "ECDSA_SHA_256") => {
            let vk = k256::ecdsa::VerifyingKey::from_public_key_der(spki).expect("secp256k1 SPKI");
            let s = k256::ecdsa::Signature::from_der(sig).expect("DER sig");
            // k256 only accepts low-S; KMS need not normalise, and both are valid ECDSA.
            check!(vk, s.normalize_s().unwrap_or(s))
        }
        _ => panic!("unexpected {ctx}"),
    }
}

/// The public key parses with the independent crate as the right kind of key.
pub fn check_spki(spec: &str, der: &[u8]) {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::traits::PublicKeyParts;
    match spec {
        "RSA_2048" | "RSA_3072" | "RSA_4096" => {
            let pk = rsa::RsaPublicKey::from_public_key_der(der).expect("RSA SPKI");
            let bits: usize = spec[4..].parse().unwrap();
            assert_eq!(pk.n().bits(), bits, "{spec} modulus size");
            assert_eq!(pk.e(), &rsa::BigUint::from(65537u32), "{spec} exponent");
        }
        "ECC_NIST_P256" => assert!(p256::PublicKey::from_public_key_der(der).is_ok(), "P-256"),
        "ECC_NIST_P384" => assert!(p384::PublicKey::from_public_key_der(der).is_ok(), "P-384"),
        "ECC_NIST_P521" => assert!(p521::PublicKey::from_public_key_der(der).is_ok(), "P-521"),
        "ECC_SECG_P256K1" => assert!(
            k256::PublicKey::from_public_key_der(der).is_ok(),
            "secp256k1"
        ),
        "ECC_NIST_EDWARDS25519" => {
            assert!(
                ed25519_dalek::VerifyingKey::from_public_key_der(der).is_ok(),
                "Ed25519"
            )
        }
        s if s.starts_with("ML_DSA_") => {
            let raw = match s {
                "ML_DSA_44" => 1312,
                "ML_DSA_65" => 1952,
                _ => 2592,
            };
            // SEQUENCE { AlgorithmIdentifier { OID 2.16.840.1.101.3.4.3.17-19 }, BIT STRING }
            assert_eq!(der.len(), raw + 22, "{s} SPKI length");
            assert_eq!(&der[4..8], &[0x30, 0x0b, 0x06, 0x09], "{s} SPKI algorithm");
        }
        _ => panic!("unexpected {spec}"),
    }
}
