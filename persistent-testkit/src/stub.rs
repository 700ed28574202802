//! `StubDm`: a data manager for tests that loads a fixed state, counts `setstate` and
//! `register` calls (all calls, and separately the registrations that succeeded) and fails
//! either on demand. No storage, no cache policy: what a test of the object protocol needs
//! and nothing more.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use persistent_core::{AnyObject, Cache, DataManager, Error, Jar, Persistent, Result};

/// A data manager for tests: `setstate` applies `state` (encoded bytes), `register` counts.
///
/// The failure messages are `"setstate failed on purpose"` and `"register failed on
/// purpose"` (as [`Error::Custom`]); tests may match them.
pub struct StubDm {
    /// How many times `register` was called (failed calls included).
    pub registered: Cell<usize>,
    /// How many `register` calls succeeded: `registered` minus the calls refused because
    /// `fail_register` was set. This is the count a transaction would have joined.
    pub accepted: Cell<usize>,
    /// How many times `setstate` was called (failed calls included).
    pub loads: Cell<usize>,
    /// When set, `register` fails.
    pub fail_register: Cell<bool>,
    /// When set, `setstate` fails.
    pub fail_setstate: Cell<bool>,
    /// The bytes `setstate` applies.
    pub state: RefCell<Vec<u8>>,
}

impl StubDm {
    /// A stub whose `setstate` applies `state`.
    #[must_use]
    pub fn new(state: Vec<u8>) -> Rc<StubDm> {
        Rc::new(StubDm {
            registered: Cell::new(0),
            accepted: Cell::new(0),
            loads: Cell::new(0),
            fail_register: Cell::new(false),
            fail_setstate: Cell::new(false),
            state: RefCell::new(state),
        })
    }

    /// A stub whose `setstate` applies the encoded `value`.
    ///
    /// # Panics
    ///
    /// If `value` fails to encode.
    pub fn loading<T: Persistent>(value: &T) -> Rc<StubDm> {
        let mut bytes = Vec::new();
        value.encode_state(&mut bytes).expect("test state encodes");
        StubDm::new(bytes)
    }

    /// A stub, its jar and a cache for that jar.
    ///
    /// # Panics
    ///
    /// If `value` fails to encode.
    pub fn with_cache<T: Persistent>(value: &T) -> (Rc<StubDm>, Jar, Cache) {
        let dm = StubDm::loading(value);
        let jar = Jar::new(&dm);
        let cache = Cache::new(&jar).expect("a new jar has no cache");
        (dm, jar, cache)
    }
}

impl DataManager for StubDm {
    fn setstate(&self, obj: &dyn AnyObject) -> Result<()> {
        self.loads.set(self.loads.get() + 1);
        if self.fail_setstate.get() {
            return Err(Error::Custom("setstate failed on purpose".into()));
        }
        obj.p_setstate(&self.state.borrow())
    }

    fn register(&self, _obj: &dyn AnyObject) -> Result<()> {
        self.registered.set(self.registered.get() + 1);
        if self.fail_register.get() {
            return Err(Error::Custom("register failed on purpose".into()));
        }
        self.accepted.set(self.accepted.get() + 1);
        Ok(())
    }

    fn name(&self) -> String {
        "StubDm".into()
    }
}
