//! `tresor admin …`: manage accounts' users, access keys, XKS credentials and identity policies on a
//! running server through its signed admin API.

use crate::client::Target;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// `tresor admin`.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Server endpoint (default: AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL, or http://127.0.0.1:7390).
    #[arg(long, global = true)]
    pub endpoint: Option<String>,
    /// Region to sign for (default: AWS_REGION, AWS_DEFAULT_REGION, or us-east-1).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// What to manage.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Output {
    /// Human-readable lines.
    Text,
    /// The server's JSON answer.
    Json,
}

/// Admin subjects.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Users (IAM-style principals with access keys) of an account.
    #[command(subcommand)]
    User(UserCommand),
    /// Access keys of a user, an account's root, or the operator (at most two each).
    #[command(subcommand)]
    AccessKey(AccessKeyCommand),
    /// XKS proxy credentials (for `serve --xks-listen`): the access key id and secret an
    /// AWS KMS external key store signs its proxy calls with (at most two per principal).
    #[command(subcommand)]
    XksCredential(XksCredentialCommand),
    /// Take an online, consistent backup of the server's data directory (operator only);
    /// the server sends it back and it is written to FILE (mode 0600).
    Backup(BackupArgs),
}

/// `tresor admin backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the backup (must not exist).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `tresor admin access-key …`.
#[derive(Debug, Subcommand)]
pub enum AccessKeyCommand {
    /// Create an access key; its secret is printed only now.
    Create(KeyOwner),
    /// List access keys (id, status, created).
    List(KeyOwner),
    /// Make an access key stop authenticating (reversible with `activate`).
    Deactivate(KeyOwnerAndId),
    /// Make an inactive access key authenticate again.
    Activate(KeyOwnerAndId),
    /// Delete an access key for good.
    Delete(KeyOwnerAndId),
}

/// Whose access keys: `--account A [--name U]` (without `--name`: the account's root),
/// or `--operator` (the calling operator's own keys).
#[derive(Debug, Args)]
pub struct KeyOwner {
    /// 12-digit account id.
    #[arg(
        long,
        required_unless_present = "operator",
        conflicts_with = "operator"
    )]
    pub account: Option<String>,
    /// User name (omit for the account's root).
    #[arg(long, requires = "account")]
    pub name: Option<String>,
    /// The calling operator's own keys (to rotate the operator credential).
    #[arg(long)]
    pub operator: bool,
}

/// [`KeyOwner`] and `--access-key-id`.
#[derive(Debug, Args)]
pub struct KeyOwnerAndId {
    #[command(flatten)]
    pub owner: KeyOwner,
    /// The access key.
    #[arg(long)]
    pub access_key_id: String,
}

impl KeyOwner {
    fn body(&self) -> Map<String, Value> {
        let mut v = Map::new();
        if self.operator {
            v.insert("Operator".into(), json!(true));
        } else {
            v.insert("Account".into(), json!(self.account));
            if let Some(name) = &self.name {
                v.insert("UserName".into(), json!(name));
            }
        }
        v
    }
}

/// `tresor admin xks-credential …`.
#[derive(Debug, Subcommand)]
pub enum XksCredentialCommand {
    /// Create an XKS credential for the account's root or `--name` user; its secret is
    /// printed only now.
    Create(XksOwner),
    /// List the account's XKS credentials (id, principal, status, created).
    List(XksOwner),
    /// Delete an XKS credential for good.
    Delete(XksId),
}

/// `--account A [--name U]`: the principal an XKS credential authenticates as (without
/// `--name`: the account's root).
#[derive(Debug, Args)]
pub struct XksOwner {
    /// 12-digit account id.
    #[arg(long)]
    pub account: String,
    /// User name (omit for the account's root).
    #[arg(long)]
    pub name: Option<String>,
}

/// `--account A --access-key-id ID`.
#[derive(Debug, Args)]
pub struct XksId {
    /// 12-digit account id.
    #[arg(long)]
    pub account: String,
    /// The XKS credential's access key id.
    #[arg(long)]
    pub access_key_id: String,
}

impl XksOwner {
    fn body(&self) -> Value {
        let mut v = Map::new();
        v.insert("Account".into(), json!(self.account));
        if let Some(name) = &self.name {
            v.insert("UserName".into(), json!(name));
        }
        Value::Object(v)
    }
}

fn xks_request(cmd: &XksCredentialCommand) -> (&'static str, Value) {
    match cmd {
        XksCredentialCommand::Create(o) => ("CreateXksCredential", o.body()),
        XksCredentialCommand::List(o) => ("ListXksCredentials", o.body()),
        XksCredentialCommand::Delete(k) => (
            "DeleteXksCredential",
            json!({"Account": k.account, "AccessKeyId": k.access_key_id}),
        ),
    }
}

fn print_xks(cmd: &XksCredentialCommand, answer: &Value) {
    match cmd {
        XksCredentialCommand::Create(_) => {
            println!("Arn              {}", field(answer, "Arn"));
            println!("AccessKeyId      {}", field(answer, "AccessKeyId"));
            println!("SecretAccessKey  {}", field(answer, "SecretAccessKey"));
            println!("(the secret is shown only now; give both to AWS KMS as the external key store's XksProxyAuthenticationCredential)");
        }
        XksCredentialCommand::List(_) => {
            for k in answer
                .get("XksCredentials")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                println!(
                    "{}\t{}\t{}",
                    field(k, "AccessKeyId"),
                    field(k, "Arn"),
                    field(k, "Status"),
                );
            }
        }
        XksCredentialCommand::Delete(_) => println!("ok"),
    }
}

/// `tresor admin user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and its access key (an account comes into being with its first user).
    Create(UserName),
    /// List an account's users.
    List(AccountOnly),
    /// Disable a user and all its access keys.
    Disable(UserName),
    /// Attach (or replace) an identity policy.
    PutPolicy(PutPolicy),
    /// Show one identity policy.
    GetPolicy(PolicyName),
    /// List a user's identity policies.
    ListPolicies(UserName),
    /// Remove an identity policy.
    DeletePolicy(PolicyName),
}

/// `--account`.
#[derive(Debug, Args)]
pub struct AccountOnly {
    /// 12-digit account id.
    #[arg(long)]
    pub account: String,
}

/// `--account --name`.
#[derive(Debug, Args)]
pub struct UserName {
    /// 12-digit account id.
    #[arg(long)]
    pub account: String,
    /// User name.
    #[arg(long)]
    pub name: String,
}

/// `--account --name --policy-name`.
#[derive(Debug, Args)]
pub struct PolicyName {
    /// 12-digit account id.
    #[arg(long)]
    pub account: String,
    /// User name.
    #[arg(long)]
    pub name: String,
    /// Policy name.
    #[arg(long)]
    pub policy_name: String,
}

/// `put-policy`.
#[derive(Debug, Args)]
pub struct PutPolicy {
    /// 12-digit account id.
    #[arg(long)]
    pub account: String,
    /// User name.
    #[arg(long)]
    pub name: String,
    /// Policy name (default: the file name without its extension).
    #[arg(long)]
    pub policy_name: Option<String>,
    /// The policy document (JSON).
    #[arg(long)]
    pub policy_file: PathBuf,
}

/// Runs `tresor admin …`.
pub fn run(args: AdminArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: AdminArgs) -> Result<(), String> {
    let target = Target::from_env(args.endpoint.as_deref(), args.region.as_deref())?;
    let (op, body) = match &args.command {
        AdminCommand::User(cmd) => user_request(cmd)?,
        AdminCommand::AccessKey(cmd) => access_key_request(cmd),
        AdminCommand::XksCredential(cmd) => xks_request(cmd),
        AdminCommand::Backup(b) => return backup(&target, b, args.output).await,
    };
    let answer = target.call(&format!("TresorAdmin.{op}"), &body).await?;
    match args.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?
        ),
        Output::Text => match &args.command {
            AdminCommand::User(cmd) => print_text(cmd, &answer),
            AdminCommand::AccessKey(cmd) => print_access_keys(cmd, &answer),
            AdminCommand::XksCredential(cmd) => print_xks(cmd, &answer),
            AdminCommand::Backup(_) => {}
        },
    }
    Ok(())
}

async fn backup(target: &Target, args: &BackupArgs, output: Output) -> Result<(), String> {
    if args.out.exists() {
        return Err(format!("{} already exists", args.out.display()));
    }
    let answer = target.call("TresorOperator.Backup", &json!({})).await?;
    let summary = crate::backup::save_answer(&answer, &args.out)?;
    match output {
        Output::Text => println!("{summary}"),
        Output::Json => println!(
            "{}",
            json!({"Path": args.out, "Bytes": answer.get("Bytes"), "Sha256": answer.get("Sha256")})
        ),
    }
    Ok(())
}

fn access_key_request(cmd: &AccessKeyCommand) -> (&'static str, Value) {
    let with_id = |k: &KeyOwnerAndId, status: Option<&str>| {
        let mut v = k.owner.body();
        v.insert("AccessKeyId".into(), json!(k.access_key_id));
        if let Some(s) = status {
            v.insert("Status".into(), json!(s));
        }
        Value::Object(v)
    };
    match cmd {
        AccessKeyCommand::Create(o) => ("CreateAccessKey", Value::Object(o.body())),
        AccessKeyCommand::List(o) => ("ListAccessKeys", Value::Object(o.body())),
        AccessKeyCommand::Deactivate(k) => ("UpdateAccessKey", with_id(k, Some("Inactive"))),
        AccessKeyCommand::Activate(k) => ("UpdateAccessKey", with_id(k, Some("Active"))),
        AccessKeyCommand::Delete(k) => ("DeleteAccessKey", with_id(k, None)),
    }
}

fn print_access_keys(cmd: &AccessKeyCommand, answer: &Value) {
    match cmd {
        AccessKeyCommand::Create(_) => {
            println!("Arn              {}", field(answer, "Arn"));
            println!("AccessKeyId      {}", field(answer, "AccessKeyId"));
            println!("SecretAccessKey  {}", field(answer, "SecretAccessKey"));
            println!("(the secret is shown only now)");
        }
        AccessKeyCommand::List(_) => {
            for k in answer
                .get("AccessKeyMetadata")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let created = k
                    .get("CreateDate")
                    .and_then(Value::as_f64)
                    .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s as i64).ok())
                    .map(tresor_audit::event::format_utc_seconds)
                    .unwrap_or_default();
                let operator = if k.get("Operator").and_then(Value::as_bool) == Some(true) {
                    "\toperator"
                } else {
                    ""
                };
                println!(
                    "{}\t{}\t{created}{operator}",
                    field(k, "AccessKeyId"),
                    field(k, "Status"),
                );
            }
        }
        AccessKeyCommand::Deactivate(_)
        | AccessKeyCommand::Activate(_)
        | AccessKeyCommand::Delete(_) => println!("ok"),
    }
}

fn user_request(cmd: &UserCommand) -> Result<(&'static str, Value), String> {
    Ok(match cmd {
        UserCommand::Create(u) => (
            "CreateUser",
            json!({"Account": u.account, "UserName": u.name}),
        ),
        UserCommand::List(a) => ("ListUsers", json!({"Account": a.account})),
        UserCommand::Disable(u) => (
            "DisableUser",
            json!({"Account": u.account, "UserName": u.name}),
        ),
        UserCommand::PutPolicy(p) => {
            let document = std::fs::read_to_string(&p.policy_file)
                .map_err(|e| format!("reading {}: {e}", p.policy_file.display()))?;
            let name = p.policy_name.clone().unwrap_or_else(|| {
                p.policy_file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "policy".into())
            });
            (
                "PutUserPolicy",
                json!({"Account": p.account, "UserName": p.name, "PolicyName": name, "PolicyDocument": document}),
            )
        }
        UserCommand::GetPolicy(p) => (
            "GetUserPolicy",
            json!({"Account": p.account, "UserName": p.name, "PolicyName": p.policy_name}),
        ),
        UserCommand::ListPolicies(u) => (
            "ListUserPolicies",
            json!({"Account": u.account, "UserName": u.name}),
        ),
        UserCommand::DeletePolicy(p) => (
            "DeleteUserPolicy",
            json!({"Account": p.account, "UserName": p.name, "PolicyName": p.policy_name}),
        ),
    })
}

fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn print_text(cmd: &UserCommand, answer: &Value) {
    match cmd {
        UserCommand::Create(_) => {
            println!("Arn              {}", field(answer, "Arn"));
            println!("AccessKeyId      {}", field(answer, "AccessKeyId"));
            println!("SecretAccessKey  {}", field(answer, "SecretAccessKey"));
            println!("(the secret is shown only now)");
        }
        UserCommand::List(_) => {
            for u in answer
                .get("Users")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let enabled = u.get("Enabled").and_then(Value::as_bool).unwrap_or(false);
                println!(
                    "{}\t{}",
                    field(u, "Arn"),
                    if enabled { "enabled" } else { "disabled" }
                );
            }
        }
        UserCommand::ListPolicies(_) => {
            for p in answer
                .get("PolicyNames")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                println!("{}", p.as_str().unwrap_or_default());
            }
        }
        UserCommand::GetPolicy(_) => println!("{}", field(answer, "PolicyDocument")),
        UserCommand::Disable(_) | UserCommand::PutPolicy(_) | UserCommand::DeletePolicy(_) => {
            println!("ok")
        }
    }
}
