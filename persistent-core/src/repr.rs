//! The Debug representation of persistent objects (docs/spec.md §2.9):
//! `<path::Type object at 0xADDR oid 0xOID in JAR>`, or the type's own `p_repr`.

use std::fmt;
use std::fmt::Write as _;

use crate::object::PObject;
use crate::persistent::Persistent;

impl<T: Persistent> PObject<T> {
    /// The standard representation, never loading the object.
    pub fn default_repr(&self) -> String {
        let mut out = format!(
            "<{} object at {:#x}",
            std::any::type_name::<T>(),
            std::ptr::from_ref::<PObject<T>>(self) as usize
        );
        if let Some(oid) = self.p_oid() {
            // Writing to a `String` cannot fail.
            let _ = write!(out, " oid {oid}");
        }
        if let Some(jar) = self.p_jar() {
            let _ = write!(out, " in {jar:?}");
        }
        out.push('>');
        out
    }
}

/// Uses `Persistent::p_repr` when the type supplies one; if it fails, the standard form
/// with the failure appended.
impl<T: Persistent> fmt::Debug for PObject<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match T::p_repr(self) {
            Some(Ok(custom)) => f.write_str(&custom),
            Some(Err(failure)) => {
                let standard = self.default_repr();
                let trimmed = standard.strip_suffix('>').unwrap_or(&standard);
                write!(f, "{trimmed} p_repr failed: {failure}>")
            }
            None => f.write_str(&self.default_repr()),
        }
    }
}
