//! The path of the facade crate in the user's code, which expansions name.
//!
//! Apps depend on the facade as `instant = { package = "instant-events", .. }`, but may pick
//! another name for it; the expansions follow the name found in the app's manifest.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::quote;

/// The facade's package name on crates.io.
const FACADE_PACKAGE: &str = "instant-events";
/// The facade's library name (`[lib] name`), what `use instant::…` names.
const LIBRARY: &str = "instant";
/// What `proc-macro-crate` answers for a dependency on the package under its own name; the
/// library is still called [`LIBRARY`] then.
const UNRENAMED: &str = "instant_events";

/// `::<facade>::__private`, the only module the expansions name.
pub(crate) fn private_path() -> TokenStream {
    let facade = match crate_name(FACADE_PACKAGE) {
        // Renamed in the app's manifest (`rt = { package = "instant-events", .. }`): that name.
        Ok(FoundCrate::Name(name)) if name != UNRENAMED => {
            syn::Ident::new(&name, Span::call_site())
        }
        // Not renamed: the library's own name. Also the facade's own tests and doctests (the
        // crate declares `extern crate self as instant`), and the fallback when the manifest
        // cannot be read, which gives rustc's usual "unresolved `instant`" error.
        Ok(FoundCrate::Name(_) | FoundCrate::Itself) | Err(_) => {
            syn::Ident::new(LIBRARY, Span::call_site())
        }
    };
    quote!(::#facade::__private)
}
