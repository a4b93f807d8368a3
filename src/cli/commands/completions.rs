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

/// `tokenscope man [COMMAND]`: one page on standard output; `--dir DIR`: every page, as files. Each
/// command's page has its options and its exit codes (its `after_long_help`).
pub(crate) fn man(command: Option<&str>, dir: Option<&std::path::Path>, term: &Terminal) -> Result<Exit, Error> {
    let mut root = Cli::command();
    root.build();
    let page = |cmd: clap::Command, name: &str| -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd.name(name.to_string()))
            .render(&mut out)
            .map_err(|e| Error::Io { what: format!("render the man page of {name}"), source: e })?;
        Ok(out)
    };
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io { what: format!("create {}", dir.display()), source: e })?;
        let mut pages = vec![("tokenscope".to_string(), root.clone())];
        pages.extend(
            root.get_subcommands()
                .filter(|c| c.get_name() != "help")
                .map(|c| (format!("tokenscope-{}", c.get_name()), c.clone())),
        );
        for (name, cmd) in pages {
            let file = dir.join(format!("{name}.1"));
            std::fs::write(&file, page(cmd, &name)?)
                .map_err(|e| Error::Io { what: format!("write {}", file.display()), source: e })?;
        }
        term.info(&format!("man pages written to {}", dir.display()));
        return Ok(Exit::Ok);
    }
    let bytes = match command {
        None => page(root, "tokenscope")?,
        Some(name) => {
            let Some(cmd) = root.find_subcommand(name).cloned() else {
                let names: Vec<&str> = root.get_subcommands().map(|c| c.get_name()).collect();
                return Err(Error::usage(format!("no command `{name}`; the commands are {}", names.join(", "))));
            };
            page(cmd, &format!("tokenscope-{name}"))?
        }
    };
    term.stdout(&String::from_utf8_lossy(&bytes))?;
    Ok(Exit::Ok)
}
