//! Test support shared by the collection tests: a stub data manager that counts `register`
//! calls (and can refuse them) and loads a known state, and helpers that attach an object
//! to it so it starts UpToDate with no registration.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use persistent_core::prelude::*;
use persistent_core::{AnyObject, Error, Result};

/// Counts registrations and loads; `setstate` sets `load_bytes` as the object's state.
#[derive(Default)]
pub struct Stub {
    pub registered: Cell<usize>,
    pub loads: Cell<usize>,
    pub fail_register: Cell<bool>,
    pub fail_load: Cell<bool>,
    pub load_bytes: RefCell<Vec<u8>>,
}

impl DataManager for Stub {
    fn setstate(&self, obj: &dyn AnyObject) -> Result<()> {
        self.loads.set(self.loads.get() + 1);
        if self.fail_load.get() {
            return Err(Error::Custom("stub: load refused".into()));
        }
        obj.p_setstate(&self.load_bytes.borrow())
    }

    fn register(&self, _obj: &dyn AnyObject) -> Result<()> {
        if self.fail_register.get() {
            return Err(Error::Custom("stub: register refused".into()));
        }
        self.registered.set(self.registered.get() + 1);
        Ok(())
    }

    fn name(&self) -> String {
        "Stub".into()
    }
}

/// Gives `handle` oid 1 and a jar on a new stub: a new object so becomes saved (UpToDate),
/// an uninitialized one a ghost. Keep the returned stub alive while the object is used.
pub fn attach<S: Persistent>(handle: &P<S>) -> Rc<Stub> {
    let dm = Rc::new(Stub::default());
    let jar = Jar::new(&dm);
    handle.as_object().p_set_oid(Some(Oid(1))).unwrap();
    handle.as_object().p_set_jar(Some(jar)).unwrap();
    dm
}

/// Like `attach`, and the stub will load `bytes` when the object is activated.
pub fn attach_loading<S: Persistent>(handle: &P<S>, bytes: Vec<u8>) -> Rc<Stub> {
    let dm = attach(handle);
    *dm.load_bytes.borrow_mut() = bytes;
    dm
}
