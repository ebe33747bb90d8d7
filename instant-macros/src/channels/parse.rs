//! The `channels!` grammar.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitStr, Token, Visibility, bracketed};

use instant_core::Level;

use crate::errors::combine;
use crate::suggest;

pub(crate) mod kw {
    syn::custom_keyword!(superuser);
    syn::custom_keyword!(staff);
    syn::custom_keyword!(users);
    syn::custom_keyword!(public);
    syn::custom_keyword!(at);
}

/// The level keywords, in the order of the "expected one of" messages.
const LEVEL_KEYWORDS: &[&str] = &["superuser", "staff", "users", "public"];

/// The whole input of `channels! { … }`.
///
/// ```text
/// channels    := header? declaration ( "," declaration )* ","?
/// header      := attribute* visibility ( "static" | "const" ) IDENT ";"
/// declaration := attribute* level LIT_STR ( "at" "[" LIT_STR ( "," LIT_STR )* ","? "]" )? ( "as" IDENT )?
/// level       := "superuser" | "staff" | "users" | "public"
/// ```
///
/// Without a header the macro is an expression of type `ChannelSet`. With one it is an item:
/// `pub static CHANNELS;` declares `pub static CHANNELS: ChannelSet`, and each `as NAME`
/// declares `pub const NAME: &Channel` with the header's visibility; a declaration's attributes
/// (doc comments) go on its constant.
pub(crate) struct ChannelsInput {
    pub(crate) header: Option<Header>,
    pub(crate) declarations: Vec<Declaration>,
    /// Mistakes the parser stepped over to keep reporting the rest (unknown levels, missing
    /// commas), each with where it belongs so all errors are reported in source order.
    pub(crate) errors: Vec<(Position, syn::Error)>,
}

/// Where an error belongs: in (or before) the declaration with this index, or after it.
pub(crate) type Position = (usize, bool);

/// `pub static CHANNELS;`
pub(crate) struct Header {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) kind: ItemKind,
    pub(crate) ident: Ident,
}

/// Whether the header declares a `static` or a `const`.
#[derive(Clone, Copy)]
pub(crate) enum ItemKind {
    Static(Token![static]),
    Const(Token![const]),
}

/// `superuser "$mysite_admin1" at ["/a/path"] as ADMIN1`
pub(crate) struct Declaration {
    pub(crate) attrs: Vec<Attribute>,
    /// `None` when the keyword was not a level (already reported).
    pub(crate) level: Option<(Level, Span)>,
    pub(crate) name: LitStr,
    pub(crate) at: Option<PathList>,
    pub(crate) alias: Option<Ident>,
}

/// `at ["/a", "/b"]`
pub(crate) struct PathList {
    pub(crate) at: kw::at,
    pub(crate) bracket: syn::token::Bracket,
    pub(crate) paths: Vec<LitStr>,
}

impl Parse for ChannelsInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut errors = Vec::new();
        let mut attrs = input.call(Attribute::parse_outer)?;
        let header =
            if input.peek(Token![pub]) || input.peek(Token![static]) || input.peek(Token![const]) {
                Some(Header::parse_after_attrs(
                    std::mem::take(&mut attrs),
                    input,
                )?)
            } else {
                None
            };

        let mut declarations = Vec::new();
        loop {
            if declarations.is_empty() {
                attrs.extend(input.call(Attribute::parse_outer)?);
            } else {
                attrs = input.call(Attribute::parse_outer)?;
            }
            if input.is_empty() {
                if let Some(attr) = attrs.first() {
                    errors.push((
                        (declarations.len(), false),
                        syn::Error::new_spanned(
                            attr,
                            "expected a channel declaration after this attribute",
                        ),
                    ));
                }
                break;
            }
            let mut level_error = None;
            let declaration = Declaration::parse_after_attrs(attrs, input, &mut level_error)?;
            if let Some(error) = level_error {
                errors.push(((declarations.len(), false), error));
            }
            let position = (declarations.len(), true);
            let (has_at, has_alias) = (declaration.at.is_some(), declaration.alias.is_some());
            declarations.push(declaration);
            attrs = Vec::new();

            if input.is_empty() {
                break;
            }
            let lookahead = input.lookahead1();
            if lookahead.peek(Token![,]) {
                input.parse::<Token![,]>()?;
                continue;
            }
            if starts_declaration(input) {
                // `superuser "$a" staff "$b"`: report the comma and read on.
                errors.push((
                    position,
                    syn::Error::new(input.span(), "expected `,` between channel declarations"),
                ));
                continue;
            }
            if !has_at {
                lookahead.peek(kw::at);
            }
            if !has_alias {
                lookahead.peek(Token![as]);
            }
            errors.push((position, lookahead.error()));
            return Err(combine(errors.into_iter().map(|(_, error)| error))
                .expect("one error was just pushed"));
        }

        Ok(Self {
            header,
            declarations,
            errors,
        })
    }
}

/// Whether the next tokens begin another declaration: a level keyword or an attribute.
fn starts_declaration(input: ParseStream<'_>) -> bool {
    input.peek(kw::superuser)
        || input.peek(kw::staff)
        || input.peek(kw::users)
        || input.peek(kw::public)
        || input.peek(Token![#])
}

impl Header {
    fn parse_after_attrs(attrs: Vec<Attribute>, input: ParseStream<'_>) -> syn::Result<Self> {
        let vis: Visibility = input.parse()?;
        let lookahead = input.lookahead1();
        let kind = if lookahead.peek(Token![static]) {
            ItemKind::Static(input.parse()?)
        } else if lookahead.peek(Token![const]) {
            ItemKind::Const(input.parse()?)
        } else {
            return Err(lookahead.error());
        };
        let ident: Ident = input.parse()?;
        if input.peek(Token![:]) {
            return Err(
                input.error("the type is always `ChannelSet`: write `static NAME;` without a type")
            );
        }
        input.parse::<Token![;]>()?;
        Ok(Self {
            attrs,
            vis,
            kind,
            ident,
        })
    }
}

impl Declaration {
    fn parse_after_attrs(
        attrs: Vec<Attribute>,
        input: ParseStream<'_>,
        level_error: &mut Option<syn::Error>,
    ) -> syn::Result<Self> {
        let level = parse_level(input, level_error)?;
        let name: LitStr = input.parse()?;
        let at = if input.peek(kw::at) {
            let at = input.parse()?;
            let content;
            let bracket = bracketed!(content in input);
            let paths = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
            Some(PathList {
                at,
                bracket,
                paths: paths.into_iter().collect(),
            })
        } else {
            None
        };
        let alias = if input.peek(Token![as]) {
            input.parse::<Token![as]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Self {
            attrs,
            level,
            name,
            at,
            alias,
        })
    }
}

/// A level keyword. An unknown identifier is reported (with a suggestion for a near miss) and
/// read over, so the rest of the declaration is still checked.
fn parse_level(
    input: ParseStream<'_>,
    error: &mut Option<syn::Error>,
) -> syn::Result<Option<(Level, Span)>> {
    let lookahead = input.lookahead1();
    let level = if lookahead.peek(kw::superuser) {
        (Level::Superuser, input.parse::<kw::superuser>()?.span)
    } else if lookahead.peek(kw::staff) {
        (Level::Staff, input.parse::<kw::staff>()?.span)
    } else if lookahead.peek(kw::users) {
        (Level::Users, input.parse::<kw::users>()?.span)
    } else if lookahead.peek(kw::public) {
        (Level::Public, input.parse::<kw::public>()?.span)
    } else if input.peek(Ident::peek_any) {
        let word = input.call(Ident::parse_any)?;
        *error = Some(unknown_level(&word));
        return Ok(None);
    } else {
        return Err(lookahead.error());
    };
    Ok(Some(level))
}

fn unknown_level(word: &Ident) -> syn::Error {
    let word_text = word.unraw().to_string();
    let message = match suggest::closest(&word_text, LEVEL_KEYWORDS) {
        Some(level) => format!(
            "unknown level `{word_text}`: did you mean `{level}`? (levels: superuser, staff, users, public)"
        ),
        None => format!(
            "unknown level `{word_text}`: expected one of `superuser`, `staff`, `users`, `public`"
        ),
    };
    syn::Error::new(word.span(), message)
}

/// The item's shape read from input that did not parse: the header and the `as NAME`
/// constants, so the fallback expansion still declares them.
pub(crate) struct Shape {
    pub(crate) header: Option<Header>,
    pub(crate) aliases: Vec<Ident>,
}

impl Shape {
    pub(crate) fn scan(input: TokenStream) -> Self {
        let header = syn::parse::Parser::parse2(
            |input: ParseStream<'_>| {
                let attrs = input.call(Attribute::parse_outer)?;
                let header = Header::parse_after_attrs(attrs, input)?;
                input.parse::<TokenStream>()?;
                Ok(header)
            },
            input.clone(),
        )
        .ok();
        let mut aliases = Vec::new();
        if header.is_some() {
            let tokens: Vec<TokenTree> = input.into_iter().collect();
            for pair in tokens.windows(2) {
                if let [TokenTree::Ident(keyword), TokenTree::Ident(alias)] = pair
                    && keyword == "as"
                {
                    aliases.push(alias.clone());
                }
            }
        }
        Self { header, aliases }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: TokenStream) -> ChannelsInput {
        syn::parse2(tokens).unwrap()
    }

    #[test]
    fn reads_the_expression_form() {
        let input = parse(quote! {
            superuser "$mysite_admin1" at ["/a/path", "/another/path"],
            superuser "$mysite_admin2",
            public "mysite_public1",
        });
        assert!(input.header.is_none() && input.errors.is_empty());
        assert_eq!(input.declarations.len(), 3);
        let first = &input.declarations[0];
        assert_eq!(first.level.unwrap().0, Level::Superuser);
        assert_eq!(first.name.value(), "$mysite_admin1");
        assert_eq!(first.at.as_ref().unwrap().paths.len(), 2);
        assert_eq!(input.declarations[2].level.unwrap().0, Level::Public);
    }

    #[test]
    fn reads_the_item_form() {
        let input = parse(quote! {
            /// The app's channels.
            pub(crate) static CHANNELS;
            /// Admins only.
            superuser "$admin" as ADMIN,
            users "$users"
        });
        let header = input.header.unwrap();
        assert_eq!(header.ident, "CHANNELS");
        assert_eq!(header.attrs.len(), 1);
        assert_eq!(input.declarations[0].attrs.len(), 1);
        assert_eq!(input.declarations[0].alias.as_ref().unwrap(), "ADMIN");
    }

    #[test]
    fn steps_over_unknown_levels_and_missing_commas() {
        let input = parse(quote! {
            supreuser "$a"
            staff "$b",
            admin "$c",
        });
        assert_eq!(input.declarations.len(), 3);
        let messages: Vec<String> = input.errors.iter().map(|(_, e)| e.to_string()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("did you mean `superuser`?"));
        assert!(messages[1].contains("expected `,`"));
        assert!(messages[2].contains("expected one of"));
    }

    #[test]
    fn scans_the_shape_of_broken_input() {
        let shape = Shape::scan(quote! { pub static CHANNELS; superuser "$a" as A, ??? as B });
        assert_eq!(shape.header.unwrap().ident, "CHANNELS");
        assert_eq!(shape.aliases, ["A", "B"]);
    }
}
