//! The impl `#[derive(TypedEvent)]` writes.
//!
//! ```text
//! const _: () = {
//!     impl TypedEvent for OrderShipped {
//!         const CLASS: &'static str = "…";
//!         const MESSAGE: &'static str = "…";
//!         fn channel() -> &'static str { AsRef::<str>::as_ref(ORDERS) }
//!     }
//! };
//! ```

use proc_macro2::TokenStream;
use quote::{ToTokens as _, quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned as _;

use super::validate::Options;

pub(crate) fn implement(input: &DeriveInput, options: &Options) -> TokenStream {
    let channel = &options.channel;
    // A wrong type (not a channel, not a string) is reported at the value.
    let channel = quote_spanned!(channel.span()=> ::core::convert::AsRef::<str>::as_ref(#channel));
    let literal = |value: &Option<syn::LitStr>| {
        value
            .as_ref()
            .map_or_else(|| quote!(""), |v| v.to_token_stream())
    };
    write_impl(
        input,
        &channel,
        &literal(&options.class),
        &literal(&options.message),
    )
}

/// An impl with no channel beside the errors, so that the code sending the type reports nothing
/// more.
pub(crate) fn fallback(input: &DeriveInput, error: Option<syn::Error>) -> TokenStream {
    let error = error.map(syn::Error::into_compile_error);
    let implementation = write_impl(input, &quote!(""), &quote!(""), &quote!(""));
    quote!(#error #implementation)
}

fn write_impl(
    input: &DeriveInput,
    channel: &TokenStream,
    class: &TokenStream,
    message: &TokenStream,
) -> TokenStream {
    let private = crate::facade::private_path();
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    // The `Serialize` requirement is reported at the type's name.
    let trait_path = quote_spanned!(ident.span()=> #private::TypedEvent);
    quote! {
        const _: () = {
            impl #impl_generics #trait_path for #ident #type_generics #where_clause {
                const CLASS: &'static str = #class;
                const MESSAGE: &'static str = #message;
                fn channel() -> &'static str {
                    #channel
                }
            }
        };
    }
}
