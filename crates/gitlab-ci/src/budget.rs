//! One work budget per project's resolution, so that no configuration can make time or memory grow beyond a
//! fixed multiple of what it is made of.
//!
//! A small file can ask for a great deal of work: a template copied by `extends` into 10,000 jobs, a
//! `!reference` to a reference to a reference, a `default:` block copied into every job, a large file
//! included 150 times. Limits on counts (depth, includes) do not bound that: a 134-byte file reached 3 GB.
//! So the resolver charges every copy it makes, in *units* (a node counts [`NODE_UNITS`], a scalar its
//! length on top), against one budget per project: [`PER_INPUT_BYTE`] units per byte of the files the
//! project's configuration reads, plus [`BASE`]. Past it, copies stop, the project fails with an error naming
//! the construct and its file and line, and the rest of the audit goes on.
//!
//! The budget lives in the thread that resolves the project (resolution of one project never leaves its
//! thread), between [`begin`] and [`end`]. Outside a project's resolution nothing is counted.

use crate::source::Span;
use std::cell::RefCell;

/// Units per byte of input the configuration may spend.
pub const PER_INPUT_BYTE: u64 = 160;
/// Units every project may spend, whatever its size.
pub const BASE: u64 = 32 << 20;
/// Units a node counts, besides the bytes of its text.
pub const NODE_UNITS: u64 = 32;

/// The first construct that went over the budget, and where.
#[derive(Clone, Debug)]
pub struct Over {
    pub construct: &'static str,
    pub span: Span,
}

/// What a project's resolution spent.
#[derive(Clone, Debug, Default)]
pub struct Spent {
    /// Bytes of the files the configuration read (each file once).
    pub input: u64,
    /// Units charged.
    pub used: u64,
    pub limit: u64,
    pub over: Option<Over>,
}

#[derive(Default)]
struct State {
    input: u64,
    used: u64,
    over: Option<Over>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Start counting for one project's resolution on this thread.
pub fn begin() {
    STATE.with(|s| *s.borrow_mut() = Some(State::default()));
}

/// Stop counting, and say what was spent.
pub fn end() -> Spent {
    STATE.with(|s| match s.borrow_mut().take() {
        Some(st) => Spent { input: st.input, used: st.used, limit: limit(st.input), over: st.over },
        None => Spent::default(),
    })
}

fn limit(input: u64) -> u64 {
    input.saturating_mul(PER_INPUT_BYTE).saturating_add(BASE)
}

/// A file of `bytes` was read for the configuration (count each file once).
pub fn input(bytes: u64) {
    STATE.with(|s| {
        if let Some(st) = s.borrow_mut().as_mut() {
            st.input = st.input.saturating_add(bytes);
        }
    });
}

/// Whether the budget is already spent (a site can then skip even measuring its copy).
pub fn spent() -> bool {
    STATE.with(|s| s.borrow().as_ref().is_some_and(|st| st.over.is_some()))
}

/// Charge `units` for `construct` at `span`. `false` when the budget does not allow it: the caller then
/// does not make the copy.
pub fn charge(units: u64, construct: &'static str, span: Span) -> bool {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let Some(st) = s.as_mut() else { return true };
        if st.over.is_some() {
            return false;
        }
        st.used = st.used.saturating_add(units);
        if st.used > limit(st.input) {
            st.over = Some(Over { construct, span });
            return false;
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_grows_with_the_input_and_the_first_excess_is_kept() {
        assert!(charge(u64::MAX, "x", Span::default()), "nothing is counted outside a resolution");
        begin();
        input(1000);
        assert!(charge(BASE, "include", Span::default()));
        assert!(charge(1000 * PER_INPUT_BYTE, "extends", Span::default()));
        assert!(!charge(1, "!reference", Span { line: 7, ..Span::default() }));
        assert!(spent());
        assert!(!charge(1, "default", Span::default()));
        let s = end();
        assert_eq!((s.input, s.limit), (1000, 1000 * PER_INPUT_BYTE + BASE));
        assert_eq!(s.over.map(|o| (o.construct, o.span.line)), Some(("!reference", 7)));
        assert!(!spent());
    }
}
