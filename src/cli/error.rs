//! Why a command could not do its work, as a value: each failure site returns one, and `cli::main` prints it
//! once and exits with 2. Findings and partly read input are not errors: they are outcomes, and
//! `policy::Exit` decides their exit code.

use std::fmt;

#[derive(Debug)]
pub(crate) enum Error {
    /// The command line or the environment does not say enough (which project, which instance, ...).
    Usage(String),
    /// An input could not be read as a whole; its diagnostics were printed. `what` names it ("the snapshot
    /// manifest", "the audit policy").
    Invalid { what: &'static str, errors: usize },
    /// A file or stream could not be read or written.
    Io { what: String, source: std::io::Error },
    /// The live instance could not be read (the message is redacted).
    Live(String),
}

impl Error {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }

    /// An error from the live client or fetch, with any token in it redacted and control characters escaped.
    pub(crate) fn live(message: impl AsRef<str>) -> Self {
        Error::Live(crate::text::clean(message.as_ref()).into_owned())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Live(m) => f.write_str(&crate::text::clean(m)),
            Error::Invalid { what, errors } => write!(f, "{what} has {errors} error(s); nothing was audited"),
            Error::Io { what, source } => write!(f, "cannot {}: {source}", crate::text::clean(what)),
        }
    }
}

impl std::error::Error for Error {}
