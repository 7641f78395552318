//! The baselines of `tresor bench --baseline` in a child process of their own, so they
//! run as the measured `tresor serve` does: a separate process with the same runtime and
//! allocator, reached over loopback TCP, and over the same rustls configuration when the
//! server is measured over TLS. (`--baseline-in-process` keeps them in the bench's own
//! runtime, as before.)

use crate::cli::BenchBaselineArgs;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tresor_bench::client::Endpoint;
use tresor_bench::sigv4::Credentials;

const AES_PREFIX: &str = "baseline aes-gcm listening on ";
const MINIMAL_PREFIX: &str = "baseline minimal-kms listening on ";

/// `tresor bench-baseline` (hidden): serves both baselines until killed or stdin closes.
pub fn run(args: BenchBaselineArgs) -> Result<(), String> {
    // As `tresor serve` builds its runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(64)
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    runtime.block_on(serve(args))
}

async fn serve(args: BenchBaselineArgs) -> Result<(), String> {
    let creds = Credentials {
        access_key_id: std::env::var("TRESOR_DEV_ACCESS_KEY_ID")
            .unwrap_or_else(|_| tresor_server::EXAMPLE_ACCESS_KEY_ID.to_string()),
        secret_access_key: std::env::var("TRESOR_DEV_SECRET_ACCESS_KEY")
            .unwrap_or_else(|_| tresor_server::EXAMPLE_SECRET_ACCESS_KEY.to_string()),
        region: args.region.clone(),
    };
    let tls = match &args.tls_dir {
        Some(dir) => {
            let files = crate::dev_tls::ensure(dir)?;
            let config = tresor_server::transport::tls_config(&files.cert, &files.key, None)?;
            Some(Arc::new(config))
        }
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let aes = tresor_bench::baseline::BaselineServer::start_with(tls.clone()).await?;
    let minimal = tresor_bench::minimal::MinimalKms::start_with(&creds, tls).await?;
    println!("{AES_PREFIX}{scheme}://{}", aes.addr());
    println!("{MINIMAL_PREFIX}{scheme}://{}", minimal.addr());
    // Until the parent goes: it kills this process, or its end of stdin closes.
    let _ = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
            line.clear();
        }
    })
    .await;
    Ok(())
}

/// A `tresor bench-baseline` child; killed on drop.
pub(crate) struct BaselineChild {
    _child: Child,
    _dir: tempfile::TempDir,
    /// Its two endpoints, for the bench's `Config::baselines`.
    pub(crate) baselines: tresor_bench::Baselines,
}

impl BaselineChild {
    /// Starts the child, over TLS (a dev certificate of its own) when `tls`.
    pub(crate) async fn start(creds: &Credentials, tls: bool) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("finding the tresor binary: {e}"))?;
        let dir = tempfile::Builder::new()
            .prefix("tresor-bench-baseline-")
            .tempdir()
            .map_err(|e| format!("creating a temporary directory: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.args(["bench-baseline", "--region", &creds.region]);
        if tls {
            cmd.arg("--tls-dir").arg(dir.path());
        }
        let mut child = cmd
            .env("TRESOR_LOG", "warn")
            .env("TRESOR_DEV_ACCESS_KEY_ID", &creds.access_key_id)
            .env("TRESOR_DEV_SECRET_ACCESS_KEY", &creds.secret_access_key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting tresor bench-baseline: {e}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("bench-baseline: no stdout pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let wait = async {
            let (mut aes, mut minimal) = (None, None);
            while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
                if let Some(url) = line.strip_prefix(AES_PREFIX) {
                    aes = Some(url.trim().to_string());
                }
                if let Some(url) = line.strip_prefix(MINIMAL_PREFIX) {
                    minimal = Some(url.trim().to_string());
                }
                if let (Some(a), Some(m)) = (&aes, &minimal) {
                    return Ok((a.clone(), m.clone()));
                }
            }
            Err("tresor bench-baseline exited before listening".to_string())
        };
        let (aes, minimal) = match tokio::time::timeout(Duration::from_secs(30), wait).await {
            Ok(r) => r?,
            Err(_) => return Err("tresor bench-baseline did not start within 30 s".into()),
        };
        let ca = tls.then(|| dir.path().join("tls").join("ca.pem"));
        let pid = child.id();
        let baselines = tresor_bench::Baselines {
            aes: Endpoint::parse_with_ca(&aes, ca.as_deref()).await?,
            minimal: Endpoint::parse_with_ca(&minimal, ca.as_deref()).await?,
            place: if tls {
                "a child process, over TLS as tresor serve --tls".into()
            } else {
                "a child process".into()
            },
            pid,
        };
        Ok(Self {
            _child: child,
            _dir: dir,
            baselines,
        })
    }
}
