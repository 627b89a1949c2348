//! The `uncork` command line: argument parsing, the commands, and their output.

mod args;
mod failure;
mod input;
mod json;
mod options;
mod progress;
mod render;
mod run;
mod select;

use std::process::ExitCode;

/// Parses the arguments and runs the command.
pub(crate) fn main() -> ExitCode {
    let argv = args::with_default_subcommand(std::env::args_os().collect());
    let cli = match <args::Cli as clap::Parser>::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                failure::EXIT_USAGE_OR_IO
            } else {
                0
            });
        }
    };
    run::dispatch(cli.command)
}
