//! The errors of setting `instant` up.

/// Why the `instant` app object could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstantError {
    /// The configuration is missing a value or holds an invalid one.
    #[error(transparent)]
    Config(#[from] instant_core::ConfigError),
    /// A template (built in or from the app's template directory) does not compile or render.
    #[error("template `{name}`: {reason}")]
    Template {
        /// The template's relative path, such as `instant/handlers/default.js`.
        name: String,
        /// What went wrong, with Tera's explanation.
        reason: String,
    },
    /// The app's template directory or the local Centrifugo client file cannot be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl InstantError {
    pub(crate) fn template(name: &str, error: &tera::Error) -> Self {
        use std::error::Error as _;
        let mut reason = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            reason.push_str(": ");
            reason.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Template {
            name: name.to_owned(),
            reason,
        }
    }
}
