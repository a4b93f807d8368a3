//! `tokenscope snapshot`: read a live GitLab and write a snapshot directory.

use crate::cli::args::SnapshotArgs;
use crate::cli::error::Error;
use crate::cli::live;
use crate::cli::terminal::Terminal;
use crate::policy::Exit;

pub(crate) fn run(args: SnapshotArgs, term: &Terminal) -> Result<Exit, Error> {
    live::fetch(term, &args.live, &args.output)?;
    let dir = args.output.display();
    term.say(&format!("snapshot written to {dir}; audit it with `tokenscope audit {dir}`"));
    Ok(Exit::Ok)
}
