//! The data-manager side of an object: the `DataManager` trait (setstate, register,
//! oldstate) and `Jar`, the shared link from objects to their data manager and its cache.

use std::cell::OnceCell;
use std::fmt;
use std::rc::{Rc, Weak};

use crate::any_object::AnyObject;
use crate::cache::CacheShared;
use crate::error::{Error, Result};
use crate::timestamp::Tid;

/// What an object asks of the data manager that owns it (Python's `IPersistentDataManager`).
///
/// Implement it to back objects with your own store; `Connection` is the implementation this
/// crate ships. A data manager is held weakly by its objects: keep it alive (in an `Rc`) as
/// long as its objects are used.
pub trait DataManager: 'static {
    /// Loads the state of a ghost: call `obj.p_setstate(bytes)` (or set a typed value through
    /// `downcast_ref`). While this runs the object counts as Changed, so writes made here do
    /// not register it. An error leaves the object a ghost.
    ///
    /// # Errors
    ///
    /// Whatever keeps the state from loading; the object then stays a ghost.
    fn setstate(&self, obj: &dyn AnyObject) -> Result<()>;

    /// Called once when an object first changes (`UpToDate`, Sticky or Ghost to Changed). An
    /// error cancels the change: the object's state and data stay as they were.
    ///
    /// # Errors
    ///
    /// Whatever refuses the change; the object is then left as it was.
    fn register(&self, obj: &dyn AnyObject) -> Result<()>;

    /// The state the transaction `tid` wrote for `obj` (history). The default reports that
    /// this data manager keeps no history.
    ///
    /// # Errors
    ///
    /// The default: `Error::Custom` (no history kept).
    fn oldstate(&self, obj: &dyn AnyObject, tid: Tid) -> Result<Vec<u8>> {
        let _ = (obj, tid);
        Err(Error::Custom("this data manager keeps no history".into()))
    }

    /// A short name shown in object representations (`in <name at 0x...>`).
    fn name(&self) -> String {
        "DataManager".into()
    }
}

/// An object's link to its data manager (Python's `_p_jar`), shared by all objects of that
/// data manager. Two jars are equal when they are the same link.
#[derive(Clone)]
pub struct Jar(pub(crate) Rc<JarInner>);

pub(crate) struct JarInner {
    pub(crate) dm: Weak<dyn DataManager>,
    /// The jar's cache. Held strongly so that touching needs no upgrade; the cycle through
    /// the cached objects is broken when the `Cache` owner is dropped (it empties itself).
    pub(crate) cache: OnceCell<Rc<CacheShared>>,
    /// The database the data manager reads, when it is a `Connection` (its
    /// `Database::id`): two jars of one database name the same object by the same oid.
    /// `None` for other data managers, whose jar is its own database.
    pub(crate) database: Option<u64>,
}

/// Where an oid names an object: a database (shared by its connections) or, for a data
/// manager that is not a connection, its jar (compared by address; the jar is kept alive
/// by whoever holds the `Home`'s source). Weak references compare by oid and home.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Home {
    /// A `Database`, by its process-unique id.
    Database(u64),
    /// A jar, by its address.
    Jar(usize),
}

impl Jar {
    /// A jar for `dm`. The jar holds the data manager weakly.
    pub fn new<D: DataManager>(dm: &Rc<D>) -> Jar {
        let weak: Weak<D> = Rc::downgrade(dm);
        Jar(Rc::new(JarInner { dm: weak, cache: OnceCell::new(), database: None }))
    }

    /// Where this jar's oids name objects (see [`Home`]).
    pub(crate) fn home(&self) -> Home {
        match self.0.database {
            Some(id) => Home::Database(id),
            None => Home::Jar(Rc::as_ptr(&self.0).cast::<u8>() as usize),
        }
    }

    /// The data manager, or `Error::ConnectionClosed` when it no longer exists.
    ///
    /// # Errors
    ///
    /// `Error::ConnectionClosed` when the data manager no longer exists.
    pub fn data_manager(&self) -> Result<Rc<dyn DataManager>> {
        self.0.dm.upgrade().ok_or(Error::ConnectionClosed)
    }

    /// Whether both are the same jar.
    #[must_use]
    pub fn ptr_eq(&self, other: &Jar) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    #[inline]
    pub(crate) fn cache(&self) -> Option<&Rc<CacheShared>> {
        self.0.cache.get()
    }
}

impl PartialEq for Jar {
    fn eq(&self, other: &Jar) -> bool {
        self.ptr_eq(other)
    }
}

impl Eq for Jar {}

impl fmt::Debug for Jar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0.dm.upgrade() {
            Some(dm) => dm.name(),
            None => "closed data manager".into(),
        };
        write!(f, "<{name} at {:#x}>", Rc::as_ptr(&self.0).cast::<u8>() as usize)
    }
}
