//! Calendar dates as whole days since 1970-01-01, read from what GitLab and users write (`2026-11-03`,
//! `2026-11-03T08:12:44Z`): enough to compare an authentication-log record or an entry's `expires` with
//! today, without a date library.

/// Days since 1970-01-01 of a date written `YYYY-MM-DD`, optionally followed by a time (`T…`, ` …`).
pub(crate) fn days(s: &str) -> Option<i64> {
    let date = s.get(..10)?;
    if s.len() > 10 && !s[10..].starts_with(['T', 't', ' ']) {
        return None;
    }
    let b = date.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        date.get(r).filter(|d| d.bytes().all(|c| c.is_ascii_digit()))?.parse().ok()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Seconds since 1970-01-01 (UTC).
fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64
}

/// Today, in days since 1970-01-01 (UTC); `TOKENSCOPE_TODAY` (`YYYY-MM-DD`) overrides it, for reproducible
/// runs and tests.
pub(crate) fn today() -> i64 {
    std::env::var("TOKENSCOPE_TODAY").ok().and_then(|d| days(&d)).unwrap_or_else(|| now_secs().div_euclid(86_400))
}

/// Today as `YYYY-MM-DD` (see [`today`]).
pub(crate) fn today_string() -> String {
    let (y, m, d) = civil(today());
    format!("{y:04}-{m:02}-{d:02}")
}

/// The calendar date of a day since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Now as `YYYY-MM-DDTHH:MM:SS` (UTC), as GitLab's security reports write times; with `TOKENSCOPE_TODAY`
/// set, midnight of that day (reproducible runs and tests).
pub(crate) fn iso_now() -> String {
    let secs = match std::env::var("TOKENSCOPE_TODAY").ok().and_then(|d| days(&d)) {
        Some(day) => day * 86_400,
        None => now_secs(),
    };
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let rest = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Now as a compact UTC timestamp for file names: `20261126T165900Z` (the real clock, always).
pub(crate) fn timestamp() -> String {
    let secs = now_secs();
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let rest = secs.rem_euclid(86_400);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::days;

    #[test]
    fn civil_dates_round_trip() {
        for d in [-1, 0, 59, 11_016, 11_017, 20_000, 20_513] {
            let (y, m, day) = super::civil(d);
            assert_eq!(days(&format!("{y:04}-{m:02}-{day:02}")), Some(d));
        }
        assert!(super::timestamp().ends_with('Z'));
    }

    #[test]
    fn dates_read_as_days() {
        assert_eq!(days("1970-01-01"), Some(0));
        assert_eq!(days("2000-03-01"), Some(11_017));
        assert_eq!(days("2026-11-03T08:12:44Z"), Some(days("2026-11-03").unwrap()));
        assert_eq!(days("2024-02-29"), Some(days("2024-02-28").unwrap() + 1));
        for bad in ["2023-02-29", "2026-13-01", "2026-1-01", "26-11-03", "2026-11-03x", "", "2026/11/03"] {
            assert_eq!(days(bad), None, "{bad}");
        }
    }
}
