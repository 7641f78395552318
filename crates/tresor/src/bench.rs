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
const XKS_PREFIX: &str = "Tresor XKS proxy listening on ";

/// Runs the benchmark and prints the report.
pub fn run(args: BenchArgs) -> Result<(), String> {
    let config = config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    if args.key_stores {
        return crate::bench_stores::run(&args, config, &runtime);
    }
    // Each run: its label, TLS or not, and the `--store` of the started server.
    let runs: Vec<(&str, bool, Option<&str>)> = match (&args.compare_store, &args.endpoint) {
        (Some(_), Some(_)) => {
            return Err("--compare-store starts its own servers: drop --endpoint".into())
        }
        (Some(url), None) => vec![
            ("sqlite", false, None),
            ("postgres", false, Some(url.as_str())),
        ],
        (None, Some(_)) => vec![("plain", false, None)],
        (None, None) => match args.transport.as_str() {
            "tls" => vec![("tls", true, None)],
            "both" => vec![("plain", false, None), ("tls", true, None)],
            _ => vec![("plain", false, None)],
        },
    };
    let mut reports = Vec::new();
    for &(label, tls, store) in &runs {
        let report = runtime.block_on(async {
            tokio::select! {
                r = bench(&args, config.clone(), tls, store) => r,
                _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
            }
        })?;
        reports.push((label, report));
    }
    let (text, json) = match reports.as_slice() {
        [(_, one)] => (tresor_bench::render_table(one), one.to_json()?),
        [(a, first), (b, second)] => compare((a, first), (b, second))?,
        _ => return Err("no run".into()),
    };
    match args.output.as_str() {
        "json" => println!("{json}"),
        _ => print!("{text}"),
    }
    if let Some(path) = &args.json {
        std::fs::write(path, json + "\n")
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Both tables, then each operation's throughput ratio (second over first); and the
/// JSON `{A: …, B: …, "B_over_A": {op: ratio}}` (e.g. `plain`, `tls`, `tls_over_plain`).
fn compare(
    (a, first): (&str, &tresor_bench::Report),
    (b, second): (&str, &tresor_bench::Report),
) -> Result<(String, String), String> {
    use std::fmt::Write;
    let mut text = String::new();
    let mut ratios = serde_json::Map::new();
    let title = |l: &str| match l {
        "plain" => "plain HTTP".to_string(),
        "tls" => "TLS".to_string(),
        "sqlite" => "SQLite store".to_string(),
        "postgres" => "PostgreSQL store".to_string(),
        other => other.to_string(),
    };
    let _ = writeln!(text, "== {} ==", title(a));
    text.push_str(&tresor_bench::render_table(first));
    let _ = writeln!(text, "\n== {} ==", title(b));
    text.push_str(&tresor_bench::render_table(second));
    let _ = writeln!(text, "\n{} / {} throughput:", title(b), title(a));
    for p in &first.operations {
        let Some(t) = second.operations.iter().find(|t| t.name == p.name) else {
            continue;
        };
        if p.summary.rps > 0.0 {
            let r = t.summary.rps / p.summary.rps;
            let _ = writeln!(
                text,
                "  {:<16} {:>10.0} req/s {a}  {:>10.0} req/s {b}  ratio {r:.3}",
                p.name, p.summary.rps, t.summary.rps
            );
            ratios.insert(p.name.clone(), serde_json::json!(r));
        }
    }
    let mut json = serde_json::Map::new();
    for (label, report) in [(a, first), (b, second)] {
        let v: serde_json::Value =
            serde_json::from_str(&report.to_json()?).map_err(|e| e.to_string())?;
        json.insert(label.to_string(), v);
    }
    json.insert(format!("{b}_over_{a}"), serde_json::Value::Object(ratios));
    Ok((
        text,
        serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?,
    ))
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
    let https = args.transport != "plain"
        || args
            .endpoint
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
    if args.baseline_in_process && https {
        return Err(
            "--baseline-in-process has plain HTTP baselines only: drop it to compare over TLS"
                .into(),
        );
    }
    Ok(tresor_bench::Config {
        endpoint: args.endpoint.clone().unwrap_or_default(),
        ca_bundle: args.ca_bundle.clone(),
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
        baselines: None,
        keys: args.keys.max(1),
        server_pid: args.server_pid,
    })
}

async fn bench(
    args: &BenchArgs,
    mut config: tresor_bench::Config,
    tls: bool,
    store: Option<&str>,
) -> Result<tresor_bench::Report, String> {
    let progress = |m: &str| eprintln!("tresor bench: {m}");
    // Kept alive (and the child with it) until the run ends; dropping kills the child.
    let server = match &args.endpoint {
        Some(_) => None,
        None => {
            let server = DevServer::start(&config.credentials, tls, store).await?;
            progress(&format!(
                "started tresor serve --dev at {} (data in {}{})",
                server.endpoint,
                server.dir.path().display(),
                store
                    .map(|u| format!(", records in {}", crate::store_url::redacted(u)))
                    .unwrap_or_default()
            ));
            config.endpoint = server.endpoint.clone();
            config.server_pid = server.pid();
            if tls {
                config.ca_bundle = Some(server.dir.path().join("tls").join("ca.pem"));
            }
            Some(server)
        }
    };
    // The baselines go over the transport the measured endpoint uses.
    let https = config.endpoint.starts_with("https://");
    // Kept alive until the run ends, like the server.
    let baselines = if args.baseline && !args.baseline_in_process {
        let child = crate::bench_baseline::BaselineChild::start(&config.credentials, https).await?;
        config.baselines = Some(child.baselines.clone());
        Some(child)
    } else {
        None
    };
    let report = tresor_bench::run(&config, &progress).await;
    drop(baselines);
    if let Some(memory) = server.as_ref().and_then(DevServer::memory) {
        progress(&memory);
    }
    drop(server);
    report
}

/// `VmRSS` and `VmHWM` of `/proc/PID/status` (Linux), as a line for the progress log.
fn memory_of(pid: u32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    let mib = |kib: u64| kib as f64 / 1024.0;
    Some(format!(
        "tresor serve resident memory after the run: VmRSS {:.1} MiB (peak VmHWM {:.1} MiB)",
        mib(field("VmRSS:")?),
        mib(field("VmHWM:")?)
    ))
}

/// A `tresor serve --dev` child on a temporary data directory; killed on drop.
pub(crate) struct DevServer {
    child: Child,
    pub(crate) endpoint: String,
    /// The XKS proxy API's base URL (`--xks-listen`), from its banner line.
    pub(crate) xks_url: Option<String>,
    pub(crate) dir: tempfile::TempDir,
}

impl DevServer {
    async fn start(creds: &Credentials, tls: bool, store: Option<&str>) -> Result<Self, String> {
        let flags: Vec<String> = store
            .map(|u| vec!["--store".to_string(), u.to_string()])
            .unwrap_or_default();
        Self::start_with(creds, tls, &flags, &[]).await
    }

    /// Starts with extra `serve` flags and environment variables.
    pub(crate) async fn start_with(
        creds: &Credentials,
        tls: bool,
        flags: &[String],
        envs: &[(String, String)],
    ) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("finding the tresor binary: {e}"))?;
        let dir = tempfile::Builder::new()
            .prefix("tresor-bench-")
            .tempdir()
            .map_err(|e| format!("creating a temporary data directory: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.args(["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(tls.then_some("--tls"))
            .args(flags)
            .envs(envs.iter().map(|(k, v)| (k, v)))
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
        let mut xks_url = None;
        let wait_ready = async {
            while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
                if let Some(url) = line.strip_prefix(XKS_PREFIX) {
                    xks_url = Some(url.trim().to_string());
                }
                if let Some(url) = line.strip_prefix(READY_PREFIX) {
                    return Ok(url.trim().to_string());
                }
            }
            Err("tresor serve exited before listening".to_string())
        };
        let ready = tokio::time::timeout(Duration::from_secs(30), wait_ready).await;
        let endpoint = match ready {
            Ok(Ok(url)) => url,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err("tresor serve did not start listening within 30 s".into()),
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            endpoint,
            xks_url,
            dir,
        })
    }
}

impl DevServer {
    /// The child's resident memory now, where `/proc` tells it.
    fn memory(&self) -> Option<String> {
        memory_of(self.pid()?)
    }

    /// The child's process id, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
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
