//! The command line: `main` parses the arguments, runs one command, prints an error once if the command
//! returns one, and exits. Each command is a file of `commands/`; clap's definitions are in `args`,
//! errors in `error`, everything about the terminal (colour per stream, writing, progress) in `terminal`,
//! and what the live commands share in `live`.

pub(crate) mod args;
pub(crate) mod collect;
mod commands;
pub(crate) mod error;
mod live;
mod output;
pub(crate) mod terminal;

use crate::policy::Exit;
use args::{Cli, Command};
use clap::Parser;
use error::Error;
use std::process::ExitCode;
use terminal::Terminal;

/// Parse the command line, run the command, print its error if it fails, and exit.
/// Turns transparent huge pages off for this process (Linux). mimalloc asks for them, and the kernel then
/// zeroes 2 MiB at each first touch of a region, compacting memory to find one when it must: on 100,000
/// projects that was a fifth of the audit's CPU time, and it made the system time swing from run to run
/// (docs/performance.md). Small pages cost no measurable user time and 12% less peak memory. Existing
/// mappings are covered too (the kernel checks the flag at each fault); a failure changes nothing else.
pub fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only changes this process's page policy.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

pub fn main() -> ExitCode {
    no_transparent_huge_pages();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return Exit::Usage.into();
        }
        // `--help`, `--version`: written like any output, so a failed write (a full disk) is an error.
        Err(e) => {
            let term = Terminal::new(args::ColorChoice::Never);
            return match term.stdout(&e.render().to_string()) {
                Ok(()) => Exit::Ok.into(),
                Err(err) => {
                    term.say(&format!("error: {err}"));
                    Exit::Usage.into()
                }
            };
        }
    };
    let verbosity = if cli.quiet { -1 } else { cli.verbose.min(2) as i8 };
    let term = Terminal::new(cli.color).with_verbosity(verbosity);
    match run(cli.command, &term) {
        Ok(exit) => exit.into(),
        Err(e) => {
            term.say(&format!("error: {e}"));
            Exit::Usage.into()
        }
    }
}

/// Run one command.
fn run(command: Command, term: &Terminal) -> Result<Exit, Error> {
    match command {
        Command::Audit(a) => commands::audit::run(a, term),
        Command::Snapshot(a) => commands::snapshot::run(a, term),
        Command::Lint(a) => commands::lint::run(a, term),
        Command::Plan(a) => commands::plan::run(a, term),
        Command::Apply(a) => commands::apply::run(a, term),
        Command::Rollback(a) => commands::apply::rollback(a, term),
        Command::Rollout(a) => commands::rollout::run(a, term),
        Command::Explain(a) => commands::explain::run(a, term),
        Command::Graph(a) => commands::graph::run(a, term),
        Command::Jobs(a) => commands::jobs::run(a, term),
        Command::Rules => commands::rules::run(term),
        Command::Completions { shell } => commands::completions::completions(shell, term),
        Command::Man { command, dir } => commands::completions::man(command.as_deref(), dir.as_deref(), term),
    }
}
