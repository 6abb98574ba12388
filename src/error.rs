//! The core's error type. Each variant maps to one Python exception in `bindings`.
//! No variant ever carries a credential: messages are built from URLs, paths and reasons.

use std::fmt;

use crate::config::ConfigError;

#[derive(Debug)]
pub enum Error {
    /// A bad or incomplete configuration.
    Config(ConfigError),
    /// A credential could not be produced (token file unreadable, unsupported auth).
    Auth(String),
    /// Could not reach the server, or the connection broke.
    Connect { url: String, detail: String },
    /// No answer in time. `phase` is "connect" or "read".
    Timeout { url: String, phase: &'static str, seconds: f64 },
    /// TLS verification or handshake failure, explained.
    Tls { url: String, detail: String },
    /// A credential would have travelled over plain HTTP.
    InsecureTransport(String),
    /// A bad argument (a malformed URL, a header that cannot be sent).
    InvalidRequest(String),
    /// A response body that cannot be read as promised (a line over the bound).
    Body(String),
    /// The session was closed.
    Closed,
    /// The API server answered with an error status (a watch's ERROR event, or a failed
    /// request made by the core itself, such as a watch's LIST).
    Api { code: u16, body: bytes::Bytes, url: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => write!(f, "{e}"),
            Error::Auth(m) => f.write_str(m),
            Error::Connect { url, detail } => write!(f, "cannot connect to {url}: {detail}"),
            Error::Timeout { url, phase, seconds } => {
                write!(f, "{phase} timeout after {seconds:.1} s waiting for {url}")
            }
            Error::Tls { url, detail } => write!(f, "TLS error talking to {url}: {detail}"),
            Error::InsecureTransport(m) => f.write_str(m),
            Error::InvalidRequest(m) => f.write_str(m),
            Error::Body(m) => f.write_str(m),
            Error::Closed => f.write_str("the session is closed"),
            Error::Api { code, body, url } => match crate::api::Status::parse(body) {
                Some(s) => write!(f, "{code} {}: {}", s.reason.unwrap_or_default(), s.message.unwrap_or_default()),
                None => write!(f, "{code} error from {url}"),
            },
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}
