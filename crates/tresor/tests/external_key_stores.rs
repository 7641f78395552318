//! EXTERNAL_KEY_STORE custom key stores: Tresor as an XKS *client*, against a second
//! Tresor process serving the XKS proxy API (`serve --xks-listen`, a credential from
//! `tresor admin xks-credential create`), over plain http on loopback; and against
//! scripted fake proxies for the answers a real one never gives.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use aws_sdk_kms::operation::RequestId;
use aws_sdk_kms::types::{
    ConnectionErrorCodeType, ConnectionStateType, CustomKeyStoreType, DataKeySpec, KeyState,
    OriginType, XksProxyAuthenticationCredentialType, XksProxyConnectivityType,
};
use aws_sdk_kms::Client;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;

const PREFIX: &str = "/ks/prod";
const PATH: &str = "/ks/prod/kms/xks/v1";

/// The second Tresor: the external key manager behind its XKS proxy listener.
struct Proxy {
    srv: Server,
    dir: tempfile::TempDir,
    xks_port: u16,
    access: String,
    secret: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve_proxy(dir: &Path, xks_port: u16) -> Server {
    let at = format!("127.0.0.1:{xks_port}");
    let srv = Server::start_opts(
        dir,
        &["--dev", "--xks-listen", &at, "--xks-uri-prefix", PREFIX],
        &[],
    );
    assert_eq!(srv.xks_port, Some(xks_port));
    srv
}

fn xks_credential(srv: &Server) -> (String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tresor"));
    cmd.args(["admin", "xks-credential", "create", "--account", ACCOUNT])
        .args(["--output", "json", "--endpoint", &srv.endpoint])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    if let Some(ca) = &srv.ca_bundle {
        cmd.env("AWS_CA_BUNDLE", ca);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["AccessKeyId"].as_str().unwrap().to_string(),
        v["SecretAccessKey"].as_str().unwrap().to_string(),
    )
}

impl Proxy {
    fn start() -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let xks_port = free_port();
        let srv = serve_proxy(dir.path(), xks_port);
        let (access, secret) = xks_credential(&srv);
        Proxy {
            srv,
            dir,
            xks_port,
            access,
            secret,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.xks_port)
    }

    fn stop(&mut self) {
        self.srv.stop();
    }

    fn restart(&mut self) {
        self.srv = serve_proxy(self.dir.path(), self.xks_port);
    }
}

/// The KMS side; a generous proxy timeout, as the test machine is loaded.
fn kms() -> (Server, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let srv = Server::start_opts(tmp.path(), &["--dev", "--xks-timeout-ms", "5000"], &[]);
    (srv, tmp)
}

fn credential(access: &str, secret: &str) -> XksProxyAuthenticationCredentialType {
    XksProxyAuthenticationCredentialType::builder()
        .access_key_id(access)
        .raw_secret_access_key(secret)
        .build()
        .unwrap()
}

async fn create_store(
    c: &Client,
    name: &str,
    endpoint: &str,
    (access, secret): (&str, &str),
) -> Result<String, ErrInfo> {
    let r = c
        .create_custom_key_store()
        .custom_key_store_name(name)
        .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
        .xks_proxy_connectivity(XksProxyConnectivityType::PublicEndpoint)
        .xks_proxy_uri_endpoint(endpoint)
        .xks_proxy_uri_path(PATH)
        .xks_proxy_authentication_credential(credential(access, secret))
        .send()
        .await;
    match r {
        Ok(o) => Ok(o.custom_key_store_id.unwrap()),
        Err(e) => Err(expect_err::<(), _>(Err(e))),
    }
}

async fn store_state(
    c: &Client,
    id: &str,
) -> (ConnectionStateType, Option<ConnectionErrorCodeType>) {
    let out = ok(c
        .describe_custom_key_stores()
        .custom_key_store_id(id)
        .send()
        .await);
    let s = &out.custom_key_stores()[0];
    (
        s.connection_state().unwrap().clone(),
        s.connection_error_code().cloned(),
    )
}

async fn connect(c: &Client, id: &str) {
    ok(c.connect_custom_key_store()
        .custom_key_store_id(id)
        .send()
        .await);
}

async fn disconnect(c: &Client, id: &str) {
    ok(c.disconnect_custom_key_store()
        .custom_key_store_id(id)
        .send()
        .await);
}

async fn create_external_key(c: &Client, store: &str, xks_key_id: &str) -> String {
    ok(c.create_key()
        .custom_key_store_id(store)
        .origin(OriginType::ExternalKeyStore)
        .xks_key_id(xks_key_id)
        .send()
        .await)
    .key_metadata
    .unwrap()
    .key_id
    .clone()
}

async fn encrypt(c: &Client, key: &str, plaintext: &[u8]) -> Vec<u8> {
    ok(c.encrypt()
        .key_id(key)
        .plaintext(blob(plaintext))
        .encryption_context("purpose", "test")
        .send()
        .await)
    .ciphertext_blob
    .unwrap()
    .into_inner()
}

async fn decrypt(c: &Client, blob_: &[u8]) -> Vec<u8> {
    ok(c.decrypt()
        .ciphertext_blob(blob(blob_))
        .encryption_context("purpose", "test")
        .send()
        .await)
    .plaintext
    .unwrap()
    .into_inner()
}

/// Everything an external key store does, through a second Tresor as the proxy.
#[tokio::test]
async fn a_second_tresor_keeps_the_external_keys() {
    let proxy = Proxy::start();
    let pc = proxy.srv.client().await;
    let external = create_key(&pc).await;
    let (srv, _kms_dir) = kms();
    let c = srv.client().await;

    let store = create_store(&c, "ext", &proxy.endpoint(), (&proxy.access, &proxy.secret))
        .await
        .unwrap();
    let described = ok(c
        .describe_custom_key_stores()
        .custom_key_store_id(&store)
        .send()
        .await);
    let entry = &described.custom_key_stores()[0];
    assert_eq!(
        entry.custom_key_store_type(),
        Some(&CustomKeyStoreType::ExternalKeyStore)
    );
    assert_eq!(
        entry.connection_state(),
        Some(&ConnectionStateType::Disconnected)
    );
    let cfg = entry.xks_proxy_configuration().unwrap();
    assert_eq!(cfg.access_key_id(), Some(proxy.access.as_str()));
    assert_eq!(cfg.uri_endpoint(), Some(proxy.endpoint().as_str()));
    assert_eq!(cfg.uri_path(), Some(PATH));
    assert_eq!(
        cfg.connectivity(),
        Some(&XksProxyConnectivityType::PublicEndpoint)
    );
    // The secret is never shown.
    assert!(!format!("{described:?}").contains(&proxy.secret));
    // Keys only in a CONNECTED store.
    assert_code(
        c.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::ExternalKeyStore)
            .xks_key_id(&external)
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );

    connect(&c, &store).await;
    assert_eq!(
        store_state(&c, &store).await.0,
        ConnectionStateType::Connected
    );

    let created = ok(c
        .create_key()
        .custom_key_store_id(&store)
        .origin(OriginType::ExternalKeyStore)
        .xks_key_id(&external)
        .send()
        .await)
    .key_metadata
    .unwrap();
    let key = created.key_id().to_string();
    assert_eq!(created.origin(), Some(&OriginType::ExternalKeyStore));
    assert_eq!(created.custom_key_store_id(), Some(store.as_str()));
    assert_eq!(created.key_state(), Some(&KeyState::Enabled));
    let meta = describe_key_metadata(&c, &key).await;
    assert_eq!(
        meta.xks_key_configuration().and_then(|x| x.id()),
        Some(external.as_str())
    );

    // Round trips.
    let sealed = encrypt(&c, &key, b"held outside").await;
    let enc = ok(c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await);
    let enc_request = enc.request_id().unwrap().to_string();
    let used = ok(c.get_key_last_usage().key_id(&key).send().await);
    let last = used.key_last_usage().unwrap();
    assert_eq!(last.operation().unwrap().as_str(), "Encrypt");
    assert_eq!(last.kms_request_id(), Some(enc_request.as_str()));
    assert_eq!(decrypt(&c, &sealed).await, b"held outside");
    assert_code(
        c.decrypt()
            .ciphertext_blob(blob(&sealed))
            .encryption_context("purpose", "other")
            .send()
            .await,
        "InvalidCiphertextException",
    );
    let mut tampered = sealed.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_code(
        c.decrypt()
            .ciphertext_blob(blob(&tampered))
            .encryption_context("purpose", "test")
            .send()
            .await,
        "InvalidCiphertextException",
    );
    let dk = ok(c
        .generate_data_key()
        .key_id(&key)
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("purpose", "test")
        .send()
        .await);
    let plain = dk.plaintext.unwrap().into_inner();
    let wrapped = dk.ciphertext_blob.unwrap().into_inner();
    assert_eq!(decrypt(&c, &wrapped).await, plain);
    let only = ok(c
        .generate_data_key_without_plaintext()
        .key_id(&key)
        .number_of_bytes(16)
        .encryption_context("purpose", "test")
        .send()
        .await);
    assert_eq!(
        decrypt(&c, &only.ciphertext_blob.unwrap().into_inner())
            .await
            .len(),
        16
    );
    let software = create_key(&c).await;
    let moved = ok(c
        .re_encrypt()
        .ciphertext_blob(blob(&sealed))
        .source_encryption_context("purpose", "test")
        .destination_key_id(&software)
        .send()
        .await);
    let back = ok(c
        .re_encrypt()
        .ciphertext_blob(moved.ciphertext_blob.unwrap())
        .destination_key_id(&key)
        .destination_encryption_context("purpose", "test")
        .send()
        .await);
    assert_eq!(
        decrypt(&c, &back.ciphertext_blob.unwrap().into_inner()).await,
        b"held outside"
    );

    // The proxy saw each call with the specification's requestMetadata.
    let recs = records(&audit_dir(&proxy.srv));
    let proxied = recs
        .iter()
        .find(|r| {
            r["eventName"] == "XksEncrypt"
                && r["requestParameters"]["requestMetadata"]["kmsOperation"] == "Encrypt"
        })
        .expect("the proxy recorded the Encrypt");
    // The KMS request id travels to the proxy as kmsRequestId.
    assert!(recs.iter().any(|r| {
        r["eventName"] == "XksEncrypt"
            && r["requestParameters"]["requestMetadata"]["kmsRequestId"] == enc_request.as_str()
    }));
    let m = &proxied["requestParameters"]["requestMetadata"];
    assert_eq!(m["kmsKeyArn"], created.arn().unwrap());
    assert_eq!(m["awsPrincipalArn"], format!("arn:aws:iam::{ACCOUNT}:root"));
    assert!(m["kmsRequestId"].as_str().is_some_and(|s| !s.is_empty()));
    for op in ["GenerateDataKey", "ReEncrypt", "Decrypt"] {
        assert!(
            recs.iter()
                .any(|r| r["requestParameters"]["requestMetadata"]["kmsOperation"] == op),
            "no proxy call for {op}"
        );
    }

    // What AWS refuses on keys in external stores.
    assert_code(
        c.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::ExternalKeyStore)
            .xks_key_id(&external)
            .send()
            .await,
        "XksKeyAlreadyInUseException",
    );
    assert_code(
        c.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::ExternalKeyStore)
            .xks_key_id("no-such-key")
            .send()
            .await,
        "XksKeyNotFoundException",
    );
    assert_code(
        c.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::ExternalKeyStore)
            .send()
            .await,
        "ValidationException",
    );
    assert_code(
        c.generate_data_key_pair()
            .key_id(&key)
            .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    assert_code(
        c.generate_random()
            .custom_key_store_id(&store)
            .number_of_bytes(8)
            .send()
            .await,
        "UnsupportedOperationException",
    );

    // The external key disabled at the proxy: no crypto, and no new key on it.
    ok(pc.disable_key().key_id(&external).send().await);
    assert_code(
        c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
        "KMSInvalidStateException",
    );
    let second = create_key(&pc).await;
    ok(pc.disable_key().key_id(&second).send().await);
    assert_code(
        c.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::ExternalKeyStore)
            .xks_key_id(&second)
            .send()
            .await,
        "XksKeyInvalidConfigurationException",
    );
    ok(pc.enable_key().key_id(&external).send().await);
    assert_eq!(decrypt(&c, &sealed).await, b"held outside");

    // Disconnected: the key is Unavailable and does no crypto; the store keeps its key.
    disconnect(&c, &store).await;
    let meta = describe_key_metadata(&c, &key).await;
    assert_eq!(meta.key_state(), Some(&KeyState::Unavailable));
    assert_code(
        c.decrypt()
            .ciphertext_blob(blob(&sealed))
            .encryption_context("purpose", "test")
            .send()
            .await,
        "KMSInvalidStateException",
    );
    assert_code(
        c.delete_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await,
        "CustomKeyStoreHasCMKsException",
    );
    connect(&c, &store).await;
    assert_eq!(decrypt(&c, &sealed).await, b"held outside");
}

/// Proxy down, wrong credentials: the documented states and errors, and recovery.
#[tokio::test]
async fn failures_show_the_documented_states_and_recover() {
    let mut proxy = Proxy::start();
    let pc = proxy.srv.client().await;
    let external = create_key(&pc).await;
    let (srv, _kms_dir) = kms();
    let c = srv.client().await;
    let store = create_store(&c, "ext", &proxy.endpoint(), (&proxy.access, &proxy.secret))
        .await
        .unwrap();
    connect(&c, &store).await;
    let key = create_external_key(&c, &store, &external).await;
    let sealed = encrypt(&c, &key, b"abc").await;

    // Proxy down: crypto is KMSInvalidStateException; a connect fails NOT_REACHABLE.
    proxy.stop();
    assert_code(
        c.decrypt()
            .ciphertext_blob(blob(&sealed))
            .encryption_context("purpose", "test")
            .send()
            .await,
        "KMSInvalidStateException",
    );
    disconnect(&c, &store).await;
    connect(&c, &store).await;
    assert_eq!(
        store_state(&c, &store).await,
        (
            ConnectionStateType::Failed,
            Some(ConnectionErrorCodeType::XksProxyNotReachable)
        )
    );
    let meta = describe_key_metadata(&c, &key).await;
    assert_eq!(meta.key_state(), Some(&KeyState::Unavailable));
    // A FAILED store must be disconnected before it connects again.
    assert_code(
        c.connect_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );
    proxy.restart();
    disconnect(&c, &store).await;
    connect(&c, &store).await;
    assert_eq!(
        store_state(&c, &store).await.0,
        ConnectionStateType::Connected
    );
    assert_eq!(decrypt(&c, &sealed).await, b"abc");

    // The proxy stops honouring the credential: crypto fails, a connect records
    // INVALID_CREDENTIALS, and an update to a credential it refuses is refused.
    admin(
        &proxy.srv,
        &[
            "xks-credential",
            "delete",
            "--account",
            ACCOUNT,
            "--access-key-id",
            &proxy.access,
        ],
    )
    .unwrap();
    assert_code(
        c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
        "KMSInvalidStateException",
    );
    disconnect(&c, &store).await;
    connect(&c, &store).await;
    assert_eq!(
        store_state(&c, &store).await,
        (
            ConnectionStateType::Failed,
            Some(ConnectionErrorCodeType::InvalidCredentials)
        )
    );
    let wrong_secret = "A".repeat(43);
    assert_code(
        c.update_custom_key_store()
            .custom_key_store_id(&store)
            .xks_proxy_authentication_credential(credential(&proxy.access, &wrong_secret))
            .send()
            .await,
        "XksProxyIncorrectAuthenticationCredentialException",
    );
    let (access, secret) = xks_credential(&proxy.srv);
    ok(c.update_custom_key_store()
        .custom_key_store_id(&store)
        .xks_proxy_authentication_credential(credential(&access, &secret))
        .send()
        .await);
    disconnect(&c, &store).await;
    connect(&c, &store).await;
    assert_eq!(
        store_state(&c, &store).await.0,
        ConnectionStateType::Connected
    );
    assert_eq!(decrypt(&c, &sealed).await, b"abc");
    // The endpoint changes only while disconnected.
    assert_code(
        c.update_custom_key_store()
            .custom_key_store_id(&store)
            .xks_proxy_uri_endpoint("http://127.0.0.1:9")
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );
}

/// A fake proxy answering every request with `answer(path)` (status, body).
fn fake_proxy(answer: fn(&str) -> (u16, Vec<u8>)) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut r = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if r.read_line(&mut line).is_err() {
                    return;
                }
                let path = line.split(' ').nth(1).unwrap_or_default().to_string();
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = r.read_exact(&mut body);
                let (status, body) = answer(&path);
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

const HEALTH: &str = r#"{"xksProxyFleetSize":1,"xksProxyVendor":"fake","xksProxyModel":"fake","ekmVendor":"fake","ekmFleetDetails":[{"id":"a","model":"m","healthStatus":"ACTIVE"}]}"#;

/// Refused inputs and proxies that answer wrongly: the documented exceptions, never a 500.
#[tokio::test]
async fn bad_endpoints_and_bad_proxies_are_refused() {
    let (srv, _kms_dir) = kms();
    let c = srv.client().await;
    let good_access = "ABCDEFGHIJKLMNOPQRSTUVWX";
    let good_secret = "s".repeat(44);
    let cred = (good_access, good_secret.as_str());

    // Plain http only to loopback; never to another host.
    for endpoint in ["http://192.0.2.1:8080", "http://xks.example.com"] {
        let e = create_store(&c, "ext", endpoint, cred).await.unwrap_err();
        assert_eq!(e.code, "ValidationException", "{endpoint}: {e:?}");
    }
    // VPC endpoint services do not exist here.
    assert_code(
        c.create_custom_key_store()
            .custom_key_store_name("vpc")
            .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
            .xks_proxy_connectivity(XksProxyConnectivityType::VpcEndpointService)
            .xks_proxy_uri_endpoint("https://xks.example.com")
            .xks_proxy_uri_path(PATH)
            .xks_proxy_vpc_endpoint_service_name(
                "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
            )
            .xks_proxy_authentication_credential(credential(good_access, &good_secret))
            .send()
            .await,
        "UnsupportedOperationException",
    );
    // Credentials outside the model's constraints, never echoed back.
    let e = create_store(
        &c,
        "ext",
        "http://127.0.0.1:9",
        ("lowercase-not-allowed-id", &good_secret),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "ValidationException");
    let short = "tooshort-secret";
    let e = create_store(&c, "ext", "http://127.0.0.1:9", (good_access, short))
        .await
        .unwrap_err();
    assert_eq!(e.code, "ValidationException");
    assert!(!format!("{e:?}").contains(short), "{e:?}");
    // Nobody listening.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let e = create_store(&c, "ext", &closed, cred).await.unwrap_err();
    assert_eq!(e.code, "XksProxyUriUnreachableException", "{e:?}");

    // Garbage and oversized answers.
    let garbage = fake_proxy(|_| (200, b"<html>not json</html>".to_vec()));
    let e = create_store(&c, "ext", &garbage, cred).await.unwrap_err();
    assert_eq!(e.code, "XksProxyInvalidResponseException", "{e:?}");
    let huge = fake_proxy(|_| (200, vec![b' '; 1 << 20]));
    let e = create_store(&c, "ext", &huge, cred).await.unwrap_err();
    assert_eq!(e.code, "XksProxyInvalidResponseException", "{e:?}");
    let refusing = fake_proxy(|_| {
        (
            401,
            br#"{"errorName":"AuthenticationFailedException"}"#.to_vec(),
        )
    });
    let e = create_store(&c, "ext", &refusing, cred).await.unwrap_err();
    assert_eq!(
        e.code, "XksProxyIncorrectAuthenticationCredentialException",
        "{e:?}"
    );

    // A proxy that is healthy but answers Encrypt with junk: the key is unusable, no 500.
    let liar = fake_proxy(|path| {
        if path.ends_with("/health") {
            (200, HEALTH.as_bytes().to_vec())
        } else if path.ends_with("/metadata") {
            (
                200,
                br#"{"keySpec":"AES_256","keyUsage":["ENCRYPT","DECRYPT"],"keyStatus":"ENABLED"}"#
                    .to_vec(),
            )
        } else {
            (
                200,
                br#"{"ciphertext":"AAAA","initializationVector":"AAAA","authenticationTag":"AAAA"}"#
                    .to_vec(),
            )
        }
    });
    let store = create_store(&c, "liar", &liar, cred).await.unwrap();
    // One store per endpoint and path in an account and Region.
    let e = create_store(&c, "again", &liar, cred).await.unwrap_err();
    assert_eq!(e.code, "XksProxyUriInUseException", "{e:?}");
    connect(&c, &store).await;
    let key = create_external_key(&c, &store, "fake-key").await;
    let e = assert_code(
        c.encrypt().key_id(&key).plaintext(blob(b"x")).send().await,
        "KMSInvalidStateException",
    );
    assert!(e.message.unwrap_or_default().contains(&key));
}

/// HTTPS to the proxy: refused with an untrusted certificate, accepted with
/// `--xks-ca-file` naming the proxy's CA.
#[tokio::test]
async fn https_proxies_are_checked_against_the_configured_ca() {
    let pdir = tempfile::tempdir().unwrap();
    let proxy = Server::start_opts(
        pdir.path(),
        &[
            "--dev",
            "--tls",
            "--xks-listen",
            "127.0.0.1:0",
            "--xks-uri-prefix",
            PREFIX,
        ],
        &[],
    );
    let (access, secret) = xks_credential(&proxy);
    let endpoint = format!("https://127.0.0.1:{}", proxy.xks_port.unwrap());
    let ca = proxy.ca_bundle.clone().expect("the proxy's dev CA");

    // The system roots do not know the proxy's dev CA.
    let (srv, _dir) = kms();
    let c = srv.client().await;
    let e = create_store(&c, "tls", &endpoint, (&access, &secret))
        .await
        .unwrap_err();
    assert_eq!(e.code, "XksProxyUriUnreachableException", "{e:?}");

    let dir = tempfile::tempdir().unwrap();
    let ca = ca.to_str().unwrap().to_string();
    let trusting = Server::start_opts(
        dir.path(),
        &["--dev", "--xks-timeout-ms", "5000", "--xks-ca-file", &ca],
        &[],
    );
    let c = trusting.client().await;
    let store = create_store(&c, "tls", &endpoint, (&access, &secret))
        .await
        .unwrap();
    connect(&c, &store).await;
    assert_eq!(
        store_state(&c, &store).await.0,
        ConnectionStateType::Connected
    );
    let external = create_key(&proxy.client().await).await;
    let key = create_external_key(&c, &store, &external).await;
    let sealed = encrypt(&c, &key, b"over tls").await;
    assert_eq!(decrypt(&c, &sealed).await, b"over tls");
}
