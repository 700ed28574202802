//! Snapshot tests of the expansion (insta): the generated code, formatted with prettyplease,
//! for the supported shapes and attributes, and the errors of a refused input.

use quote::quote;

fn expand(tokens: proc_macro2::TokenStream) -> String {
    let node: syn::DeriveInput = syn::parse2(tokens).expect("the test input parses");
    let expanded = crate::expand::derive(&node);
    let file: syn::File = syn::parse2(expanded).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

#[test]
fn plain() {
    insta::assert_snapshot!(expand(quote! {
        pub struct Account {
            pub owner: String,
            pub(crate) balance: i64,
            history: Vec<i64>,
        }
    }));
}

#[test]
fn volatile_fields() {
    insta::assert_snapshot!(expand(quote! {
        pub struct Thing {
            pub x: i64,
            pub name: String,
            pub _v_cache: u32,
            #[persistent(volatile)]
            pub scratch: Vec<u8>,
        }
    }));
}

#[test]
fn only_volatile_fields() {
    insta::assert_snapshot!(expand(quote! {
        struct Scratch {
            _v_hits: u64,
        }
    }));
}

#[test]
fn stable_name() {
    insta::assert_snapshot!(expand(quote! {
        #[persistent(name = "bank::Account")]
        pub struct Account {
            pub balance: i64,
        }
    }));
}

#[test]
fn repr_hook() {
    insta::assert_snapshot!(expand(quote! {
        #[persistent(repr = crate::reprs::account)]
        pub struct Account {
            pub balance: i64,
        }
    }));
}

#[test]
fn repr_hook_as_string() {
    insta::assert_snapshot!(expand(quote! {
        #[persistent(repr = "self::show")]
        pub struct Account {
            pub balance: i64,
        }
    }));
}

#[test]
fn no_getter() {
    insta::assert_snapshot!(expand(quote! {
        pub struct Holder {
            #[persistent(no_getter)]
            pub cell: std::cell::RefCell<i64>,
            pub r#type: u8,
        }
    }));
}

#[test]
fn errors_are_accumulated() {
    insta::assert_snapshot!(expand(quote! {
        #[persistent(name = 3, colour = "red", name = "x")]
        pub struct Bad {
            #[serde(flatten)]
            pub inner: Inner,
            #[persistent(volatile, sticky)]
            pub p_oid: u64,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub maybe: Option<u8>,
        }
    }));
}
