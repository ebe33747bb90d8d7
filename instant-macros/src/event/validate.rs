//! Checks of the `#[instant::event]` options and of the function it is placed on.

use proc_macro2::Span;
use syn::{Expr, ExprLit, Lit, LitStr};

use crate::options::{self, set_once, string_literal};

use super::parse::{EventArgs, EventOption};

/// The checked options.
pub(crate) struct Options {
    pub(crate) event: EventSpec,
    pub(crate) wait: bool,
    /// `on_error = "fail"`: a failed publish answers 503 instead of the handler's response.
    pub(crate) fail_on_error: bool,
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
    let mut send = None;
    let mut field_keys = Vec::new();
    let mut wait = None;
    let mut on_error: Option<LitStr> = None;
    for option in args.options {
        match option {
            EventOption::Channel(key, value) => {
                field_keys.push(("channel", key.span));
                check_channel_literal(&value, errors);
                set_once(&mut channel, key.span, "channel", value, errors);
            }
            EventOption::Class(key, value) => {
                field_keys.push(("class", key.span));
                if let Some(literal) = string_literal(&value, "class", "object created", errors) {
                    set_once(&mut class, key.span, "class", literal, errors);
                }
            }
            EventOption::Message(key, value) => {
                field_keys.push(("message", key.span));
                if let Some(literal) = string_literal(&value, "message", "New order", errors) {
                    set_once(&mut message, key.span, "message", literal, errors);
                }
            }
            EventOption::Data(key, value) => {
                field_keys.push(("data", key.span));
                set_once(&mut data, key.span, "data", value, errors);
            }
            EventOption::Send(key, value) => set_once(&mut send, key.span, "send", value, errors),
            EventOption::Wait(key) => set_once(&mut wait, key.span, "wait", (), errors),
            EventOption::OnError(key, value) => {
                if let Some(literal) = on_error_policy(&value, errors) {
                    set_once(&mut on_error, key.span, "on_error", literal, errors);
                }
            }
        }
    }
    let fail_on_error = on_error
        .as_ref()
        .is_some_and(|policy| policy.value() == "fail");
    if let (Some(policy), true, None) = (&on_error, fail_on_error, wait) {
        errors.push(syn::Error::new(
            policy.span(),
            "`on_error = \"fail\"` needs `wait`: only a handler that waits for the publish can \
             answer with its failure; add `wait`",
        ));
    }
    if send.is_some() {
        for (name, span) in &field_keys {
            errors.push(syn::Error::new(
                *span,
                format!(
                    "`{name}` comes from the typed event given in `send`: remove `{name}`, or \
                     remove `send` and give `channel`, `class`, `message` and `data` one by one"
                ),
            ));
        }
    } else if channel.is_none() && !misspelt_channel {
        errors.push(syn::Error::new(
            Span::call_site(),
            "missing `channel = …`: name the channel to publish on, such as `channel = ADMIN1` \
             (a constant declared with `channels!`)",
        ));
    }
    if errors.len() > before {
        return None;
    }
    let event = match send {
        Some(value) => EventSpec::Typed(value),
        None => EventSpec::Fields {
            channel: channel?,
            class,
            message,
            data,
        },
    };
    Some(Options {
        event,
        wait: wait.is_some(),
        fail_on_error,
    })
}

/// What the handler publishes.
pub(crate) enum EventSpec {
    /// `channel`, `class`, `message` and `data` given one by one.
    Fields {
        channel: Expr,
        class: Option<LitStr>,
        message: Option<LitStr>,
        data: Option<Expr>,
    },
    /// `send = EXPR`: a `TypedEvent` value, which holds all four.
    Typed(Expr),
}

/// The failure policies `on_error` takes.
const POLICIES: &[&str] = &["log", "fail"];

/// `on_error = "log" | "fail"`.
fn on_error_policy(value: &Expr, errors: &mut Vec<syn::Error>) -> Option<LitStr> {
    let literal = string_literal(value, "on_error", "fail", errors)?;
    let policy = literal.value();
    if POLICIES.contains(&policy.as_str()) {
        return Some(literal);
    }
    let message = match crate::suggest::closest(&policy, POLICIES) {
        Some(close) => format!("unknown `on_error` policy `{policy}`: did you mean `{close}`?"),
        None => format!(
            "unknown `on_error` policy `{policy}`: expected `\"log\"` (log and count, the \
             default) or `\"fail\"` (answer 503)"
        ),
    };
    errors.push(syn::Error::new(literal.span(), message));
    None
}

/// A channel written as a string literal is checked like a declared one.
fn check_channel_literal(value: &Expr, errors: &mut Vec<syn::Error>) {
    if let Expr::Lit(ExprLit {
        lit: Lit::Str(literal),
        ..
    }) = value
    {
        options::check_channel_literal(literal, errors);
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
        assert!(options.wait);
        let EventSpec::Fields { class, data, .. } = options.event else {
            panic!("the options give the fields one by one")
        };
        assert!(data.is_none());
        assert_eq!(class.unwrap().value(), "object created");
    }

    #[test]
    fn a_typed_event_replaces_the_fields() {
        let options = check(quote! { send = OrderShipped { id: 7 }, wait })
            .ok()
            .unwrap();
        assert!(matches!(options.event, EventSpec::Typed(_)) && options.wait);
        let errors = check(quote! { send = shipped(), channel = A, data = 1 })
            .err()
            .unwrap();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].starts_with("`channel` comes from the typed event"));
        assert!(errors[1].starts_with("`data` comes from the typed event"));
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
    fn reads_the_failure_policy() {
        let options = check(quote! { channel = A, wait, on_error = "fail" })
            .ok()
            .unwrap();
        assert!(options.fail_on_error);
        let options = check(quote! { channel = A, on_error = "log" })
            .ok()
            .unwrap();
        assert!(!options.fail_on_error);
        let errors = check(quote! { channel = A, on_error = "fial" })
            .err()
            .unwrap();
        assert_eq!(
            errors,
            ["unknown `on_error` policy `fial`: did you mean `fail`?"]
        );
        let errors = check(quote! { channel = A, on_error = "fail" })
            .err()
            .unwrap();
        assert!(
            errors[0].starts_with("`on_error = \"fail\"` needs `wait`"),
            "{errors:?}"
        );
    }

    #[test]
    fn checks_literal_channel_names() {
        let errors = check(quote! { channel = "has space" }).err().unwrap();
        assert!(errors[0].contains("whitespace"), "{errors:?}");
    }
}
