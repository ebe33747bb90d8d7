//! `#[derive(TypedEvent)]`: a serde type published as an event on its channel, with its class
//! and message.
//!
//! Parsing ([`parse`]) reads the `#[instant(…)]` attributes and reports each unknown option
//! while reading on; validation ([`validate`]) checks repeats, the required channel, literal
//! types and literal channel names; expansion ([`expand`]) writes the `TypedEvent` impl, and on
//! error still writes one (with no channel) so the places that send the type report nothing
//! more.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let mut errors = Vec::new();
    let args = parse::attributes(&input.attrs, &mut errors);
    let options = validate::options(args, &input, &mut errors);
    match (options, crate::errors::combine(errors)) {
        (Some(options), None) => expand::implement(&input, &options),
        (_, error) => expand::fallback(&input, error),
    }
}
