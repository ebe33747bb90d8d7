//! Checks of the `#[derive(TypedEvent)]` options.

use proc_macro2::Span;
use syn::{DeriveInput, Expr, ExprLit, Lit, LitStr};

use crate::options::{check_channel_literal, set_once, string_literal};

use super::parse::{TypedArgs, TypedOption};

/// The checked options.
pub(crate) struct Options {
    /// A path (a constant from `channels!`) or a string literal.
    pub(crate) channel: Expr,
    pub(crate) class: Option<LitStr>,
    pub(crate) message: Option<LitStr>,
}

/// The options, or `None` with every mistake pushed to `errors`.
pub(crate) fn options(
    args: Option<TypedArgs>,
    input: &DeriveInput,
    errors: &mut Vec<syn::Error>,
) -> Option<Options> {
    let before = errors.len();
    let Some(args) = args else {
        errors.push(syn::Error::new(
            input.ident.span(),
            "`#[derive(TypedEvent)]` needs `#[instant(channel = …)]` on the type: the channel to \
             publish on, such as `#[instant(channel = ORDERS, class = \"object created\", \
             message = \"New order\")]`",
        ));
        return None;
    };
    errors.extend(args.errors);
    let mut channel = None;
    let mut class = None;
    let mut message = None;
    for option in args.options {
        match option {
            TypedOption::Channel(key, value) => {
                if check_channel(&value, errors) {
                    set_once(&mut channel, key.span, "channel", value, errors);
                }
            }
            TypedOption::Class(key, value) => {
                if let Some(literal) = string_literal(&value, "class", "object created", errors) {
                    set_once(&mut class, key.span, "class", literal, errors);
                }
            }
            TypedOption::Message(key, value) => {
                if let Some(literal) = string_literal(&value, "message", "New order", errors) {
                    set_once(&mut message, key.span, "message", literal, errors);
                }
            }
        }
    }
    // After a syntax error the channel may well be in the part that was not read.
    if channel.is_none() && errors.is_empty() {
        errors.push(syn::Error::new(
            Span::call_site(),
            "missing `channel = …` in `#[instant(…)]`: name the channel to publish on, such as \
             `channel = ORDERS` (a constant declared with `channels!`)",
        ));
    }
    if errors.len() > before {
        return None;
    }
    Some(Options {
        channel: channel?,
        class,
        message,
    })
}

/// The channel is a path (a constant from `channels!`) or a valid string literal.
fn check_channel(value: &Expr, errors: &mut Vec<syn::Error>) -> bool {
    match value {
        Expr::Path(_) => true,
        Expr::Lit(ExprLit {
            lit: Lit::Str(literal),
            ..
        }) => check_channel_literal(literal, errors),
        _ => {
            errors.push(syn::Error::new_spanned(
                value,
                "`channel` must be a channel constant declared with `channels!` (`channel = \
                 ORDERS`) or a string literal (`channel = \"$orders\"`)",
            ));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn check(attrs: &proc_macro2::TokenStream) -> Result<Options, Vec<String>> {
        let input: DeriveInput = syn::parse2(quote! { #attrs struct Shipped { id: u64 } }).unwrap();
        let mut errors = Vec::new();
        let args = super::super::parse::attributes(&input.attrs, &mut errors);
        options(args, &input, &mut errors)
            .ok_or_else(|| errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn accepts_the_documented_form() {
        let options =
            check(&quote! { #[instant(channel = ORDERS, class = "ok", message = "Shipped")] })
                .ok()
                .unwrap();
        assert_eq!(options.class.unwrap().value(), "ok");
        assert!(check(&quote! { #[instant(channel = "$orders")] }).is_ok());
    }

    #[test]
    fn reports_every_mistake() {
        let errors = check(&quote! {
            #[instant(channel = 1 + 2, class = CLASS, message = "a")]
            #[instant(message = "b", channel = "has space")]
        })
        .err()
        .unwrap();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].starts_with("`channel` must be a channel constant"));
        assert!(errors[1].starts_with("`class` must be a string literal"));
        assert_eq!(errors[2], "`message` is given more than once");
        assert!(errors[3].contains("whitespace"), "{errors:?}");
    }

    #[test]
    fn the_attribute_and_the_channel_are_required() {
        let errors = check(&quote! {}).err().unwrap();
        assert!(errors[0].starts_with("`#[derive(TypedEvent)]` needs `#[instant(channel = …)]`"));
        let errors = check(&quote! { #[instant(class = "ok")] }).err().unwrap();
        assert!(errors[0].starts_with("missing `channel = …`"), "{errors:?}");
    }
}
