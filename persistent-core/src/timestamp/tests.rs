//! Unit tests of `TimeStamp`: every worked example of docs/spec.md §5 (and 2.7), field
//! validation, `later_than` carries and formatting.

#![allow(
    clippy::float_cmp,
    clippy::unreadable_literal,
    reason = "test code: exact values and literals from the Python tests"
)]

use super::TimeStamp;
use crate::error::Error;

fn ts(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: f64) -> TimeStamp {
    TimeStamp::new(year, month, day, hour, minute, second).expect("valid fields")
}

fn fields(t: TimeStamp) -> (u32, u32, u32, u32, u32) {
    (t.year(), t.month(), t.day(), t.hour(), t.minute())
}

/// The timestamp at the given minute whose low half is all ones.
fn last_unit_of_minute(year: u32, month: u32, day: u32, hour: u32, minute: u32) -> TimeStamp {
    let high = ts(year, month, day, hour, minute, 0.0).as_u64() >> 32;
    TimeStamp::from_u64((high << 32) | u64::from(u32::MAX))
}

#[test]
fn zero_is_1900_start() {
    let zero = TimeStamp::from_raw([0; 8]);
    assert_eq!(zero, TimeStamp::ZERO);
    assert_eq!(zero, TimeStamp::default());
    assert_eq!(fields(zero), (1900, 1, 1, 0, 0));
    assert_eq!(zero.second(), 0.0);
    assert_eq!(zero.to_string(), "1900-01-01 00:00:00.000000");
    assert_eq!(zero.time_time(), -2_208_988_800.0);
}

#[test]
fn encodes_2008_example_bit_exact() {
    let t = ts(2008, 12, 22, 15, 20, 48.299999952316284);
    assert_eq!(t.raw(), [0x03, 0x7a, 0xbd, 0xd8, 0xce, 0x14, 0x7a, 0xdd]);
    assert_eq!(t.to_string(), "2008-12-22 15:20:48.300000");
    assert_eq!(fields(t), (2008, 12, 22, 15, 20));
    assert_eq!(format!("{t:?}"), "TimeStamp(2008-12-22 15:20:48.300000, 037abdd8ce147add)");
}

#[test]
fn round_trips_2011_example_through_raw() {
    let t = ts(2011, 2, 16, 14, 37, 22.80544);
    let back = TimeStamp::from_raw(t.raw());
    assert_eq!(back, t);
    assert_eq!(fields(back), (2011, 2, 16, 14, 37));
    assert!((back.second() - 22.80544).abs() < 1e-6, "{}", back.second());
    assert!((back.time_time() - 1_297_867_042.805_44).abs() < 1e-6);
    assert_eq!(TimeStamp::from_bytes(&t.raw()).unwrap(), t);
    assert_eq!(TimeStamp::from_u64(t.as_u64()), t);
}

#[test]
fn serial_mtime_example_of_spec_2_7() {
    assert_eq!(ts(2011, 2, 15, 13, 33, 27.5).time_time(), 1_297_776_807.5);
}

#[test]
fn later_than_adds_one_low_unit() {
    let a = TimeStamp::from_raw([1; 8]);
    let b = TimeStamp::from_raw([2; 8]);
    assert_eq!(a.later_than(b).raw(), [2, 2, 2, 2, 2, 2, 2, 3]);
    assert_eq!(b.later_than(a), b);
    assert_eq!(b.later_than(b).raw(), [2, 2, 2, 2, 2, 2, 2, 3]);
}

#[test]
fn later_than_carries_into_next_minute_and_hour() {
    let other = last_unit_of_minute(2011, 5, 4, 10, 59);
    let later = TimeStamp::ZERO.later_than(other);
    assert_eq!(later, ts(2011, 5, 4, 11, 0, 0.0));
    assert!(later > other);
    let other = last_unit_of_minute(2011, 5, 4, 10, 30);
    assert_eq!(TimeStamp::ZERO.later_than(other), ts(2011, 5, 4, 10, 31, 0.0));
}

#[test]
fn later_than_carries_over_short_month_end() {
    let other = last_unit_of_minute(2011, 2, 28, 23, 59);
    let later = TimeStamp::ZERO.later_than(other);
    assert_eq!(later, ts(2011, 3, 1, 0, 0, 0.0));
    assert_eq!(later.to_string(), "2011-03-01 00:00:00.000000");
    let other = last_unit_of_minute(2011, 4, 30, 23, 59);
    assert_eq!(TimeStamp::ZERO.later_than(other), ts(2011, 5, 1, 0, 0, 0.0));
}

#[test]
fn later_than_knows_leap_february() {
    let other = last_unit_of_minute(2008, 2, 28, 23, 59);
    assert_eq!(TimeStamp::ZERO.later_than(other), ts(2008, 2, 29, 0, 0, 0.0));
    let other = last_unit_of_minute(2008, 2, 29, 23, 59);
    assert_eq!(TimeStamp::ZERO.later_than(other), ts(2008, 3, 1, 0, 0, 0.0));
}

#[test]
fn later_than_carries_into_next_year() {
    let other = last_unit_of_minute(2008, 12, 31, 23, 59);
    let later = TimeStamp::ZERO.later_than(other);
    assert_eq!(later, ts(2009, 1, 1, 0, 0, 0.0));
    assert_eq!(later.to_string(), "2009-01-01 00:00:00.000000");
}

#[test]
fn later_than_at_the_end_of_time_stays() {
    let max = TimeStamp::from_u64(u64::MAX);
    assert_eq!(TimeStamp::ZERO.later_than(max), max);
}

fn invalid_field(result: crate::Result<TimeStamp>) -> &'static str {
    match result {
        Err(Error::InvalidTimeStamp { field, .. }) => field,
        other => panic!("expected InvalidTimeStamp, got {other:?}"),
    }
}

#[test]
fn each_invalid_field_is_named() {
    type Fields = (u32, u32, u32, u32, u32, f64);
    let cases: [(Fields, &str); 15] = [
        ((1899, 12, 31, 0, 0, 0.0), "year"),
        ((9918, 1, 1, 0, 0, 0.0), "year"),
        ((u32::MAX, 1, 1, 0, 0, 0.0), "year"),
        ((2011, 0, 1, 0, 0, 0.0), "month"),
        ((2011, 13, 1, 0, 0, 0.0), "month"),
        ((2011, 1, 0, 0, 0, 0.0), "day"),
        ((2011, 2, 29, 0, 0, 0.0), "day"),
        ((1900, 2, 29, 0, 0, 0.0), "day"),
        ((2011, 4, 31, 0, 0, 0.0), "day"),
        ((2011, 1, 1, 24, 0, 0.0), "hour"),
        ((2011, 1, 1, 0, 60, 0.0), "minute"),
        ((2011, 1, 1, 0, 0, 60.0), "second"),
        ((2011, 1, 1, 0, 0, -0.5), "second"),
        ((2011, 1, 1, 0, 0, f64::NAN), "second"),
        ((2011, 1, 1, 0, 0, f64::INFINITY), "second"),
    ];
    for ((y, mo, d, h, mi, s), field) in cases {
        let named = invalid_field(TimeStamp::new(y, mo, d, h, mi, s));
        assert_eq!(named, field, "fields {y}-{mo}-{d} {h}:{mi}:{s}");
    }
    assert_eq!(invalid_field(TimeStamp::from_bytes(&[0; 7])), "raw");
    assert_eq!(invalid_field(TimeStamp::from_bytes(&[0; 9])), "raw");
}

#[test]
fn valid_edges_are_accepted() {
    assert!(TimeStamp::new(2008, 2, 29, 23, 59, 59.999_999).is_ok());
    assert!(TimeStamp::new(2000, 2, 29, 0, 0, 0.0).is_ok());
    assert!(TimeStamp::new(9917, 1, 1, 0, 0, 0.0).is_ok());
    let near_sixty = TimeStamp::new(2011, 1, 1, 0, 0, 59.999_999_999_999_99).unwrap();
    assert_eq!(near_sixty.raw()[4..], [0xff; 4]);
}

#[test]
fn now_is_recent_and_consistent() {
    let now = TimeStamp::now();
    let system =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((now.time_time() - system).abs() < 5.0, "{now} vs {system}");
    assert!(now.year() >= 2024);
}

#[test]
fn ordering_follows_time() {
    let earlier = ts(2011, 2, 28, 23, 59, 59.0);
    let later = ts(2011, 3, 1, 0, 0, 0.0);
    assert!(earlier < later);
    assert!(later.time_time() - earlier.time_time() > 0.99);
}
