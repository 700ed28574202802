//! Helpers shared by the collection tests: attach an object to a new
//! [`persistent_testkit::StubDm`] so that it starts `UpToDate` with no registration (or, if
//! uninitialized, as a ghost that the stub loads).

#![allow(dead_code)]

use std::rc::Rc;

use persistent_core::prelude::*;
use persistent_testkit::StubDm;

/// Gives `handle` oid 1 and a jar on a new stub that loads nothing: a new object so becomes
/// saved (`UpToDate`), an uninitialized one a ghost. Keep the returned stub alive while the
/// object is used.
pub fn attach<S: Persistent>(handle: &P<S>) -> Rc<StubDm> {
    attach_loading(handle, Vec::new())
}

/// Like `attach`, and the stub will load `bytes` when the object is activated.
pub fn attach_loading<S: Persistent>(handle: &P<S>, bytes: Vec<u8>) -> Rc<StubDm> {
    let dm = StubDm::new(bytes);
    let jar = Jar::new(&dm);
    handle.as_object().p_set_oid(Some(Oid(1))).unwrap();
    handle.as_object().p_set_jar(Some(jar)).unwrap();
    dm
}
