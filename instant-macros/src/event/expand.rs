//! The handler `#[instant::event]` writes.
//!
//! ```text
//! #[post("/orders")]                       // the other attributes, in order
//! async fn create_order(<arguments>, __instant_request: HttpRequest) -> HttpResponse {
//!     let output = handler_output::<Declared, _>(async { <body> }).await;
//!     let json = <the response's body when output is Json<T> / Ok(Json<T>), else null>;
//!     let mut response = into_response(output, &request); // what actix-web would do with it
//!     if response.status().is_success() {
//!         response = publish_event(&request, …, json, response);
//!     }
//!     response
//! }
//! ```
//!
//! The body runs in a non-`move` async block, so `return` and `?` keep their meaning and the
//! arguments it does not consume stay usable by `data = …`. `handler_output` gives the block
//! the declared return type so `?` conversions infer as they did in the original function. For a
//! `Json` output the event's data is the response's body, the JSON `Json` already wrote, so the
//! publish functions take the response and give it back.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens as _, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{FnArg, ItemFn, ReturnType, Type, TypeParamBound, parse_quote};

use super::validate::{EventSpec, Options};

pub(crate) fn instrument(function: ItemFn, options: &Options) -> TokenStream {
    let private = crate::facade::private_path();
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;

    let request = syn::Ident::new("__instant_request", Span::mixed_site());
    let output = syn::Ident::new("__instant_output", Span::mixed_site());
    let json = syn::Ident::new("__instant_json", Span::mixed_site());
    let response = syn::Ident::new("__instant_response", Span::mixed_site());

    let run = match &sig.output {
        ReturnType::Type(_, ty) if !mentions_impl_trait(ty) => {
            quote!(#private::handler_output::<#ty, _>(async #block).await)
        }
        // `-> impl Responder`: the bounds go on a generic pass-through, so they are still
        // checked and still use the user's imports.
        ReturnType::Type(_, ty) => match &**ty {
            Type::ImplTrait(impl_trait) => {
                let bounds = impl_trait
                    .bounds
                    .iter()
                    .filter(|bound| !matches!(bound, TypeParamBound::PreciseCapture(_)));
                quote! {{
                    fn __instant_returns<__InstantOutput: #(#bounds)+*>(
                        output: __InstantOutput,
                    ) -> __InstantOutput {
                        output
                    }
                    __instant_returns(async #block.await)
                }}
            }
            _ => quote!(async #block.await),
        },
        ReturnType::Default => quote!(#private::handler_output::<(), _>(async #block).await),
    };
    // An unsatisfied `Responder` bound is reported at the declared return type.
    let respond_span = match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    };
    let output_at_return_type = syn::Ident::new(
        "__instant_output",
        Span::mixed_site().located_at(respond_span),
    );
    let into_response = quote_spanned! {respond_span=>
        #private::into_response(#output_at_return_type, &#request)
    };

    let typed = syn::Ident::new("__instant_typed", Span::mixed_site());
    let (probe, prepare, channel, class, message, data) = match &options.event {
        EventSpec::Fields {
            channel,
            class,
            message,
            data,
        } => {
            let (probe, data) = match data {
                Some(expr) => (
                    None,
                    quote_spanned!(expr.span()=> #private::to_data(&(#expr))),
                ),
                None => (
                    Some(quote! {
                        let #json = {
                            use #private::{JsonResponseData as _, NoResponseData as _};
                            (&#private::DataProbe(&#output)).__instant_data()
                        };
                    }),
                    quote!(#json),
                ),
            };
            let channel = quote_spanned!(channel.span()=> #private::channel_name(&(#channel)));
            let class = class
                .as_ref()
                .map_or_else(|| quote!(""), |c| c.to_token_stream());
            let message = message
                .as_ref()
                .map_or_else(|| quote!(""), |m| m.to_token_stream());
            (probe, None, channel, class, message, data)
        }
        // The value is made after the handler succeeded, as `data` is.
        EventSpec::Typed(expr) => (
            None,
            Some(quote_spanned!(expr.span()=> let #typed = #private::typed_event(&(#expr));)),
            quote!(#typed.0),
            quote!(#typed.1),
            quote!(#typed.2),
            quote!(#typed.3),
        ),
    };
    let publish = if options.fail_on_error {
        quote! {
            #response = #private::publish_event_or_fail(
                &#request, #channel, #class, #message, #data, #response,
            ).await;
        }
    } else if options.wait {
        quote! {
            #response = #private::publish_event_and_wait(
                &#request, #channel, #class, #message, #data, #response,
            ).await;
        }
    } else {
        quote! {
            #response = #private::publish_event(
                &#request, #channel, #class, #message, #data, #response,
            );
        }
    };

    let request_arg: FnArg = parse_quote!(#request: #private::HttpRequest);
    sig.inputs.push(request_arg);
    sig.output = parse_quote!(-> #private::HttpResponse);

    quote! {
        #(#attrs)*
        #vis #sig {
            let #output = #run;
            #probe
            let mut #response = #into_response;
            if #response.status().is_success() {
                #prepare
                #publish
            }
            #response
        }
    }
}

/// The handler unchanged (made `async` if it was not) with the errors, so the route macro below
/// and the code that registers the handler report nothing more.
pub(crate) fn fallback(mut function: ItemFn, error: Option<syn::Error>) -> TokenStream {
    if function.sig.asyncness.is_none() {
        function.sig.asyncness = Some(Default::default());
    }
    let error = error.map(syn::Error::into_compile_error);
    quote!(#error #function)
}

/// Whether a type names `impl Trait`, which cannot be written in a turbofish.
fn mentions_impl_trait(ty: &Type) -> bool {
    fn scan(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|token| match token {
            TokenTree::Ident(ident) => ident == "impl",
            TokenTree::Group(group) => scan(group.stream()),
            _ => false,
        })
    }
    scan(ty.to_token_stream())
}
