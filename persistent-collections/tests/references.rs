//! Collections holding persistent references: a `PersistentList<P<Account>>` stores the
//! accounts' oids (not copies) and decodes back to the same handles; collections nest as
//! references inside each other and inside hand-written persistent structs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use persistent_collections::{PersistentList, PersistentMapping};
use persistent_core::codec::{decode_field, encode_field, finish_decode};
use persistent_core::codec::{with_context, ReferenceContext};
use persistent_core::prelude::*;
use persistent_core::{Cache, Error, ObjectRef, PObject, Result};
use persistent_testkit::StubDm;

#[derive(Debug)]
struct Account {
    balance: i64,
}

impl Persistent for Account {
    type Object = PObject<Account>;
    const TYPE_NAME: &'static str = "references::Account";

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.balance, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let mut input = bytes;
        let balance = decode_field(Self::TYPE_NAME, &mut input)?;
        finish_decode(Self::TYPE_NAME, input)?;
        Ok(Account { balance })
    }
}

/// A persistent struct with a collection field, stored as a reference.
struct Ledger {
    entries: PersistentList<i64>,
}

impl Persistent for Ledger {
    type Object = PObject<Ledger>;
    const TYPE_NAME: &'static str = "references::Ledger";

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.entries, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let mut input = bytes;
        let entries = decode_field(Self::TYPE_NAME, &mut input)?;
        finish_decode(Self::TYPE_NAME, input)?;
        Ok(Ledger { entries })
    }
}

/// Maps objects to their oids (objects must have one) and remembers them, so that
/// decoding finds the same handles; unknown oids become ghosts of `cache`.
struct TestContext {
    known: RefCell<HashMap<Oid, ObjectRef>>,
    cache: Cache,
}

impl TestContext {
    fn new() -> (Rc<TestContext>, Rc<StubDm>) {
        let dm = StubDm::new(Vec::new());
        let cache = Cache::new(&Jar::new(&dm)).unwrap();
        let context = TestContext { known: RefCell::new(HashMap::new()), cache };
        (Rc::new(context), dm)
    }
}

impl ReferenceContext for TestContext {
    fn encode_reference(&self, obj: &ObjectRef) -> Result<Oid> {
        let oid = obj.p_oid().ok_or(Error::ForeignObject { oid: None })?;
        self.known.borrow_mut().insert(oid, obj.clone());
        Ok(oid)
    }

    fn lookup(&self, oid: Oid) -> Option<ObjectRef> {
        self.known.borrow().get(&oid).cloned()
    }

    fn adopt_ghost(&self, oid: Oid, obj: &ObjectRef) -> Result<()> {
        self.cache.new_ghost(oid, obj.clone())
    }
}

fn account(oid: u64, balance: i64) -> P<Account> {
    let p = P::new(Account { balance });
    p.p_set_oid(Some(Oid(oid))).unwrap();
    p
}

#[test]
fn list_of_references_round_trips_to_the_same_handles() {
    let (context, _dm) = TestContext::new();
    let accounts = [account(10, 5), account(11, 7)];
    let list = PersistentList::from(accounts.to_vec());
    let bytes = with_context(context.clone(), || list.p_getstate()).unwrap();
    assert_eq!(bytes, [2, 10, 11], "two references, stored as their oids");
    let decoded = PersistentList::<P<Account>>::new();
    with_context(context, || decoded.p_setstate(&bytes)).unwrap();
    let guard = decoded.read().unwrap();
    assert!(P::ptr_eq(&guard[0], &accounts[0]));
    assert!(P::ptr_eq(&guard[1], &accounts[1]));
    assert_eq!(guard[1].with(|a| a.balance).unwrap(), 7);
}

#[test]
fn unknown_references_come_back_as_ghosts() {
    let (context, _dm) = TestContext::new();
    let list = PersistentList::<P<Account>>::new();
    with_context(context.clone(), || list.p_setstate(&[1, 42])).unwrap();
    let ghost = list.get(0).unwrap().unwrap();
    assert_eq!(ghost.p_oid(), Some(Oid(42)));
    assert_eq!(ghost.p_state(), PState::Ghost);
    assert!(context.cache.contains(Oid(42)));
}

#[test]
fn references_need_a_context() {
    let list = PersistentList::from(vec![account(1, 0)]);
    assert!(matches!(list.p_getstate(), Err(Error::NoCodecContext)));
}

#[test]
fn collections_nest_as_references() {
    let (context, _dm) = TestContext::new();
    let inner = PersistentMapping::from([("k".to_string(), 1)]);
    inner.p_set_oid(Some(Oid(20))).unwrap();
    let outer = PersistentList::from(vec![inner]);
    let bytes = with_context(context.clone(), || outer.p_getstate()).unwrap();
    assert_eq!(bytes, [1, 20]);
    let decoded = PersistentList::<PersistentMapping<String, i32>>::new();
    with_context(context, || decoded.p_setstate(&bytes)).unwrap();
    let original = outer.read().unwrap();
    let back = decoded.read().unwrap();
    assert!(P::ptr_eq(back[0].handle(), original[0].handle()));
}

#[test]
fn collection_as_a_field_of_a_persistent_struct() {
    let (context, _dm) = TestContext::new();
    let entries = PersistentList::from([1, 2]);
    entries.p_set_oid(Some(Oid(30))).unwrap();
    let ledger = P::new(Ledger { entries });
    let bytes = with_context(context.clone(), || ledger.p_getstate()).unwrap();
    assert_eq!(bytes, [30]);
    let copy = P::new(Ledger { entries: PersistentList::new() });
    with_context(context, || copy.p_setstate(&bytes)).unwrap();
    let same = copy.with(|l| l.entries.handle().clone()).unwrap();
    assert_eq!(*PersistentList::from_handle(same).read().unwrap(), [1, 2]);
}

#[test]
fn erased_handle_is_the_same_object() {
    let list = PersistentList::from([1]);
    let erased: ObjectRef = list.erase();
    assert_eq!(erased.type_name(), "persistent::PersistentList<i32>");
    let back = erased.downcast::<persistent_collections::ListState<i32>>().unwrap();
    assert!(P::ptr_eq(&back, list.handle()));
    let map = PersistentMapping::<u8, u8>::new();
    let erased = ObjectRef::from(map);
    assert_eq!(erased.type_name(), "persistent::PersistentMapping<u8, u8>");
}
