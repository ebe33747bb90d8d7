//! [`Secret`]: a string that never shows in `Debug` or `Display` output.

use std::fmt;

/// The secret of embedded mode when none is configured: one per process, so every `Config` built
/// in the process (the middleware's, the embedded server's) signs and verifies alike.
#[cfg(feature = "settings")]
pub(crate) static PROCESS_SECRET: std::sync::LazyLock<Secret> =
    std::sync::LazyLock::new(Secret::generate);

/// A secret string (HMAC key, API key) that never shows in `Debug` or `Display` output, so it
/// cannot leak through logs or error messages.
#[derive(Clone)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a secret value.
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(value.into_boxed_str())
    }

    /// A fresh random secret: 32 bytes from the operating system's generator, base64url-encoded.
    /// It never starts with `-`, so it can be given as a command-line argument.
    #[cfg(feature = "settings")]
    #[cfg_attr(docsrs, doc(cfg(feature = "settings")))]
    #[must_use]
    pub fn generate() -> Self {
        use base64::Engine as _;
        use rand::RngCore as _;
        let mut bytes = [0u8; 32];
        loop {
            rand::rng().fill_bytes(&mut bytes);
            let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            if !text.starts_with('-') {
                return Self::new(text);
            }
        }
    }

    /// The secret value itself. Call it only where the value is needed (signing, a request header).
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for Secret {
    /// Compares in constant time, so comparing keys does not leak their content through timing.
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}

#[cfg(all(test, feature = "settings"))]
mod generate_tests {
    use super::Secret;

    #[test]
    fn generated_secrets_never_start_with_a_hyphen() {
        // One in 64 would without the check: 2,000 draws miss it with odds below 1e-13.
        for _ in 0..2000 {
            let secret = Secret::generate();
            assert!(!secret.expose_secret().starts_with('-'));
            assert_eq!(secret.expose_secret().len(), 43);
        }
    }
}
