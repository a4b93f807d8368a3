//! Everything about the terminal, in one place: whether a stream gets colour, writing to standard output
//! (a closed pipe is quiet, any other failure is an error), diagnostics on standard error, and the live
//! progress spinner.
//!
//! Colour is decided per stream, from the stream being written (as ripgrep does): `audit > report.txt` run
//! from a terminal writes no escape codes into the file, while the diagnostics on the terminal's stderr may
//! still be coloured.

use super::args::ColorChoice;
use super::error::Error;
use crate::diag::Diagnostic;
use crate::source::SourceMap;
use std::io::{IsTerminal, Write};

/// The two streams tokenscope writes to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn is_terminal(self) -> bool {
        match self {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        }
    }
}

/// The environment's say on colour, read once: `NO_COLOR` (any non-empty value) turns it off,
/// `CLICOLOR_FORCE` or `FORCE_COLOR` (non-empty, and not `0` or `false`) turn it on for streams that are not
/// terminals. An explicit `--color always|never` overrides both.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ColorEnv {
    pub(crate) no_color: bool,
    pub(crate) force: bool,
}

impl ColorEnv {
    pub(crate) fn from_env() -> Self {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let forced = |name: &str| {
            std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
        };
        ColorEnv { no_color: set("NO_COLOR"), force: forced("CLICOLOR_FORCE") || forced("FORCE_COLOR") }
    }
}

/// Whether output written to a stream should be coloured.
pub(crate) fn color_for(choice: ColorChoice, env: ColorEnv, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if env.no_color => false,
        ColorChoice::Auto => env.force || is_terminal,
    }
}

/// The terminal as the commands see it: the colour choice, resolved per stream.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Terminal {
    choice: ColorChoice,
    env: ColorEnv,
    /// `-q`: -1 (progress and information lines are not printed; warnings and errors are), `-v`: 1 or more
    /// (stage timings and what was read), else 0.
    verbosity: i8,
}

impl Terminal {
    pub(crate) fn new(choice: ColorChoice) -> Self {
        Terminal { choice, env: ColorEnv::from_env(), verbosity: 0 }
    }

    pub(crate) fn with_verbosity(self, verbosity: i8) -> Self {
        Terminal { verbosity, ..self }
    }

    /// `-v`: say more (stage timings, which policy file is used).
    pub(crate) fn verbose(&self) -> bool {
        self.verbosity > 0
    }

    /// An information line on standard error (what was read, where a file was written): not with `-q`.
    pub(crate) fn info(&self, text: &str) {
        if self.verbosity >= 0 {
            self.say(text);
        }
    }

    /// A line shown only with `-v`.
    pub(crate) fn detail(&self, text: &str) {
        if self.verbose() {
            self.say(text);
        }
    }

    /// Whether what is written to `stream` gets colour.
    pub(crate) fn color(&self, stream: Stream) -> bool {
        color_for(self.choice, self.env, stream.is_terminal())
    }

    /// The columns a table written to `stream` should fit: `$COLUMNS` when set, else the terminal's width;
    /// none for a file or a pipe (a job log does not wrap).
    pub(crate) fn width(&self, stream: Stream) -> Option<usize> {
        if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|&n| n > 0) {
            return Some(n);
        }
        if !stream.is_terminal() {
            return None;
        }
        terminal_columns(stream)
    }

    /// Write `text` to standard output. A reader that went away (`| head -1`) is not an error: the rest is
    /// dropped quietly. Any other failure (a full disk, `> /dev/full`) is.
    pub(crate) fn stdout(&self, text: &str) -> Result<(), Error> {
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(Error::Io { what: "write to standard output".into(), source: e }),
        }
    }

    /// Print diagnostics to standard error, in one write (an org's run can have thousands, or none at all).
    pub(crate) fn diagnostics<'d>(&self, diags: impl IntoIterator<Item = &'d Diagnostic>, sources: &SourceMap) {
        let mut diags = diags.into_iter().peekable();
        if diags.peek().is_none() {
            return;
        }
        let color = self.color(Stream::Stderr);
        let text: String = diags.map(|d| crate::report::diagnostics::render(d, sources, color)).collect();
        eprint_quiet(&text);
    }

    /// A warning or a note on standard error: `warning: ...`.
    pub(crate) fn say(&self, text: &str) {
        eprint_quiet(&format!("{text}\n"));
    }

    /// A spinner counting requests on standard error, when it is a terminal; hidden otherwise.
    pub(crate) fn progress(&self, what: &str) -> indicatif::ProgressBar {
        if !Stream::Stderr.is_terminal() || self.verbosity < 0 {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} requests to {msg} ({elapsed})")
                .expect("static template"),
        );
        bar.set_message(crate::text::clean(what).into_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }
}

/// As `eprint!`, but a closed stderr is not worth a panic.
fn eprint_quiet(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The terminal's width in columns (TIOCGWINSZ), when the stream is one.
#[cfg(unix)]
fn terminal_columns(stream: Stream) -> Option<usize> {
    let fd = match stream {
        Stream::Stdout => libc::STDOUT_FILENO,
        Stream::Stderr => libc::STDERR_FILENO,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the struct passed; the fd is one of the process's own.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

#[cfg(not(unix))]
fn terminal_columns(_: Stream) -> Option<usize> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_stream_the_choice_and_the_environment() {
        let plain = ColorEnv::default();
        let no_color = ColorEnv { no_color: true, force: false };
        let forced = ColorEnv { no_color: false, force: true };
        // auto: the stream decides, unless the environment does.
        assert!(color_for(ColorChoice::Auto, plain, true));
        assert!(!color_for(ColorChoice::Auto, plain, false));
        assert!(!color_for(ColorChoice::Auto, no_color, true));
        assert!(color_for(ColorChoice::Auto, forced, false));
        assert!(!color_for(ColorChoice::Auto, ColorEnv { no_color: true, force: true }, true));
        // an explicit choice wins over everything.
        assert!(color_for(ColorChoice::Always, no_color, false));
        assert!(!color_for(ColorChoice::Never, forced, true));
    }
}
