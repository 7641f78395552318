//! TLS: `--dev --tls` with a generated CA, `--tls-cert/--tls-key`, client certificates,
//! ALPN, plain HTTP refused on the TLS port, and `aws:SecureTransport`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::json;
use std::io::{Read, Write};
use std::time::Duration;

fn start_dev_tls(dir: &std::path::Path, extra: &[&str]) -> Server {
    let mut flags = vec!["--dev", "--tls"];
    flags.extend_from_slice(extra);
    Server::start_opts(dir, &flags, &[])
}

#[tokio::test]
async fn sdk_over_dev_tls_trusting_the_generated_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = start_dev_tls(tmp.path(), &[]);
    assert!(srv.endpoint.starts_with("https://"), "{}", srv.endpoint);
    let ca = srv
        .ca_bundle
        .clone()
        .expect("dev TLS writes DATA_DIR/tls/ca.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tmp.path().join("tls/key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the TLS key is private");
    }
    // The CA's private key is never written: only the server key is a key.
    let files: Vec<String> = std::fs::read_dir(tmp.path().join("tls"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(
        files.iter().filter(|t| t.contains("PRIVATE KEY")).count(),
        1
    );

    let client = srv.client().await;
    let key = create_key(&client).await;
    let enc = ok(client
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"over tls"))
        .send()
        .await);
    let dec = ok(client
        .decrypt()
        .ciphertext_blob(enc.ciphertext_blob().unwrap().clone())
        .send()
        .await);
    assert_eq!(dec.plaintext().unwrap().as_ref(), b"over tls");

    // The certificate names the loopback names, and ALPN offers h2.
    let pem = std::fs::read(&ca).unwrap();
    let mut config = (*client_config(&pem, None)).clone();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let mut conn = rustls::ClientConnection::new(
        std::sync::Arc::new(config),
        rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap(),
    )
    .unwrap();
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).unwrap();
    }
    assert_eq!(conn.alpn_protocol(), Some(&b"h2"[..]));

    // A restart reuses the certificate, so clients keep trusting ca.pem.
    drop(srv);
    let srv = start_dev_tls(tmp.path(), &[]);
    assert_eq!(std::fs::read(srv.ca_bundle.as_ref().unwrap()).unwrap(), pem);
    let r = tls_request(
        srv.port,
        client_config(&pem, None),
        "GET",
        "/health",
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn plain_http_to_the_tls_port_gets_no_http_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = start_dev_tls(tmp.path(), &[]);
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = b"{}";
    let mut req = String::from("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n");
    req.push_str("X-Amz-Target: TrentService.ListKeys\r\nConnection: close\r\n\r\n");
    tcp.write_all(req.as_bytes()).unwrap();
    tcp.write_all(body).unwrap();
    let mut got = Vec::new();
    let _ = tcp.read_to_end(&mut got);
    assert!(
        !got.starts_with(b"HTTP/"),
        "a plain request to the TLS port must not be served: {:?}",
        String::from_utf8_lossy(&got)
    );
    // The server is unharmed.
    let pem = std::fs::read(srv.ca_bundle.as_ref().unwrap()).unwrap();
    let r = kms_tls(srv.port, client_config(&pem, None), "ListKeys", b"{}").unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
}

#[test]
fn client_certificates_are_required_and_verified() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = TestCa::new("test CA");
    let other = TestCa::new("someone else's CA");
    let server = ca.server_cert();
    let files = tmp.path().join("certs");
    std::fs::create_dir_all(&files).unwrap();
    let write = |name: &str, text: &str| {
        let p = files.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let cert = write("server.pem", &server.cert_pem);
    let key = write("server.key", &server.key_pem);
    let client_ca = write("client-ca.pem", &ca.cert_pem);
    let data = tmp.path().join("data");
    let srv = Server::start_opts(
        &data,
        &[
            "--dev",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--tls-client-ca",
            &client_ca,
        ],
        &[],
    );
    assert!(srv.endpoint.starts_with("https://"));
    let trust = ca.cert_pem.as_bytes();

    let good = ca.client_cert();
    let r = kms_tls(
        srv.port,
        client_config(trust, Some(&good)),
        "ListKeys",
        b"{}",
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());

    let none = kms_tls(srv.port, client_config(trust, None), "ListKeys", b"{}");
    assert!(
        none.is_err(),
        "no client certificate must be refused: {none:?}"
    );

    let wrong = other.client_cert();
    let r = kms_tls(
        srv.port,
        client_config(trust, Some(&wrong)),
        "ListKeys",
        b"{}",
    );
    assert!(
        r.is_err(),
        "a certificate of another CA must be refused: {r:?}"
    );

    // A server certificate from the right CA is not a client certificate (wrong EKU).
    let r = kms_tls(
        srv.port,
        client_config(trust, Some(&server)),
        "ListKeys",
        b"{}",
    );
    assert!(r.is_err(), "a server certificate must be refused: {r:?}");
}

#[test]
fn bad_tls_files_are_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let junk = junk.to_str().unwrap();
    let (ok, _, err) = tresor(&[
        "serve",
        "--dev",
        "--data-dir",
        tmp.path().join("d").to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        junk,
        "--tls-key",
        junk,
    ]);
    assert!(!ok);
    assert!(err.contains("--tls-cert"), "{err}");
    let (ok, _, err) = tresor(&["serve", "--dev", "--tls-cert", junk]);
    assert!(!ok, "--tls-cert needs --tls-key");
    assert!(err.contains("--tls-key"), "{err}");
}

#[tokio::test]
async fn secure_transport_condition_follows_the_connection() {
    let tmp = tempfile::tempdir().unwrap();
    let root = format!("arn:aws:iam::{ACCOUNT}:root");
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": root},
             "NotAction": "kms:Encrypt", "Resource": "*"},
            {"Sid": "EncryptOverTlsOnly", "Effect": "Allow", "Principal": {"AWS": root},
             "Action": "kms:Encrypt", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
        ]
    })
    .to_string();
    let encrypt = |key: &str| json!({"KeyId": key, "Plaintext": "aGk="}).to_string();

    let mut plain = Server::start_opts(tmp.path(), &["--dev"], &[]);
    let client = plain.client().await;
    let key = ok(client.create_key().policy(&policy).send().await)
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    let r = plain.kms_raw("Encrypt", encrypt(&key).as_bytes());
    assert_eq!(r.status, 400);
    assert_eq!(r.error_type(), "AccessDeniedException", "{}", r.body_str());
    plain.stop();

    let srv = start_dev_tls(tmp.path(), &[]);
    let pem = std::fs::read(srv.ca_bundle.as_ref().unwrap()).unwrap();
    let r = kms_tls(
        srv.port,
        client_config(&pem, None),
        "Encrypt",
        encrypt(&key).as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body_str());
    // The SDK over TLS too.
    let client = srv.client().await;
    ok(client
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"x"))
        .send()
        .await);
}

#[test]
fn admin_commands_over_tls_trust_aws_ca_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = start_dev_tls(tmp.path(), &[]);
    let ca = srv.ca_bundle.clone().unwrap();
    let admin = |ca: Option<&std::path::Path>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tresor"));
        cmd.args(["admin", "user", "list", "--account", ACCOUNT])
            .args(["--output", "json", "--endpoint", &srv.endpoint])
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_CA_BUNDLE");
        if let Some(ca) = ca {
            cmd.env("AWS_CA_BUNDLE", ca);
        }
        cmd.output().unwrap()
    };
    let out = admin(Some(&ca));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without the CA there is nothing to trust the server by.
    let out = admin(None);
    assert!(!out.status.success());
    // A CA that did not issue the server's certificate fails the handshake.
    let other = tmp.path().join("other-ca.pem");
    std::fs::write(&other, TestCa::new("other").cert_pem).unwrap();
    let out = admin(Some(&other));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLS handshake"), "{err}");
}
