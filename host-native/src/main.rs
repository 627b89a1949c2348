//! `uncork`: extract tar (plain, gz, bz2, xz, zst) and zip archives safely, the same way on every platform.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
