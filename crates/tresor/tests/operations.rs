//! Operating a server: `/health`, `/metrics`, JSON logs, the configuration file and its
//! precedence, and graceful shutdown on SIGTERM/SIGINT.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn get(srv: &Server, path: &str) -> RawResponse {
    http_request(srv.port, "GET", path, &[], b"")
}

/// The value of the sample `name` (with its labels, exactly as exposed).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[test]
fn health_is_unauthenticated_json() {
    let srv = Server::start();
    let r = get(&srv, "/health");
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["sealed"], json!(false));
    assert_eq!(v["storage"], json!("ok"));
    assert_eq!(v["audit"], json!("ok"));
    assert_eq!(v["version"], json!(env!("CARGO_PKG_VERSION")));
}

#[test]
fn metrics_count_requests_by_operation_and_outcome() {
    let srv = Server::start();
    let created = srv.kms_raw("CreateKey", b"{}").json();
    let key = created["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let enc = json!({"KeyId": key, "Plaintext": "aGk="}).to_string();
    for _ in 0..3 {
        assert_eq!(srv.kms_raw("Encrypt", enc.as_bytes()).status, 200);
    }
    let bad = json!({"CiphertextBlob": "AAAA"}).to_string();
    let r = srv.kms_raw("Decrypt", bad.as_bytes());
    let bad_type = r.error_type();
    // Unauthenticated garbage is counted too, under its error.
    let r = http_request(srv.port, "POST", "/", &[], b"{}");
    assert_eq!(r.status, 400);

    let m = get(&srv, "/metrics");
    assert_eq!(m.status, 200);
    assert!(m.header("content-type").unwrap().starts_with("text/plain"));
    let text = m.body_str();
    let n = |s: &str| sample(&text, s).unwrap_or_else(|| panic!("no {s} in\n{text}"));
    assert_eq!(
        n(r#"tresor_requests_total{operation="Encrypt",outcome="ok"}"#),
        3.0
    );
    assert_eq!(
        n(&format!(
            r#"tresor_requests_total{{operation="Decrypt",outcome="{bad_type}"}}"#
        )),
        1.0
    );
    assert_eq!(
        n(
            r#"tresor_requests_total{operation="Unknown",outcome="MissingAuthenticationTokenException"}"#
        ),
        1.0
    );
    assert_eq!(
        n(r#"tresor_request_duration_seconds_count{operation="Encrypt"}"#),
        3.0
    );
    assert!(
        text.contains(r#"tresor_request_duration_seconds_bucket{le="+Inf",operation="Encrypt"} 3"#)
            || text.contains(
                r#"tresor_request_duration_seconds_bucket{operation="Encrypt",le="+Inf"} 3"#
            ),
        "{text}"
    );
    assert_eq!(n("tresor_keys"), 1.0);
    assert_eq!(n("tresor_sealed"), 0.0);
    assert_eq!(n("tresor_audit_ok"), 1.0);
    // CreateKey waited for its record's fsync; the queue drains.
    assert!(n("tresor_audit_fsyncs_total") >= 1.0, "{text}");
    assert!(n("tresor_audit_fsync_seconds_total") > 0.0, "{text}");
    assert!(n("tresor_audit_queue_depth") >= 0.0, "{text}");
    assert!(
        n(r#"tresor_cache_hits_total{cache="keys"}"#) >= 2.0,
        "{text}"
    );
    assert!(n(r#"tresor_cache_hits_total{cache="credentials"}"#) >= 1.0);
    // Nothing secret: no key id, access key or principal in the exposition.
    assert!(!text.contains(&key));
    assert!(!text.contains(ACCESS_KEY));
}

#[test]
fn metrics_can_be_turned_off() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = Server::start_opts(tmp.path(), &["--dev", "--metrics", "off"], &[]);
    assert_eq!(get(&srv, "/metrics").status, 404);
    assert_eq!(get(&srv, "/health").status, 200);
}

#[test]
fn json_logs_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let mut srv = Server::start_with(tmp.path(), &[("TRESOR_LOG_FORMAT", "json")]);
    let _ = srv.kms_raw("ListKeys", b"{}");
    srv.stop();
    let err = srv.stderr();
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "the server logs something at start");
    for l in lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(
            v.get("level").is_some() && v.get("timestamp").is_some(),
            "{l}"
        );
    }
}

fn write_config(dir: &Path, text: &str) -> String {
    let p = dir.join("tresor.toml");
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn config_file_with_flag_over_env_over_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(
        tmp.path(),
        "dev = true\nmetrics = \"off\"\nshutdown_timeout = 2\n",
    );
    let data = tmp.path().join("data");
    // File only: metrics off, and `dev = true` made the dev setup.
    let srv = Server::start_opts(&data, &["--config", &cfg], &[]);
    assert_eq!(get(&srv, "/metrics").status, 404);
    assert_eq!(srv.kms_raw("ListKeys", b"{}").status, 200);
    drop(srv);
    // The environment beats the file.
    let srv = Server::start_opts(&data, &["--config", &cfg], &[("TRESOR_METRICS", "public")]);
    assert_eq!(get(&srv, "/metrics").status, 200);
    drop(srv);
    // The flag beats the environment.
    let srv = Server::start_opts(
        &data,
        &["--config", &cfg, "--metrics", "off"],
        &[("TRESOR_METRICS", "public")],
    );
    assert_eq!(get(&srv, "/metrics").status, 404);
    drop(srv);
    // TRESOR_CONFIG names the file too.
    let srv = Server::start_opts(&data, &[], &[("TRESOR_CONFIG", cfg.as_str())]);
    assert_eq!(get(&srv, "/metrics").status, 404);
}

#[test]
fn config_file_errors_name_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(tmp.path(), "dev = true\nlisten_address = \"127.0.0.1:1\"\n");
    let (ok, _, err) = tresor(&["serve", "--config", &cfg]);
    assert!(!ok);
    assert!(err.contains("unknown key `listen_address`"), "{err}");
    let cfg = write_config(tmp.path(), "[seal]\nsealer = \"shamir\"\nshare_count = 5\n");
    let (ok, _, err) = tresor(&["serve", "--config", &cfg]);
    assert!(!ok);
    assert!(err.contains("share_count"), "{err}");
    let cfg = write_config(tmp.path(), "dev = [\n");
    let (ok, _, err) = tresor(&["serve", "--config", &cfg]);
    assert!(!ok);
    assert!(err.contains("tresor.toml"), "{err}");
}

#[test]
fn the_dev_sample_config_serves() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/dev.toml");
    // The harness's --listen and --data-dir flags override the sample's.
    let srv = Server::start_opts(tmp.path(), &["--config", sample], &[]);
    assert!(
        srv.endpoint.starts_with("https://"),
        "the dev sample enables TLS"
    );
    let pem = std::fs::read(srv.ca_bundle.as_ref().unwrap()).unwrap();
    let r = kms_tls(srv.port, client_config(&pem, None), "ListKeys", b"{}").unwrap();
    assert_eq!(r.status, 200);
}

fn signal(srv: &Server, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &srv.pid().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

/// Every record is covered by a signed digest and the chain verifies.
fn assert_fully_signed(srv: &Server) {
    let (ok, out) = verify(&audit_dir(srv));
    assert!(ok, "{out}");
    assert!(
        !out.contains("not yet covered"),
        "unsigned records remain: {out}"
    );
}

#[test]
fn sigterm_drains_in_flight_requests_and_signs_the_audit_log() {
    let tmp = tempfile::tempdir().unwrap();
    // A drain bound far above what the slow requests take even on a loaded machine: the
    // test is about finishing them, not about the clock.
    let mut srv = Server::start_opts(tmp.path(), &["--dev", "--shutdown-timeout", "60"], &[]);
    let port = srv.port;
    for _ in 0..5 {
        assert_eq!(srv.kms_raw("CreateKey", b"{}").status, 200);
    }
    // Slow requests (RSA-4096 key generation) in flight when the signal arrives.
    let body = json!({"KeySpec": "RSA_4096", "KeyUsage": "SIGN_VERIFY"}).to_string();
    let slow: Vec<_> = (0..4)
        .map(|_| {
            let b = body.clone();
            std::thread::spawn(move || {
                let h = sign_kms_request(
                    port,
                    "CreateKey",
                    b.as_bytes(),
                    REGION,
                    ACCESS_KEY,
                    SECRET_KEY,
                );
                let r = http_request(port, "POST", "/", &h, b.as_bytes());
                (r.status, Instant::now())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    let signalled = Instant::now();
    signal(&srv, "-TERM");
    let status = srv
        .wait_exit(Duration::from_secs(75))
        .expect("exits within the drain bound");
    assert!(
        status.success(),
        "exit status {status}; stderr:\n{}",
        srv.stderr()
    );
    let mut after = 0;
    for t in slow {
        let (code, at) = t.join().unwrap();
        assert_eq!(code, 200, "an in-flight request was cut off");
        after += usize::from(at > signalled);
    }
    eprintln!("{after} of 4 in-flight requests finished after SIGTERM");
    assert!(srv.stderr().contains("draining"), "{}", srv.stderr());
    assert_fully_signed(&srv);
    let creates = records(&audit_dir(&srv))
        .iter()
        .filter(|r| r["eventName"] == "CreateKey" && r.get("errorCode").is_none())
        .count();
    assert_eq!(creates, 9, "every answered CreateKey is on the record");
}

#[test]
fn sigint_with_a_stalled_client_exits_within_the_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let mut srv = Server::start_opts(tmp.path(), &["--dev", "--shutdown-timeout", "1"], &[]);
    assert_eq!(srv.kms_raw("CreateKey", b"{}").status, 200);
    // A client that sends half a request and then nothing.
    let mut stalled = std::net::TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    use std::io::Write;
    stalled
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    signal(&srv, "-INT");
    let status = srv
        .wait_exit(Duration::from_secs(8))
        .expect("exits despite the stalled client");
    assert!(status.success(), "exit status {status}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_fully_signed(&srv);
}
