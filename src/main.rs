//! The `cloverlift` command line: parses arguments, runs one command, exits with its code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use cloverlift::commands::{self, Io};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The version and which build this is: `apply` and `rollback` need the `aws` feature, and
/// drive each cloud whose feature is on.
const VERSION: &str = match (
    cfg!(feature = "aws"),
    cfg!(feature = "azure"),
    cfg!(feature = "gcp"),
) {
    (true, true, true) => concat!(
        env!("CARGO_PKG_VERSION"),
        " (full build: apply and rollback on AWS, Azure and Google Cloud)"
    ),
    (true, true, false) => concat!(
        env!("CARGO_PKG_VERSION"),
        " (apply and rollback on AWS and Azure)"
    ),
    (true, false, true) => concat!(
        env!("CARGO_PKG_VERSION"),
        " (apply and rollback on AWS and Google Cloud)"
    ),
    (true, false, false) => concat!(env!("CARGO_PKG_VERSION"), " (apply and rollback on AWS)"),
    _ => concat!(
        env!("CARGO_PKG_VERSION"),
        " (render-only build: no apply, no rollback)"
    ),
};

fn is_apply_or_rollback(command: &Command) -> bool {
    matches!(command, Command::Apply { .. } | Command::Rollback { .. })
}

/// Compile CloverDX Server cloud upgrade specs into plans, templates and applied upgrades.
#[derive(Debug, Parser)]
#[command(name = "cloverlift", version = VERSION, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check upgrade specs and report every problem with its position.
    Validate(commands::validate::Args),
    /// Show the plan's step graph.
    Plan(commands::plan::Args),
    /// Write the templates, their parameters and the plan for a spec.
    Render(commands::render::Args),
    /// Show what changes in the rendered files between two specs.
    Diff(commands::diff::Args),
    /// Execute the plan (AWS): snapshots, deploy, activate, verify, cutover, address move.
    #[cfg(feature = "aws")]
    Apply(commands::apply::Args),
    /// Reverse a run's cutover from its journal: the old server takes its schedules,
    /// listeners and address back; the new deployment is stopped and left intact.
    #[cfg(feature = "aws")]
    Rollback(commands::rollback::Args),
    /// (Not in this render-only build: build with the default features.)
    #[cfg(not(feature = "aws"))]
    #[command(disable_help_flag = true)]
    Apply {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
    /// (Not in this render-only build: build with the default features.)
    #[cfg(not(feature = "aws"))]
    #[command(disable_help_flag = true)]
    Rollback {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
    /// Print the JSON Schema of the spec format (for editors).
    Schema,
    /// Work with the embedded templates: `templates export DIR` starts a `--templates` override.
    Templates(commands::templates::Args),
    /// Explain a diagnostic code, or list them all.
    Explain(commands::explain::Args),
    /// Print a completion script: `cloverlift completions bash > /etc/bash_completion.d/cloverlift`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `cloverlift man | man -l -`.
    Man,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr, filtered by RUST_LOG (e.g. `RUST_LOG=cloverlift=debug`); errors only
    // by default.
    let (filter, warning) = cloverlift::logging::filter();
    if let Some(warning) = warning {
        eprintln!("{warning}");
    }
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
    // Unlocked handles: each write takes the lock briefly, so apply's worker threads can report
    // progress while the main thread runs the executor.
    let stdout = std::io::stdout();
    let out_is_terminal = stdout.is_terminal();
    let mut out = commands::WatchedOut::new(stdout);
    let err_is_terminal = std::io::stderr().is_terminal();
    // Whole lines to stderr: an unbuffered handle writes each piece of a formatted line with
    // its own system call, a fifth of a small render's cost. apply and rollback keep the
    // unbuffered handle, which their worker threads' progress shares.
    let mut lines = std::io::LineWriter::new(std::io::stderr());
    let mut unbuffered = std::io::stderr();
    let err: &mut dyn std::io::Write = if is_apply_or_rollback(&cli.command) {
        &mut unbuffered
    } else {
        &mut lines
    };
    let mut io = Io {
        out: &mut out,
        err,
        out_is_terminal,
        err_is_terminal,
    };
    let code = match &cli.command {
        Command::Validate(args) => commands::validate::run(args, &mut io),
        Command::Plan(args) => commands::plan::run(args, &mut io),
        Command::Render(args) => commands::render::run(args, &mut io),
        Command::Diff(args) => commands::diff::run(args, &mut io),
        #[cfg(feature = "aws")]
        Command::Apply(args) => commands::apply::run(args, &mut io),
        #[cfg(feature = "aws")]
        Command::Rollback(args) => commands::rollback::run(args, &mut io),
        #[cfg(not(feature = "aws"))]
        Command::Apply { .. } | Command::Rollback { .. } => {
            let _ = writeln!(
                io.err,
                "error[apply::unsupported]: this is the render-only build (--no-default-features); \
                 apply and rollback need the default build: cargo install --path . (or cargo run -- apply …)"
            );
            commands::exit::USAGE
        }
        Command::Schema => commands::schema::run(&mut io),
        Command::Templates(args) => commands::templates::run(args, &mut io),
        Command::Explain(args) => commands::explain::run(args, &mut io),
        Command::Completions { shell } => {
            // Into a buffer first: clap_complete panics when its writer fails (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "cloverlift", &mut script);
            write_or_usage(&mut io, &script)
        }
        Command::Man => {
            let mut page = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut page) {
                Ok(()) => write_or_usage(&mut io, &page),
                Err(_) => commands::exit::USAGE,
            }
        }
    };
    // Only the commands that change nothing may end as a filter does: apply and rollback keep
    // their exit code, which says what happened to the servers.
    let changes_servers = matches!(
        cli.command,
        Command::Apply { .. } | Command::Rollback { .. }
    );
    if out.reader_went_away() && !changes_servers {
        return ExitCode::SUCCESS;
    }
    ExitCode::from(code)
}

fn write_or_usage(io: &mut Io, bytes: &[u8]) -> u8 {
    match io.out.write_all(bytes) {
        Ok(()) => commands::exit::OK,
        Err(_) => commands::exit::USAGE,
    }
}
