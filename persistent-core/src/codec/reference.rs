//! Persistent references: a `P<T>` inside a state is stored as its oid. Encoding and
//! decoding need the data manager that owns the objects; it installs itself as the
//! thread's `ReferenceContext` for the duration (`with_context`). Outside a context a
//! reference cannot be encoded or decoded (`Error::NoCodecContext`). Weak references
//! (`crate::weak`) go through the same context.

use std::cell::RefCell;
use std::rc::Rc;

use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::shape::REFERENCE;

use crate::any_object::ObjectRef;
use crate::error::{Error, Result};
use crate::jar::Jar;
use crate::oid::Oid;
use crate::persistent::Persistent;
use crate::P;

/// What a data manager provides to encode and decode references.
pub trait ReferenceContext {
    /// The oid to store for `obj`: its own if it belongs to this data manager; a new one if
    /// it has no jar yet (the object is then added and stored with the transaction, as
    /// ZODB's `persistent_id` does).
    ///
    /// # Errors
    /// `Error::ForeignObject` for an object of another data manager.
    fn encode_reference(&self, obj: &ObjectRef) -> Result<Oid>;

    /// The object already known under `oid`, if any.
    fn lookup(&self, oid: Oid) -> Option<ObjectRef>;

    /// Takes `obj` (a fresh `P::uninitialized()`) in as the ghost of `oid`.
    ///
    /// # Errors
    /// A cache error if `oid` cannot be taken in (for example, another object holds it).
    fn adopt_ghost(&self, oid: Oid, obj: &ObjectRef) -> Result<()>;

    /// The oid to store for the target of a weak reference (docs/spec.md §12): as
    /// [`encode_reference`](Self::encode_reference) (an object without a jar is added, so
    /// it is stored with the transaction), except that a context which keeps the record's
    /// reference list must *not* list it: a weak reference does not keep its target
    /// reachable for garbage collection. The default delegates to `encode_reference`, which
    /// is right for contexts that keep no reference list (and merely conservative, the
    /// target kept alive, for one that does).
    ///
    /// # Errors
    /// As `encode_reference`.
    fn encode_weak_reference(&self, obj: &ObjectRef) -> Result<Oid> {
        self.encode_reference(obj)
    }

    /// The jar through which weak references decoded in this context load their target
    /// (`WeakRef::get`), and whose database a stored weak reference must belong to when it
    /// is encoded again. The default, `None`, gives weak references that can be encoded
    /// again (as their oid) but not followed.
    fn jar(&self) -> Option<Jar> {
        None
    }
}

thread_local! {
    static CONTEXT: RefCell<Vec<Rc<dyn ReferenceContext>>> = const { RefCell::new(Vec::new()) };
    static PENDING_ERROR: RefCell<Option<Error>> = const { RefCell::new(None) };
}

/// Runs `f` with `context` as the thread's reference context (contexts nest).
pub fn with_context<R>(context: Rc<dyn ReferenceContext>, f: impl FnOnce() -> R) -> R {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            CONTEXT.with(|c| {
                c.borrow_mut().pop();
            });
        }
    }
    CONTEXT.with(|c| c.borrow_mut().push(context));
    let _pop = Pop;
    f()
}

pub(crate) fn current() -> Result<Rc<dyn ReferenceContext>> {
    CONTEXT.with(|c| c.borrow().last().cloned()).ok_or(Error::NoCodecContext)
}

/// The detailed error behind the last failed reference, for the field codec.
pub(crate) fn take_pending_error() -> Option<Error> {
    PENDING_ERROR.with(|e| e.borrow_mut().take())
}

pub(crate) fn stash(error: Error) -> String {
    let message = error.to_string();
    PENDING_ERROR.with(|e| *e.borrow_mut() = Some(error));
    message
}

/// The object a stored reference names, typed: the known object, or a new ghost.
fn resolve<T: Persistent>(oid: Oid) -> Result<P<T>> {
    let context = current()?;
    if let Some(obj) = context.lookup(oid) {
        return obj.downcast::<T>().ok_or_else(|| Error::TypeMismatch {
            oid,
            expected: T::stored_type_name().to_string(),
            found: obj.type_name().to_string(),
        });
    }
    let ghost = P::<T>::uninitialized();
    context.adopt_ghost(oid, &ghost.erase())?;
    Ok(ghost)
}

/// Reads the oid of a reference: a newtype struct named [`REFERENCE`] (or, for a weak
/// reference, `WEAK_REFERENCE`) around a `u64` (postcard stores it as the bare oid).
pub(crate) struct OidVisitor;

impl<'de> Visitor<'de> for OidVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a persistent reference (an oid)")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, inner: D) -> Result<u64, D::Error> {
        u64::deserialize(inner)
    }

    fn visit_u64<E: serde::de::Error>(self, oid: u64) -> Result<u64, E> {
        Ok(oid)
    }
}

/// A reference is stored as the object's oid, presented to serde as a newtype struct named
/// `persistent::Reference` so that a shape can tell it from a plain `u64`.
impl<T: Persistent> Serialize for P<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match current().and_then(|context| context.encode_reference(&self.erase())) {
            Ok(oid) => serializer.serialize_newtype_struct(REFERENCE, &oid.0),
            Err(error) => Err(serde::ser::Error::custom(stash(error))),
        }
    }
}

/// A stored reference comes back as the cached object or a ghost, without a storage read.
impl<'de, T: Persistent> Deserialize<'de> for P<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<P<T>, D::Error> {
        let oid = Oid(deserializer.deserialize_newtype_struct(REFERENCE, OidVisitor)?);
        resolve::<T>(oid).map_err(|error| serde::de::Error::custom(stash(error)))
    }
}
