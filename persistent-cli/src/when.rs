//! Parsing `pack --before`: a tid (`0x` and 16 hex digits' worth, or decimal), an RFC 3339
//! time (`2024-05-01T12:00:00Z`, `2024-05-01 12:00:00.5+02:00`), or an age such as
//! `3 days`, `12 hours`, `30 minutes` (optionally followed by `ago`), counted back from
//! now. Calendar arithmetic is `TimeStamp`'s: a time is built with `TimeStamp::new` and
//! shifted by its offset as Unix seconds. What does not live here: packing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use persistent::{Tid, TimeStamp};

/// The tid `text` names, relative to `now` for an age.
///
/// # Errors
/// A message saying which forms are accepted.
pub fn parse_before(text: &str, now: SystemTime) -> Result<Tid, String> {
    let text = text.trim();
    let explain = |why: String| {
        format!(
            "{text:?} is not a tid, a time or an age ({why}); use a tid (0x037abdd8ce147add or \
             decimal), an RFC 3339 time (2024-05-01T12:00:00Z) or an age (\"3 days\", \
             \"12 hours\", \"30 minutes\")"
        )
    };
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16)
            .map(TimeStamp::from_u64)
            .map_err(|e| explain(e.to_string()));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
        return text.parse::<u64>().map(TimeStamp::from_u64).map_err(|e| explain(e.to_string()));
    }
    if text.bytes().next().is_some_and(|b| b.is_ascii_digit()) && text.contains(['-', ':']) {
        return parse_rfc3339(text).map_err(explain);
    }
    let age = parse_age(text).map_err(explain)?;
    let then = now.checked_sub(age).ok_or_else(|| explain("too long ago".to_string()))?;
    Ok(TimeStamp::from_system_time(then))
}

/// An age: a number and a unit, optionally followed by `ago`.
fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.strip_suffix("ago").unwrap_or(text).trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 =
        number.parse().map_err(|_| "an age starts with a whole number".to_string())?;
    let seconds: u64 = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        other => return Err(format!("unknown unit {other:?}")),
    };
    number.checked_mul(seconds).map(Duration::from_secs).ok_or_else(|| "too long".to_string())
}

/// Takes `n` ASCII digits from the front of `input` as a number.
fn digits(input: &mut &str, n: usize, what: &str) -> Result<u32, String> {
    let ok = input.len() >= n && input.as_bytes()[..n].iter().all(u8::is_ascii_digit);
    if !ok {
        return Err(format!("expected {n} digits of {what}"));
    }
    let (taken, rest) = input.split_at(n);
    *input = rest;
    taken.parse().map_err(|_| format!("bad {what}"))
}

/// Takes `separator` from the front of `input` (any of the characters given).
fn expect(input: &mut &str, separators: &[char], what: &str) -> Result<(), String> {
    let mut chars = input.chars();
    match chars.next() {
        Some(c) if separators.contains(&c) => {
            *input = chars.as_str();
            Ok(())
        }
        _ => Err(format!("expected {what}")),
    }
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.fraction](Z|±HH:MM)`.
fn parse_rfc3339(text: &str) -> Result<Tid, String> {
    let mut input = text;
    let year = digits(&mut input, 4, "the year")?;
    expect(&mut input, &['-'], "'-' after the year")?;
    let month = digits(&mut input, 2, "the month")?;
    expect(&mut input, &['-'], "'-' after the month")?;
    let day = digits(&mut input, 2, "the day")?;
    expect(&mut input, &['T', 't', ' '], "'T' between date and time")?;
    let hour = digits(&mut input, 2, "the hour")?;
    expect(&mut input, &[':'], "':' after the hour")?;
    let minute = digits(&mut input, 2, "the minutes")?;
    expect(&mut input, &[':'], "':' after the minutes")?;
    let second = digits(&mut input, 2, "the seconds")?;
    let mut nanos = 0u32;
    if let Some(rest) = input.strip_prefix('.') {
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if end == 0 {
            return Err("expected digits after '.'".to_string());
        }
        let fraction = &rest[..end.min(9)];
        nanos = format!("{fraction:0<9}").parse().map_err(|_| "bad fraction".to_string())?;
        input = &rest[end..];
    }
    let offset_seconds: i64 = match input {
        "Z" | "z" => 0,
        _ => {
            let sign = match input.chars().next() {
                Some('+') => 1,
                Some('-') => -1,
                _ => return Err("expected 'Z' or an offset such as +02:00".to_string()),
            };
            input = &input[1..];
            let hours = digits(&mut input, 2, "the offset's hours")?;
            expect(&mut input, &[':'], "':' in the offset")?;
            let minutes = digits(&mut input, 2, "the offset's minutes")?;
            if !input.is_empty() || hours > 23 || minutes > 59 {
                return Err("bad offset".to_string());
            }
            sign * i64::from(hours * 3600 + minutes * 60)
        }
    };
    // The wall-clock fields are checked (and turned into seconds) by TimeStamp itself.
    let wall = TimeStamp::new(year, month, day, hour, minute, f64::from(second))
        .map_err(|e| e.to_string())?;
    #[allow(clippy::cast_possible_truncation, reason = "a whole number of seconds since 1900")]
    let wall_seconds = wall.time_time().round() as i64;
    let utc = wall_seconds - offset_seconds;
    let moment = if utc >= 0 {
        UNIX_EPOCH + Duration::new(utc.unsigned_abs(), nanos)
    } else {
        UNIX_EPOCH - Duration::from_secs(utc.unsigned_abs())
            + Duration::from_nanos(u64::from(nanos))
    };
    Ok(TimeStamp::from_system_time(moment))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    #[test]
    fn tids() {
        assert_eq!(parse_before("0x10", now()), Ok(TimeStamp::from_u64(16)));
        assert_eq!(parse_before("42", now()), Ok(TimeStamp::from_u64(42)));
        assert!(parse_before("0xzz", now()).is_err());
    }

    #[test]
    fn times_with_offsets() {
        let utc = parse_before("2024-05-01T12:00:00Z", now()).unwrap();
        assert_eq!(utc, TimeStamp::new(2024, 5, 1, 12, 0, 0.0).unwrap());
        assert_eq!(parse_before("2024-05-01 14:00:00+02:00", now()).unwrap(), utc);
        // Across midnight and a month end.
        let late = parse_before("2024-04-30T22:00:00-14:00", now()).unwrap();
        assert_eq!(late, utc);
        let half = parse_before("2024-05-01T12:00:00.5Z", now()).unwrap();
        assert!(half > utc && (half.second() - 0.5).abs() < 1e-6, "{half}");
        for bad in
            ["2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-05-01T12:00:00", "2024-05-01"]
        {
            assert!(parse_before(bad, now()).is_err(), "{bad}");
        }
    }

    #[test]
    fn ages() {
        let expect = |secs: u64| TimeStamp::from_system_time(now() - Duration::from_secs(secs));
        assert_eq!(parse_before("3 days", now()), Ok(expect(3 * 86_400)));
        assert_eq!(parse_before("12 hours ago", now()), Ok(expect(12 * 3600)));
        assert_eq!(parse_before("30minutes", now()), Ok(expect(1800)));
        assert_eq!(parse_before("1 week", now()), Ok(expect(7 * 86_400)));
        for bad in ["3 fortnights", "days", "", "-3 days"] {
            assert!(parse_before(bad, now()).is_err(), "{bad:?}");
        }
    }
}
