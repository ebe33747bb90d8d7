//! `channels!`: channel declarations checked at compile time.
//!
//! Parsing ([`parse`]) keeps every token for spans and recovers from the mistakes it can step
//! over; validation ([`validate`]) applies `instant-core`'s naming rules; expansion ([`expand`])
//! writes the `ChannelSet`, and on error still writes the item's shape so uses of it do not
//! produce secondary errors.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<parse::ChannelsInput>(input.clone()) {
        Ok(parsed) => {
            let errors = validate::validate(&parsed);
            expand::expand(&parsed, errors)
        }
        Err(error) => expand::fallback(&parse::Shape::scan(input), &error),
    }
}
