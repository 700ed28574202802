//! Expansion: `derive` runs the steps (model, validation) and writes the generated code, all
//! inside `const _: () = { ... };` with absolute paths: the object type with its accessors
//! (`object`) and the `Persistent` impl (`persistent`). When the input has errors, they are
//! emitted with a stand-in `Persistent` impl (`fallback`) so that follow-on errors about the
//! missing impl do not bury them.

mod fallback;
mod object;
mod persistent;

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ast::Input;
use crate::errors::Errors;
use crate::valid;

/// The name of the generated object type, declared inside the `const _` block.
const OBJECT: &str = "__PersistentObject";

/// The whole expansion of `#[derive(Persistent)]` on `node`.
pub(crate) fn derive(node: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let input = Input::from_syn(node, &mut errors);
    if let Some(input) = &input {
        valid::check(input, &mut errors);
    }
    if let Err(error) = errors.finish() {
        let compile_errors = error.to_compile_error();
        let private = input.as_ref().map_or_else(|| crate::ast::private_path(None), Input::private);
        let fallback = fallback::expand(node, &private);
        return quote! {
            #compile_errors
            #fallback
        };
    }
    match input {
        Some(input) => expand(&input),
        None => TokenStream::new(),
    }
}

fn expand(input: &Input) -> TokenStream {
    let object = object::expand(input);
    let persistent = persistent::expand(input);
    quote! {
        const _: () = {
            #object
            #persistent
        };
    }
}
