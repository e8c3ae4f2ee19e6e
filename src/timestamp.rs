//! UTC instants as RFC 3339 text (`2026-11-20T22:00:00Z`, optionally with a fraction): the form
//! Azure restore points take in specs and the form apply's journal records.

/// Seconds since the Unix epoch of `YYYY-MM-DDTHH:MM:SS[.fff…]Z`, or `None` when the text is
/// not such an instant (wrong shape, signs, a day the month does not have).
pub fn parse_utc(v: &str) -> Option<f64> {
    let body = v.strip_suffix('Z')?;
    let (main, fraction) = body.split_once('.').unwrap_or((body, "0"));
    let b = main.as_bytes();
    let shape_ok = main.len() == 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && !fraction.is_empty()
        && fraction.bytes().all(|c| c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        main.get(r)
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<i64>().ok())
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, m, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month || h > 23 || m > 59 || s > 59 {
        return None;
    }
    let frac: f64 = format!("0.{fraction}").parse().unwrap_or(0.0);
    Some((days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s) as f64 + frac)
}

/// Seconds since the Unix epoch of an HTTP `Date` header (RFC 9110's IMF-fixdate,
/// `Wed, 02 Dec 2026 05:16:08 GMT`), or `None` for any other form.
pub fn parse_http_date(v: &str) -> Option<f64> {
    let rest = v.trim().split_once(", ")?.1;
    let mut parts = rest.split(' ');
    let day: i64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    parse_utc(&format!("{year:04}-{month:02}-{day:02}T{time}Z"))
}

/// `2026-11-25T23:58:01.123Z` for a Unix time in seconds (millisecond precision).
pub fn format_utc(secs: f64) -> String {
    let millis = (secs * 1000.0).round() as i64;
    let (days, ms_of_day) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let s = ms_of_day / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        (s % 3600) / 60,
        s % 60,
        ms_of_day % 1000
    )
}

/// Howard Hinnant's days-from-civil (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
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
    fn http_dates_read_as_utc() {
        assert_eq!(
            parse_http_date("Wed, 02 Dec 2026 05:16:08 GMT"),
            parse_utc("2026-12-02T05:16:08Z")
        );
        assert_eq!(parse_http_date("Wed, 02 Dec 2026 05:16:08 CET"), None);
        assert_eq!(parse_http_date("2026-12-02T05:16:08Z"), None);
        assert_eq!(parse_http_date("Wed, 31 Feb 2026 05:16:08 GMT"), None);
    }

    #[test]
    fn formats_and_parses_utc_instants() {
        assert_eq!(format_utc(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_utc(1_764_115_081.5), "2025-11-25T23:58:01.500Z");
        assert_eq!(format_utc(951_782_400.0), "2000-02-29T00:00:00.000Z");
        let t = 1_764_115_081.25;
        assert!((parse_utc(&format_utc(t)).unwrap_or(0.0) - t).abs() < 0.001);
    }

    #[test]
    fn refuses_what_is_not_a_utc_instant() {
        assert!(parse_utc("2026-11-20T22:00:00Z").is_some());
        assert!(parse_utc("2024-02-29T00:00:00Z").is_some());
        assert!(parse_utc("2026-02-29T00:00:00Z").is_none());
        assert!(parse_utc("2026-11-20T22:00:00").is_none());
        assert!(parse_utc("2026-11-20T22:00:00+01:00").is_none());
        assert!(parse_utc("2026-13-01T00:00:00Z").is_none());
        assert!(parse_utc("+026-11-20T22:00:00Z").is_none());
    }
}
