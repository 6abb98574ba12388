//! Live credentials: what goes into each request's `Authorization` header, and how it is
//! refreshed after a 401.

pub mod exec;
mod token_file;

use std::sync::Arc;

use base64::Engine;
use reqwest::header::HeaderValue;

use crate::config::AuthConfig;
use crate::error::Error;
use crate::secret::SecretString;
pub use token_file::TokenFile;

#[derive(Clone, Debug)]
pub enum Credentials {
    None,
    Bearer(TokenSource),
    Basic(SecretString),
    /// An exec plugin: a token, a client certificate (handed to the TLS layer), or both.
    Exec(Arc<exec::ExecPlugin>),
}

#[derive(Clone, Debug)]
pub enum TokenSource {
    Static(SecretString),
    File(Arc<TokenFile>),
    Provider(Arc<dyn TokenProvider>),
}

/// A token source supplied by the caller (through the bindings: a Python callable, such
/// as `ServiceAccountTokenSource`).
pub trait TokenProvider: Send + Sync + std::fmt::Debug {
    fn token(&self) -> Result<SecretString, Error>;
    /// After a 401: true if a different token may now be had.
    fn invalidate(&self) -> bool {
        false
    }
}

impl Credentials {
    pub fn from_config(auth: &AuthConfig) -> Result<Credentials, Error> {
        Ok(match auth {
            AuthConfig::None => Credentials::None,
            AuthConfig::Token(t) => Credentials::Bearer(TokenSource::Static(t.clone())),
            AuthConfig::TokenFile(path) => Credentials::Bearer(TokenSource::File(Arc::new(TokenFile::open(path)?))),
            AuthConfig::Basic { username, password } => {
                let raw = format!("{username}:{}", password.expose());
                Credentials::Basic(SecretString::new(base64::engine::general_purpose::STANDARD.encode(raw)))
            }
            AuthConfig::Exec(cfg) => Credentials::Exec(Arc::new(exec::ExecPlugin::new(cfg.clone())?)),
            AuthConfig::AuthProvider { name, context } => {
                return Err(Error::Auth(format!(
                    "context '{context}' uses the legacy auth-provider '{name}', which kubectl also removed; \
                     use an exec plugin or a token"
                )))
            }
        })
    }

    pub fn is_provider(&self) -> bool {
        matches!(self, Credentials::Bearer(TokenSource::Provider(_)))
    }

    pub fn is_some(&self) -> bool {
        !matches!(self, Credentials::None)
    }

    /// The exec plugin, when it is the credential (its client certificate goes into TLS).
    pub fn exec_plugin(&self) -> Option<&Arc<exec::ExecPlugin>> {
        match self {
            Credentials::Exec(p) => Some(p),
            _ => None,
        }
    }

    /// The current bearer token, if bearer auth is configured.
    pub fn token(&self) -> Result<Option<SecretString>, Error> {
        match self {
            Credentials::Bearer(TokenSource::Static(t)) => Ok(Some(t.clone())),
            Credentials::Bearer(TokenSource::File(f)) => f.current().map(Some),
            Credentials::Exec(p) => p.token(),
            Credentials::Bearer(TokenSource::Provider(p)) => p.token().map(Some),
            _ => Ok(None),
        }
    }

    /// True when getting the credential may block for long: an exec plugin whose result
    /// expired (a process to run), or a token provider (caller code, which may itself make
    /// requests). A runtime worker must not simply wait on it.
    pub fn may_block(&self) -> bool {
        match self {
            Credentials::Exec(p) => p.needs_run(),
            Credentials::Bearer(TokenSource::Provider(_)) => true,
            _ => false,
        }
    }

    /// The `Authorization` header value, marked sensitive so it never shows in debug output.
    pub fn authorization(&self) -> Result<Option<HeaderValue>, Error> {
        let text = match self {
            Credentials::None => return Ok(None),
            Credentials::Basic(b) => format!("Basic {}", b.expose()),
            Credentials::Bearer(_) => {
                format!("Bearer {}", self.token()?.map(|t| t.expose().to_string()).unwrap_or_default())
            }
            // Runs the plugin when its result expired; a certificate-only result sends no header.
            Credentials::Exec(p) => match p.token()? {
                Some(t) => format!("Bearer {}", t.expose()),
                None => return Ok(None),
            },
        };
        let mut value = HeaderValue::from_str(&text)
            .map_err(|_| Error::Auth("the credential contains characters that cannot go in an HTTP header".into()))?;
        value.set_sensitive(true);
        Ok(Some(value))
    }

    /// Called after a 401. Returns true when a different credential is now available, so
    /// that the request is worth retrying once.
    pub fn refresh_after_unauthorized(&self) -> bool {
        match self {
            Credentials::Bearer(TokenSource::File(f)) => f.reload_if_changed(),
            Credentials::Exec(p) => p.invalidate(),
            Credentials::Bearer(TokenSource::Provider(p)) => p.invalidate(),
            _ => false,
        }
    }
}
