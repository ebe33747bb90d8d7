//! `#[instant::event]`: publish an event after an actix-web handler succeeds.
//!
//! Parsing ([`parse`]) reads the options and reports each unknown one while reading on;
//! validation ([`validate`]) checks repeats, required options, literal types and the function;
//! expansion ([`expand`]) wraps the body, and on error still emits the handler (as an
//! `async fn`) so the route macro below it reports nothing more.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let mut output = syn::Error::new(
                proc_macro2::Span::call_site(),
                "`#[instant::event]` goes on an `async fn` actix-web handler",
            )
            .into_compile_error();
            output.extend(item);
            return output;
        }
    };
    let mut errors = Vec::new();
    let options = match syn::parse2::<parse::EventArgs>(args) {
        Ok(args) => validate::options(args, &mut errors),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    validate::function(&function, &mut errors);
    match (options, crate::errors::combine(errors)) {
        (Some(options), None) => expand::instrument(function, &options),
        (_, error) => expand::fallback(function, error),
    }
}
