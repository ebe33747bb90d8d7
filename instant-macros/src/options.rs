//! Checks shared by the options of `#[instant::event]` and `#[derive(TypedEvent)]`.

use proc_macro2::Span;
use syn::spanned::Spanned as _;
use syn::{Expr, ExprLit, Lit, LitStr};

use instant_core::{Level, PRIVATE_PREFIX};

/// Keeps the first value of an option; a repeat is reported at its key.
pub(crate) fn set_once<T>(
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

/// The option's value as a string literal, else an error at the value showing `example`.
pub(crate) fn string_literal(
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

/// A channel written as a string literal is checked like a declared one, by the rules of its
/// prefix; `false` (with the error at the literal) when it breaks them.
pub(crate) fn check_channel_literal(literal: &LitStr, errors: &mut Vec<syn::Error>) -> bool {
    let name = literal.value();
    let level = if name.starts_with(PRIVATE_PREFIX) {
        Level::Superuser
    } else {
        Level::Public
    };
    match instant_core::validate_name(&name, level) {
        Ok(()) => true,
        Err(error) => {
            errors.push(syn::Error::new_spanned(literal, error.to_string()));
            false
        }
    }
}
