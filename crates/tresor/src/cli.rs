//! Command-line interface.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Tresor: a self-hosted key management service that speaks the AWS KMS API.
#[derive(Debug, Parser)]
#[command(name = "tresor", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
// Parsed once at start-up: the size of `serve`'s many options does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run the KMS server.
    Serve(ServeArgs),
    /// Load-test a KMS endpoint (by default a `tresor serve --dev` it starts itself).
    Bench(BenchArgs),
    /// Serve `tresor bench`'s two baselines in a process of their own (started by
    /// `tresor bench --baseline`).
    #[command(hide = true)]
    BenchBaseline(BenchBaselineArgs),
    /// Verify, query and follow the audit log.
    Audit(crate::audit_cmd::AuditArgs),
    /// Manage users, access keys and identity policies on a running server.
    Admin(crate::admin_cmd::AdminArgs),
    /// Prepare a production data directory: database, sealed root key, operator key.
    Init(crate::init::InitArgs),
    /// Unseal, seal, rekey and rotate the root key of a running server.
    Operator(crate::operator_cmd::OperatorArgs),
    /// Build a new data directory from a backup file (`tresor admin backup`).
    Restore(crate::backup::RestoreArgs),
    /// Encrypt a file with KMS data keys into an AWS Encryption SDK message.
    Encrypt(crate::encrypt_cmd::EncryptArgs),
    /// Decrypt an AWS Encryption SDK message (strict mode: only data keys of --key).
    Decrypt(crate::encrypt_cmd::DecryptArgs),
    /// Print a shell completion script (e.g. `tresor completions bash > /etc/bash_completion.d/tresor`).
    Completions(crate::docs_cmd::CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a directory.
    Man(crate::docs_cmd::ManArgs),
}

/// `tresor serve`. Every option can also be set by its `TRESOR_*` variable or in the
/// `--config` file (key: the flag's name with `_` for `-`); flag > env > file > default.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML configuration file (see deploy/ and the operator guide).
    #[arg(long, env = "TRESOR_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address and port to listen on (port 0 picks a free port and prints it).
    #[arg(long, env = "TRESOR_LISTEN", default_value = "127.0.0.1:7390")]
    pub listen: SocketAddr,

    /// Data directory: the SQLite database, the audit log, and (dev mode with SQLite)
    /// the root key file. Each node of a cluster has its own.
    #[arg(long, env = "TRESOR_DATA_DIR", default_value = "./tresor-data")]
    pub data_dir: PathBuf,

    /// Where the records live: `sqlite:PATH` (default `sqlite:DATA_DIR/tresor.sqlite`)
    /// or `postgres://USER@HOST:PORT/DB`, shared by any number of nodes (TLS:
    /// `?sslmode=verify-full&sslrootcert=CA.pem`; see docs/many-nodes.md).
    #[arg(long, env = "TRESOR_STORE", value_name = "URL")]
    pub store: Option<String>,

    /// Development mode: create the data directory, a file-sealed root key, the account
    /// 111122223333 and an access key for its root (TRESOR_DEV_ACCESS_KEY_ID /
    /// TRESOR_DEV_SECRET_ACCESS_KEY, default AWS's documented example pair).
    #[arg(long, env = "TRESOR_DEV")]
    pub dev: bool,

    /// Serve TLS with this certificate chain (PEM; the server certificate first).
    #[arg(
        long,
        env = "TRESOR_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(
        long,
        env = "TRESOR_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Require client certificates issued by these CAs (PEM) on every connection.
    #[arg(long, env = "TRESOR_TLS_CLIENT_CA", value_name = "PEM")]
    pub tls_client_ca: Option<PathBuf>,

    /// With --dev: serve TLS with a self-signed development certificate made in
    /// DATA_DIR/tls (trust DATA_DIR/tls/ca.pem, e.g. by AWS_CA_BUNDLE).
    #[arg(
        long,
        env = "TRESOR_TLS",
        requires = "dev",
        conflicts_with = "tls_cert"
    )]
    pub tls: bool,

    /// `GET /metrics` (Prometheus text format): `public` serves it without
    /// authentication, `off` does not serve it.
    #[arg(long, env = "TRESOR_METRICS", default_value = "public", value_parser = ["public", "off"])]
    pub metrics: String,

    /// The web console at `/console/`: `on` serves it, `off` does not.
    #[arg(long, env = "TRESOR_CONSOLE", default_value = "on", value_parser = ["on", "off"])]
    pub console: String,

    /// Seconds without a request after which a console session ends.
    #[arg(
        long,
        env = "TRESOR_CONSOLE_IDLE_TIMEOUT",
        default_value_t = 900,
        value_name = "SECS"
    )]
    pub console_idle_timeout: u64,

    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT.
    #[arg(
        long,
        env = "TRESOR_SHUTDOWN_TIMEOUT",
        default_value_t = 10,
        value_name = "SECS"
    )]
    pub shutdown_timeout: u64,

    /// Request quotas: `none` (default) limits nothing; `aws` applies AWS KMS's default
    /// per-account request rates.
    #[arg(long, env = "TRESOR_QUOTAS", default_value = "none", value_parser = ["none", "aws"])]
    pub quotas: String,

    /// Per-account rate (requests/s) of a quota class (`symmetric`, `rsa`, `ecc`, `ml-dsa`,
    /// `ml-kem`), an operation (`DescribeKey`) or `other`; repeatable, e.g.
    /// `--quota symmetric=500 --quota CreateKey=20`.
    #[arg(
        long = "quota",
        value_name = "CLASS=RATE",
        env = "TRESOR_QUOTA",
        value_delimiter = ','
    )]
    pub quota: Vec<String>,

    /// Failed authentications per second one source address (IPv4, or IPv6 /64) may
    /// sustain; beyond, its requests get ThrottlingException before any lookup.
    #[arg(
        long,
        env = "TRESOR_AUTH_FAILURE_RATE",
        default_value_t = 20.0,
        value_name = "PER_SEC"
    )]
    pub auth_failure_rate: f64,

    /// Failed authentications one source may have in a burst.
    #[arg(
        long,
        env = "TRESOR_AUTH_FAILURE_BURST",
        default_value_t = 50.0,
        value_name = "N"
    )]
    pub auth_failure_burst: f64,

    /// Seconds between runs of the background scheduler (rotation, expiry, deletion).
    #[arg(long, env = "TRESOR_SCHEDULER_INTERVAL", default_value_t = 60)]
    pub scheduler_interval: u64,

    /// Seconds between writes of key usage (GetKeyLastUsage) from memory to the store;
    /// a crash loses at most this much usage, a graceful stop none.
    #[arg(long, env = "TRESOR_KEY_USAGE_FLUSH_INTERVAL", default_value_t = 10)]
    pub key_usage_flush_interval: u64,

    /// Milliseconds a new multi-Region replica stays `Creating`, and the two keys of an
    /// UpdatePrimaryRegion stay `Updating`, before they settle by themselves (AWS's take
    /// a few seconds).
    #[arg(long, env = "TRESOR_MULTI_REGION_TRANSITION_MS", default_value_t = 100)]
    pub multi_region_transition_ms: u64,

    /// Tests only: expose POST /_tresor/test/advance-clock to move the service clock.
    #[arg(long, hide = true, requires = "dev")]
    pub test_clock: bool,

    /// The audit log.
    #[command(flatten)]
    pub audit: crate::audit_cmd::ServeAuditArgs,

    /// PKCS#11 module of a `pkcs11`-sealed data directory (auto-unseal at start).
    #[arg(long, env = "TRESOR_PKCS11_MODULE", value_name = "PATH")]
    pub pkcs11_module: Option<PathBuf>,

    /// File holding the token's user PIN (mode 0600) for a `pkcs11`-sealed directory.
    #[arg(long, env = "TRESOR_PKCS11_PIN_FILE", value_name = "PATH")]
    pub pkcs11_pin_file: Option<PathBuf>,

    /// An HSM "cluster" that AWS_CLOUDHSM custom key stores may use: a PKCS#11 token,
    /// `ID=MODULE_PATH:TOKEN_LABEL` with ID `cluster-` + 11 to 16 of a-z and 2-7;
    /// repeatable.
    #[arg(
        long = "hsm-cluster",
        value_name = "ID=MODULE_PATH:TOKEN_LABEL",
        env = "TRESOR_HSM_CLUSTER",
        value_delimiter = ',',
        value_parser = tresor_core::custom_key_stores::HsmCluster::parse
    )]
    pub hsm_cluster: Vec<tresor_core::custom_key_stores::HsmCluster>,

    /// Also serve the XKS proxy API (AWS KMS external key stores) on this address, with
    /// the same TLS settings as --listen; callers sign with credentials from
    /// `tresor admin xks-credential create`.
    #[arg(long, env = "TRESOR_XKS_LISTEN", value_name = "ADDR")]
    pub xks_listen: Option<SocketAddr>,

    /// Path prefix of the XKS proxy API: it is served at PREFIX/kms/xks/v1 (AWS KMS's
    /// XksProxyUriPath), e.g. `/keystores/prod`.
    #[arg(
        long,
        env = "TRESOR_XKS_URI_PREFIX",
        value_name = "PREFIX",
        default_value = "",
        requires = "xks_listen"
    )]
    pub xks_uri_prefix: String,

    /// CA certificates (PEM) that external key stores (EXTERNAL_KEY_STORE) trust for
    /// their proxies' HTTPS. Default: the system's roots.
    #[arg(long, env = "TRESOR_XKS_CA_FILE", value_name = "PEM")]
    pub xks_ca_file: Option<PathBuf>,

    /// Time limit of one call to an external key store's proxy, in milliseconds (AWS
    /// KMS's is 250).
    #[arg(
        long,
        env = "TRESOR_XKS_TIMEOUT_MS",
        value_name = "MS",
        default_value_t = 250,
        value_parser = clap::value_parser!(u64).range(1..=60_000)
    )]
    pub xks_timeout_ms: u64,

    /// Memory for keys held decrypted in memory, in MiB (a symmetric key takes about
    /// 1 KiB); past it, the least recently used keys are read from storage again. Aliases
    /// and grants get an eighth of it each.
    #[arg(
        long,
        env = "TRESOR_KEY_CACHE_MIB",
        value_name = "MIB",
        default_value_t = 256,
        value_parser = clap::value_parser!(u64).range(1..=1_048_576)
    )]
    pub key_cache_mib: u64,
}

/// `tresor bench-baseline` (hidden).
#[derive(Debug, Args)]
pub struct BenchBaselineArgs {
    /// The Region the minimal endpoint accepts signatures for.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,

    /// Serve TLS with a development certificate made in this directory (`DIR/tls/`),
    /// with `tresor serve`'s rustls configuration.
    #[arg(long, value_name = "DIR")]
    pub tls_dir: Option<PathBuf>,
}

/// `tresor bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// KMS endpoint to measure, `http(s)://HOST:PORT`. Default: start `tresor serve --dev`
    /// on a temporary data directory and a free port, and stop it at the end.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,

    /// CA certificates (PEM) to trust for an https endpoint.
    #[arg(long, env = "AWS_CA_BUNDLE", value_name = "PEM")]
    pub ca_bundle: Option<PathBuf>,

    /// Without --endpoint: measure the started server over `plain` HTTP, over `tls`
    /// (`serve --dev --tls`), or `both` (two servers, one after the other, and the
    /// TLS/plain throughput ratio of each operation).
    #[arg(long, default_value = "plain", value_parser = ["plain", "tls", "both"], conflicts_with = "endpoint")]
    pub transport: String,

    /// Without --endpoint: measure the started server twice, on its SQLite file and then
    /// on this PostgreSQL database (`postgres://USER@HOST:PORT/DB`; a scratch database:
    /// the run's keys stay in it), and report each operation's PostgreSQL/SQLite
    /// throughput ratio.
    #[arg(long, value_name = "URL", conflicts_with_all = ["endpoint", "transport"])]
    pub compare_store: Option<String>,

    /// Concurrent workers, each with its own keep-alive connection.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,

    /// Seconds measured per operation.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub duration: f64,

    /// Seconds of unmeasured load before each measurement.
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    pub warmup: f64,

    /// Comma-separated operations, measured in this order: Encrypt64, Encrypt4k, Decrypt,
    /// GenerateDataKey, ReEncrypt, SignP256, SignRsa2048, Verify, GenerateMac, DescribeKey,
    /// CreateKey, or `all`.
    #[arg(long, default_value = "all")]
    pub ops: String,

    /// Also measure, in process, an HTTP server that only AES-GCM-seals each request body
    /// and a minimal correct KMS Encrypt endpoint (SigV4, JSON, base64, one seal), and
    /// report each operation's throughput and p99 relative to both.
    #[arg(long)]
    pub baseline: bool,

    /// Run the baselines inside the bench process rather than in a child process of
    /// their own (the server measured is always a separate process; a baseline in the
    /// bench's runtime skips a process boundary the server pays for). Only plain HTTP.
    #[arg(long, requires = "baseline")]
    pub baseline_in_process: bool,

    /// Symmetric keys to create; Encrypt and DescribeKey pick one at random per request.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub keys: usize,

    /// The process of the `--endpoint` server, when it runs on this machine: the report
    /// then gives its CPU time per request (read from `/proc`; a started server's is
    /// always given).
    #[arg(long, requires = "endpoint", value_name = "PID")]
    pub server_pid: Option<u32>,

    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// What to print on stdout.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub output: String,

    /// Access key id to sign with (default: the dev key).
    #[arg(long, default_value = "AKIAIOSFODNN7EXAMPLE")]
    pub access_key_id: String,

    /// Secret access key to sign with (default: the dev secret).
    #[arg(
        long,
        env = "TRESOR_BENCH_SECRET_ACCESS_KEY",
        hide_env_values = true,
        default_value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        hide_default_value = true
    )]
    pub secret_access_key: String,

    /// Region to sign for.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,

    /// Measure Encrypt (64 bytes) on a software key, a key in an AWS_CLOUDHSM store on a
    /// fresh SoftHSM2 token (`--softhsm-module`) and a key in an EXTERNAL_KEY_STORE whose
    /// proxy is a second `tresor serve --dev --xks-listen` on loopback, in one run, each
    /// with its ratio to the software key. Starts its own servers.
    #[arg(long, conflicts_with = "endpoint")]
    pub key_stores: bool,

    /// The SoftHSM2 PKCS#11 module for --key-stores.
    #[arg(
        long,
        default_value = "/usr/lib/softhsm/libsofthsm2.so",
        value_name = "PATH"
    )]
    pub softhsm_module: PathBuf,
}
