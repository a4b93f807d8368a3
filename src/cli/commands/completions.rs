//! `tokenscope completions SHELL` and `tokenscope man`: made from the command-line definitions.

use crate::cli::args::Cli;
use crate::cli::error::Error;
use crate::cli::terminal::Terminal;
use crate::policy::Exit;
use clap::CommandFactory;

pub(crate) fn completions(shell: clap_complete::Shell, term: &Terminal) -> Result<Exit, Error> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tokenscope", &mut out);
    term.stdout(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Ok)
}

pub(crate) fn man(term: &Terminal) -> Result<Exit, Error> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::Io { what: "render the man page".into(), source: e })?;
    term.stdout(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Ok)
}
