//! Running `tresor admin …` against a test server.

use super::*;
use serde_json::Value;

/// `tresor admin ARGS --output json` against `srv`, signed with `creds` (access key id,
/// secret) or, with `None`, the dev (operator) credentials. The JSON answer, or stderr.
pub fn admin_as(srv: &Server, creds: Option<(&str, &str)>, args: &[&str]) -> Result<Value, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tresor"));
    cmd.arg("admin")
        .args(args)
        .args(["--output", "json", "--endpoint", &srv.endpoint]);
    match creds {
        Some((id, secret)) => cmd
            .env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret),
        None => cmd
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    };
    let out = cmd.output().expect("run tresor admin");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).expect("admin prints JSON"))
}
