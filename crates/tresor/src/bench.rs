//! `tresor bench`: the load generator of `tresor-bench`, against a given endpoint or a
//! `tresor serve --dev` child started on a temporary data directory.

use crate::cli::BenchArgs;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tresor_bench::ops::Op;
use tresor_bench::sigv4::Credentials;

const READY_PREFIX: &str = "Tresor listening on ";

/// Runs the benchmark and prints the report.
pub fn run(args: BenchArgs) -> Result<(), String> {
    let config = config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    let report = runtime.block_on(async {
        tokio::select! {
            r = bench(&args, config) => r,
            _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
        }
    })?;
    match args.output.as_str() {
        "json" => println!("{}", report.to_json()?),
        _ => print!("{}", tresor_bench::render_table(&report)),
    }
    if let Some(path) = &args.json {
        std::fs::write(path, report.to_json()? + "\n")
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

fn seconds(name: &str, v: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(v).map_err(|_| format!("--{name}: {v} is not a duration"))
}

fn config(args: &BenchArgs) -> Result<tresor_bench::Config, String> {
    let duration = seconds("duration", args.duration)?;
    if duration.is_zero() {
        return Err("--duration must be positive".into());
    }
    if args.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    Ok(tresor_bench::Config {
        endpoint: args.endpoint.clone().unwrap_or_default(),
        credentials: Credentials {
            access_key_id: args.access_key_id.clone(),
            secret_access_key: args.secret_access_key.clone(),
            region: args.region.clone(),
        },
        concurrency: args.concurrency,
        duration,
        warmup: seconds("warmup", args.warmup)?,
        ops: Op::parse_list(&args.ops)?,
        baseline: args.baseline,
        keys: args.keys.max(1),
    })
}

async fn bench(
    args: &BenchArgs,
    mut config: tresor_bench::Config,
) -> Result<tresor_bench::Report, String> {
    let progress = |m: &str| eprintln!("tresor bench: {m}");
    // Kept alive (and the child with it) until the run ends; dropping kills the child.
    let server = match &args.endpoint {
        Some(_) => None,
        None => {
            let server = DevServer::start(&config.credentials).await?;
            progress(&format!(
                "started tresor serve --dev at {} (data in {})",
                server.endpoint,
                server.dir.path().display()
            ));
            config.endpoint = server.endpoint.clone();
            Some(server)
        }
    };
    let report = tresor_bench::run(&config, &progress).await;
    drop(server);
    report
}

/// A `tresor serve --dev` child on a temporary data directory; killed on drop.
struct DevServer {
    child: Child,
    endpoint: String,
    dir: tempfile::TempDir,
}

impl DevServer {
    async fn start(creds: &Credentials) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("finding the tresor binary: {e}"))?;
        let dir = tempfile::Builder::new()
            .prefix("tresor-bench-")
            .tempdir()
            .map_err(|e| format!("creating a temporary data directory: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.args(["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env("TRESOR_LOG", "warn")
            .env("TRESOR_DEV_ACCESS_KEY_ID", &creds.access_key_id)
            .env("TRESOR_DEV_SECRET_ACCESS_KEY", &creds.secret_access_key)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("starting tresor serve: {e}"))?;
        let stdout = child.stdout.take().ok_or("tresor serve: no stdout pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let wait_ready = async {
            while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
                if let Some(url) = line.strip_prefix(READY_PREFIX) {
                    return Ok(url.trim().to_string());
                }
            }
            Err("tresor serve exited before listening".to_string())
        };
        let endpoint = match tokio::time::timeout(Duration::from_secs(30), wait_ready).await {
            Ok(Ok(url)) => url,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err("tresor serve did not start listening within 30 s".into()),
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            endpoint,
            dir,
        })
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        // Reap it (briefly) so it no longer writes to the data directory being removed.
        for _ in 0..100 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
