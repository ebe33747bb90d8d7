//! The code `channels!` writes.
//!
//! Slices are named `const`s inside a block: a temporary with a destructor that is passed to a
//! `const fn` is not promoted to `'static` in a `static`'s initializer, a named const is.

use std::collections::HashSet;

use instant_core::Level;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::parse::{ChannelsInput, Declaration, Header, ItemKind, Shape};
use crate::errors::combine;

pub(crate) fn expand(input: &ChannelsInput, errors: Vec<syn::Error>) -> TokenStream {
    let compile_errors = combine(errors).map(|error| error.into_compile_error());
    let private = crate::facade::private_path();
    let valid = compile_errors.is_none();

    // Each channel either by its constant's name or by value.
    let values = input.declarations.iter().map(channel_value);
    let set = if valid {
        quote! {{
            const __INSTANT_CHANNELS: &[#private::Channel] = &[#(#values),*];
            #private::ChannelSet::from_static_unchecked(__INSTANT_CHANNELS)
        }}
    } else {
        quote!(#private::ChannelSet::empty())
    };

    match &input.header {
        None => quote! {{
            #compile_errors
            #set
        }},
        Some(header) => {
            // A repeated name is reported by validation; declaring it once avoids rustc's E0428.
            let mut named = HashSet::new();
            let constants = input
                .declarations
                .iter()
                .filter(|declaration| {
                    declaration
                        .alias
                        .as_ref()
                        .is_some_and(|alias| named.insert(alias.to_string()))
                })
                .map(|declaration| named_constant(header, declaration));
            let Header {
                attrs,
                vis,
                kind,
                ident,
            } = header;
            let kind = item_keyword(*kind);
            quote! {
                #compile_errors
                #(#attrs)*
                #vis #kind #ident: #private::ChannelSet = #set;
                #(#constants)*
            }
        }
    }
}

/// `pub const ADMIN1: &Channel = &…;`, documented unless the declaration carries its own docs.
///
/// A reference, so that `ADMIN1.name()` is a `&'static str`.
fn named_constant(header: &Header, declaration: &Declaration) -> TokenStream {
    let private = crate::facade::private_path();
    let vis = &header.vis;
    let attrs = &declaration.attrs;
    let alias = &declaration.alias;
    let value = channel_value(declaration);
    let doc = (!attrs.iter().any(|attr| attr.path().is_ident("doc"))).then(|| {
        let level = declaration.level.map_or("", |(level, _)| level.as_str());
        let name = declaration.name.value();
        let doc = if name.contains('{') {
            format!(
                "The {level} channel pattern `{name}`: `{alias}.with(…)` makes its channels.",
                alias = declaration
                    .alias
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )
        } else {
            format!("The {level} channel `{name}`.")
        };
        quote!(#[doc = #doc])
    });
    quote! {
        #doc
        #(#attrs)*
        #vis const #alias: &#private::Channel = &#value;
    }
}

/// `Channel::from_static_unchecked(…)` for one declaration, its paths in a named const.
fn channel_value(declaration: &Declaration) -> TokenStream {
    let private = crate::facade::private_path();
    let name = &declaration.name;
    let level = format_ident!(
        "{}",
        match declaration.level.map_or(Level::Public, |(level, _)| level) {
            Level::Superuser => "Superuser",
            Level::Staff => "Staff",
            Level::Users => "Users",
            _ => "Public",
        }
    );
    let paths = declaration.at.iter().flat_map(|list| &list.paths);
    quote! {{
        const __INSTANT_PATHS: &[#private::Cow<'static, str>] =
            &[#(#private::Cow::Borrowed(#paths)),*];
        #private::Channel::from_static_unchecked(#name, #private::Level::#level, __INSTANT_PATHS)
    }}
}

fn item_keyword(kind: ItemKind) -> TokenStream {
    match kind {
        ItemKind::Static(token) => quote!(#token),
        ItemKind::Const(token) => quote!(#token),
    }
}

/// The item's shape with the error, for input that did not parse: an empty set under the
/// declared name and placeholder constants, so that code using them reports nothing more.
pub(crate) fn fallback(shape: &Shape, error: &syn::Error) -> TokenStream {
    let private = crate::facade::private_path();
    let compile_error = error.to_compile_error();
    match &shape.header {
        None => quote! {{
            #compile_error
            #private::ChannelSet::empty()
        }},
        Some(Header {
            attrs,
            vis,
            kind,
            ident,
        }) => {
            let kind = item_keyword(*kind);
            let mut named = HashSet::new();
            let constants = shape
                .aliases
                .iter()
                .filter(|alias| named.insert(alias.to_string()))
                .map(|alias| {
                    quote! {
                        #[doc(hidden)]
                        #vis const #alias: &#private::Channel = &#private::Channel::from_static_unchecked(
                            "", #private::Level::Public, &[],
                        );
                    }
                });
            quote! {
                #compile_error
                #(#attrs)*
                #vis #kind #ident: #private::ChannelSet = #private::ChannelSet::empty();
                #(#constants)*
            }
        }
    }
}
