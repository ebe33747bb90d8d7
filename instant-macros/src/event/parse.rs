//! The `#[instant::event(…)]` options.

use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Token};

use crate::suggest;

pub(crate) mod kw {
    syn::custom_keyword!(channel);
    syn::custom_keyword!(class);
    syn::custom_keyword!(message);
    syn::custom_keyword!(data);
    syn::custom_keyword!(send);
    syn::custom_keyword!(wait);
    syn::custom_keyword!(on_error);
}

/// The option names, in the order of the "expected one of" messages.
pub(crate) const OPTION_NAMES: &[&str] = &[
    "channel", "class", "message", "data", "send", "wait", "on_error",
];

/// The options of `#[instant::event(…)]`.
///
/// ```text
/// args   := option ( "," option )* ","?
/// option := "channel" "=" EXPR       // a channel constant from `channels!`, or anything `AsRef<str>`
///         | "class"   "=" LIT_STR    // the event class, such as "object created"
///         | "message" "=" LIT_STR    // the human-readable message
///         | "data"    "=" EXPR       // any `Serialize` value; default: the handler's JSON body
///         | "send"    "=" EXPR       // a `TypedEvent` value: its channel, class, message and data
///         | "wait"                   // await the publish instead of sending it in the background
///         | "on_error" "=" LIT_STR   // with `wait`: "log" (default) or "fail" (answer 503)
/// ```
pub(crate) struct EventArgs {
    pub(crate) options: Vec<EventOption>,
    /// Unknown options, reported while the rest is read.
    pub(crate) errors: Vec<syn::Error>,
    /// Whether an unknown option looked like a misspelt `channel` (then its absence is not
    /// reported a second time).
    pub(crate) misspelt_channel: bool,
}

/// One option with its key token, kept for spans.
pub(crate) enum EventOption {
    Channel(kw::channel, Expr),
    /// Checked to be a string literal by validation, so the error points at the value.
    Class(kw::class, Expr),
    Message(kw::message, Expr),
    Data(kw::data, Expr),
    /// A typed event, instead of `channel`, `class`, `message` and `data`.
    Send(kw::send, Expr),
    Wait(kw::wait),
    /// Checked to be `"log"` or `"fail"` by validation.
    OnError(kw::on_error, Expr),
}

impl Parse for EventArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = Vec::new();
        let mut errors = Vec::new();
        let mut misspelt_channel = false;
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::channel) {
                let key = input.parse()?;
                options.push(EventOption::Channel(key, value(input)?));
            } else if lookahead.peek(kw::class) {
                let key = input.parse()?;
                options.push(EventOption::Class(key, value(input)?));
            } else if lookahead.peek(kw::message) {
                let key = input.parse()?;
                options.push(EventOption::Message(key, value(input)?));
            } else if lookahead.peek(kw::data) {
                let key = input.parse()?;
                options.push(EventOption::Data(key, value(input)?));
            } else if lookahead.peek(kw::send) {
                let key = input.parse()?;
                options.push(EventOption::Send(key, value(input)?));
            } else if lookahead.peek(kw::wait) {
                options.push(EventOption::Wait(input.parse()?));
            } else if lookahead.peek(kw::on_error) {
                let key = input.parse()?;
                options.push(EventOption::OnError(key, value(input)?));
            } else if input.peek(Ident::peek_any) {
                let key = input.call(Ident::parse_any)?;
                let suggestion = suggest::closest(&key.unraw().to_string(), OPTION_NAMES);
                misspelt_channel |= suggestion == Some("channel");
                errors.push(unknown_option(&key, suggestion));
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
        Ok(Self {
            options,
            errors,
            misspelt_channel,
        })
    }
}

/// `= EXPR`
fn value(input: ParseStream<'_>) -> syn::Result<Expr> {
    input.parse::<Token![=]>()?;
    input.parse()
}

fn unknown_option(key: &Ident, suggestion: Option<&str>) -> syn::Error {
    let key_text = key.unraw().to_string();
    let expected =
        "expected one of `channel`, `class`, `message`, `data`, `send`, `wait`, `on_error`";
    let message = match suggestion {
        Some(option) => format!("unknown option `{key_text}`: did you mean `{option}`?"),
        None => format!("unknown option `{key_text}`: {expected}"),
    };
    syn::Error::new(key.span(), message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn reads_every_option() {
        let args: EventArgs = syn::parse2(quote! {
            channel = ADMIN1, class = "object created", message = "New order",
            data = serde_json::json!({"id": 1}), wait, on_error = "fail",
        })
        .unwrap();
        assert_eq!(args.options.len(), 6);
        assert!(args.errors.is_empty());
    }

    #[test]
    fn reports_unknown_options_and_reads_on() {
        let args: EventArgs =
            syn::parse2(quote! { chanel = A, colour = "red", message = "m" }).unwrap();
        assert_eq!(args.options.len(), 1);
        let messages: Vec<String> = args.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "unknown option `chanel`: did you mean `channel`?",
                "unknown option `colour`: expected one of `channel`, `class`, `message`, `data`, `send`, `wait`, `on_error`",
            ]
        );
    }
}
