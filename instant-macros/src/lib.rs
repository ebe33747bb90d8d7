//! Implementation detail of the `instant` crate; use the macros through `instant`, where they
//! are documented: `instant::channels!` and `#[instant::event]`.

mod channels;
mod errors;
mod event;
mod facade;
mod suggest;

use proc_macro::TokenStream;

/// Declares channels checked at compile time. Documented on `instant::channels!`.
#[proc_macro]
pub fn channels(input: TokenStream) -> TokenStream {
    channels::expand(input.into()).into()
}

/// Publishes an event after an actix-web handler succeeds. Documented on `instant::event`.
#[proc_macro_attribute]
pub fn event(args: TokenStream, item: TokenStream) -> TokenStream {
    event::expand(args.into(), item.into()).into()
}
