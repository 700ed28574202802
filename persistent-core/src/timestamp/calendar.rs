//! Proleptic Gregorian calendar arithmetic (UTC) used by `TimeStamp`: leap years, month
//! lengths and the conversion between civil dates and days since the Unix epoch.
//! Nothing here knows about the timestamp's byte layout.

/// Whether `year` is a Gregorian leap year.
pub(crate) fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days of `month` (1..=12) in `year`.
pub(crate) fn month_len(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days in the months of a common year before `month` (1..=12).
fn days_before_month(month: u32) -> i64 {
    const CUMULATIVE: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    CUMULATIVE[(month.clamp(1, 12) - 1) as usize]
}

/// Leap years in 1..=`year` (for `year` >= 0).
fn leap_years_through(year: i64) -> i64 {
    year / 4 - year / 100 + year / 400
}

/// Days from 1970-01-01 to `year`-01-01 (negative before 1970). Needs `year` >= 1.
fn days_before_year(year: i64) -> i64 {
    365 * (year - 1970) + leap_years_through(year - 1) - leap_years_through(1969)
}

/// Days from 1970-01-01 to the given date. `day` may exceed the month's length (the extra
/// days simply run on into the next month), which keeps decoded raw timestamps total.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let leap_day = i64::from(month > 2 && is_leap(year));
    days_before_year(year) + days_before_month(month) + leap_day + i64::from(day) - 1
}

/// The date (year, month, day) that lies `days` after 1970-01-01. Needs a result year >= 1.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "`rest` is a day within the month, 0..31"
)]
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Estimate the year from the mean Gregorian year, then correct by whole years.
    let mut year = 1970 + days.div_euclid(365);
    while days_before_year(year) > days {
        year -= 1;
    }
    while days_before_year(year + 1) <= days {
        year += 1;
    }
    let mut rest = days - days_before_year(year);
    let mut month = 1;
    loop {
        let len = i64::from(month_len(year, month));
        if rest < len {
            break;
        }
        rest -= len;
        month += 1;
    }
    (year, month, rest as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        assert!(is_leap(2008));
        assert!(is_leap(2000));
        assert!(!is_leap(1900));
        assert!(!is_leap(2011));
        assert_eq!(month_len(2008, 2), 29);
        assert_eq!(month_len(1900, 2), 28);
        assert_eq!(month_len(2011, 4), 30);
    }

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1900, 1, 1), -25_567);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2011, 2, 16), 15_021);
    }

    #[test]
    fn civil_round_trips_over_many_days() {
        for days in (-25_567..60_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert!(d >= 1 && d <= month_len(y, m), "{y}-{m}-{d}");
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }
}
