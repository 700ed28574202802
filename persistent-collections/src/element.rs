//! `Element`: what a persistent collection can hold. What does not live here: how elements
//! are encoded (each state's `Persistent` impl, in `list::state` and `mapping::state`).

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A value a persistent collection can hold: anything serde can encode and decode that owns
/// its data. Implemented for every such type; a `P<T>` element is stored as a reference (its
/// oid), not as a copy of the object.
pub trait Element: Serialize + DeserializeOwned + 'static {}

impl<T: Serialize + DeserializeOwned + 'static> Element for T {}

/// How an element type is named inside a collection's stored type name: the Rust type name
/// as the compiler spells it, with the paths of this library's own types shortened (`P<..>`
/// for a reference). Moving an element type to another module changes it, and the stored
/// collection then refuses to load as the new type (`Error::TypeMismatch`): loud, never a
/// misread.
pub(crate) fn element_name<T: 'static>() -> String {
    std::any::type_name::<T>()
        .replace("persistent_core::handle::P<", "P<")
        .replace("persistent_collections::handle::PersistentCollection<", "PersistentCollection<")
        .replace("persistent_collections::list::state::ListState<", "List<")
        .replace("persistent_collections::mapping::state::MapState<", "Mapping<")
        .replace("alloc::string::", "")
        .replace("alloc::vec::", "")
        .replace("core::option::", "")
}
