//! Core errors as the Python exceptions of `kubesession.exceptions`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

use crate::api::ApiErrorKind;
use crate::error::Error;

static EXCEPTIONS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    EXCEPTIONS
        .get_or_try_init(py, || Ok::<_, PyErr>(py.import("kubesession.exceptions")?.unbind()))
        .map(|m| m.bind(py))
}

pub fn exception(py: Python<'_>, class: &str, message: String) -> PyErr {
    match module(py).and_then(|m| m.getattr(class)).and_then(|cls| cls.call1((message,))) {
        Ok(value) => PyErr::from_value(value),
        Err(e) => e,
    }
}

pub fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let class = match &e {
        Error::Config(_) => "ConfigError",
        Error::Auth(_) => "AuthError",
        Error::Connect { .. } => "ConnectionError",
        Error::Timeout { phase: "connect", .. } => "ConnectTimeout",
        Error::Timeout { .. } => "ReadTimeout",
        Error::Tls { .. } => "SSLError",
        Error::InsecureTransport(_) => "InsecureTransportError",
        Error::InvalidRequest(_) => "InvalidRequest",
        Error::Body(_) => "StreamError",
        Error::Closed => "SessionClosed",
        Error::Api { code, body, url } => return api_error_from_body(py, *code, body, url, None),
    };
    exception(py, class, e.to_string())
}

/// The ApiError subclass for an error status and its body (a Status, usually). The
/// Retry-After header, when given, wins over the Status's `retryAfterSeconds`.
pub fn api_error_from_body(py: Python<'_>, code: u16, body: &[u8], url: &str, retry_after: Option<f64>) -> PyErr {
    let status = crate::api::Status::parse(body);
    let kind = ApiErrorKind::classify(code, status.as_ref().and_then(|s| s.reason.as_deref()));
    let reason = status
        .as_ref()
        .and_then(|s| s.reason.clone())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| match kind {
            ApiErrorKind::Other => reqwest::StatusCode::from_u16(code)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("")
                .to_string(),
            k => k.class_name().to_string(),
        });
    let message = status.as_ref().and_then(|s| s.message.clone()).unwrap_or_default();
    let status_obj = if status.is_some() { super::json::decode(py, body).ok() } else { None };
    let retry_after = retry_after.or_else(|| {
        let s = status_obj.as_ref()?;
        s.get_item("details").ok()?.get_item("retryAfterSeconds").ok()?.extract::<f64>().ok()
    });
    api_error(py, kind, code, reason, message, status_obj, retry_after, url)
}

/// The ApiError subclass for a failed response, carrying the parsed Status.
#[allow(clippy::too_many_arguments)]
fn api_error(
    py: Python<'_>,
    kind: ApiErrorKind,
    status_code: u16,
    reason: String,
    message: String,
    status: Option<Bound<'_, PyAny>>,
    retry_after: Option<f64>,
    url: &str,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = module(py)?.getattr(kind.class_name())?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("status_code", status_code)?;
        kwargs.set_item("reason", &reason)?;
        kwargs.set_item("message", &message)?;
        let details = match &status {
            Some(s) => s.get_item("details").ok(),
            None => None,
        };
        kwargs.set_item("details", details)?;
        kwargs.set_item("status", status)?;
        kwargs.set_item("retry_after", retry_after)?;
        kwargs.set_item("url", url)?;
        let text = if message.is_empty() {
            format!("{status_code} {reason} for {url}")
        } else {
            format!("{status_code} {reason}: {message}")
        };
        Ok(PyErr::from_value(cls.call((text,), Some(&kwargs))?))
    };
    build().unwrap_or_else(|e| e)
}
