//! Checks of `channels!` declarations, with `instant-core`'s rules and wording.

use std::collections::HashMap;

use quote::ToTokens as _;

use instant_core::{ChannelError, Level, MAX_CHANNEL_NAME_LEN, PRIVATE_PREFIX};

use super::parse::{ChannelsInput, Declaration};

/// Every mistake in the invocation, each spanned at the offending token, in source order; empty
/// when the declarations are valid.
pub(crate) fn validate(input: &ChannelsInput) -> Vec<syn::Error> {
    let mut positioned = input.errors.clone();
    let mut errors = Vec::new();
    // The valid names so far, each checked against the next ones for a name both can make.
    let mut names: Vec<String> = Vec::new();
    let mut aliases: HashMap<String, ()> = HashMap::new();
    if let Some(header) = &input.header {
        aliases.insert(header.ident.to_string(), ());
    }

    for (index, declaration) in input.declarations.iter().enumerate() {
        let name = declaration.name.value();
        if let Err(error) = check_name(declaration, &name) {
            errors.push(syn::Error::new_spanned(&declaration.name, describe(&error)));
        } else if names.contains(&name) {
            errors.push(syn::Error::new_spanned(
                &declaration.name,
                ChannelError::DuplicateChannel(name.clone()).to_string(),
            ));
        } else if let Some((first, example)) = names
            .iter()
            .find_map(|first| Some((first, instant_core::pattern::overlap(first, &name)?)))
        {
            // Spanned at the later declaration, as a repeated name is.
            errors.push(syn::Error::new_spanned(
                &declaration.name,
                ChannelError::Overlapping {
                    first: first.clone(),
                    second: name.clone(),
                    example,
                }
                .to_string(),
            ));
        } else {
            names.push(name.clone());
        }
        check_paths(declaration, &name, &mut errors);
        check_alias(input, declaration, &mut aliases, &mut errors);
        positioned.extend(errors.drain(..).map(|error| ((index, false), error)));
    }
    // Stable: the parser's errors of a declaration come first, as its level comes first.
    positioned.sort_by_key(|(position, _)| *position);
    positioned.into_iter().map(|(_, error)| error).collect()
}

/// The name rules; a declaration whose level keyword was unknown is still checked for
/// everything but the `$` rule.
fn check_name(declaration: &Declaration, name: &str) -> Result<(), ChannelError> {
    let level = match declaration.level {
        Some((level, _)) => level,
        None if name.starts_with(PRIVATE_PREFIX) => Level::Superuser,
        None => Level::Public,
    };
    instant_core::validate_name(name, level)
}

/// The core's wording, except that an over-long name is not repeated in full.
fn describe(error: &ChannelError) -> String {
    match error {
        ChannelError::NameTooLong(name) => format!(
            "this channel name is {} bytes long: Centrifugo accepts at most {MAX_CHANNEL_NAME_LEN}",
            name.len()
        ),
        other => other.to_string(),
    }
}

fn check_paths(declaration: &Declaration, name: &str, errors: &mut Vec<syn::Error>) {
    let Some(list) = &declaration.at else {
        return;
    };
    if name.contains('{') {
        errors.push(syn::Error::new_spanned(
            list.at,
            ChannelError::PatternWithPaths(name.to_owned()).to_string(),
        ));
        return;
    }
    if list.paths.is_empty() {
        // Spanned from `at` to `]`.
        let mut tokens = proc_macro2::TokenStream::new();
        list.at.to_tokens(&mut tokens);
        list.bracket.surround(&mut tokens, |_| {});
        errors.push(syn::Error::new_spanned(
            tokens,
            "`at []` lists no path: list at least one, or remove `at []` so the channel \
             connects on every path",
        ));
        return;
    }
    let mut seen: HashMap<String, ()> = HashMap::new();
    for literal in &list.paths {
        let path = literal.value();
        let error = if !path.starts_with('/') {
            Some(ChannelError::RelativePath {
                channel: name.to_owned(),
                path,
            })
        } else if seen.insert(path.clone(), ()).is_some() {
            Some(ChannelError::DuplicatePath {
                channel: name.to_owned(),
                path,
            })
        } else {
            None
        };
        if let Some(error) = error {
            errors.push(syn::Error::new_spanned(literal, error.to_string()));
        }
    }
}

fn check_alias(
    input: &ChannelsInput,
    declaration: &Declaration,
    aliases: &mut HashMap<String, ()>,
    errors: &mut Vec<syn::Error>,
) {
    match (&declaration.alias, &input.header) {
        (Some(alias), None) => errors.push(syn::Error::new_spanned(
            alias,
            format!(
                "`as {alias}` declares a constant, which needs the item form: start with \
                 `pub static CHANNELS;` (or `const`)"
            ),
        )),
        (Some(alias), Some(_)) => {
            if aliases.insert(alias.to_string(), ()).is_some() {
                errors.push(syn::Error::new_spanned(
                    alias,
                    format!("the name `{alias}` is already used in this `channels!`"),
                ));
            }
        }
        (None, _) => {
            if let Some(attr) = declaration.attrs.first() {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "attributes apply to the constant of a named declaration: add `as NAME`",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;

    fn messages(tokens: TokenStream) -> Vec<String> {
        let input: ChannelsInput = syn::parse2(tokens).unwrap();
        validate(&input).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn seed_declarations_are_valid() {
        let errors = messages(quote! {
            superuser "$mysite_admin1" at ["/a/path", "/another/path"],
            superuser "$mysite_admin2",
            staff     "$mysite_staff1" at ["/a/path"],
            staff     "$mysite_staff2",
            users     "$mysite_users1",
            public    "mysite_public1",
            public    "mysite_public2",
        });
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let errors = messages(quote! {
            staff "admin",
            public "$news",
            public "news",
            public "news",
            users "$u" at ["a", "/b", "/b"],
            users "$v" at [],
            public "",
            public "a b",
            public "x" as X,
        });
        assert_eq!(errors.len(), 9, "{errors:#?}");
        assert!(errors[0].starts_with("every private channel name must start with a dollar sign"));
        assert!(errors[1].contains("must not start with `$`"));
        assert_eq!(errors[2], "channel `news` is declared twice");
        assert!(errors[3].contains("must start with `/`"));
        assert!(errors[4].contains("listed twice"));
        assert!(errors[5].starts_with("`at []` lists no path"));
        assert!(errors[6].contains("must not be empty"));
        assert!(errors[7].contains("whitespace"));
        assert!(errors[8].contains("needs the item form"));
    }

    #[test]
    fn patterns_are_checked() {
        let errors = messages(quote! {
            users "$order_{id}",
            users "$board_{team}_{board}",
            users "$order_new",
            staff "$order_{x}",
            users "$bad_{1}",
            users "$bad_{a}{b}",
            public "news_{id}" at ["/x"],
        });
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert!(errors[0].contains("`$order_{id}` and `$order_new` can both be `$order_new`"));
        assert!(errors[1].contains("can both be `$order_0`"));
        assert!(errors[2].contains("identifier"));
        assert!(errors[3].contains("need literal text between them"));
        assert!(errors[4].contains("cannot take `at [...]` paths"));
    }

    #[test]
    fn over_long_names_are_not_repeated() {
        let long = format!("${}", "x".repeat(300));
        let errors = messages(quote! { superuser #long });
        assert_eq!(
            errors,
            ["this channel name is 301 bytes long: Centrifugo accepts at most 255"]
        );
    }
}
