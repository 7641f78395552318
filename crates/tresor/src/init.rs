//! `tresor init`: a production data directory (mode 0700) with the database, the sealed
//! root key and the first operator credential; and the start-up checks `serve` makes
//! on a production directory.

use crate::cli::ServeArgs;
use crate::seal_control::ServerSeal;
use clap::{Args, ValueEnum};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tresor_core::{Kms, KmsConfig, SecretBytes, SystemClock};
use tresor_seal::pkcs11::{Pkcs11Config, Pkcs11Sealer};
use tresor_seal::shamir::{ShamirParams, ShamirSealer};
use tresor_seal::{DirectorySeal, SealFile, Sealer, SealerKind, SealerRecord};

/// `tresor init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The data directory to create (must not exist).
    #[arg(long, env = "TRESOR_DATA_DIR")]
    pub data_dir: PathBuf,
    /// How the root key is sealed.
    #[arg(long, value_enum)]
    pub sealer: SealerArg,
    /// Where the records live (as `serve --store`): the first root generation and the
    /// operator key are written there. Every node of a shared database then serves with
    /// the same `--store` and a copy of this directory's seal file.
    #[arg(long, env = "TRESOR_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// Shamir: shares to issue.
    #[arg(long, default_value_t = 5)]
    pub shares: u8,
    /// Shamir: shares needed to unseal.
    #[arg(long, default_value_t = 3)]
    pub threshold: u8,
    /// Shamir: write the shares to these files (mode 0600, one per share, repeated
    /// `--shares` times) instead of printing them.
    #[arg(long = "share-out", value_name = "PATH")]
    pub share_out: Vec<PathBuf>,
    /// PKCS#11: the module (e.g. /usr/lib/softhsm/libsofthsm2.so).
    #[arg(long, value_name = "PATH")]
    pub pkcs11_module: Option<PathBuf>,
    /// PKCS#11: label of the token.
    #[arg(long, value_name = "LABEL")]
    pub pkcs11_token_label: Option<String>,
    /// PKCS#11: file holding the user PIN (mode 0600).
    #[arg(long, value_name = "PATH")]
    pub pkcs11_pin_file: Option<PathBuf>,
    /// Account whose root the operator credential belongs to.
    #[arg(long, default_value = crate::serve::DEV_ACCOUNT)]
    pub operator_account: String,
    /// What to print.
    #[arg(long, value_enum, default_value_t = crate::admin_cmd::Output::Text)]
    pub output: crate::admin_cmd::Output,
}

/// The production sealers.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SealerArg {
    /// N shares, any T unseal.
    Shamir,
    /// A non-extractable key in an HSM (auto-unseal).
    Pkcs11,
}

/// Runs `tresor init`.
pub fn run(args: InitArgs) -> Result<(), String> {
    let dir = &args.data_dir;
    if dir.exists() {
        return Err(format!(
            "{} already exists; `tresor init` makes a new data directory",
            dir.display()
        ));
    }
    if !tresor_core::ids::is_account(&args.operator_account) {
        return Err("--operator-account must be 12 digits".into());
    }
    let shamir = matches!(args.sealer, SealerArg::Shamir);
    if shamir && !args.share_out.is_empty() && args.share_out.len() != usize::from(args.shares) {
        return Err(format!(
            "{} --share-out files for {} shares",
            args.share_out.len(),
            args.shares
        ));
    }
    if let Some(p) = args.share_out.iter().find(|p| p.exists()) {
        return Err(format!("{} already exists", p.display()));
    }
    let params = if shamir {
        Some(ShamirParams::new(args.shares, args.threshold).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let pkcs11 = if shamir {
        None
    } else {
        Some(Pkcs11Config {
            module: args
                .pkcs11_module
                .clone()
                .ok_or("--pkcs11-module is required")?,
            token_label: args
                .pkcs11_token_label
                .clone()
                .ok_or("--pkcs11-token-label is required")?,
            pin_file: args
                .pkcs11_pin_file
                .clone()
                .ok_or("--pkcs11-pin-file is required")?,
        })
    };
    create_private_dir(dir)?;
    let made = (|| {
        let (root, shares) = match (params, pkcs11) {
            (Some(params), _) => {
                let init = ShamirSealer::new(params)
                    .init(dir, None)
                    .map_err(|e| e.to_string())?;
                (init.root, init.secrets)
            }
            (None, Some(config)) => {
                let init = Pkcs11Sealer::new(config)
                    .init(dir, None)
                    .map_err(|e| e.to_string())?;
                (init.root, Vec::new())
            }
            (None, None) => return Err("no sealer".to_string()),
        };
        let root = root.root_key().map_err(|e| e.to_string())?;
        let url = crate::store_url::StoreUrl::parse(args.store.as_deref(), dir)?;
        let store = crate::store_url::open(&url)?.store;
        if !store
            .root_generations()
            .map_err(|e| e.to_string())?
            .is_empty()
        {
            return Err("the store already has a root key: `tresor init` makes a new one".into());
        }
        // Every node of the database unseals this seal (conditional insert: a database
        // that has one refuses another).
        if !store.seals().map_err(|e| e.to_string())?.is_empty() {
            return Err("the store already has a sealed root key: `tresor init` makes a new deployment; start more nodes of this one with `tresor serve --store URL` on an empty data directory".into());
        }
        let now_ms = tresor_core::Clock::now_ms(&SystemClock::new());
        crate::seal_store::sync(dir, store.as_ref(), now_ms)?;
        let kms = Kms::new(
            store,
            root,
            Arc::new(SystemClock::new()),
            KmsConfig::default(),
        )
        .map_err(|e| format!("{e:?}"))?;
        let (akid, secret) = tresor_core::admin::new_access_key().map_err(|e| format!("{e:?}"))?;
        let account = &args.operator_account;
        kms.ensure_access_key(
            &akid,
            &SecretBytes::from_slice(secret.expose().as_bytes()),
            account,
            &tresor_core::ids::account_root_arn(account),
            true,
        )
        .map_err(|e| format!("creating the operator key: {e:?}"))?;
        for (path, share) in args.share_out.iter().zip(&shares) {
            write_private(path, share.encode().expose())?;
        }
        Ok((akid, secret, shares))
    })();
    let (akid, secret, shares) = match made {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(dir);
            return Err(e);
        }
    };
    let printed: Vec<String> = if args.share_out.is_empty() {
        shares
            .iter()
            .map(|s| s.encode().expose().to_string())
            .collect()
    } else {
        Vec::new()
    };
    let mut out = std::io::stdout().lock();
    match args.output {
        crate::admin_cmd::Output::Json => {
            let mut v = json!({ "AccessKeyId": akid, "SecretAccessKey": secret.expose() });
            if shamir && args.share_out.is_empty() {
                set(&mut v, "Shares", json!(printed));
            }
            let _ = writeln!(out, "{v}");
        }
        crate::admin_cmd::Output::Text => {
            let _ = writeln!(
                out,
                "Initialized {} ({} sealer).",
                dir.display(),
                if shamir { "shamir" } else { "pkcs11" }
            );
            let _ = writeln!(out, "Operator access key (printed only now):");
            let _ = writeln!(out, "  AWS_ACCESS_KEY_ID={akid}");
            let _ = writeln!(out, "  AWS_SECRET_ACCESS_KEY={}", secret.expose());
            if !printed.is_empty() {
                let _ = writeln!(
                    out,
                    "Unseal shares (printed only now; give one to each operator; {} of {} unseal):",
                    args.threshold, args.shares
                );
                for s in &printed {
                    let _ = writeln!(out, "  {s}");
                }
            } else if shamir {
                let _ = writeln!(
                    out,
                    "Unseal shares written to {} files (mode 0600).",
                    args.share_out.len()
                );
            }
        }
    }
    Ok(())
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<(), String> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| format!("creating {}: {e}", dir.display()))
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `serve` without `--dev`: the directory must be `tresor init`'s, with a production
/// sealer, and readable by its owner only. With `shared` (a node of a shared
/// database), a directory without a seal file passes: the database may hold it.
pub fn check_production_dir(dir: &Path, shared: bool) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "data directory {} is accessible to others (mode {:o}); `chmod 700` it",
                dir.display(),
                mode & 0o777
            ));
        }
    }
    match DirectorySeal::detect(dir).map_err(|e| e.to_string())?.kind() {
        Some(k) if k.is_production() => Ok(()),
        Some(_) => Err(format!(
            "{} keeps its root key in a plain file (development only); serve it with --dev, or make a production directory with `tresor init`",
            dir.display()
        )),
        None if shared => Ok(()),
        None => Err(format!(
            "{} is not initialized (no seal file here, none in the database); run `tresor init --data-dir {} --sealer shamir` (or `serve --dev` for development)",
            dir.display(),
            dir.display()
        )),
    }
}

/// `serve --dev` refuses a production directory (it would add a plain root key file).
pub fn check_dev_dir(dir: &Path) -> Result<(), String> {
    match DirectorySeal::detect(dir)
        .map_err(|e| e.to_string())?
        .kind()
    {
        Some(k) if k.is_production() => Err(format!(
            "{} is a production data directory ({} sealer); serve it without --dev",
            dir.display(),
            k.name()
        )),
        _ => Ok(()),
    }
}

/// The seal of a production directory: Shamir starts sealed; PKCS#11 unseals now.
pub fn open_seal(
    args: &ServeArgs,
    dir: &Path,
    kms: Arc<Kms>,
    shared: crate::seal_control::Shared,
) -> Result<Arc<ServerSeal>, String> {
    let file = SealFile::read(dir).map_err(|e| e.to_string())?;
    match (&file.sealer, file.kind()) {
        (_, SealerKind::Shamir) => Ok(Arc::new(ServerSeal::shamir(dir, kms, shared)?)),
        (SealerRecord::Pkcs11(record), _) => {
            let config = Pkcs11Config {
                module: args
                    .pkcs11_module
                    .clone()
                    .ok_or("this directory is sealed by PKCS#11: give --pkcs11-module")?,
                token_label: record.token_label.clone(),
                pin_file: args
                    .pkcs11_pin_file
                    .clone()
                    .ok_or("this directory is sealed by PKCS#11: give --pkcs11-pin-file")?,
            };
            let started = std::time::Instant::now();
            let root = Pkcs11Sealer::new(config.clone())
                .unseal(dir, &())
                .and_then(|m| m.root_key())
                .map_err(|e| format!("unsealing from the HSM: {e}"))?;
            kms.unseal(root).map_err(|e| format!("unsealing: {e:?}"))?;
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                "unsealed from the HSM"
            );
            Ok(Arc::new(ServerSeal::pkcs11(dir, kms, config, shared)))
        }
        (_, other) => Err(format!(
            "{} sealer cannot serve in production",
            other.name()
        )),
    }
}

/// Sets `key` of a JSON object (no-op on anything else).
fn set(v: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), value);
    }
}
