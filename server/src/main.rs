//! `fieldconsult-server`: serve, and the mission admin's commands.

use clap::Parser;
use fieldconsult_server::cli::{Cli, Command, run};
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The demo prints its own story on stdout; request logs would only clutter the terminal.
    let default_filter = match cli.command {
        Command::Demo => "warn",
        _ => "info,rusqlite_migration=warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
