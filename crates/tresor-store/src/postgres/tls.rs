//! TLS to PostgreSQL: libpq's `sslmode` and `sslrootcert` URL parameters, over rustls.
//!
//! | `sslmode` | TLS | certificate checked |
//! | --- | --- | --- |
//! | `disable` | never | — |
//! | `prefer` (default) | if the server offers it | no |
//! | `require` | always: a server without TLS is refused | no (as `verify-ca` with `sslrootcert`) |
//! | `verify-ca` | always | chains to a trusted root |
//! | `verify-full` | always | chains to a trusted root and names the host |
//!
//! The trusted roots are the PEM file `sslrootcert=PATH`, or the system's
//! (`sslrootcert=system`, or no `sslrootcert`). tokio-postgres itself only knows
//! `disable`/`prefer`/`require`: the stricter modes run as `require` (so the server
//! cannot downgrade to plain text) with a verifier that does the checking.

use crate::{StoreError, StoreResult};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::SslMode as PgSslMode;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

/// What `sslmode` asks of every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// TLS when the server offers it, its certificate unchecked.
    Prefer,
    /// TLS always, its certificate unchecked.
    Require,
    /// TLS always, the certificate chaining to a trusted root.
    VerifyCa,
    /// TLS always, the certificate chaining to a trusted root and valid for the host.
    VerifyFull,
}

/// Where the trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    /// The system's trust store.
    System,
    /// A PEM file of one or more certificates.
    File(PathBuf),
}

/// The TLS parameters of a PostgreSQL URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// The effective mode (`require` with `sslrootcert` is `verify-ca`, as in libpq).
    pub mode: SslMode,
    /// The trusted roots, for the verifying modes.
    pub roots: RootCerts,
}

fn invalid(msg: String) -> StoreError {
    StoreError::Backend(format!("invalid PostgreSQL URL: {msg}"))
}

/// Percent-decodes a URL query value.
fn decode(v: &str) -> StoreResult<String> {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = v
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| invalid(format!("bad percent escape in {v}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid(format!("{v} is not UTF-8")))
}

/// Splits the TLS parameters off `url`: the URL left for tokio-postgres, and the
/// options. Unknown `sslmode` values (and libpq's `allow`) are refused.
pub fn split_url(url: &str) -> StoreResult<(String, TlsOptions)> {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, q),
        None => (url, ""),
    };
    let (mut mode, mut root) = (None, None);
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => mode = Some(decode(v)?),
            "sslrootcert" => root = Some(decode(v)?),
            _ => kept.push(pair),
        }
    }
    let roots = match root.as_deref() {
        None | Some("system") => RootCerts::System,
        Some("") => return Err(invalid("sslrootcert needs a path".into())),
        Some(p) => RootCerts::File(PathBuf::from(p)),
    };
    let mode =
        match mode.as_deref() {
            None | Some("prefer") => SslMode::Prefer,
            Some("disable") => SslMode::Disable,
            Some("require") if matches!(roots, RootCerts::File(_)) => SslMode::VerifyCa,
            Some("require") => SslMode::Require,
            Some("verify-ca") => SslMode::VerifyCa,
            Some("verify-full") => SslMode::VerifyFull,
            Some("allow") => return Err(invalid(
                "sslmode=allow is not supported (use prefer, require, verify-ca or verify-full)"
                    .into(),
            )),
            Some(other) => {
                return Err(invalid(format!(
                "sslmode must be disable, prefer, require, verify-ca or verify-full (got {other})"
            )))
            }
        };
    if root.as_deref() == Some("system") && mode != SslMode::VerifyFull {
        return Err(invalid(
            "sslrootcert=system needs sslmode=verify-full (as in libpq)".into(),
        ));
    }
    let rest = if kept.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{}", kept.join("&"))
    };
    Ok((rest, TlsOptions { mode, roots }))
}

fn load_roots(roots: &RootCerts) -> StoreResult<RootCertStore> {
    let mut store = RootCertStore::empty();
    match roots {
        RootCerts::File(path) => {
            let bad = |e: &dyn std::fmt::Display| {
                StoreError::Backend(format!("sslrootcert {}: {e}", path.display()))
            };
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
                store.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            }
            if store.is_empty() {
                return Err(bad(&"no certificate in the file"));
            }
        }
        RootCerts::System => {
            for cert in rustls_native_certs::load_native_certs().certs {
                // A system certificate rustls cannot use is skipped, as browsers do.
                let _ = store.add(cert);
            }
            if store.is_empty() {
                return Err(StoreError::Backend(
                    "no system root certificates for PostgreSQL TLS (give sslrootcert=PATH)".into(),
                ));
            }
        }
    }
    Ok(store)
}

/// The tokio-postgres mode and the connector for `opts`.
pub fn connector(opts: &TlsOptions) -> StoreResult<(PgSslMode, MakeRustls)> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Backend(format!("PostgreSQL TLS: {e}")))?;
    let (pg_mode, config) = match opts.mode {
        SslMode::Disable => (PgSslMode::Disable, None),
        SslMode::Prefer | SslMode::Require => {
            let verifier = Arc::new(Unverified { provider });
            let config = builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
            let mode = if opts.mode == SslMode::Prefer {
                PgSslMode::Prefer
            } else {
                PgSslMode::Require
            };
            (mode, Some(config))
        }
        SslMode::VerifyCa => {
            let verifier = Arc::new(ChainOnly {
                roots: load_roots(&opts.roots)?,
                provider,
            });
            let config = builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
            (PgSslMode::Require, Some(config))
        }
        SslMode::VerifyFull => {
            let config = builder
                .with_root_certificates(load_roots(&opts.roots)?)
                .with_no_client_auth();
            (PgSslMode::Require, Some(config))
        }
    };
    let config = config.map(|mut c| {
        // PostgreSQL 17's direct TLS (`sslnegotiation=direct`) requires it; older
        // servers ignore it.
        c.alpn_protocols = vec![b"postgresql".to_vec()];
        Arc::new(c)
    });
    Ok((pg_mode, MakeRustls { config }))
}

/// `prefer` and `require` without roots: any certificate (libpq's behaviour); the
/// handshake signatures are still checked.
#[derive(Debug)]
struct Unverified {
    provider: Arc<CryptoProvider>,
}

/// `verify-ca`: the chain to a trusted root, not the host name.
#[derive(Debug)]
struct ChainOnly {
    roots: RootCertStore,
    provider: Arc<CryptoProvider>,
}

macro_rules! signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    };
}

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    signatures!();
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        Ok(ServerCertVerified::assertion())
    }
    signatures!();
}

/// Makes a rustls connector per connection, for the host connected to.
#[derive(Clone)]
pub struct MakeRustls {
    /// `None` with `sslmode=disable` (never asked to connect then).
    config: Option<Arc<ClientConfig>>,
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, io::Error> {
        // Called for every connection, TLS or not: a bad name only matters for TLS.
        Ok(RustlsConnect {
            config: self.config.clone(),
            name: ServerName::try_from(domain.to_string()).ok(),
        })
    }
}

/// Connects one stream.
pub struct RustlsConnect {
    config: Option<Arc<ClientConfig>>,
    name: Option<ServerName<'static>>,
}

type Handshake<S> = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Handshake<S>;

    fn connect(self, stream: S) -> Handshake<S> {
        Box::pin(async move {
            let config = self
                .config
                .ok_or_else(|| io::Error::other("TLS is disabled (sslmode=disable)"))?;
            let name = self
                .name
                .ok_or_else(|| io::Error::other("the host is not a valid TLS server name"))?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, stream)
                .await?;
            Ok(RustlsStream(Box::new(tls)))
        })
    }
}

/// A TLS connection to the server.
pub struct RustlsStream<S>(Box<tokio_rustls::client::TlsStream<S>>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM channel binding is not offered; with verify-full the certificate
        // check already binds the session to the server.
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_shutdown(cx)
    }
}
