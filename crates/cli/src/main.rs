//! `rolecall`: validate, inspect, check and test permission models.

mod commands;
mod exit;
mod files;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Access control for contact centers.
#[derive(Debug, Parser)]
#[command(name = "rolecall", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    ///
    /// Configuration: flags, then `ROLECALL_*` environment variables, then `--config FILE`.
    Serve(Box<commands::serve::Args>),
    /// Manage API tokens directly in the database.
    Token {
        #[command(subcommand)]
        command: commands::token::Command,
    },
    /// Verify or export a tenant's audit trail in the database.
    Audit {
        #[command(subcommand)]
        command: commands::audit::Command,
    },
    /// Every user who may perform an action on a resource of a world.
    WhoCan(commands::lookup::WhoCan),
    /// Every resource of the action's type a user of a world may act on.
    WhatCan(commands::lookup::WhatCan),
    /// Check a profile file: syntax, references, expressions, role templates.
    Validate {
        /// Profile files (TOML).
        #[arg(required = true)]
        profiles: Vec<PathBuf>,
    },
    /// Print a profile's privilege tree as the vendor's admin hub shows it.
    Catalog {
        /// Profile file (TOML).
        profile: PathBuf,
    },
    /// Decide one request against a world file's tenant.
    ///
    /// Exit status: 0 allowed, 1 denied, 2 error.
    Check {
        /// World file (TOML) holding the tenant's state.
        #[arg(long)]
        world: PathBuf,
        /// User id.
        #[arg(long)]
        principal: String,
        /// Action id, e.g. `conversation.edit`.
        #[arg(long)]
        action: String,
        /// Resource as TYPE:ID, e.g. `conversation:c1`.
        #[arg(long)]
        resource: String,
        /// Context values as KEY=VALUE (true/false and integers are typed).
        #[arg(long = "context", value_name = "KEY=VALUE")]
        context: Vec<String>,
        /// Evaluation time (RFC 3339); defaults to the world's `now`, else the clock.
        #[arg(long)]
        at: Option<String>,
        /// Show how the requirement was evaluated.
        #[arg(long)]
        explain: bool,
    },
    /// Run a world file's assertions; one line each, then `N passed, M failed`.
    ///
    /// Exit status: 0 all passed, 1 some failed, 2 error.
    Test {
        /// World files (TOML).
        #[arg(required = true)]
        worlds: Vec<PathBuf>,
        /// Explain every failing assertion.
        #[arg(long)]
        explain: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(*args),
        Command::Token { command } => commands::token::run(command),
        Command::Audit { command } => commands::audit::run(command),
        Command::WhoCan(a) => commands::lookup::who_can(a),
        Command::WhatCan(a) => commands::lookup::what_can(a),
        Command::Validate { profiles } => commands::validate::run(&profiles),
        Command::Catalog { profile } => commands::catalog::run(&profile),
        Command::Check {
            world,
            principal,
            action,
            resource,
            context,
            at,
            explain,
        } => commands::check::run(&commands::check::Args {
            world,
            principal,
            action,
            resource,
            context,
            at,
            explain,
        }),
        Command::Test { worlds, explain } => commands::test::run(&worlds, explain),
    };
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("error: {e:#}");
            exit::Status::Error.into()
        }
    }
}
