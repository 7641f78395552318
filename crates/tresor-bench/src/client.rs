//! One keep-alive HTTP/1.1 connection (hyper 1's client connection API), plain or TLS,
//! sending signed KMS requests one after the other, reconnecting after a transport error.

use crate::sigv4::{Signer, CONTENT_TYPE};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::net::TcpStream;

/// How long one request may take before it counts as a `Timeout`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where to send requests: the address to connect to, the `Host` to sign, and for
/// `https://` the TLS client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Socket address.
    pub addr: SocketAddr,
    /// `host[:port]` as given in the URL (the `Host` header).
    pub host: String,
    /// TLS, for `https://`.
    pub tls: Option<TlsClient>,
}

/// A TLS client configuration and the server name to verify.
#[derive(Clone)]
pub struct TlsClient {
    connector: tokio_rustls::TlsConnector,
    name: rustls_pki_types::ServerName<'static>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TlsClient({:?})", self.name)
    }
}

impl PartialEq for TlsClient {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TlsClient {}

impl TlsClient {
    /// Trusts the CA certificates in `ca` (PEM) to vouch for `host`.
    pub fn new(ca: &Path, host: &str) -> Result<Self, String> {
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls_pki_types::CertificateDer::pem_file_iter(ca)
            .map_err(|e| format!("reading {}: {e}", ca.display()))?
        {
            let c = c.map_err(|e| format!("reading {}: {e}", ca.display()))?;
            roots.add(c).map_err(|e| format!("{}: {e}", ca.display()))?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let name = rustls_pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| format!("TLS server name {host:?}: {e}"))?;
        Ok(Self {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            name,
        })
    }
}

impl Endpoint {
    /// Parses and resolves `http://host[:port][/]` or `https://…`, trusting the CA
    /// bundle named by `AWS_CA_BUNDLE` for `https`.
    pub async fn parse(url: &str) -> Result<Self, String> {
        let ca = std::env::var_os("AWS_CA_BUNDLE").map(std::path::PathBuf::from);
        Self::parse_with_ca(url, ca.as_deref()).await
    }

    /// Parses and resolves `http://host[:port][/]` or `https://…` (trusting `ca`).
    pub async fn parse_with_ca(url: &str, ca: Option<&Path>) -> Result<Self, String> {
        let (rest, https) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
            (Some(r), _) => (r, false),
            (_, Some(r)) => (r, true),
            _ => {
                return Err(format!(
                    "endpoint {url:?}: only http:// and https:// URLs are supported"
                ))
            }
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.is_empty() || host.contains('/') || host.contains('?') {
            return Err(format!(
                "endpoint {url:?}: expected http(s)://HOST[:PORT] with no path"
            ));
        }
        let with_port = if host
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            host.to_string()
        } else {
            format!("{host}:{}", if https { 443 } else { 80 })
        };
        let addr = tokio::net::lookup_host(with_port.as_str())
            .await
            .map_err(|e| format!("resolving {host}: {e}"))?
            .next()
            .ok_or_else(|| format!("resolving {host}: no address"))?;
        let tls = if https {
            let ca = ca.ok_or_else(|| {
                format!("endpoint {url:?}: https needs a CA bundle (--ca-bundle or AWS_CA_BUNDLE)")
            })?;
            let name = match host.rsplit_once(':') {
                Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
                _ => host,
            };
            let name = name.trim_start_matches('[').trim_end_matches(']');
            Some(TlsClient::new(ca, name)?)
        } else {
            None
        };
        Ok(Self {
            addr,
            host: host.to_string(),
            tls,
        })
    }

    /// The endpoint of a local listener.
    pub fn local(addr: SocketAddr) -> Self {
        Self {
            addr,
            host: addr.to_string(),
            tls: None,
        }
    }
}

/// The outcome of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// HTTP 200, with the body.
    Ok(Bytes),
    /// An error response, by `__type` (prefix before `#` removed) or `HTTP <status>`,
    /// with the message when there is one.
    Error {
        /// Error type.
        kind: String,
        /// Message.
        message: String,
    },
    /// The connection failed; the next request reconnects.
    Transport(String),
    /// No answer within [`REQUEST_TIMEOUT`].
    Timeout,
}

impl Outcome {
    /// The error type to count this outcome under, or `None` for a success.
    pub fn error_kind(&self) -> Option<&str> {
        match self {
            Outcome::Ok(_) => None,
            Outcome::Error { kind, .. } => Some(kind),
            Outcome::Transport(_) => Some("TransportError"),
            Outcome::Timeout => Some("Timeout"),
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ok(_) => f.write_str("ok"),
            Outcome::Error { kind, message } => write!(f, "{kind}: {message}"),
            Outcome::Transport(e) => write!(f, "transport error: {e}"),
            Outcome::Timeout => write!(f, "timed out"),
        }
    }
}

/// A client that owns at most one connection at a time.
pub struct Client {
    endpoint: Endpoint,
    signer: Signer,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    /// A client; it connects on first use.
    pub fn new(endpoint: Endpoint, signer: Signer) -> Self {
        Self {
            endpoint,
            signer,
            sender: None,
        }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = TcpStream::connect(self.endpoint.addr)
            .await
            .map_err(|e| format!("connecting to {}: {e}", self.endpoint.addr))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        match &self.endpoint.tls {
            None => handshake(stream).await,
            Some(tls) => {
                let stream = tls
                    .connector
                    .connect(tls.name.clone(), stream)
                    .await
                    .map_err(|e| format!("TLS handshake with {}: {e}", self.endpoint.addr))?;
                handshake(stream).await
            }
        }
    }

    /// Opens the connection now unless one is open.
    pub async fn connect_now(&mut self) -> Result<(), String> {
        if self.sender.as_ref().is_some_and(|s| !s.is_closed()) {
            return Ok(());
        }
        self.sender = Some(self.connect().await?);
        Ok(())
    }

    /// Signs and sends `TrentService.<op>` with `body`, and reads the whole answer.
    pub async fn call(&mut self, op: &str, body: Bytes) -> Outcome {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.call_inner(op, body)).await {
            Ok(o) => o,
            Err(_) => {
                self.sender = None;
                Outcome::Timeout
            }
        }
    }

    async fn call_inner(&mut self, op: &str, body: Bytes) -> Outcome {
        let target = format!("TrentService.{op}");
        // Signed per request, as an SDK does: payload hash, canonical request, signature.
        let sig = self.signer.sign(&target, &body, OffsetDateTime::now_utc());
        let req = Request::post("/")
            .header("host", self.signer.host())
            .header("content-type", CONTENT_TYPE)
            .header("x-amz-date", sig.amz_date)
            .header("x-amz-target", target)
            .header("authorization", sig.authorization)
            .header("content-length", body.len())
            .header("user-agent", "tresor-bench")
            .body(Full::new(body));
        let req = match req {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Error {
                    kind: "InvalidRequest".into(),
                    message: e.to_string(),
                }
            }
        };
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => match self.connect().await {
                Ok(s) => s,
                Err(e) => return Outcome::Transport(e),
            },
        };
        if let Err(e) = sender.ready().await {
            return Outcome::Transport(e.to_string());
        }
        let resp = match sender.send_request(req).await {
            Ok(r) => r,
            Err(e) => return Outcome::Transport(e.to_string()),
        };
        let status = resp.status();
        let body = match resp.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return Outcome::Transport(e.to_string()),
        };
        self.sender = Some(sender);
        if status.is_success() {
            Outcome::Ok(body)
        } else {
            let (kind, message) = error_of(status.as_u16(), &body);
            Outcome::Error { kind, message }
        }
    }
}

/// An HTTP/1.1 client connection over `io`, driven by a background task.
async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the peer closes.
        let _ = conn.await;
    });
    Ok(sender)
}

/// The error type and message of an AWS JSON error body.
pub fn error_of(status: u16, body: &[u8]) -> (String, String) {
    let v: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        v.as_ref()
            .and_then(|v| v.get(name))
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    let kind = field("__type")
        .map(|t| t.rsplit('#').next().unwrap_or_default().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("HTTP {status}"));
    let message = field("message")
        .or_else(|| field("Message"))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    (kind, message)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_stripped_of_their_prefix() {
        let (k, m) = error_of(
            400,
            br#"{"__type":"com.amazonaws.kms#NotFoundException","message":"nope"}"#,
        );
        assert_eq!((k.as_str(), m.as_str()), ("NotFoundException", "nope"));
        let (k, _) = error_of(400, br#"{"__type":"UnsupportedOperationException"}"#);
        assert_eq!(k, "UnsupportedOperationException");
        let (k, m) = error_of(502, b"bad gateway");
        assert_eq!((k.as_str(), m.as_str()), ("HTTP 502", "bad gateway"));
    }

    #[tokio::test]
    async fn endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:7390/").await.unwrap();
        assert_eq!(e.host, "127.0.0.1:7390");
        assert_eq!(e.addr.port(), 7390);
        let e = Endpoint::parse_with_ca("https://127.0.0.1:1", None).await;
        assert!(e.unwrap_err().contains("CA bundle"));
        assert!(Endpoint::parse("http://127.0.0.1:1/kms").await.is_err());
    }
}
