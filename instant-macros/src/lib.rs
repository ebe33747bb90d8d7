//! Implementation detail of the `instant` crate; use the macros through `instant`, where they
//! are documented: `instant::channels!`, `#[instant::event]` and
//! `#[derive(instant::publishing::TypedEvent)]`.

mod channels;
mod errors;
mod event;
mod facade;
mod options;
mod suggest;
mod typed;

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

/// Makes a serde type a typed event. Documented on `instant::publishing::TypedEvent`.
#[proc_macro_derive(TypedEvent, attributes(instant))]
pub fn typed_event(input: TokenStream) -> TokenStream {
    typed::expand(input.into()).into()
}
