//! Wall-clock formatting as Go's `time.Time.Format(time.RFC3339Nano)` in UTC.

/// Formats Unix seconds and nanoseconds as `2006-01-02T15:04:05.999999999Z` (trailing zeros
/// of the fraction dropped, no fraction when it is zero), as Go does for `time.Unix(sec,
/// nsec)` in UTC.
pub fn rfc3339_nano(sec: i64, nsec: i64) -> String {
    // Normalise nsec into [0, 1e9) as time.Unix does.
    let sec = sec.saturating_add(nsec.div_euclid(1_000_000_000));
    let nsec = nsec.rem_euclid(1_000_000_000);
    let days = sec.div_euclid(86_400);
    let secs_of_day = sec.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs_of_day / 3600,
        (secs_of_day / 60) % 60,
        secs_of_day % 60
    );
    if nsec != 0 {
        let frac = format!("{nsec:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(rfc3339_nano(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_nano(1_795_546_378, 545_133_364),
            "2026-11-24T18:52:58.545133364Z"
        );
        assert_eq!(
            rfc3339_nano(951_782_400, 500_000_000),
            "2000-02-29T00:00:00.5Z"
        );
        assert_eq!(rfc3339_nano(-1, 0), "1969-12-31T23:59:59Z");
    }
}
