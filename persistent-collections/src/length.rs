//! `Length`: a persistent counter whose concurrent changes merge instead of conflicting (the
//! reference's `BTrees.Length`), and `LengthObject`, the object behind a `P<Length>` handle,
//! which carries its methods (`value`, `add`, `set`). What does not live here: how a
//! conflict is detected and a merge stored (the connection, docs/spec.md §8).

use std::fmt;
use std::ops::Deref;

use persistent_core::codec::{decode_field, encode_field, finish_decode};
use persistent_core::{Error, ObjectCell, PObject, Persistent, Result};

/// A persistent `i64` counter that many transactions can change at once without
/// conflicting: when two transactions change it concurrently, the second commit does not
/// fail but stores the committed value plus its own change (`committed + (mine - old)`).
/// Use it for counts kept beside a collection (its length, hence the name), hit counters,
/// totals: values only ever changed by adding.
///
/// Create one with `P::new(Length::new(value))`; read and change it through the handle
/// ([`LengthObject`]). A merge whose result overflows `i64` is refused, and the commit is an
/// `Error::Conflict` as for any other type. The merge also means that a transaction
/// which *sets* a `Length` (rather than adding to it) has the concurrent additions of others
/// added on top: set only what nobody changes concurrently.
///
/// ```
/// use persistent_collections::Length;
/// use persistent_core::storage::MemoryStorage;
/// use persistent_core::{Database, P};
///
/// # fn main() -> persistent_core::Result<()> {
/// let db = Database::open(MemoryStorage::new())?;
/// let conn = db.connect()?;
/// let hits = P::new(Length::new(0));
/// let oid = conn.add(&hits)?;
/// conn.commit()?;
///
/// // Two connections add at the same time: both commit, nothing is lost.
/// let other = db.connect()?;
/// other.get::<Length>(oid)?.add(5)?;
/// hits.add(1)?;
/// other.commit()?;
/// conn.commit()?;                       // a conflict, merged
/// assert_eq!(conn.conflicts_resolved(), 1);
/// assert_eq!(hits.value()?, 6);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Length(i64);

impl Length {
    /// A counter state holding `value` (wrap it in `P::new` to make the persistent object).
    #[must_use]
    pub const fn new(value: i64) -> Length {
        Length(value)
    }

    /// The value.
    #[must_use]
    pub const fn get(self) -> i64 {
        self.0
    }
}

/// Stored as the one `i64`. Conflicts merge as `committed + (mine - old)`, refused when the
/// result does not fit an `i64`.
impl Persistent for Length {
    type Object = LengthObject;
    const TYPE_NAME: &'static str = "persistent::Length";
    const RESOLVES_CONFLICTS: bool = true;

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.0, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let mut input = bytes;
        let value = decode_field(Self::TYPE_NAME, &mut input)?;
        finish_decode(Self::TYPE_NAME, input)?;
        Ok(Length(value))
    }

    fn resolve_conflict(old: &Self, committed: &Self, mine: &Self) -> Option<Self> {
        // In i128 the sum cannot overflow; only a result outside `i64` is refused.
        let merged = i128::from(committed.0) + (i128::from(mine.0) - i128::from(old.0));
        i64::try_from(merged).ok().map(Length)
    }
}

/// The persistent object behind a `P<Length>` handle: the counter's methods, and the
/// persistence protocol of `PObject<Length>` through `Deref`.
pub struct LengthObject(PObject<Length>);

impl ObjectCell for LengthObject {
    type State = Length;

    fn object(&self) -> &PObject<Length> {
        &self.0
    }

    fn from_object(object: PObject<Length>) -> Self {
        LengthObject(object)
    }
}

/// The persistence protocol (`p_oid`, `p_state`, ...).
impl Deref for LengthObject {
    type Target = PObject<Length>;

    fn deref(&self) -> &PObject<Length> {
        &self.0
    }
}

/// The persistence protocol's representation (docs/spec.md §2.9).
impl fmt::Debug for LengthObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl LengthObject {
    /// The value, loading a ghost first.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see `PObject::p_activate`), or a write is in progress
    /// (`Error::AlreadyBorrowed`).
    pub fn value(&self) -> Result<i64> {
        self.0.with(|length| length.0)
    }

    /// Adds `delta` (negative to subtract) and marks the counter changed. Concurrent
    /// additions of other transactions merge with this one at commit.
    ///
    /// # Errors
    ///
    /// `Error::Overflow` when the sum does not fit an `i64` (nothing is changed or marked);
    /// otherwise as [`value`](Self::value), or registering with the data manager fails.
    pub fn add(&self, delta: i64) -> Result<()> {
        let value = self.value()?;
        let sum = value.checked_add(delta).ok_or_else(|| Error::Overflow {
            type_name: Length::TYPE_NAME.to_owned(),
            operation: format!("adding {delta} to {value}"),
        })?;
        self.0.update(|length| length.0 = sum)
    }

    /// Sets the value and marks the counter changed. If another transaction adds to it
    /// concurrently, its addition is applied on top of this value at commit.
    ///
    /// # Errors
    ///
    /// As [`value`](Self::value), or registering with the data manager fails.
    pub fn set(&self, value: i64) -> Result<()> {
        self.0.update(|length| length.0 = value)
    }
}
