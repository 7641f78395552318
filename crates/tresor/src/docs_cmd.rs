//! `tresor completions` and `tresor man`: generated from the clap definitions.

use clap::{Args, CommandFactory};
use std::path::PathBuf;

/// `tresor completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `tresor man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write tresor.1 and a page per subcommand (tresor-encrypt.1, ...) into DIR instead
    /// of printing tresor.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Prints the completion script.
pub fn completions(args: CompletionsArgs) -> Result<(), String> {
    let mut command = crate::cli::Cli::command();
    clap_complete::generate(args.shell, &mut command, "tresor", &mut std::io::stdout());
    Ok(())
}

/// Prints or writes the man pages.
pub fn man(args: ManArgs) -> Result<(), String> {
    let command = crate::cli::Cli::command();
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            clap_mangen::generate_to(command, &dir).map_err(|e| format!("{}: {e}", dir.display()))
        }
        None => clap_mangen::Man::new(command)
            .render(&mut std::io::stdout())
            .map_err(|e| format!("stdout: {e}")),
    }
}
