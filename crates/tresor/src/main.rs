//! `tresor`: a self-hosted key management service that speaks the AWS KMS API.

mod admin_cmd;
mod audit_cmd;
mod backup;
mod bench;
mod cli;
mod client;
mod hardening;
mod init;
mod operator_cmd;
mod seal_control;
mod serve;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything holds a secret: no core dumps, no ptrace by other users.
    let hardening = hardening::no_core_dumps();
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRESOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    if let Err(e) = hardening {
        tracing::warn!("could not disable core dumps: {e}");
    }
    let result = match cli.command {
        cli::Command::Serve(args) => serve::run(args),
        cli::Command::Bench(args) => bench::run(args),
        cli::Command::Audit(args) => audit_cmd::run(args),
        cli::Command::Admin(args) => admin_cmd::run(args),
        cli::Command::Init(args) => init::run(args),
        cli::Command::Operator(args) => operator_cmd::run(args),
        cli::Command::Restore(args) => backup::restore(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tresor: {e}");
            ExitCode::FAILURE
        }
    }
}
