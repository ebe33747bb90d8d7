//! Checks of the `#[instant::event]` options and of the function it is placed on.

use proc_macro2::Span;
use syn::spanned::Spanned as _;
use syn::{Expr, ExprLit, Lit, LitStr};

use instant_core::{Level, PRIVATE_PREFIX};

use super::parse::{EventArgs, EventOption};

/// The checked options.
pub(crate) struct Options {
    pub(crate) channel: Expr,
    pub(crate) class: Option<LitStr>,
    pub(crate) message: Option<LitStr>,
    pub(crate) data: Option<Expr>,
    pub(crate) wait: bool,
}

/// The options, or `None` with every mistake pushed to `errors`.
pub(crate) fn options(args: EventArgs, errors: &mut Vec<syn::Error>) -> Option<Options> {
    let before = errors.len();
    let misspelt_channel = args.misspelt_channel;
    errors.extend(args.errors);
    let mut channel = None;
    let mut class = None;
    let mut message = None;
    let mut data = None;
    let mut wait = None;
    for option in args.options {
        match option {
            EventOption::Channel(key, value) => {
                check_channel_literal(&value, errors);
                set_once(&mut channel, key.span, "channel", value, errors);
            }
            EventOption::Class(key, value) => {
                if let Some(literal) = string_literal(&value, "class", "object created", errors) {
                    set_once(&mut class, key.span, "class", literal, errors);
                }
            }
            EventOption::Message(key, value) => {
                if let Some(literal) = string_literal(&value, "message", "New order", errors) {
                    set_once(&mut message, key.span, "message", literal, errors);
                }
            }
            EventOption::Data(key, value) => set_once(&mut data, key.span, "data", value, errors),
            EventOption::Wait(key) => set_once(&mut wait, key.span, "wait", (), errors),
        }
    }
    if channel.is_none() && !misspelt_channel {
        errors.push(syn::Error::new(
            Span::call_site(),
            "missing `channel = …`: name the channel to publish on, such as `channel = ADMIN1` \
             (a constant declared with `channels!`)",
        ));
    }
    if errors.len() > before {
        return None;
    }
    Some(Options {
        channel: channel?,
        class,
        message,
        data,
        wait: wait.is_some(),
    })
}

/// Keeps the first value of an option; a repeat is reported at its key.
fn set_once<T>(
    slot: &mut Option<T>,
    key: Span,
    name: &str,
    value: T,
    errors: &mut Vec<syn::Error>,
) {
    if slot.is_some() {
        errors.push(syn::Error::new(
            key,
            format!("`{name}` is given more than once"),
        ));
    } else {
        *slot = Some(value);
    }
}

fn string_literal(
    value: &Expr,
    name: &str,
    example: &str,
    errors: &mut Vec<syn::Error>,
) -> Option<LitStr> {
    if let Expr::Lit(ExprLit {
        lit: Lit::Str(literal),
        ..
    }) = value
    {
        return Some(literal.clone());
    }
    errors.push(syn::Error::new(
        value.span(),
        format!("`{name}` must be a string literal, such as `{name} = \"{example}\"`"),
    ));
    None
}

/// A channel written as a string literal is checked like a declared one.
fn check_channel_literal(value: &Expr, errors: &mut Vec<syn::Error>) {
    if let Expr::Lit(ExprLit {
        lit: Lit::Str(literal),
        ..
    }) = value
    {
        let name = literal.value();
        let level = if name.starts_with(PRIVATE_PREFIX) {
            Level::Superuser
        } else {
            Level::Public
        };
        if let Err(error) = instant_core::validate_name(&name, level) {
            errors.push(syn::Error::new_spanned(literal, error.to_string()));
        }
    }
}

/// The handler must be an `async fn`, as actix-web handlers are.
pub(crate) fn function(function: &syn::ItemFn, errors: &mut Vec<syn::Error>) {
    if function.sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            function.sig.fn_token.span,
            "`#[instant::event]` needs an `async fn`: write `async fn` as for any actix-web handler",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;

    fn check(tokens: TokenStream) -> Result<Options, Vec<String>> {
        let mut errors = Vec::new();
        let args = syn::parse2(tokens).unwrap();
        options(args, &mut errors).ok_or_else(|| errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn accepts_the_documented_form() {
        let options =
            check(quote! { channel = ADMIN1, class = "object created", message = "m", wait })
                .ok()
                .unwrap();
        assert!(options.wait && options.data.is_none());
        assert_eq!(options.class.unwrap().value(), "object created");
    }

    #[test]
    fn reports_every_mistake() {
        let errors = check(quote! {
            class = CLASS, message = "a", message = "b", wait, wait, bogus = 1
        })
        .err()
        .unwrap();
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert!(errors[0].starts_with("unknown option `bogus`"));
        assert!(errors[1].starts_with("`class` must be a string literal"));
        assert_eq!(errors[2], "`message` is given more than once");
        assert_eq!(errors[3], "`wait` is given more than once");
        assert!(errors[4].starts_with("missing `channel = …`"));
    }

    #[test]
    fn checks_literal_channel_names() {
        let errors = check(quote! { channel = "has space" }).err().unwrap();
        assert!(errors[0].contains("whitespace"), "{errors:?}");
    }
}
