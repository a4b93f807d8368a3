use std::process::ExitCode;

/// mimalloc: tokenscope allocates many small strings and nodes; on an org-scale audit the system
/// allocator was a third of the run time (see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tokenscope::cli::main()
}
