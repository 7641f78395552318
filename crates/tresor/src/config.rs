//! `tresor serve --config FILE`: a TOML file of serve options.
//!
//! The schema is the `serve` command line itself: each top-level key is a long flag's
//! name with `_` for `-` (`data_dir`, `tls_cert`, `quota = ["symmetric=500"]`), so every
//! option has one parser and one set of checks. A file value is used only when neither
//! the flag nor its `TRESOR_*` variable was given (flag > env > file > default). Unknown
//! keys are an error naming the key. The `[seal]` table holds the sealer settings of
//! `tresor init` and the sealed start; this build has only the dev file sealer, so the
//! table is checked and reported, not used.

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, CommandFactory, FromArgMatches};
use serde::Deserialize;
use std::ffi::OsString;
use std::path::Path;

/// Sealer settings (`[seal]`), named as `tresor init` takes them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Read by the sealers, which this build does not have yet.
pub struct SealConfig {
    /// `dev-file`, `shamir` or `pkcs11`.
    pub sealer: Option<String>,
    /// Shamir: number of shares.
    pub shares: Option<u8>,
    /// Shamir: shares needed to unseal.
    pub threshold: Option<u8>,
    /// PKCS#11 module (`.so`).
    pub pkcs11_module: Option<String>,
    /// PKCS#11 token label.
    pub pkcs11_token_label: Option<String>,
    /// File holding the token's user PIN.
    pub pkcs11_pin_file: Option<String>,
}

/// Parses the command line, folding in the `serve --config` file when there is one.
pub fn parse(argv: Vec<OsString>) -> Result<crate::cli::Cli, clap::Error> {
    let command = crate::cli::Cli::command();
    let matches = command.clone().try_get_matches_from(&argv)?;
    let file = match matches.subcommand() {
        Some(("serve", m)) => m.get_one::<std::path::PathBuf>("config").cloned(),
        _ => None,
    };
    let Some(file) = file else {
        return crate::cli::Cli::from_arg_matches(&matches);
    };
    let extra = match matches
        .subcommand_matches("serve")
        .map(|m| file_args(&file, &command, m))
    {
        Some(Ok(extra)) => extra,
        Some(Err(e)) => {
            return Err(command.clone().error(
                clap::error::ErrorKind::InvalidValue,
                format!("config file {}: {e}", file.display()),
            ))
        }
        None => Vec::new(),
    };
    let mut full = argv;
    full.extend(extra);
    let matches = command.try_get_matches_from(full)?;
    crate::cli::Cli::from_arg_matches(&matches)
}

/// The flags the file's settings stand for, leaving out those set by flag or env.
fn file_args(
    path: &Path,
    command: &clap::Command,
    given: &ArgMatches,
) -> Result<Vec<OsString>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| e.to_string())?;
    let serve = command.find_subcommand("serve").ok_or("no serve command")?;
    let mut out = Vec::new();
    for (key, value) in table {
        if key == "seal" {
            let seal: SealConfig = value
                .try_into()
                .map_err(|e: toml::de::Error| format!("[seal]: {}", e.message()))?;
            if seal.sealer.as_deref().is_some_and(|s| s != "dev-file") {
                tracing::warn!(
                    "config [seal] sealer {:?} is not available in this build; the root key is opened by the dev file sealer",
                    seal.sealer.as_deref().unwrap_or_default()
                );
            }
            continue;
        }
        let arg = serve
            .get_arguments()
            .find(|a| {
                !a.is_hide_set()
                    && a.get_id() != "config"
                    && a.get_long().is_some_and(|l| l.replace('-', "_") == key)
            })
            .ok_or_else(|| format!("unknown key `{key}`"))?;
        let id = arg.get_id().as_str();
        if matches!(
            given.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        let flag = format!("--{}", arg.get_long().unwrap_or_default());
        let scalars = match &value {
            toml::Value::Array(items) => items.iter().collect(),
            v => vec![v],
        };
        for v in scalars {
            match (arg.get_action(), v) {
                (ArgAction::SetTrue, toml::Value::Boolean(b)) => {
                    if *b {
                        out.push(flag.clone().into());
                    }
                }
                (ArgAction::SetTrue, _) => return Err(format!("`{key}` must be true or false")),
                (_, toml::Value::String(s)) => out.push(format!("{flag}={s}").into()),
                (_, toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_)) => {
                    out.push(format!("{flag}={v}").into())
                }
                _ => {
                    return Err(format!(
                        "`{key}`: expected a string, number or list of them"
                    ))
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn serve_args(file: &str, argv: &[&str]) -> Result<crate::cli::ServeArgs, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tresor.toml");
        std::fs::write(&path, file).unwrap();
        let mut v: Vec<OsString> = vec!["tresor".into(), "serve".into(), "--config".into()];
        v.push(path.into());
        v.extend(argv.iter().map(OsString::from));
        match parse(v).map_err(|e| e.to_string())?.command {
            crate::cli::Command::Serve(a) => Ok(a),
            _ => panic!("not serve"),
        }
    }

    #[test]
    fn file_values_apply_and_flags_win() {
        let file = "listen = \"127.0.0.1:9000\"\nquota = [\"symmetric=5\", \"CreateKey=1\"]\nshutdown_timeout = 3\n";
        let a = serve_args(file, &[]).unwrap();
        assert_eq!(a.listen.port(), 9000);
        assert_eq!(a.quota, vec!["symmetric=5", "CreateKey=1"]);
        assert_eq!(a.shutdown_timeout, 3);
        let a = serve_args(file, &["--listen", "127.0.0.1:9001"]).unwrap();
        assert_eq!(a.listen.port(), 9001);
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = serve_args("listen_adress = \"x\"\n", &[]).unwrap_err();
        assert!(e.contains("unknown key `listen_adress`"), "{e}");
        let e = serve_args("[seal]\nsealer = \"shamir\"\nshards = 5\n", &[]).unwrap_err();
        assert!(e.contains("shards"), "{e}");
    }

    #[test]
    fn deploy_samples_are_valid() {
        for sample in [
            include_str!("../../../deploy/dev.toml"),
            include_str!("../../../deploy/single-node-shamir-tls.toml"),
            include_str!("../../../deploy/single-node-pkcs11.toml"),
        ] {
            serve_args(sample, &[]).unwrap();
        }
    }

    #[test]
    fn seal_table_and_bad_values() {
        let a = serve_args(
            "dev = true\n[seal]\nsealer = \"shamir\"\nshares = 5\nthreshold = 3\n",
            &[],
        )
        .unwrap();
        assert!(a.dev);
        let e = serve_args("listen = \"not an address\"\n", &[]).unwrap_err();
        assert!(e.contains("listen"), "{e}");
        let e = serve_args("dev = \"yes\"\n", &[]).unwrap_err();
        assert!(e.contains("`dev` must be true or false"), "{e}");
    }
}
