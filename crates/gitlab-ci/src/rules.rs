//! `rules: if:` expressions, evaluated with three values: true, false, or unknown.
//!
//! tokenscope audits what a project's pipelines *can* do, so a condition that depends on the pipeline
//! (branch, merge request, pipeline source, a project variable set in settings) is unknown, and an
//! unknown condition counts as "may run". Only a condition that is certainly false removes anything.

/// What a variable is, as far as evaluation can know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Known {
    /// Not knowable statically (set in the project's settings, or by the pipeline).
    Unknown,
    /// Certainly not set.
    Unset,
    /// Set to this value.
    Set(String),
}

/// A variable's value by name.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Known;

/// A condition's value: three-valued (Kleene) logic, where unknown counts as "may be true".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn of(b: Option<bool>) -> Truth {
        match b {
            Some(true) => Truth::True,
            Some(false) => Truth::False,
            None => Truth::Unknown,
        }
    }

    /// `Some` when known.
    pub fn known(self) -> Option<bool> {
        match self {
            Truth::True => Some(true),
            Truth::False => Some(false),
            Truth::Unknown => None,
        }
    }

    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Var(String),
    Str(String),
    Regex(String, bool),
    Null,
    Eq,
    Ne,
    Match,
    NoMatch,
    And,
    Or,
    Open,
    Close,
}

fn lex(s: &str) -> Option<Vec<Tok>> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push(Tok::Open);
                i += 1
            }
            b')' => {
                out.push(Tok::Close);
                i += 1
            }
            b'$' => {
                let (name, end) = crate::vars::var_ref(s, i)?;
                out.push(Tok::Var(name.to_string()));
                i = end;
            }
            b'"' | b'\'' => {
                let close = s[i + 1..].find(c as char)?;
                out.push(Tok::Str(s[i + 1..i + 1 + close].to_string()));
                i += close + 2;
            }
            b'/' => {
                // regex literal: up to the next unescaped '/'
                let mut j = i + 1;
                while j < b.len() && b[j] != b'/' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                if j >= b.len() {
                    return None;
                }
                let pat = s[i + 1..j].to_string();
                j += 1;
                let mut ci = false;
                while j < b.len() && b[j].is_ascii_alphabetic() {
                    ci |= b[j] == b'i';
                    j += 1;
                }
                out.push(Tok::Regex(pat, ci));
                i = j;
            }
            _ => {
                let two = s.get(i..i + 2).unwrap_or("");
                let tok = match two {
                    "==" => Tok::Eq,
                    "!=" => Tok::Ne,
                    "=~" => Tok::Match,
                    "!~" => Tok::NoMatch,
                    "&&" => Tok::And,
                    "||" => Tok::Or,
                    _ if s[i..].starts_with("null") => {
                        i += 4;
                        out.push(Tok::Null);
                        continue;
                    }
                    _ => return None,
                };
                out.push(tok);
                i += 2;
            }
        }
    }
    Some(out)
}

#[derive(Debug, Clone)]
enum Val {
    Unknown,
    Null,
    Str(String),
    Regex(String, bool),
}

struct P<'a> {
    toks: Vec<Tok>,
    pos: usize,
    lookup: Lookup<'a>,
}

impl P<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    // Each returns `None` when the expression is not understood, else its three-valued truth.
    fn or(&mut self, depth: usize) -> Option<Truth> {
        let mut v = self.and(depth)?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            v = v.or(self.and(depth)?);
        }
        Some(v)
    }
    fn and(&mut self, depth: usize) -> Option<Truth> {
        let mut v = self.cmp(depth)?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            v = v.and(self.cmp(depth)?);
        }
        Some(v)
    }
    fn cmp(&mut self, depth: usize) -> Option<Truth> {
        if self.peek() == Some(&Tok::Open) {
            if depth > 50 {
                return None;
            }
            self.pos += 1;
            let v = self.or(depth + 1)?;
            if self.peek() != Some(&Tok::Close) {
                return None;
            }
            self.pos += 1;
            return Some(v);
        }
        let left = self.value()?;
        let op = match self.peek() {
            Some(t @ (Tok::Eq | Tok::Ne | Tok::Match | Tok::NoMatch)) => t.clone(),
            _ => {
                return Some(match left {
                    Val::Unknown | Val::Regex(..) => Truth::Unknown,
                    Val::Null => Truth::False,
                    Val::Str(s) => Truth::of(Some(!s.is_empty())),
                });
            }
        };
        self.pos += 1;
        let right = self.value()?;
        let res = match (&op, &left, &right) {
            (_, Val::Unknown, _) | (_, _, Val::Unknown) => None,
            (Tok::Eq | Tok::Ne, l, r) => {
                let eq = match (l, r) {
                    (Val::Null, Val::Null) => true,
                    (Val::Str(a), Val::Str(b)) => a == b,
                    _ => false,
                };
                Some(if op == Tok::Eq { eq } else { !eq })
            }
            (Tok::Match | Tok::NoMatch, l, Val::Regex(p, ci)) => {
                let re = regex::RegexBuilder::new(p).case_insensitive(*ci).size_limit(1 << 20).build().ok();
                let m = match (re, l) {
                    (Some(re), Val::Str(s)) => Some(re.is_match(s)),
                    (Some(_), Val::Null) => Some(false),
                    _ => None,
                };
                m.map(|m| if op == Tok::Match { m } else { !m })
            }
            _ => None,
        };
        Some(Truth::of(res))
    }
    fn value(&mut self) -> Option<Val> {
        let t = self.toks.get(self.pos)?.clone();
        self.pos += 1;
        Some(match t {
            Tok::Var(name) => match (self.lookup)(&name) {
                Known::Unknown => Val::Unknown,
                Known::Unset => Val::Null,
                Known::Set(v) => Val::Str(v),
            },
            Tok::Str(s) => Val::Str(s),
            Tok::Regex(p, ci) => Val::Regex(p, ci),
            Tok::Null => Val::Null,
            _ => return None,
        })
    }
}

/// Evaluate an `if:` expression. `None` when the result is not knowable (or the expression is not understood).
pub fn eval(expr: &str, lookup: Lookup) -> Option<bool> {
    let toks = lex(expr)?;
    let mut p = P { toks, pos: 0, lookup };
    let v = p.or(0)?;
    if p.pos != p.toks.len() {
        return None;
    }
    v.known()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(name: &str) -> Known {
        match name {
            "CI_PROJECT_PATH" => Known::Set("acme/api".into()),
            "EMPTY" => Known::Set(String::new()),
            "UNSET" => Known::Unset,
            _ => Known::Unknown,
        }
    }

    #[test]
    fn known_comparisons() {
        assert_eq!(eval(r#"$CI_PROJECT_PATH == "acme/api""#, &look), Some(true));
        assert_eq!(eval(r#"$CI_PROJECT_PATH != 'acme/api'"#, &look), Some(false));
        assert_eq!(eval(r#"$CI_PROJECT_PATH =~ /^acme\//"#, &look), Some(true));
        assert_eq!(eval(r#"$CI_PROJECT_PATH !~ /^ACME/i"#, &look), Some(false));
        assert_eq!(eval("$UNSET == null", &look), Some(true));
        assert_eq!(eval("$EMPTY", &look), Some(false));
    }

    #[test]
    fn unknown_propagates_through_logic() {
        assert_eq!(eval("$CI_COMMIT_BRANCH == 'main'", &look), None);
        assert_eq!(eval("$CI_COMMIT_BRANCH == 'main' && $UNSET", &look), Some(false));
        assert_eq!(eval("$CI_COMMIT_BRANCH == 'main' || $CI_PROJECT_PATH", &look), Some(true));
        assert_eq!(eval("($CI_COMMIT_BRANCH || $UNSET) && $CI_PROJECT_PATH", &look), None);
    }

    #[test]
    fn malformed_is_unknown() {
        assert_eq!(eval("$A ==", &look), None);
        assert_eq!(eval("((((", &look), None);
        assert_eq!(eval("$X =~ /unclosed", &look), None);
    }
}
