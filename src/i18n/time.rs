//! Swedish dates and times (2025-03-04, 24-hour clock) in Swedish local time: CET, or CEST from the
//! last Sunday of March to the last Sunday of October (EU rule, changes at 01:00 UTC).

/// Days since 1970-01-01 → (year, month, day). (H. Hinnant's civil_from_days.)
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix milliseconds → ISO 8601 in UTC with milliseconds (`2026-11-29T09:41:10.123Z`), the form
/// AGS wants for a score's `timestamp`.
pub fn iso8601_utc_ms(unix_ms: i64) -> String {
    let seconds = unix_ms.div_euclid(1000);
    let millis = unix_ms.rem_euclid(1000);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339 timestamp (`2026-11-29T09:41:10Z`, `…10.123+01:00`) or a bare date
/// (`2026-11-29`, midnight UTC) into Unix milliseconds.
pub fn parse_rfc3339_ms(value: &str) -> Option<i64> {
    let value = value.trim();
    let (date, rest) = match value.split_once(['T', 't', ' ']) {
        Some((date, rest)) => (date, Some(rest)),
        None => (value, None),
    };
    let mut parts = date.split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if !(0..=9999).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let Some(rest) = rest else {
        return Some(days * 86_400_000);
    };
    let (clock, offset_seconds) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (clock, offset) = rest.split_at(at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (hours, minutes) = offset[1..].split_once(':')?;
        let hours: i64 = hours.parse().ok().filter(|h| *h <= 23)?;
        let minutes: i64 = minutes.parse().ok().filter(|m| *m <= 59)?;
        (clock, sign * (hours * 3600 + minutes * 60))
    };
    let (whole, fraction) = match clock.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (clock, None),
    };
    let mut fields = whole.split(':');
    let hour: i64 = fields.next()?.parse().ok().filter(|h| *h <= 23)?;
    let minute: i64 = fields.next()?.parse().ok().filter(|m| *m <= 59)?;
    let second: i64 = fields.next()?.parse().ok().filter(|s| *s <= 60)?;
    if fields.next().is_some() {
        return None;
    }
    let millis = match fraction {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            let mut padded: String = digits.chars().take(3).collect();
            while padded.len() < 3 {
                padded.push('0');
            }
            padded.parse::<i64>().ok()?
        }
        Some(_) => return None,
        None => 0,
    };
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds * 1000 + millis)
}

/// [`parse_rfc3339_ms`] in Unix seconds.
pub fn parse_rfc3339(value: &str) -> Option<i64> {
    parse_rfc3339_ms(value).map(|ms| ms.div_euclid(1000))
}

/// Unix seconds of the last Sunday of `month` at 01:00 UTC.
fn last_sunday_0100_utc(year: i64, month: u32) -> i64 {
    let last_day = days_from_civil(year, month, 31);
    // 1970-01-01 was a Thursday: weekday 0 = Monday … 6 = Sunday.
    let weekday = (last_day + 3).rem_euclid(7);
    let sunday = last_day - (weekday - 6).rem_euclid(7);
    sunday * 86_400 + 3_600
}

/// Swedish local time of a Unix timestamp, as seconds.
fn local(unix: i64) -> i64 {
    let (year, _, _) = civil_from_days(unix.div_euclid(86_400));
    let summer = unix >= last_sunday_0100_utc(year, 3) && unix < last_sunday_0100_utc(year, 10);
    unix + if summer { 7_200 } else { 3_600 }
}

/// `2025-03-04`.
pub fn format_date(unix: i64) -> String {
    let (year, month, day) = civil_from_days(local(unix).div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// `14:05`.
pub fn format_time(unix: i64) -> String {
    let seconds = local(unix).rem_euclid(86_400);
    format!("{:02}:{:02}", seconds / 3_600, (seconds % 3_600) / 60)
}

/// Parses a Swedish local date and time (`2025-03-04`, `14:05`) into Unix seconds.
pub fn parse_local(date: &str, time: &str) -> Option<i64> {
    let mut parts = date.trim().split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some()
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(1970..=9999).contains(&year)
    {
        return None;
    }
    let (hour, minute) = time.trim().split_once(':')?;
    let (hour, minute): (i64, i64) = (hour.parse().ok()?, minute.parse().ok()?);
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if civil_from_days(days) != (year, month, day) {
        return None;
    }
    let wall = days * 86_400 + hour * 3_600 + minute * 60;
    // Try CEST then CET: the offset that maps back to the same wall clock is the right one.
    [7_200, 3_600]
        .into_iter()
        .map(|offset| wall - offset)
        .find(|&unix| local(unix) == wall)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_refuses_nonsense() {
        let ms = 1_764_408_070_123;
        assert_eq!(parse_rfc3339_ms(&iso8601_utc_ms(ms)), Some(ms));
        assert_eq!(
            parse_rfc3339_ms("2025-11-29T10:21:10.123+01:00"),
            parse_rfc3339_ms("2025-11-29T09:21:10.123Z")
        );
        assert_eq!(parse_rfc3339("1970-01-02"), Some(86_400));
        for bad in [
            "",
            "yesterday",
            "2025-13-01",
            "2025-11-29T25:00:00Z",
            "2025-11-29T10:00:00",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn winter_and_summer_times_follow_swedish_local_time() {
        // 2025-03-04 12:00 UTC = 13:00 CET.
        assert_eq!(
            (format_date(1_741_089_600), format_time(1_741_089_600)),
            ("2025-03-04".into(), "13:00".into())
        );
        // 2025-07-01 22:30 UTC = 2025-07-02 00:30 CEST.
        assert_eq!(
            (format_date(1_751_409_000), format_time(1_751_409_000)),
            ("2025-07-02".into(), "00:30".into())
        );
        // DST starts 2025-03-30 01:00 UTC: 00:59 UTC is 01:59 CET, 01:00 UTC is 03:00 CEST.
        assert_eq!(format_time(1_743_296_340), "01:59");
        assert_eq!(format_time(1_743_296_400), "03:00");
    }

    #[test]
    fn local_date_and_time_parse_back() {
        let unix = parse_local("2025-03-04", "13:00").unwrap();
        assert_eq!(unix, 1_741_089_600);
        let summer = parse_local("2025-07-02", "00:30").unwrap();
        assert_eq!(summer, 1_751_409_000);
        assert_eq!(parse_local("2025-02-30", "10:00"), None);
        assert_eq!(parse_local("2025-03-04", "24:00"), None);
        assert_eq!(parse_local("not a date", "10:00"), None);
    }

    #[test]
    fn score_timestamps_are_utc_with_milliseconds() {
        assert_eq!(iso8601_utc_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601_utc_ms(1_795_772_470_123),
            "2026-11-27T09:41:10.123Z"
        );
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-1000, 0, 10_957, 20_000, 30_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
