//! The baseline: a minimal keep-alive HTTP/1.1 server (hyper 1) that seals each request
//! body once with AES-256-GCM (aws-lc-rs) and returns it. No authentication, no parsing,
//! no storage: what is left is the HTTP round trip, the client's signing and one AEAD seal,
//! the floor a KMS operation cannot go below on the same machine.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The largest body the baseline accepts.
const MAX_BODY: usize = 1024 * 1024;

/// A running baseline server; stopped on drop.
pub struct BaselineServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl BaselineServer {
    /// Binds 127.0.0.1:0 and serves plain HTTP in the current runtime.
    pub async fn start() -> Result<Self, String> {
        Self::start_with(None).await
    }

    /// Binds 127.0.0.1:0 and serves in the current runtime, over TLS with `tls`.
    pub async fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("baseline server: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("baseline server: {e}"))?;
        let mut raw = [0u8; 32];
        SystemRandom::new()
            .fill(&mut raw)
            .map_err(|_| "baseline server: no randomness".to_string())?;
        let key = UnboundKey::new(&AES_256_GCM, &raw)
            .map_err(|_| "baseline server: bad key".to_string())?;
        let key = Arc::new(LessSafeKey::new(key));
        let task = tokio::spawn(serve(listener, tls, move |req| handle(req, key.clone())));
        Ok(Self { addr, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for BaselineServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves HTTP/1.1 keep-alive connections from `listener` with `handler`, over TLS when
/// `tls` is set, forever (the accept loop of both baselines).
pub(crate) async fn serve<F, Fut>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: F,
) where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let acceptor = tls.clone().map(tokio_rustls::TlsAcceptor::from);
        conns.spawn(async move {
            let svc = service_fn(handler);
            let mut http = hyper::server::conn::http1::Builder::new();
            http.keep_alive(true);
            match acceptor {
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                }
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                }
            }
        });
        // Reap finished connections so the set does not grow without bound.
        while conns.try_join_next().is_some() {}
    }
}

async fn handle(
    req: Request<Incoming>,
    key: Arc<LessSafeKey>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(status(StatusCode::PAYLOAD_TOO_LARGE)),
    };
    match seal(&key, &body) {
        Some(out) => {
            let mut resp = Response::new(Full::new(Bytes::from(out)));
            resp.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/octet-stream"),
            );
            Ok(resp)
        }
        None => Ok(status(StatusCode::INTERNAL_SERVER_ERROR)),
    }
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = code;
    r
}

/// `nonce || ciphertext || tag` with a random 96-bit nonce.
pub fn seal(key: &LessSafeKey, plaintext: &[u8]) -> Option<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).ok()?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let data = out.get_mut(NONCE_LEN..)?;
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), data)
        .ok()?;
    out.extend_from_slice(tag.as_ref());
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::client::{Client, Endpoint, Outcome};
    use crate::sigv4::{Credentials, Signer};

    #[test]
    fn seal_round_trips() {
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
        let out = seal(&key, b"hello").unwrap();
        assert_eq!(out.len(), NONCE_LEN + 5 + 16);
        let nonce = Nonce::try_assume_unique_for_key(&out[..NONCE_LEN]).unwrap();
        let mut ct = out[NONCE_LEN..].to_vec();
        let pt = key.open_in_place(nonce, Aad::empty(), &mut ct).unwrap();
        assert_eq!(pt, b"hello");
    }

    #[tokio::test]
    async fn serves_sealed_bodies_over_keep_alive() {
        let server = BaselineServer::start().await.unwrap();
        let ep = Endpoint::local(server.addr());
        let signer = Signer::new(Credentials::default(), ep.host.clone());
        let mut client = Client::new(ep, signer);
        for _ in 0..3 {
            match client.call("Encrypt", Bytes::from_static(b"{}")).await {
                Outcome::Ok(b) => assert_eq!(b.len(), NONCE_LEN + 2 + 16),
                other => panic!("{other}"),
            }
        }
    }
}
