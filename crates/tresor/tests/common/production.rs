//! Production data directories in tests: `tresor init --sealer shamir`, a sealed start,
//! unsealing over the API, and the CLI signed as a given identity.

use super::*;
use serde_json::{json, Value};

/// What `tresor init --output json` printed: the operator credential and the shares.
pub struct Initialized {
    /// The operator, as an identity for [`run_admin`] and the SDK.
    pub operator: Identity,
    /// The Shamir shares (default 5, threshold 3).
    pub shares: Vec<String>,
}

/// `tresor init --data-dir DIR --sealer shamir` (on PostgreSQL with
/// `TRESOR_TEST_STORE=postgres`: then [`start_production`] serves it there too).
pub fn init_shamir(dir: &Path) -> Initialized {
    init_shamir_on(dir, production_store_url(dir).as_deref())
}

/// `tresor init --data-dir DIR --sealer shamir [--store URL]`.
pub fn init_shamir_on(dir: &Path, store: Option<&str>) -> Initialized {
    let mut args = vec![
        "init",
        "--data-dir",
        dir.to_str().unwrap(),
        "--sealer",
        "shamir",
        "--output",
        "json",
    ];
    if let Some(url) = store {
        args.extend(["--store", url]);
    }
    let (fine, out, err) = tresor(&args);
    assert!(fine, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    Initialized {
        operator: Identity {
            arn: format!("arn:aws:iam::{ACCOUNT}:root"),
            access_key_id: v["AccessKeyId"].as_str().unwrap().into(),
            secret: v["SecretAccessKey"].as_str().unwrap().into(),
        },
        shares: v["Shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect(),
    }
}

/// `tresor serve --data-dir DIR` (no `--dev`): starts sealed.
pub fn start_production(dir: &Path) -> Server {
    Server::start_opts(dir, &[], &[])
}

/// `GET /tresor/operator/seal-status`.
pub fn seal_status(srv: &Server) -> Value {
    http_request(srv.port, "GET", "/tresor/operator/seal-status", &[], b"").json()
}

/// Submits `shares` one by one; the server must end unsealed.
pub fn unseal_with(srv: &Server, shares: &[String]) {
    for s in shares {
        let body = json!({ "Share": s }).to_string();
        let r = http_request(
            srv.port,
            "POST",
            "/tresor/operator/unseal",
            &[],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body_str());
    }
    assert_eq!(seal_status(srv)["Sealed"], json!(false));
}

/// Runs the CLI with `args`, signing as `who`, with `stdin`: (success, stdout, stderr).
pub fn tresor_signed(args: &[&str], who: &Identity, stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tresor"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", &who.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &who.secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every regular file under `dir`, at any depth (unreadable directories are skipped).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out
}

/// Asserts that none of `needles` occurs in `bytes` (named `what` in the message).
pub fn assert_absent(what: &str, bytes: &[u8], needles: &[&[u8]]) {
    for n in needles {
        assert!(
            !n.is_empty() && !bytes.windows(n.len()).any(|w| w == *n),
            "{what} holds a secret ({} bytes)",
            n.len()
        );
    }
}

/// The permission bits of `path`.
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
