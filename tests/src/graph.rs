//! Hand-written persistent types that hold references, for the database tests: `Node` (a
//! labelled value with child nodes and item references) and `Other` (a type that is never
//! stored under the oids the tests ask it for, to provoke type mismatches).

use persistent::codec::{decode_field, encode_field, finish_decode};
use persistent::{PObject, Persistent, Result, P};

use crate::Item;

/// A labelled value referring to other nodes and to items: references are stored as oids.
#[derive(Clone, Debug, Default)]
pub struct Node {
    /// A name for messages.
    pub label: String,
    /// A number (a counter, a sequence number).
    pub value: i64,
    /// Child nodes.
    pub children: Vec<P<Node>>,
    /// Referenced items.
    pub items: Vec<P<Item>>,
}

impl Persistent for Node {
    type Object = PObject<Node>;
    const TYPE_NAME: &'static str = "persistent_tests::Node";

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.label, out)?;
        encode_field(Self::TYPE_NAME, &self.value, out)?;
        encode_field(Self::TYPE_NAME, &self.children, out)?;
        encode_field(Self::TYPE_NAME, &self.items, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let mut input = bytes;
        let label = decode_field(Self::TYPE_NAME, &mut input)?;
        let value = decode_field(Self::TYPE_NAME, &mut input)?;
        let children = decode_field(Self::TYPE_NAME, &mut input)?;
        let items = decode_field(Self::TYPE_NAME, &mut input)?;
        finish_decode(Self::TYPE_NAME, input)?;
        Ok(Node { label, value, children, items })
    }
}

impl Node {
    /// A node with a label and a value, no references.
    #[must_use]
    pub fn new(label: &str, value: i64) -> Node {
        Node { label: label.to_string(), value, ..Node::default() }
    }
}

/// A one-field type, used to ask for an oid that holds something else.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Other {
    /// Some text.
    pub text: String,
}

impl Persistent for Other {
    type Object = PObject<Other>;
    const TYPE_NAME: &'static str = "persistent_tests::Other";

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.text, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let mut input = bytes;
        let text = decode_field(Self::TYPE_NAME, &mut input)?;
        finish_decode(Self::TYPE_NAME, input)?;
        Ok(Other { text })
    }
}
