//! Turning a `RangeBounds<usize>` into a checked `Range<usize>`: a reversed range or one that
//! reaches past the end is a typed error instead of the panic `Vec` would raise. What does
//! not live here: the list methods that use it (`list::write`).

use std::ops::{Bound, Range, RangeBounds};

use persistent_core::{Error, Result};

/// The range `bounds` denotes within a collection of length `len`, or
/// `Error::RangeOutOfRange` when it is reversed or ends past `len`.
pub(crate) fn checked_range(bounds: impl RangeBounds<usize>, len: usize) -> Result<Range<usize>> {
    let start = match bounds.start_bound() {
        Bound::Included(&s) => Some(s),
        Bound::Excluded(&s) => s.checked_add(1),
        Bound::Unbounded => Some(0),
    };
    let end = match bounds.end_bound() {
        Bound::Included(&e) => e.checked_add(1),
        Bound::Excluded(&e) => Some(e),
        Bound::Unbounded => Some(len),
    };
    match (start, end) {
        (Some(start), Some(end)) if start <= end && end <= len => Ok(start..end),
        (start, end) => Err(Error::RangeOutOfRange {
            start: start.unwrap_or(usize::MAX),
            end: end.unwrap_or(usize::MAX),
            len,
        }),
    }
}

/// Checks that `index` names an element of a collection of length `len`.
pub(crate) fn checked_index(index: usize, len: usize) -> Result<()> {
    if index < len {
        Ok(())
    } else {
        Err(Error::IndexOutOfRange { index, len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(checked_range(.., 3).unwrap(), 0..3);
        assert_eq!(checked_range(1..=2, 3).unwrap(), 1..3);
        assert_eq!(checked_range(3.., 3).unwrap(), 3..3);
        assert!(checked_range((Bound::Included(2), Bound::Excluded(1)), 3).is_err());
        assert!(checked_range(0..4, 3).is_err());
        assert!(checked_range(..=usize::MAX, 3).is_err());
        assert!(checked_index(2, 3).is_ok());
        assert!(checked_index(3, 3).is_err());
    }
}
