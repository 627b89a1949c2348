//! `uncork`: extract tar, tar.gz and zip archives safely, the same way on every platform.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
