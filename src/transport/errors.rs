//! Turning reqwest's errors into ours, with the TLS reason spelled out.

use url::Url;

use super::{redact_url, Timeouts};
use crate::error::Error;

pub fn from_reqwest(e: &reqwest::Error, url: &Url, server_name: String, trust: &str, timeouts: Timeouts) -> Error {
    let shown = redact_url(url);
    if let Some(tls) = crate::tls::find_rustls_error(e) {
        return Error::Tls { url: shown, detail: crate::tls::failure_detail(tls, &server_name, trust) };
    }
    if e.is_timeout() {
        let seconds = timeouts.connect.map(|d| d.as_secs_f64()).unwrap_or(0.0);
        return Error::Timeout { url: shown, phase: "connect", seconds };
    }
    Error::Connect { url: shown, detail: chain(e) }
}

/// The messages of an error and its causes, without repeats.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let msg = err.to_string();
        // reqwest's top message repeats the URL, which the caller already shows.
        let msg = msg.split(" for url (").next().unwrap_or(&msg).to_string();
        if !parts.iter().any(|p| p.contains(&msg)) {
            parts.push(msg);
        }
        cur = err.source();
    }
    parts.join(": ")
}
