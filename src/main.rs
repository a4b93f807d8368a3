use std::process::ExitCode;

fn main() -> ExitCode {
    tokenscope::cli::main()
}
