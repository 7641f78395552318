//! Identities for black-box tests: users created with `tresor admin` against the running
//! server, their identity policies, and SDK clients signed with their keys.

use super::{Server, REGION};
use aws_sdk_kms::Client;
use serde_json::Value;

/// A user and its access key.
#[derive(Clone)]
pub struct Identity {
    pub arn: String,
    pub access_key_id: String,
    pub secret: String,
}

/// `tresor admin …` against the running server with the dev (operator) credentials.
pub fn admin(srv: &Server, args: &[&str]) -> Result<Value, String> {
    run_admin(srv, None, args)
}

/// `tresor admin …` as `who` (or, with `None`, as the operator).
pub fn run_admin(srv: &Server, who: Option<&Identity>, args: &[&str]) -> Result<Value, String> {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tresor"));
    cmd.arg("admin")
        .args(args)
        .args(["--output", "json", "--endpoint", &srv.endpoint]);
    match who {
        Some(w) => cmd
            .env("AWS_ACCESS_KEY_ID", &w.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &w.secret),
        None => cmd
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY"),
    };
    let out = cmd.output().expect("run tresor admin");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).expect("admin prints JSON"))
}

pub fn create_user(srv: &Server, account: &str, name: &str) -> Identity {
    let v = admin(
        srv,
        &["user", "create", "--account", account, "--name", name],
    )
    .expect("create user");
    Identity {
        arn: v["Arn"].as_str().unwrap().to_string(),
        access_key_id: v["AccessKeyId"].as_str().unwrap().to_string(),
        secret: v["SecretAccessKey"].as_str().unwrap().to_string(),
    }
}

pub fn put_policy(srv: &Server, account: &str, name: &str, policy: &Value) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), policy.to_string()).unwrap();
    admin(
        srv,
        &[
            "user",
            "put-policy",
            "--account",
            account,
            "--name",
            name,
            "--policy-file",
            file.path().to_str().unwrap(),
        ],
    )
    .expect("put-policy");
}

pub async fn client_for(srv: &Server, who: &Identity) -> Client {
    srv.client_with(REGION, &who.access_key_id, &who.secret)
        .await
}
