//! `tresor operator …`: unseal (one share per call), seal status, seal, rekey and root
//! rotation of a running server.

use crate::admin_cmd::Output;
use crate::client::Target;
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `tresor operator`.
#[derive(Debug, Args)]
pub struct OperatorArgs {
    /// Server endpoint (default: AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL, or http://127.0.0.1:7390).
    #[arg(long, global = true)]
    pub endpoint: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// What to do.
    #[command(subcommand)]
    pub command: OperatorCommand,
}

/// Operator actions.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Submit one unseal share (from stdin, or --share-file); unauthenticated.
    Unseal(ShareInput),
    /// Sealed or not, and the unseal progress; unauthenticated.
    SealStatus,
    /// Seal the running server (operator credential).
    Seal,
    /// New shares for the same root key: `--start`, then one current share per call;
    /// the last call prints the new shares once (operator credential).
    Rekey(RekeyArgs),
    /// A new root key; every stored key and secret re-wrapped online (operator credential).
    RotateRoot,
}

/// Where one share comes from.
#[derive(Debug, Args)]
pub struct ShareInput {
    /// Read the share from this file instead of stdin.
    #[arg(long, value_name = "PATH")]
    pub share_file: Option<PathBuf>,
    /// Drop the shares submitted so far instead.
    #[arg(long)]
    pub reset: bool,
}

/// `tresor operator rekey`.
#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// Start a rekey to `--shares`/`--threshold`.
    #[arg(long, conflicts_with_all = ["cancel", "share_file"])]
    pub start: bool,
    /// Abandon a rekey in progress.
    #[arg(long)]
    pub cancel: bool,
    /// With --start: shares to issue.
    #[arg(long, default_value_t = 5)]
    pub shares: u8,
    /// With --start: shares needed to unseal.
    #[arg(long, default_value_t = 3)]
    pub threshold: u8,
    /// A current share from this file instead of stdin.
    #[arg(long, value_name = "PATH")]
    pub share_file: Option<PathBuf>,
    /// Write the new shares to these files (mode 0600) instead of printing them.
    #[arg(long = "share-out", value_name = "PATH")]
    pub share_out: Vec<PathBuf>,
}

/// Runs `tresor operator …`.
pub fn run(args: OperatorArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(run_async(args))
}

fn read_share(file: Option<&PathBuf>) -> Result<zeroize::Zeroizing<String>, String> {
    let mut text = zeroize::Zeroizing::new(String::new());
    match file {
        Some(p) => {
            std::fs::File::open(p)
                .and_then(|mut f| f.read_to_string(&mut text))
                .map_err(|e| format!("{}: {e}", p.display()))?;
        }
        None => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("reading the share from stdin: {e}"))?;
        }
    }
    let share = zeroize::Zeroizing::new(text.trim().to_string());
    if share.is_empty() {
        return Err("no share given (stdin or --share-file)".into());
    }
    Ok(share)
}

async fn run_async(args: OperatorArgs) -> Result<(), String> {
    let target = Target::from_env(args.endpoint.as_deref(), None)?;
    let answer = match &args.command {
        OperatorCommand::Unseal(input) => {
            let body = if input.reset {
                json!({ "Reset": true })
            } else {
                json!({ "Share": read_share(input.share_file.as_ref())?.as_str() })
            };
            plain(&target, "POST", "/tresor/operator/unseal", Some(&body)).await?
        }
        OperatorCommand::SealStatus => {
            plain(&target, "GET", "/tresor/operator/seal-status", None).await?
        }
        OperatorCommand::Seal => target.call("TresorOperator.Seal", &json!({})).await?,
        OperatorCommand::RotateRoot => target.call("TresorOperator.RotateRoot", &json!({})).await?,
        OperatorCommand::Rekey(r) => {
            let body = if r.cancel {
                json!({ "Cancel": true })
            } else if r.start {
                json!({ "Shares": r.shares, "Threshold": r.threshold })
            } else {
                json!({ "Share": read_share(r.share_file.as_ref())?.as_str() })
            };
            let mut answer = target.call("TresorOperator.Rekey", &body).await?;
            if let (false, Some(shares)) = (r.share_out.is_empty(), answer.get("Shares").cloned()) {
                write_shares(&r.share_out, &shares)?;
                set(
                    &mut answer,
                    "Shares",
                    json!(format!("written to {} files", r.share_out.len())),
                );
            }
            answer
        }
    };
    print(&args, &answer)
}

fn write_shares(paths: &[PathBuf], shares: &Value) -> Result<(), String> {
    let list = shares.as_array().cloned().unwrap_or_default();
    if list.len() != paths.len() {
        eprintln!(
            "tresor: {} shares but {} --share-out files; printing them instead",
            list.len(),
            paths.len()
        );
        println!("{shares}");
        return Ok(());
    }
    for (path, share) in paths.iter().zip(list) {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let text = share.as_str().unwrap_or_default();
        opts.open(path)
            .and_then(|mut f| {
                f.write_all(format!("{text}\n").as_bytes())
                    .and(f.sync_all())
            })
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn print(args: &OperatorArgs, answer: &Value) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    if matches!(args.output, Output::Json) {
        let _ = writeln!(out, "{answer}");
        return Ok(());
    }
    if let Some(shares) = answer.get("Shares").and_then(Value::as_array) {
        let _ = writeln!(
            out,
            "New shares (printed only now; the old shares no longer unseal):"
        );
        for s in shares {
            let _ = writeln!(out, "  {}", s.as_str().unwrap_or_default());
        }
        return Ok(());
    }
    if let Some(g) = answer.get("Generation") {
        let _ = writeln!(
            out,
            "Root key generation {g}; {} values re-wrapped in {:.3} s",
            answer.get("Rewrapped").unwrap_or(&json!(0)),
            answer.get("Seconds").and_then(Value::as_f64).unwrap_or(0.0)
        );
        return Ok(());
    }
    for key in [
        "Sealed",
        "Sealer",
        "Threshold",
        "Progress",
        "Started",
        "RekeyProgress",
    ] {
        if let Some(v) = answer.get(key) {
            let _ = writeln!(out, "{key}: {v}");
        }
    }
    Ok(())
}

/// One unsigned request (the unseal endpoints take no credential).
async fn plain(
    target: &Target,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, String> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        target.authority,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(&target.authority)
        .await
        .map_err(|e| format!("connecting to {}: {e}", target.authority))?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, payload) = text
        .split_once("\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json: Value = serde_json::from_str(payload)
        .map_err(|e| format!("HTTP {status}: unreadable answer ({e}): {payload}"))?;
    if status == 200 {
        return Ok(json);
    }
    Err(format!(
        "{}: {}",
        json.get("__type")
            .and_then(Value::as_str)
            .unwrap_or("Error"),
        json.get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
    ))
}

/// Sets `key` of a JSON object (no-op on anything else).
fn set(v: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), value);
    }
}
