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
pub enum Command {
    /// Run the KMS server.
    Serve(ServeArgs),
}

/// `tresor serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free port and prints it).
    #[arg(long, env = "TRESOR_LISTEN", default_value = "127.0.0.1:7390")]
    pub listen: SocketAddr,

    /// Data directory: the SQLite database and, in dev mode, the root key file.
    #[arg(long, env = "TRESOR_DATA_DIR", default_value = "./tresor-data")]
    pub data_dir: PathBuf,

    /// Development mode: create the data directory, a file-sealed root key, the account
    /// 111122223333 and an access key for its root (TRESOR_DEV_ACCESS_KEY_ID /
    /// TRESOR_DEV_SECRET_ACCESS_KEY, default AWS's documented example pair).
    #[arg(long)]
    pub dev: bool,

    /// Request quotas: `none` (default) limits nothing; `aws` applies AWS KMS's default
    /// per-account request rates.
    #[arg(long, env = "TRESOR_QUOTAS", default_value = "none", value_parser = ["none", "aws"])]
    pub quotas: String,

    /// Per-account rate (requests/s) of a quota class (`symmetric`, `rsa`, `ecc`, `ml-dsa`,
    /// `ml-kem`), an operation (`DescribeKey`) or `other`; repeatable, e.g.
    /// `--quota symmetric=500 --quota CreateKey=20`.
    #[arg(long = "quota", value_name = "CLASS=RATE", env = "TRESOR_QUOTA", value_delimiter = ',')]
    pub quota: Vec<String>,

    /// Seconds between runs of the background scheduler (rotation, expiry, deletion).
    #[arg(long, default_value_t = 60)]
    pub scheduler_interval: u64,

    /// Tests only: expose POST /_tresor/test/advance-clock to move the service clock.
    #[arg(long, hide = true, requires = "dev")]
    pub test_clock: bool,
}
