//! The result of a run, as JSON and as a table.

use crate::stats::{ratio, Summary};
use crate::{KeySetup, OpReport, Status};
use serde::Serialize;
use std::fmt::Write;

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The endpoint measured.
    pub endpoint: String,
    /// Region signed for.
    pub region: String,
    /// Concurrent workers.
    pub concurrency: usize,
    /// Measured seconds per operation.
    pub duration_s: f64,
    /// Warm-up seconds per operation.
    pub warmup_s: f64,
    /// Symmetric keys used by Encrypt/DescribeKey.
    pub keys: usize,
    /// How the symmetric keys were created.
    pub key_setup: Option<KeySetup>,
    /// The AES-GCM baseline, when measured.
    pub baseline: Option<Summary>,
    /// The minimal correct KMS Encrypt endpoint, when measured.
    pub minimal_kms: Option<Summary>,
    /// Where the baselines ran (`in process`, or a child process and its transport).
    pub baseline_place: Option<String>,
    /// Per operation, in the order run.
    pub operations: Vec<OpReport>,
}

impl Report {
    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String, String> {
        serde_json::to_string_pretty(self).map_err(|e| e.to_string())
    }
}

fn num(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

fn row(out: &mut String, cells: &[String]) {
    const WIDTHS: [usize; 13] = [16, 12, 10, 9, 9, 9, 9, 9, 8, 9, 10, 8, 9];
    for (i, c) in cells.iter().enumerate() {
        let w = WIDTHS.get(i).copied().unwrap_or(10);
        if i == 0 || i == 1 {
            let _ = write!(out, "{c:<w$}");
        } else {
            let _ = write!(out, " {c:>w$}");
        }
    }
    let trimmed = out.trim_end_matches(' ').len();
    out.truncate(trimmed);
    out.push('\n');
}

fn summary_cells(name: &str, status: &str, s: &Summary) -> Vec<String> {
    let l = &s.latency_ms;
    vec![
        name.to_string(),
        status.to_string(),
        num(s.rps, 1),
        num(l.p50, 3),
        num(l.p90, 3),
        num(l.p99, 3),
        num(l.p999, 3),
        num(l.max, 3),
        s.errors.to_string(),
    ]
}

/// The table printed on stdout: one row per operation (and the baseline), then the errors
/// by type and the reasons operations were not measured.
pub fn render_table(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "endpoint {}  concurrency {}  duration {} s  warm-up {} s  keys {}",
        r.endpoint, r.concurrency, r.duration_s, r.warmup_s, r.keys
    );
    if let Some(k) = &r.key_setup {
        let _ = writeln!(
            out,
            "created {} symmetric key(s) in {:.2} s ({:.0} keys/s)",
            k.created, k.seconds, k.keys_per_second
        );
    }
    out.push('\n');
    let mut header: Vec<String> = [
        "operation",
        "status",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "errors",
    ]
    .map(String::from)
    .to_vec();
    if r.baseline.is_some() {
        header.push("x base/s".into());
        header.push("x base p99".into());
    }
    if r.minimal_kms.is_some() {
        header.push("x min/s".into());
        header.push("x min p99".into());
    }
    let summaries = || {
        [&r.baseline, &r.minimal_kms]
            .into_iter()
            .flatten()
            .chain(r.operations.iter().map(|o| &o.summary))
    };
    let cpu = summaries().any(|s| s.server_cpu_us.is_some() || s.client_cpu_us.is_some());
    let min_cpu = r.minimal_kms.as_ref().and_then(|m| m.server_cpu_us);
    if cpu {
        header.push("srv us".into());
        header.push("cli us".into());
    }
    if cpu && min_cpu.is_some() {
        header.push("cpu x min".into());
    }
    row(&mut out, &header);
    let f = |v: Option<f64>, d| v.map(|v| num(v, d)).unwrap_or_else(|| "-".into());
    let ratio_cells = |cells: &mut Vec<String>, s: &Summary| {
        if let Some(b) = &r.baseline {
            cells.push(f(ratio(s.rps, b.rps), 3));
            cells.push(f(ratio(s.latency_ms.p99, b.latency_ms.p99), 2));
        }
        if let Some(m) = &r.minimal_kms {
            cells.push(f(ratio(s.rps, m.rps), 3));
            cells.push(f(ratio(s.latency_ms.p99, m.latency_ms.p99), 2));
        }
    };
    // An operation's ratio is in its report; a baseline's is worked out here.
    let cpu_cells = |cells: &mut Vec<String>, s: &Summary, to_min: Option<f64>| {
        if cpu {
            cells.push(f(s.server_cpu_us, 1));
            cells.push(f(s.client_cpu_us, 1));
            if min_cpu.is_some() {
                cells.push(f(to_min, 2));
            }
        }
    };
    for (name, s) in [("baseline", &r.baseline), ("minimal-kms", &r.minimal_kms)] {
        if let Some(s) = s {
            let mut cells = summary_cells(name, "ok", s);
            ratio_cells(&mut cells, s);
            let to_min = s.server_cpu_us.zip(min_cpu).and_then(|(c, m)| ratio(c, m));
            cpu_cells(&mut cells, s, to_min);
            row(&mut out, &cells);
        }
    }
    let mut notes = Vec::new();
    for op in &r.operations {
        let status = match op.status {
            Status::Ok => "ok",
            Status::Unsupported => "unsupported",
            Status::Failed => "failed",
        };
        let mut cells = if op.status == Status::Ok {
            summary_cells(&op.name, status, &op.summary)
        } else {
            vec![op.name.clone(), status.to_string()]
        };
        if r.baseline.is_some() && op.status == Status::Ok {
            cells.push(f(op.throughput_ratio, 3));
            cells.push(f(op.p99_ratio, 2));
        }
        if r.minimal_kms.is_some() && op.status == Status::Ok {
            cells.push(f(op.minimal_throughput_ratio, 3));
            cells.push(f(op.minimal_p99_ratio, 2));
        }
        if op.status == Status::Ok {
            cpu_cells(&mut cells, &op.summary, op.minimal_cpu_ratio);
        }
        row(&mut out, &cells);
        if let Some(d) = &op.detail {
            notes.push(format!("{}: {d}", op.name));
        }
        for (kind, n) in &op.summary.error_types {
            notes.push(format!("{}: {n} x {kind}", op.name));
        }
    }
    for (name, s) in [("baseline", &r.baseline), ("minimal-kms", &r.minimal_kms)] {
        for (kind, n) in s.iter().flat_map(|s| &s.error_types) {
            notes.push(format!("{name}: {n} x {kind}"));
        }
    }
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            let _ = writeln!(out, "  {n}");
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::stats::Latency;

    fn report() -> Report {
        let s = Summary {
            requests: 1000,
            errors: 2,
            error_types: [("ThrottlingException".to_string(), 2)].into(),
            seconds: 1.0,
            rps: 1000.0,
            latency_ms: Latency {
                mean: 1.0,
                p50: 1.0,
                p90: 2.0,
                p99: 3.0,
                p999: 4.0,
                max: 5.0,
            },
            server_cpu_us: None,
            client_cpu_us: None,
        };
        Report {
            endpoint: "http://x".into(),
            region: "us-east-1".into(),
            concurrency: 2,
            duration_s: 1.0,
            warmup_s: 0.0,
            keys: 1,
            key_setup: None,
            baseline: Some(Summary {
                rps: 4000.0,
                ..s.clone()
            }),
            minimal_kms: Some(Summary {
                rps: 2000.0,
                ..s.clone()
            }),
            baseline_place: Some("in process".into()),
            operations: vec![
                OpReport {
                    name: "Encrypt64".into(),
                    api: "Encrypt".into(),
                    status: Status::Ok,
                    detail: None,
                    summary: s,
                    throughput_ratio: Some(0.25),
                    p99_ratio: Some(1.0),
                    minimal_throughput_ratio: Some(0.5),
                    minimal_p99_ratio: Some(1.0),
                    minimal_cpu_ratio: None,
                },
                OpReport {
                    name: "SignRsa2048".into(),
                    api: "Sign".into(),
                    status: Status::Unsupported,
                    detail: Some("RSA_2048/SIGN_VERIFY: UnsupportedOperationException".into()),
                    summary: Summary::default(),
                    throughput_ratio: None,
                    p99_ratio: None,
                    minimal_throughput_ratio: None,
                    minimal_p99_ratio: None,
                    minimal_cpu_ratio: None,
                },
            ],
        }
    }

    #[test]
    fn table_has_rows_ratios_and_notes() {
        let t = render_table(&report());
        assert!(t.contains("x base/s"), "{t}");
        let enc = t.lines().find(|l| l.starts_with("Encrypt64")).unwrap();
        assert!(enc.contains("1000.0") && enc.contains("0.250"), "{enc}");
        assert!(t.contains("x min/s"), "{t}");
        assert!(enc.trim_end().ends_with("0.500      1.00"), "{enc}");
        let min = t.lines().find(|l| l.starts_with("minimal-kms")).unwrap();
        // The minimal endpoint against the bare baseline, and against itself.
        assert!(min.contains("0.500") && min.contains("1.000"), "{min}");
        assert!(
            t.lines()
                .any(|l| l.starts_with("SignRsa2048     unsupported")),
            "{t}"
        );
        assert!(t.contains("Encrypt64: 2 x ThrottlingException"), "{t}");
    }

    #[test]
    fn cpu_per_request_gets_columns_when_measured() {
        let mut r = report();
        assert!(!render_table(&r).contains("srv us"));
        if let Some(m) = &mut r.minimal_kms {
            m.server_cpu_us = Some(10.0);
            m.client_cpu_us = Some(12.0);
        }
        r.operations[0].summary.server_cpu_us = Some(25.0);
        r.operations[0].summary.client_cpu_us = Some(14.5);
        r.operations[0].minimal_cpu_ratio = Some(2.5);
        let t = render_table(&r);
        assert!(t.contains("srv us") && t.contains("cpu x min"), "{t}");
        let enc = t.lines().find(|l| l.starts_with("Encrypt64")).unwrap();
        assert!(
            enc.trim_end().ends_with("25.0       14.5       2.50"),
            "{enc}"
        );
        let min = t.lines().find(|l| l.starts_with("minimal-kms")).unwrap();
        assert!(
            min.trim_end().ends_with("10.0       12.0       1.00"),
            "{min}"
        );
        // The bare baseline was measured without its server's process: no figure.
        let base = t.lines().find(|l| l.starts_with("baseline")).unwrap();
        assert!(
            base.trim_end().ends_with("-          -          -"),
            "{base}"
        );
        let v: serde_json::Value = serde_json::from_str(&r.to_json().unwrap()).unwrap();
        let op = &v["operations"][0];
        assert_eq!(op["server_cpu_us"].as_f64(), Some(25.0));
        assert!(v["baseline"].get("server_cpu_us").is_none());
    }

    #[test]
    fn json_flattens_the_summary() {
        let v: serde_json::Value = serde_json::from_str(&report().to_json().unwrap()).unwrap();
        let op = v.get("operations").and_then(|o| o.get(0)).unwrap();
        assert_eq!(op.get("rps").and_then(|r| r.as_f64()), Some(1000.0));
        assert_eq!(
            op.get("throughput_ratio").and_then(|r| r.as_f64()),
            Some(0.25)
        );
        assert_eq!(
            op.get("latency_ms")
                .and_then(|l| l.get("p99"))
                .and_then(|r| r.as_f64()),
            Some(3.0)
        );
        assert_eq!(
            op.get("minimal_throughput_ratio").and_then(|r| r.as_f64()),
            Some(0.5)
        );
        assert_eq!(
            v.get("minimal_kms")
                .and_then(|m| m.get("rps"))
                .and_then(|r| r.as_f64()),
            Some(2000.0)
        );
        let unsupported = v.get("operations").and_then(|o| o.get(1)).unwrap();
        assert_eq!(
            unsupported.get("status").and_then(|s| s.as_str()),
            Some("unsupported")
        );
    }
}
