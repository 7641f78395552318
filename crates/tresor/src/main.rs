//! `tresor`: a self-hosted key management service that speaks the AWS KMS API.

mod admin_cmd;
mod audit_cmd;
mod backup;
mod bench;
mod bench_baseline;
mod bench_stores;
mod cli;
mod client;
mod config;
mod dev_tls;
mod docs_cmd;
mod encrypt_cmd;
mod files;
mod hardening;
mod init;
mod operator_cmd;
mod seal_control;
mod seal_store;
mod serve;
mod store_backup;
mod store_url;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything holds a secret: no core dumps, no ptrace by other users.
    let hardening = hardening::no_core_dumps();
    init_logging();
    if let Err(e) = hardening {
        tracing::warn!("could not disable core dumps: {e}");
    }
    let cli = match config::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        cli::Command::Serve(args) => serve::run(args),
        cli::Command::Bench(args) => bench::run(args),
        cli::Command::BenchBaseline(args) => bench_baseline::run(args),
        cli::Command::Audit(args) => audit_cmd::run(args),
        cli::Command::Admin(args) => admin_cmd::run(args),
        cli::Command::Init(args) => init::run(args),
        cli::Command::Operator(args) => operator_cmd::run(args),
        cli::Command::Restore(args) => backup::restore(args),
        cli::Command::Encrypt(args) => encrypt_cmd::encrypt(args),
        cli::Command::Decrypt(args) => encrypt_cmd::decrypt(args),
        cli::Command::Completions(args) => docs_cmd::completions(args),
        cli::Command::Man(args) => docs_cmd::man(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tresor: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs on stderr, filtered by `TRESOR_LOG` (default `info`); one JSON object per line
/// with `TRESOR_LOG_FORMAT=json`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRESOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    if std::env::var("TRESOR_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}
