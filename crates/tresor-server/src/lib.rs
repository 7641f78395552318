//! Tresor's HTTP front: the AWS JSON 1.1 protocol over HTTP/1.1 or h2, plain or TLS,
//! SigV4 authentication, and hand-off to the core's pipeline; health, metrics and the
//! web console; and the XKS proxy API on its own listener.
#![deny(missing_docs)]

mod api;
pub mod console;
mod headers;
pub mod metrics;
pub mod operator;
pub mod rejection;
mod response;
pub mod sigv4;
mod sts;
pub mod transport;
pub mod xks;
pub mod xks_client;

use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tresor_core::{Kms, SystemClock};

/// The largest request body accepted (the largest legal KMS request is well below).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// AWS's documented example access key id: accepted only in dev mode.
pub const EXAMPLE_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// AWS's documented example secret: accepted only in dev mode, under any key id.
pub const EXAMPLE_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// What the HTTP layer shares between requests.
pub struct AppState {
    /// The service.
    pub kms: Arc<Kms>,
    /// Derived SigV4 signing keys.
    pub signing_keys: sigv4::SigningKeys,
    /// When set, `POST /_tresor/test/advance-clock` moves this clock (tests only).
    pub test_clock: Option<Arc<SystemClock>>,
    /// Per-source limits on failed authentications and their audit records.
    pub rejections: rejection::Rejections,
    /// Accept AWS's documented example credentials (dev mode).
    pub accept_example_key: bool,
    /// The seal (unseal, seal, rekey, root rotation); `None` in dev mode.
    pub seal: Option<Arc<dyn operator::SealControl>>,
    /// Request counters and latency histograms.
    pub metrics: metrics::Metrics,
    /// Route `GET /metrics`.
    pub serve_metrics: bool,
    /// The web console at `/console/`, when served.
    pub console: Option<console::Console>,
}

/// The router: the KMS API at `POST /`, `GET /health`, `GET /metrics` and the test
/// clock when enabled.
pub fn router(state: Arc<AppState>) -> Router {
    let mut r = Router::new()
        .route("/", post(api::kms_api).fallback(api::not_found))
        .route("/health", get(api::health))
        .route("/tresor/operator/seal-status", get(operator::seal_status))
        .route("/tresor/operator/unseal", post(operator::unseal));
    if state.serve_metrics {
        r = r.route("/metrics", get(api::metrics));
    }
    if state.test_clock.is_some() {
        r = r.route("/_tresor/test/advance-clock", post(api::advance_clock));
    }
    if state.console.is_some() {
        r = r.merge(console::routes());
    }
    r.fallback(api::not_found).with_state(state)
}

/// Serves `router` on `listener` (over TLS when `tls` is set) until `shutdown`
/// completes, then drains in-flight requests for at most `drain`. Returns whether the
/// drain completed in time.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> bool {
    let flusher = tokio::spawn(flush_rejections(state.clone()));
    let served = transport::serve(
        listener,
        router(state.clone()),
        Some(state.clone()),
        tls,
        shutdown,
        drain,
    )
    .await;
    flusher.abort();
    // Whatever is still counted goes on the record before the log is closed.
    let window = state.rejections.window();
    for s in state.rejections.due(std::time::Instant::now() + window) {
        api::audit_suppressed(&state.kms, &s);
    }
    served
}

/// Serves the XKS proxy API under `prefix` on `listener` (over TLS when `tls` is set)
/// until `shutdown` completes, sharing `state` (service, credentials, limits, metrics)
/// with the KMS listener. Returns whether the drain completed in time.
pub async fn serve_xks(
    listener: TcpListener,
    state: Arc<AppState>,
    prefix: String,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> bool {
    transport::serve(
        listener,
        xks::router(state, prefix),
        None,
        tls,
        shutdown,
        drain,
    )
    .await
}

/// Writes the aggregated records of refused requests once per window.
async fn flush_rejections(state: Arc<AppState>) {
    let window = state.rejections.window();
    loop {
        tokio::time::sleep(window).await;
        let s = state.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for due in s.rejections.due(std::time::Instant::now()) {
                api::audit_suppressed(&s.kms, &due);
            }
        })
        .await;
    }
}

/// Writes the key usage recorded in memory (GetKeyLastUsage) to the store every
/// `every`, forever; [`flush_key_usage`] once more at shutdown.
pub async fn run_usage_flusher(kms: Arc<Kms>, every: std::time::Duration) {
    loop {
        tokio::time::sleep(every).await;
        flush_key_usage(&kms).await;
    }
}

/// Writes the key usage recorded in memory to the store now (off the async threads).
pub async fn flush_key_usage(kms: &Arc<Kms>) {
    let k = kms.clone();
    match tokio::task::spawn_blocking(move || k.flush_key_usage()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!("flushing key usage (kept for the next try): {e:?}"),
        Err(e) => tracing::error!("key usage flush task failed: {e}"),
    }
}

/// Settles keys in a transient state (`Creating`, `Updating`) as they fall due, forever:
/// it sleeps until the next one is due or a new one starts. (Keys found in such a state
/// in the store, e.g. after a crash, are adopted by [`run_scheduler`]'s jobs.)
pub async fn run_transitions(kms: Arc<Kms>) {
    let started = Arc::new(tokio::sync::Notify::new());
    let wake = started.clone();
    kms.set_transition_waker(move || wake.notify_one());
    let pause = std::time::Duration::from_secs(1);
    loop {
        if kms.is_sealed() {
            tokio::time::sleep(pause).await;
            continue;
        }
        match kms.next_transition_in() {
            None => started.notified().await,
            Some(wait) if !wait.is_zero() => {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = started.notified() => continue,
                }
            }
            Some(_) => {}
        }
        let k = kms.clone();
        match tokio::task::spawn_blocking(move || k.run_due_transitions()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::error!("settling transient key states: {e:?}");
                tokio::time::sleep(pause).await;
            }
            Err(e) => {
                tracing::error!("transient key state task failed: {e}");
                tokio::time::sleep(pause).await;
            }
        }
    }
}

/// Runs due background jobs now and then every `every`, forever.
pub async fn run_scheduler(kms: Arc<Kms>, every: std::time::Duration) {
    loop {
        if kms.is_sealed() {
            tokio::time::sleep(every).await;
            continue;
        }
        let k = kms.clone();
        match tokio::task::spawn_blocking(move || k.run_due_jobs()).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(deleted = n, "scheduler ran due jobs"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!("scheduler: {e:?}"),
            Err(e) => tracing::error!("scheduler task failed: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}
