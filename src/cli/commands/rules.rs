//! `tokenscope rules`: every rule of the registry with its id, default severity, summary and docs anchor.

use crate::cli::error::Error;
use crate::cli::terminal::Terminal;
use crate::policy::Exit;
use tabled::{Table, Tabled, settings::Style};

pub(crate) fn run(term: &Terminal) -> Result<Exit, Error> {
    #[derive(Tabled)]
    struct Row {
        id: &'static str,
        severity: &'static str,
        summary: &'static str,
        docs: String,
    }
    let rows: Vec<Row> = crate::rules::metas()
        .into_iter()
        .map(|m| Row { id: m.id, severity: m.severity.as_str(), summary: m.summary, docs: m.docs() })
        .collect();
    term.stdout(&format!("{}\n", Table::new(rows).with(Style::sharp())))?;
    Ok(Exit::Ok)
}
