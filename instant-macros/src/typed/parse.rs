//! The `#[instant(…)]` attributes of `#[derive(TypedEvent)]`.

use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Expr, Ident, Token};

use crate::suggest;

pub(crate) mod kw {
    syn::custom_keyword!(channel);
    syn::custom_keyword!(class);
    syn::custom_keyword!(message);
}

/// The option names, in the order of the "expected one of" messages.
pub(crate) const OPTION_NAMES: &[&str] = &["channel", "class", "message"];

/// The options of one `#[instant(…)]` attribute.
///
/// ```text
/// args   := option ( "," option )* ","?
/// option := "channel" "=" EXPR       // a channel constant from `channels!`, or a string literal
///         | "class"   "=" LIT_STR    // the event class, such as "object created"
///         | "message" "=" LIT_STR    // the human-readable message
/// ```
pub(crate) struct TypedArgs {
    pub(crate) options: Vec<TypedOption>,
    /// Unknown options, reported while the rest is read.
    pub(crate) errors: Vec<syn::Error>,
}

/// One option with its key token, kept for spans.
pub(crate) enum TypedOption {
    /// Checked to be a path or a string literal by validation.
    Channel(kw::channel, Expr),
    /// Checked to be a string literal by validation, so the error points at the value.
    Class(kw::class, Expr),
    Message(kw::message, Expr),
}

impl Parse for TypedArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = Vec::new();
        let mut errors = Vec::new();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::channel) {
                let key = input.parse()?;
                options.push(TypedOption::Channel(key, value(input)?));
            } else if lookahead.peek(kw::class) {
                let key = input.parse()?;
                options.push(TypedOption::Class(key, value(input)?));
            } else if lookahead.peek(kw::message) {
                let key = input.parse()?;
                options.push(TypedOption::Message(key, value(input)?));
            } else if input.peek(Ident::peek_any) {
                let key = input.call(Ident::parse_any)?;
                errors.push(unknown_option(&key));
                if input.peek(Token![=]) {
                    value(input)?;
                }
            } else {
                return Err(lookahead.error());
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(Self { options, errors })
    }
}

/// The `#[instant(…)]` attributes of the type, merged; `None` when there is none (a syntax error
/// is pushed to `errors` and its attribute skipped).
pub(crate) fn attributes(attrs: &[Attribute], errors: &mut Vec<syn::Error>) -> Option<TypedArgs> {
    let mut merged: Option<TypedArgs> = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("instant")) {
        match attr.parse_args::<TypedArgs>() {
            Ok(args) => {
                let all = merged.get_or_insert_with(|| TypedArgs {
                    options: Vec::new(),
                    errors: Vec::new(),
                });
                all.options.extend(args.options);
                all.errors.extend(args.errors);
            }
            Err(error) => {
                errors.push(error);
                merged.get_or_insert_with(|| TypedArgs {
                    options: Vec::new(),
                    errors: Vec::new(),
                });
            }
        }
    }
    merged
}

/// `= EXPR`
fn value(input: ParseStream<'_>) -> syn::Result<Expr> {
    input.parse::<Token![=]>()?;
    input.parse()
}

fn unknown_option(key: &Ident) -> syn::Error {
    let key_text = key.unraw().to_string();
    let message = match suggest::closest(&key_text, OPTION_NAMES) {
        Some(option) => format!("unknown option `{key_text}`: did you mean `{option}`?"),
        None => {
            format!("unknown option `{key_text}`: expected one of `channel`, `class`, `message`")
        }
    };
    syn::Error::new(key.span(), message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn reads_every_option_and_reports_unknown_ones() {
        let args: TypedArgs = syn::parse2(quote! {
            channel = ORDERS, class = "ok", mesage = "m", colour = "red",
        })
        .unwrap();
        assert_eq!(args.options.len(), 2);
        let messages: Vec<String> = args.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "unknown option `mesage`: did you mean `message`?",
                "unknown option `colour`: expected one of `channel`, `class`, `message`",
            ]
        );
    }
}
