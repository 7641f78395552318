//! The accept loop: plain TCP or TLS (rustls, ALPN `h2` and `http/1.1`), HTTP/1.1 and
//! HTTP/2 by hyper-util's auto builder, and a bounded graceful drain on shutdown.

use crate::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::Method;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// How the request reached the server; handlers read it from the request's extensions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transport {
    /// The connection is TLS (`aws:SecureTransport`).
    pub secure: bool,
}

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS server configuration for a certificate chain and key (PEM files), requiring
/// and verifying client certificates issued by `client_ca` when given.
pub fn tls_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<rustls::ServerConfig, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("reading --tls-cert {}: {e}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("reading --tls-cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("--tls-cert {}: no certificate", cert.display()));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("reading --tls-key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(ca)
                .map_err(|e| format!("reading --tls-client-ca {}: {e}", ca.display()))?
            {
                let c = c.map_err(|e| format!("reading --tls-client-ca {}: {e}", ca.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("--tls-client-ca {}: {e}", ca.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("--tls-client-ca {}: no certificate", ca.display()));
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(|e| format!("--tls-client-ca {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, private)
        .map_err(|e| format!("--tls-cert/--tls-key: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Serves `app` on `listener` (over TLS when `tls` is set) until `shutdown` completes,
/// then stops accepting and waits up to `drain` for in-flight requests. Returns whether
/// every connection finished within the bound. With `api`, `POST /` (every KMS API
/// call) goes straight to [`crate::api::kms_api`] rather than through the router, whose
/// matching, boxing and extractors cost ~2.5 % of the server's CPU per call; `app`
/// must route `POST /` to the same handler.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    api: Option<Arc<AppState>>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> bool {
    let acceptor = tls.map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let builder = Arc::new(Builder::new(TokioExecutor::new()));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let conn = Connection {
                        app: app.clone(),
                        api: api.clone(),
                        builder: builder.clone(),
                        watcher: graceful.watcher(),
                    };
                    tokio::spawn(conn.run(tcp, peer, acceptor.clone()));
                }
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(
        connections = open,
        "shutting down: draining in-flight requests"
    );
    match tokio::time::timeout(drain, graceful.shutdown()).await {
        Ok(()) => true,
        Err(_) => {
            tracing::warn!(
                "connections still open after {} s; closing them",
                drain.as_secs_f64()
            );
            false
        }
    }
}

/// Where one request goes.
enum Route {
    Api(Arc<AppState>),
    Router(Router),
}

/// One accepted connection.
struct Connection {
    app: Router,
    api: Option<Arc<AppState>>,
    builder: Arc<Builder<TokioExecutor>>,
    watcher: hyper_util::server::graceful::Watcher,
}

impl Connection {
    async fn run(self, tcp: TcpStream, peer: SocketAddr, tls: Option<TlsAcceptor>) {
        let _ = tcp.set_nodelay(true);
        match tls {
            None => self.serve(TokioIo::new(tcp), peer, false).await,
            Some(acceptor) => {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => self.serve(TokioIo::new(stream), peer, true).await,
                    Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            }
        }
    }

    async fn serve<I>(self, io: I, peer: SocketAddr, secure: bool)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let (app, api) = (self.app, self.api);
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(Transport { secure });
            host_from_authority(&mut req);
            let route = match &api {
                Some(state) if req.method() == Method::POST && req.uri().path() == "/" => {
                    Route::Api(state.clone())
                }
                _ => Route::Router(app.clone()),
            };
            async move {
                match route {
                    Route::Api(state) => {
                        let req = req.map(Body::new);
                        Ok(crate::api::kms_api(State(state), ConnectInfo(peer), req).await)
                    }
                    Route::Router(mut app) => {
                        req.extensions_mut().insert(ConnectInfo(peer));
                        tower_service::Service::call(&mut app, req).await
                    }
                }
            }
        });
        let conn = self.builder.serve_connection(io, service);
        if let Err(e) = self.watcher.watch(conn.into_owned()).await {
            tracing::debug!(%peer, "connection ended: {e}");
        }
    }
}

/// HTTP/2 carries the host in `:authority`; SigV4 signs it as `host`, so it becomes
/// the `Host` header when the request has none.
fn host_from_authority<B>(req: &mut hyper::Request<B>) {
    if req.headers().contains_key(hyper::header::HOST) {
        return;
    }
    let host = req
        .uri()
        .authority()
        .and_then(|a| hyper::header::HeaderValue::from_str(a.as_str()).ok());
    if let Some(h) = host {
        req.headers_mut().insert(hyper::header::HOST, h);
    }
}
