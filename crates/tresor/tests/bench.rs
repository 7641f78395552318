//! `tresor bench`: runs end to end and writes a JSON report with throughput for the
//! requested operations and ratios against the baseline. Behaviour only: nothing here
//! depends on how fast the machine is.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use serde_json::Value;
use std::process::Command;

fn run_bench(extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = Command::new(env!("CARGO_BIN_EXE_tresor"))
        .args([
            "bench",
            "--duration",
            "1",
            "--warmup",
            "0",
            "--concurrency",
            "2",
            "--ops",
            "Encrypt64,DescribeKey",
            "--baseline",
            "--json",
        ])
        .arg(&json)
        .args(extra)
        .output()
        .expect("run tresor bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tresor bench failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    // The table names both operations and the baseline.
    for name in ["baseline", "minimal-kms", "Encrypt64", "DescribeKey"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(name)),
            "no {name} row in:\n{stdout}"
        );
    }
    let text = std::fs::read_to_string(&json).expect("JSON report written");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{text}"))
}

fn check(report: &Value) {
    let num = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_f64)
            .unwrap_or_else(|| panic!("no number {k} in {v}"))
    };
    let baseline = report.get("baseline").expect("baseline");
    assert!(num(baseline, "rps") > 0.0, "{baseline}");
    assert!(num(baseline.get("latency_ms").unwrap(), "p99") > 0.0);
    // The minimal correct KMS endpoint answered the same signed Encrypt requests, without
    // an error (so its SigV4 verification accepted the bench's signatures).
    let minimal = report.get("minimal_kms").expect("minimal_kms");
    assert!(num(minimal, "rps") > 0.0, "{minimal}");
    assert!(num(minimal.get("latency_ms").unwrap(), "p99") > 0.0);
    assert_eq!(num(minimal, "errors"), 0.0, "{minimal}");

    let ops = report.get("operations").and_then(Value::as_array).unwrap();
    let names: Vec<&str> = ops
        .iter()
        .map(|o| o.get("name").and_then(Value::as_str).unwrap())
        .collect();
    assert_eq!(names, ["Encrypt64", "DescribeKey"]);
    for op in ops {
        assert_eq!(op.get("status").and_then(Value::as_str), Some("ok"), "{op}");
        assert!(num(op, "requests") > 0.0, "{op}");
        assert!(num(op, "rps") > 0.0, "{op}");
        let lat = op.get("latency_ms").unwrap();
        for p in ["p50", "p90", "p99", "p999"] {
            assert!(num(lat, p) > 0.0, "{op}");
        }
        assert!(num(lat, "p50") <= num(lat, "p99"), "{op}");
        assert!(num(op, "throughput_ratio") > 0.0, "{op}");
        assert!(num(op, "p99_ratio") > 0.0, "{op}");
        assert!(num(op, "minimal_throughput_ratio") > 0.0, "{op}");
        assert!(num(op, "minimal_p99_ratio") > 0.0, "{op}");
        assert_eq!(num(op, "errors"), 0.0, "{op}");
    }
}

/// The CPU time per request of the server (when its process is known) and of the load
/// generator, and the server's over minimal-kms's.
fn check_cpu(report: &Value, server_known: bool) {
    let cpu = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
    for op in report["operations"].as_array().unwrap() {
        assert!(cpu(op, "client_cpu_us").unwrap() > 0.0, "{op}");
        if server_known {
            assert!(cpu(op, "server_cpu_us").unwrap() > 0.0, "{op}");
            assert!(cpu(op, "minimal_cpu_ratio").unwrap() > 0.0, "{op}");
        } else {
            assert_eq!(cpu(op, "server_cpu_us"), None, "{op}");
        }
    }
}

fn place(report: &Value) -> &str {
    report["baseline_place"].as_str().unwrap_or_default()
}

/// Without --endpoint, the bench starts (and stops) its own `tresor serve --dev`; the
/// baselines run in a child process of their own, as the server does.
#[test]
fn bench_against_its_own_server() {
    let report = run_bench(&[]);
    check(&report);
    check_cpu(&report, true);
    assert!(report["minimal_kms"]["server_cpu_us"].as_f64().unwrap() > 0.0);
    assert_eq!(report.get("keys").and_then(Value::as_u64), Some(1));
    assert_eq!(place(&report), "a child process", "{report}");
}

/// `--baseline-in-process` keeps the baselines in the bench's runtime, and refuses TLS
/// (it has no TLS baseline).
#[test]
fn baselines_in_process() {
    let report = run_bench(&["--baseline-in-process"]);
    check(&report);
    // In process, the baselines have no server of their own to charge.
    assert!(
        report["minimal_kms"].get("server_cpu_us").is_none(),
        "{report}"
    );
    assert!(report["minimal_kms"]["client_cpu_us"].as_f64().unwrap() > 0.0);
    assert_eq!(place(&report), "in process", "{report}");
    let out = Command::new(env!("CARGO_BIN_EXE_tresor"))
        .args([
            "bench",
            "--baseline",
            "--baseline-in-process",
            "--transport",
            "tls",
        ])
        .args(["--duration", "1", "--warmup", "0", "--ops", "DescribeKey"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--baseline-in-process"), "{stderr}");
}

/// Against a server started by the harness, with several keys picked at random.
#[test]
fn bench_against_an_endpoint_with_many_keys() {
    let server = common::Server::start();
    let report = run_bench(&["--endpoint", &server.endpoint, "--keys", "5"]);
    check(&report);
    // An endpoint's process is not known unless given.
    check_cpu(&report, false);
    let pid = server.pid().to_string();
    let args = ["--endpoint", &server.endpoint, "--server-pid", &pid];
    check_cpu(&run_bench(&args), true);
    assert_eq!(
        report.get("endpoint").and_then(Value::as_str),
        Some(server.endpoint.as_str())
    );
    let setup = report.get("key_setup").expect("key_setup");
    assert_eq!(setup.get("created").and_then(Value::as_u64), Some(5));
    // The keys exist on the server.
    let listed = server.kms_raw("ListKeys", b"{\"Limit\": 1000}");
    assert_eq!(listed.status, 200, "{}", listed.body_str());
    let n = listed
        .json()
        .get("Keys")
        .and_then(Value::as_array)
        .map(Vec::len)
        .unwrap();
    assert!(n >= 5, "only {n} keys listed");
}

/// `--transport both`: the same operations against a plain and a TLS server, and the
/// TLS/plain throughput ratio of each.
#[test]
fn bench_over_plain_and_tls_in_one_run() {
    let report = run_bench(&["--transport", "both"]);
    check(&report["plain"]);
    check(&report["tls"]);
    // Each run's baselines over its own transport: TLS with TLS.
    assert_eq!(place(&report["plain"]), "a child process", "{report}");
    assert!(place(&report["tls"]).contains("over TLS"), "{report}");
    assert!(report["tls"]["endpoint"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    for op in ["Encrypt64", "DescribeKey"] {
        let r = report["tls_over_plain"][op].as_f64();
        assert!(r.is_some_and(|r| r > 0.0), "{report}");
    }
}

/// An https endpoint, trusting its CA by --ca-bundle.
#[test]
fn bench_against_an_https_endpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let server = common::Server::start_opts(tmp.path(), &["--dev", "--tls"], &[]);
    let ca = server.ca_bundle.clone().unwrap();
    let report = run_bench(&[
        "--endpoint",
        &server.endpoint,
        "--ca-bundle",
        ca.to_str().unwrap(),
    ]);
    check(&report);
    assert!(place(&report).contains("over TLS"), "{report}");
}
