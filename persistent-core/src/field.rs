//! How a generated getter returns a field: a field whose type is a shared persistent handle
//! (`SharedField`, e.g. `PersistentList`) comes back as the same object, shared by identity;
//! any other field comes back as a clone. The choice is made at compile time by method
//! resolution (`GetShared` is found before `GetCloned`), so it costs nothing at run time.

/// A value that is a handle to a persistent object of its own (like the persistent
/// collections): a getter returns `share()`, another handle to the same object, not a copy.
pub trait SharedField: Sized {
    /// Another handle to the same persistent object.
    fn share(&self) -> Self;
}

/// A borrowed field, for the getter's choice between sharing and cloning.
#[doc(hidden)]
pub struct FieldRef<'a, T>(pub &'a T);

/// Chosen first: fields that are shared handles.
#[doc(hidden)]
pub trait GetShared<T> {
    fn get_field(&self) -> T;
}

impl<T: SharedField> GetShared<T> for FieldRef<'_, T> {
    #[inline]
    fn get_field(&self) -> T {
        self.0.share()
    }
}

/// Chosen otherwise: fields that are plain values, cloned.
#[doc(hidden)]
pub trait GetCloned<T> {
    fn get_field(&self) -> T;
}

impl<T: Clone> GetCloned<T> for &FieldRef<'_, T> {
    #[inline]
    fn get_field(&self) -> T {
        self.0.clone()
    }
}
