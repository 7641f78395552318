//! `tresor-bench`: a load generator for Tresor or any AWS KMS endpoint, in the manner of
//! vault-benchmark.
//!
//! For each operation in turn it creates what the operation needs through the API, then
//! runs `concurrency` workers, each on its own keep-alive HTTP/1.1 connection, sending
//! SigV4-signed requests back to back (a closed loop) for the warm-up and then for the
//! measured duration. It reports, per operation, successful requests per second, latency
//! percentiles (HdrHistogram) and errors by type. With `baseline`, it first measures an
//! in-process server that only seals the request body with AES-256-GCM, and a minimal
//! correct KMS Encrypt endpoint (SigV4, JSON, base64, one seal), with the same client work,
//! and reports each operation relative to both.
#![deny(missing_docs)]

pub mod baseline;
pub mod client;
pub mod cpu;
pub mod minimal;
pub mod ops;
pub mod report;
pub mod sigv4;
pub mod stats;

use crate::client::{Client, Endpoint, Outcome};
use crate::ops::{Op, Plan, Preparer, SetupError};
use crate::sigv4::{Credentials, Signer};
use crate::stats::{ratio, Recorder, Summary};
use serde::Serialize;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub use report::{render_table, Report};

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `http://host:port` or `https://host:port` of the KMS endpoint.
    pub endpoint: String,
    /// CA certificates (PEM) to trust for an `https` endpoint.
    pub ca_bundle: Option<std::path::PathBuf>,
    /// Credentials and region to sign with.
    pub credentials: Credentials,
    /// Concurrent workers (one connection each).
    pub concurrency: usize,
    /// Measured time per operation.
    pub duration: Duration,
    /// Unmeasured time per operation before it.
    pub warmup: Duration,
    /// The operations, measured one after the other in this order.
    pub ops: Vec<Op>,
    /// Also measure the in-process baselines: the bare AES-GCM server and the minimal
    /// correct KMS Encrypt endpoint.
    pub baseline: bool,
    /// Where the baselines already run (e.g. in a child process, like the server
    /// measured); `None` starts them in this process.
    pub baselines: Option<Baselines>,
    /// How many symmetric keys to create; Encrypt and DescribeKey pick one at random per
    /// request.
    pub keys: usize,
    /// The measured server's process, when it runs on this machine: each measurement then
    /// reports the server's CPU time per request (from `/proc`).
    pub server_pid: Option<u32>,
}

/// Baseline servers started elsewhere.
#[derive(Debug, Clone)]
pub struct Baselines {
    /// The bare AES-GCM server.
    pub aes: Endpoint,
    /// The minimal KMS Encrypt endpoint.
    pub minimal: Endpoint,
    /// Where they run, for the progress log (e.g. `a child process, over TLS`).
    pub place: String,
    /// Their process, for their CPU time per request.
    pub pid: Option<u32>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            endpoint: "http://127.0.0.1:7390".into(),
            ca_bundle: None,
            credentials: Credentials::default(),
            concurrency: 32,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            ops: Op::ALL.to_vec(),
            baseline: false,
            baselines: None,
            keys: 1,
            server_pid: None,
        }
    }
}

/// How one operation went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Measured.
    Ok,
    /// The server does not support it (CreateKey or the first request answered
    /// `UnsupportedOperationException`); not measured.
    Unsupported,
    /// Its setup failed otherwise; not measured.
    Failed,
}

/// One operation's result.
#[derive(Debug, Clone, Serialize)]
pub struct OpReport {
    /// Operation name (`Encrypt64`, ...).
    pub name: String,
    /// The KMS API operation it sends.
    pub api: String,
    /// Whether it was measured.
    pub status: Status,
    /// Why it was not measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Measurements (zero when not measured).
    #[serde(flatten)]
    pub summary: Summary,
    /// `rps / baseline rps`, with a baseline.
    pub throughput_ratio: Option<f64>,
    /// `p99 / baseline p99`, with a baseline.
    pub p99_ratio: Option<f64>,
    /// `rps / minimal KMS endpoint rps`, with a baseline.
    pub minimal_throughput_ratio: Option<f64>,
    /// `p99 / minimal KMS endpoint p99`, with a baseline.
    pub minimal_p99_ratio: Option<f64>,
    /// The server's CPU time per request over the minimal KMS endpoint's, when both
    /// processes were known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimal_cpu_ratio: Option<f64>,
}

/// How the symmetric keys were created.
#[derive(Debug, Clone, Serialize)]
pub struct KeySetup {
    /// Keys created.
    pub created: usize,
    /// Time it took, in seconds.
    pub seconds: f64,
    /// Keys per second.
    pub keys_per_second: f64,
}

/// Progress messages (to stderr in the CLI).
pub type Progress<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// Runs the benchmark described by `config`.
pub async fn run(config: &Config, progress: Progress<'_>) -> Result<Report, String> {
    if config.concurrency == 0 {
        return Err("concurrency must be at least 1".into());
    }
    if config.duration.is_zero() {
        return Err("duration must be positive".into());
    }
    if config.ops.is_empty() {
        return Err("no operation to run".into());
    }
    let endpoint = Endpoint::parse_with_ca(&config.endpoint, config.ca_bundle.as_deref()).await?;
    let creds = &config.credentials;

    let (baseline, minimal_kms) = if config.baseline {
        let (aes, minimal) = measure_baselines(config, progress).await?;
        (Some(aes), Some(minimal))
    } else {
        (None, None)
    };

    let mut key_setup = None;
    let mut symmetric = Vec::new();
    if config.ops.iter().any(|o| o.needs_symmetric()) {
        let n = config.keys.max(1);
        progress(&format!("Creating {n} symmetric key(s)"));
        let t = Instant::now();
        match ops::create_keys(&endpoint, creds, n, config.concurrency).await {
            Ok(ids) => {
                let secs = t.elapsed().as_secs_f64();
                key_setup = Some(KeySetup {
                    created: ids.len(),
                    seconds: secs,
                    keys_per_second: if secs > 0.0 {
                        ids.len() as f64 / secs
                    } else {
                        0.0
                    },
                });
                symmetric = ids;
            }
            Err(SetupError::Failed(m)) if m.contains("transport error") => {
                return Err(format!("cannot reach {}: {m}", config.endpoint));
            }
            Err(e) => progress(&format!("creating symmetric keys failed: {e}")),
        }
    }

    let mut preparer = Preparer::new(&endpoint, creds, symmetric);
    let mut results = Vec::with_capacity(config.ops.len());
    for &op in &config.ops {
        let (status, detail, summary) = match preparer.plan(op).await {
            Ok(plan) => {
                progress(&format!(
                    "{op}: {} workers, {:.1} s warm-up, {:.1} s",
                    config.concurrency,
                    config.warmup.as_secs_f64(),
                    config.duration.as_secs_f64()
                ));
                let rec =
                    measure(&endpoint, creds, Arc::new(plan), config, config.server_pid).await;
                (Status::Ok, None, rec.summary(config.duration))
            }
            Err(SetupError::Unsupported(m)) => {
                progress(&format!("{op}: unsupported ({m})"));
                (Status::Unsupported, Some(m), Summary::default())
            }
            Err(SetupError::Failed(m)) => {
                progress(&format!("{op}: setup failed ({m})"));
                (Status::Failed, Some(m), Summary::default())
            }
        };
        let ratios = |base: &Option<Summary>| match (base, status) {
            (Some(b), Status::Ok) => (
                ratio(summary.rps, b.rps),
                ratio(summary.latency_ms.p99, b.latency_ms.p99),
            ),
            _ => (None, None),
        };
        let (throughput_ratio, p99_ratio) = ratios(&baseline);
        let (minimal_throughput_ratio, minimal_p99_ratio) = ratios(&minimal_kms);
        let minimal_cpu_ratio = minimal_kms
            .as_ref()
            .and_then(|m| m.server_cpu_us)
            .zip(summary.server_cpu_us)
            .and_then(|(m, s)| ratio(s, m));
        results.push(OpReport {
            name: op.name().into(),
            api: op.api().into(),
            status,
            detail,
            summary,
            throughput_ratio,
            p99_ratio,
            minimal_throughput_ratio,
            minimal_p99_ratio,
            minimal_cpu_ratio,
        });
    }

    Ok(Report {
        endpoint: config.endpoint.clone(),
        region: creds.region.clone(),
        concurrency: config.concurrency,
        duration_s: config.duration.as_secs_f64(),
        warmup_s: config.warmup.as_secs_f64(),
        keys: config.keys.max(1),
        key_setup,
        baseline,
        minimal_kms,
        baseline_place: config.baseline.then(|| {
            config
                .baselines
                .as_ref()
                .map_or_else(|| "in process".to_string(), |b| b.place.clone())
        }),
        operations: results,
    })
}

/// Measures the bare AES-GCM server and then the minimal KMS endpoint: those of
/// `config.baselines`, or ones started in this process.
async fn measure_baselines(
    config: &Config,
    progress: Progress<'_>,
) -> Result<(Summary, Summary), String> {
    let creds = &config.credentials;
    let plan = Arc::new(ops::baseline_plan());
    let run = |what: &str, place: &str, addr: std::net::SocketAddr| {
        progress(&format!(
            "{what} ({place}, on {addr}): {} workers, {:.1} s warm-up, {:.1} s",
            config.concurrency,
            config.warmup.as_secs_f64(),
            config.duration.as_secs_f64()
        ))
    };
    const AES: &str = "Baseline (AES-256-GCM seal)";
    const MINIMAL: &str = "Minimal KMS Encrypt (SigV4, JSON, one seal)";
    if let Some(b) = &config.baselines {
        run(AES, &b.place, b.aes.addr);
        let aes = measure(&b.aes, creds, plan.clone(), config, b.pid).await;
        run(MINIMAL, &b.place, b.minimal.addr);
        let min = measure(&b.minimal, creds, plan, config, b.pid).await;
        return Ok((aes.summary(config.duration), min.summary(config.duration)));
    }
    let server = baseline::BaselineServer::start().await?;
    run(AES, "in process", server.addr());
    // In process, the baselines' CPU is the client's: no server figure.
    let aes = measure(
        &Endpoint::local(server.addr()),
        creds,
        plan.clone(),
        config,
        None,
    )
    .await;
    drop(server);
    let server = minimal::MinimalKms::start(creds).await?;
    run(MINIMAL, "in process", server.addr());
    let min = measure(&Endpoint::local(server.addr()), creds, plan, config, None).await;
    Ok((aes.summary(config.duration), min.summary(config.duration)))
}

/// Runs `config.concurrency` workers sending `plan` to `endpoint` for the warm-up and the
/// duration; returns what they measured after the warm-up, with the CPU time this
/// process and `server_pid` spent from the end of the warm-up until the last answer.
pub async fn measure(
    endpoint: &Endpoint,
    creds: &Credentials,
    plan: Arc<Plan>,
    config: &Config,
    server_pid: Option<u32>,
) -> Recorder {
    let n = config.concurrency.max(1);
    // All workers connect, then the clock starts, then they are released together.
    let ready = Arc::new(tokio::sync::Barrier::new(n + 1));
    let go = Arc::new(tokio::sync::Barrier::new(n + 1));
    let start: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let (warmup, duration) = (config.warmup, config.duration);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let signer = Signer::new(creds.clone(), endpoint.host.clone());
        let mut client = Client::new(endpoint.clone(), signer);
        let (plan, ready, go, start) = (plan.clone(), ready.clone(), go.clone(), start.clone());
        tasks.spawn(async move {
            let mut rec = Recorder::new();
            let mut rng = fastrand::Rng::with_seed(0x5eed ^ i as u64);
            // Connect before the clock starts.
            let _ = client.connect_now().await;
            ready.wait().await;
            go.wait().await;
            let Some(&t0) = start.get() else {
                return rec;
            };
            let measure_from = t0 + warmup;
            let until = measure_from + duration;
            loop {
                let begin = Instant::now();
                if begin >= until {
                    break;
                }
                let outcome = client.call(plan.api, plan.body(&mut rng)).await;
                let end = Instant::now();
                if begin >= measure_from {
                    match outcome.error_kind() {
                        None => rec.success(end - begin),
                        Some(kind) => rec.error(kind),
                    }
                    rec.completed_at(end - measure_from);
                }
                if matches!(outcome, Outcome::Transport(_)) {
                    // Do not spin on a server that is gone.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            rec
        });
    }
    ready.wait().await;
    let t0 = Instant::now();
    let _ = start.set(t0);
    go.wait().await;
    tokio::time::sleep_until((t0 + warmup).into()).await;
    let cpu = cpu::CpuStart::now(server_pid);
    let mut total = Recorder::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(rec) => total.merge(&rec),
            Err(_) => total.error("WorkerFailed"),
        }
    }
    total.set_cpu(cpu.finish());
    total
}
