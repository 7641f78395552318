//! `tresor serve`: open the data directory, unseal, bind, print the endpoint, serve
//! (plain or TLS), and on SIGTERM/SIGINT drain, then close and sign the audit log.

use crate::cli::ServeArgs;
use std::io::Write;
use std::sync::Arc;
use tresor_core::quota::RateQuotas;
use tresor_core::{Clock, Kms, KmsConfig, SecretBytes, SystemClock};
use tresor_crypto::FileSealer;
use tresor_server::rejection::{RejectionConfig, Rejections};
use tresor_server::AppState;

/// The account dev mode creates.
pub const DEV_ACCOUNT: &str = "111122223333";
const DEV_ACCESS_KEY_ID: &str = tresor_server::EXAMPLE_ACCESS_KEY_ID;
const DEV_SECRET_ACCESS_KEY: &str = tresor_server::EXAMPLE_SECRET_ACCESS_KEY;

/// Runs the server until SIGINT/SIGTERM.
pub fn run(args: ServeArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        // Storage work runs on blocking threads; a few dozen keep the disk busy, and
        // fewer threads mean fewer per-thread allocator heaps.
        .max_blocking_threads(64)
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let dir = &args.data_dir;
    if args.dev {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    } else if !dir.is_dir() {
        return Err(format!(
            "data directory {} does not exist; run `tresor serve --dev` to create a development setup",
            dir.display()
        ));
    }
    let url = crate::store_url::StoreUrl::parse(args.store.as_deref(), dir)?;
    if args.dev {
        crate::init::check_dev_dir(dir)?;
    } else {
        // A node of a shared database may start without a seal file: it takes the
        // database's (checked again once the store is open).
        let shared = matches!(url, crate::store_url::StoreUrl::Postgres(_));
        crate::init::check_production_dir(dir, shared)?;
        // Before the root key is in memory.
        crate::hardening::lock_memory();
    }
    let opened = crate::store_url::open(&url)?;
    let clock = Arc::new(SystemClock::new());
    // Nodes of one database that start together bootstrap its shared state (the first
    // root generation, the dev account) one after another.
    let (kms, dev_key) = match &opened.postgres {
        Some(pg) => pg
            .with_startup_lock(|| bootstrap(&args, opened.store.clone(), Some(pg), &clock))
            .map_err(|e| format!("the start-up lock: {e}"))??,
        None => bootstrap(&args, opened.store.clone(), None, &clock)?,
    };
    let (kms, seal, audit_file) = (kms.kms, kms.seal, kms.audit_file);
    // Other nodes' changes drop what this one cached about them.
    kms.watch_store();
    // Other nodes' root rotations are taken without a restart.
    if let (Some(seal), Some(_)) = (&seal, &opened.postgres) {
        let seal = Arc::downgrade(seal);
        kms.set_root_follower(Arc::new(move || match seal.upgrade() {
            Some(s) => s.current_root(),
            None => Ok(None),
        }));
        kms.spawn_root_follower()
            .map_err(|e| format!("starting the root follower: {e}"))?;
    }
    if let Err(e) = kms.start_usage_tracking() {
        // The first flush tries again; until then this process's start is reported.
        tracing::warn!("recording the key usage tracking start: {e:?}");
    }

    let (tls, ca_bundle) = tls_config(&args)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("listening on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let xks_listener = match args.xks_listen {
        Some(at) => {
            tresor_server::xks::check_prefix(&args.xks_uri_prefix)?;
            let l = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| format!("listening on {at} (--xks-listen): {e}"))?;
            let xks_addr = l.local_addr().map_err(|e| e.to_string())?;
            // Before the ready line, so whoever waits for that line has this one too.
            println!(
                "Tresor XKS proxy listening on {}://{xks_addr}{}/kms/xks/v1",
                if tls.is_some() { "https" } else { "http" },
                args.xks_uri_prefix
            );
            Some(l)
        }
        None => None,
    };
    let banner = Banner {
        scheme: if tls.is_some() { "https" } else { "http" },
        addr,
        dev_key: dev_key.as_ref(),
        ca_bundle: ca_bundle.as_deref(),
    };
    banner.print();
    if kms.is_sealed() {
        println!(
            "Tresor is sealed: unseal it with `tresor operator unseal --endpoint {}://{addr}` (one share per call)",
            banner.scheme
        );
    }

    tokio::spawn(tresor_server::run_scheduler(
        kms.clone(),
        std::time::Duration::from_secs(args.scheduler_interval.max(1)),
    ));
    kms.set_transition_delay(std::time::Duration::from_millis(
        args.multi_region_transition_ms,
    ));
    tokio::spawn(tresor_server::run_transitions(kms.clone()));
    tokio::spawn(tresor_server::run_usage_flusher(
        kms.clone(),
        std::time::Duration::from_secs(args.key_usage_flush_interval.max(1)),
    ));
    let usage_kms = kms.clone();
    let state = Arc::new(AppState {
        metrics: tresor_server::metrics::Metrics::new(kms.clone()),
        kms,
        signing_keys: Default::default(),
        test_clock: args.test_clock.then_some(clock),
        rejections: Rejections::new(rejection_config(&args)?),
        accept_example_key: args.dev,
        seal: seal.map(|s| {
            crate::store_backup::seal_control(
                s as Arc<dyn tresor_server::operator::SealControl>,
                opened.postgres.is_some(),
            )
        }),
        serve_metrics: args.metrics == "public",
        console: (args.console == "on").then(|| {
            tresor_server::console::Console::new(tresor_server::console::ConsoleConfig {
                idle_timeout: std::time::Duration::from_secs(args.console_idle_timeout.max(1)),
                audit_dir: (args.audit.audit_sink == crate::audit_cmd::SinkKind::File).then(|| {
                    args.audit
                        .audit_dir
                        .clone()
                        .unwrap_or_else(|| dir.join("audit"))
                }),
                ..Default::default()
            })
        }),
    });
    let drain = std::time::Duration::from_secs(args.shutdown_timeout);
    // One signal stops both listeners.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let xks = xks_listener.map(|l| {
        tokio::spawn(tresor_server::serve_xks(
            l,
            state.clone(),
            args.xks_uri_prefix.clone(),
            tls.clone(),
            stopped(stop_rx.clone()),
            drain,
        ))
    });
    let mut drained = tresor_server::serve(listener, state, tls, stopped(stop_rx), drain).await;
    if let Some(task) = xks {
        drained &= task.await.unwrap_or(false);
    }
    if drained {
        tracing::info!("in-flight requests finished");
    }
    // What the last requests recorded is kept across the restart.
    tresor_server::flush_key_usage(&usage_kms).await;
    if let Some(audit) = audit_file {
        // Seal the current audit file with a signed digest.
        audit
            .close()
            .map_err(|e| format!("closing the audit log: {e}"))?;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The service a node serves, before it listens.
struct Started {
    kms: Arc<Kms>,
    seal: Option<Arc<crate::seal_control::ServerSeal>>,
    audit_file: Option<Arc<tresor_audit::FileAuditSink>>,
}

/// Opens the service over `store`: dev root key (file, or the shared database's),
/// quotas, audit log, seal, and the dev access key.
fn bootstrap(
    args: &ServeArgs,
    store: Arc<dyn tresor_store::Store>,
    postgres: Option<&Arc<tresor_store::PostgresStore>>,
    clock: &Arc<SystemClock>,
) -> Result<(Started, Option<(String, bool)>), String> {
    let dir = &args.data_dir;
    let mut kms = if args.dev {
        let root = match postgres {
            Some(pg) => crate::store_url::dev_root_in_database(pg, clock.now_ms())?,
            None => FileSealer::new(dir.join("root.key"))
                .load_or_create()
                .map_err(|e| e.to_string())?,
        };
        Kms::new(store.clone(), root, clock.clone(), kms_config(args))
            .map_err(|e| format!("opening the data directory: {e:?}"))?
    } else {
        // Unsealed below: from the HSM at once, or by shares over the API.
        Kms::new_sealed(store.clone(), clock.clone(), kms_config(args))
    };
    if let Some(quotas) = quotas(args)? {
        kms = kms.with_quota(Arc::new(quotas));
    }
    let (audit_sink, audit_file) = crate::audit_cmd::open_sink(&args.audit, dir)?;
    kms = kms.with_audit(audit_sink);
    kms = kms.with_hsm_clusters(args.hsm_cluster.clone());
    let xks_client = tresor_server::xks_client::HttpXksTransport::new(
        args.xks_ca_file.as_deref(),
        std::time::Duration::from_millis(args.xks_timeout_ms),
        tokio::runtime::Handle::current(),
    )?;
    kms = kms.with_xks_transport(Arc::new(xks_client));
    let kms = Arc::new(kms);
    let seal = if args.dev {
        None
    } else {
        // The database's seal is the deployment's: this directory's copy is made,
        // refreshed or refused here, before anything unseals.
        let synced = crate::seal_store::sync(dir, store.as_ref(), clock.now_ms())?;
        crate::init::check_production_dir(dir, false)?;
        let shared = crate::seal_control::Shared {
            store: store.clone(),
            postgres: postgres.cloned(),
            revision: match synced {
                crate::seal_store::Synced::Current { revision } => revision,
                crate::seal_store::Synced::Uninitialized => 0,
            },
        };
        Some(crate::init::open_seal(args, dir, kms.clone(), shared)?)
    };

    let dev_key = if args.dev {
        let akid =
            std::env::var("TRESOR_DEV_ACCESS_KEY_ID").unwrap_or_else(|_| DEV_ACCESS_KEY_ID.into());
        let secret = std::env::var("TRESOR_DEV_SECRET_ACCESS_KEY")
            .unwrap_or_else(|_| DEV_SECRET_ACCESS_KEY.into());
        let root_arn = tresor_core::ids::account_root_arn(DEV_ACCOUNT);
        kms.ensure_access_key(
            &akid,
            &SecretBytes::new(secret.clone().into_bytes()),
            DEV_ACCOUNT,
            &root_arn,
            true,
        )
        .map_err(|e| format!("creating the dev access key: {e:?}"))?;
        Some((akid, secret == DEV_SECRET_ACCESS_KEY))
    } else {
        None
    };
    Ok((
        Started {
            kms,
            seal,
            audit_file,
        },
        dev_key,
    ))
}

/// The TLS configuration the flags ask for, and the CA file to print for `--dev --tls`.
fn tls_config(
    args: &ServeArgs,
) -> Result<(Option<Arc<rustls::ServerConfig>>, Option<String>), String> {
    let client_ca = args.tls_client_ca.as_deref();
    if args.tls {
        let files = crate::dev_tls::ensure(&args.data_dir)?;
        let config = tresor_server::transport::tls_config(&files.cert, &files.key, client_ca)?;
        let ca = files.ca.canonicalize().unwrap_or(files.ca);
        return Ok((Some(Arc::new(config)), Some(ca.display().to_string())));
    }
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let config = tresor_server::transport::tls_config(cert, key, client_ca)?;
            Ok((Some(Arc::new(config)), None))
        }
        _ if client_ca.is_some() => {
            Err("--tls-client-ca needs TLS: give --tls-cert and --tls-key (or --dev --tls)".into())
        }
        _ => Ok((None, None)),
    }
}

/// The limits on failed authentications the flags ask for.
/// The service's tunables from `serve`'s flags.
fn kms_config(args: &ServeArgs) -> KmsConfig {
    let mib = usize::try_from(args.key_cache_mib).unwrap_or(usize::MAX >> 20);
    KmsConfig {
        key_cache_bytes: mib.saturating_mul(1 << 20),
    }
}

fn rejection_config(args: &ServeArgs) -> Result<RejectionConfig, String> {
    let (rate, burst) = (args.auth_failure_rate, args.auth_failure_burst);
    if !(rate.is_finite() && rate > 0.0 && burst.is_finite() && burst >= 1.0) {
        return Err(format!(
            "--auth-failure-rate must be > 0 and --auth-failure-burst >= 1 (got {rate}, {burst})"
        ));
    }
    Ok(RejectionConfig {
        rate,
        burst,
        ..RejectionConfig::default()
    })
}

/// The request quotas the flags ask for, if any.
fn quotas(args: &ServeArgs) -> Result<Option<RateQuotas>, String> {
    if args.quotas == "none" && args.quota.is_empty() {
        return Ok(None);
    }
    let mut q = if args.quotas == "aws" {
        RateQuotas::aws_defaults()
    } else {
        RateQuotas::new()
    };
    for setting in &args.quota {
        let (class, rate) = RateQuotas::parse_setting(setting)?;
        q.set(&class, rate);
    }
    Ok(Some(q))
}

/// What `serve` prints once it listens.
struct Banner<'a> {
    scheme: &'static str,
    addr: std::net::SocketAddr,
    dev_key: Option<&'a (String, bool)>,
    ca_bundle: Option<&'a str>,
}

impl Banner<'_> {
    fn print(&self) {
        let (scheme, addr) = (self.scheme, self.addr);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "Tresor listening on {scheme}://{addr}");
        if let Some(ca) = self.ca_bundle {
            let _ = writeln!(out, "AWS_CA_BUNDLE={ca}");
        }
        if let Some(dev_key) = self.dev_key {
            dev_hint(&mut out, scheme, addr, dev_key, self.ca_bundle);
        }
        let _ = out.flush();
    }
}

fn dev_hint(
    out: &mut impl Write,
    scheme: &str,
    addr: std::net::SocketAddr,
    (akid, default_secret): &(String, bool),
    ca_bundle: Option<&str>,
) {
    let secret = if *default_secret {
        DEV_SECRET_ACCESS_KEY
    } else {
        "$TRESOR_DEV_SECRET_ACCESS_KEY"
    };
    let _ = writeln!(
        out,
        "Development mode: account {DEV_ACCOUNT}, access key {akid}"
    );
    let _ = writeln!(out, "Try:");
    let _ = writeln!(
            out,
            "  {}AWS_ACCESS_KEY_ID={akid} AWS_SECRET_ACCESS_KEY={secret} AWS_DEFAULT_REGION=us-east-1 \\\n    aws --endpoint-url {scheme}://{addr} kms create-key",
            ca_bundle.map(|c| format!("AWS_CA_BUNDLE={c} ")).unwrap_or_default()
        );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
