//! `kubesession._core.Client`: a configured transport. The Python `Session` wraps it.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;

use super::errors::to_py;
use super::response::{Body, Head, Response};
use super::wait::block_on;
use crate::config::{self, AuthConfig, Overrides, Source};
use crate::error::Error;
use crate::secret::{SecretBytes, SecretString};
use crate::transport::{retry::RetryPolicy, Request, Timeouts, Transport, TransportOptions, DEFAULT_TIMEOUTS};

type TimeoutArg = (Option<f64>, Option<f64>);

#[pyclass(module = "kubesession._core", name = "Client", frozen)]
pub struct Client {
    transport: RwLock<Option<Arc<Transport>>>,
    #[pyo3(get)]
    server: String,
    #[pyo3(get)]
    namespace: String,
    #[pyo3(get)]
    insecure: bool,
    /// Where the configuration came from ("kubeconfig /x (context y)").
    #[pyo3(get)]
    origin: String,
    /// "token", "token-file", "basic", "client-certificate" or "none".
    #[pyo3(get)]
    auth: &'static str,
    /// The configured CA (PEM), for writing this Session into a kubeconfig.
    ca_pem: Option<Vec<u8>>,
}

fn to_duration(secs: Option<f64>) -> PyResult<Option<Duration>> {
    match secs {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(pyo3::exceptions::PyValueError::new_err(format!("timeout must be a positive number of seconds, not {s}"))),
    }
}

fn to_timeouts(t: TimeoutArg) -> PyResult<Timeouts> {
    Ok(Timeouts { connect: to_duration(t.0)?, read: to_duration(t.1)? })
}

fn header_map(py: Python<'_>, pairs: Vec<(String, String)>) -> PyResult<HeaderMap> {
    let mut map = HeaderMap::with_capacity(pairs.len());
    for (k, v) in pairs {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| to_py(py, Error::InvalidRequest(format!("invalid header name {k:?}"))))?;
        let mut value = HeaderValue::from_str(&v)
            .map_err(|_| to_py(py, Error::InvalidRequest(format!("invalid value for header {k:?}"))))?;
        if name == reqwest::header::AUTHORIZATION {
            value.set_sensitive(true);
        }
        map.append(name, value);
    }
    Ok(map)
}

/// A Python callable as a token source: called (with the GIL) for the current token; its
/// `invalidate()`, if it has one, is called after a 401.
#[derive(Debug)]
struct PyTokenProvider {
    callable: Py<PyAny>,
}

impl crate::credentials::TokenProvider for PyTokenProvider {
    fn token(&self) -> Result<SecretString, Error> {
        Python::attach(|py| {
            let value = self.callable.bind(py).call0().map_err(|e| Error::Auth(format!("the token source failed: {e}")))?;
            let token: String =
                value.extract().map_err(|_| Error::Auth("the token source did not return a string".into()))?;
            Ok(SecretString::new(token))
        })
    }

    fn invalidate(&self) -> bool {
        Python::attach(|py| {
            let f = self.callable.bind(py);
            f.hasattr("invalidate").unwrap_or(false) && f.call_method0("invalidate").is_ok()
        })
    }
}

/// Sends a prepared request and reads the body unless streaming: the one implementation
/// behind both the blocking and the async faces.
async fn execute(transport: Arc<Transport>, req: Request, stream: bool) -> Result<Response, Error> {
    let start = Instant::now();
    let method = req.method.as_str().to_string();
    let resp = transport.send(req).await?;
    let head = Head::from_response(&resp, start.elapsed());
    let body = if stream { Body::Streaming { resp, started: false } } else { Body::Loaded(resp.bytes().await?) };
    Ok(Response::new(head, method, body))
}

impl Client {
    #[allow(clippy::too_many_arguments)]
    fn prepare(
        &self,
        py: Python<'_>,
        method: &str,
        url: &str,
        params: Option<Vec<(String, String)>>,
        headers: Option<Vec<(String, String)>>,
        body: Option<&Bound<'_, PyBytes>>,
        timeout: Option<TimeoutArg>,
    ) -> PyResult<(Arc<Transport>, Request)> {
        let transport = self.transport(py)?;
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| to_py(py, Error::InvalidRequest(format!("invalid HTTP method {method:?}"))))?;
        let mut full = crate::api::url::join(transport.server(), url).map_err(|e| to_py(py, e))?;
        if let Some(p) = params {
            crate::api::url::add_params(&mut full, &p);
        }
        let req = Request {
            method,
            url: full,
            headers: header_map(py, headers.unwrap_or_default())?,
            body: body.map(|b| Bytes::copy_from_slice(b.as_bytes())),
            timeouts: timeout.map(to_timeouts).transpose()?,
        };
        Ok((transport, req))
    }

    fn transport(&self, py: Python<'_>) -> PyResult<Arc<Transport>> {
        self.transport
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| to_py(py, Error::Closed))
    }
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (*, source="auto", kubeconfig=None, context=None, service_account_dir=None, server=None,
        token=None, token_file=None, ca_file=None, ca_data=None, client_cert=None, client_key=None,
        client_cert_data=None, client_key_data=None, insecure=None, tls_server_name=None, proxy=None,
        timeout=None, namespace=None, allow_insecure_http=false, retries=3, http2=false, token_provider=None, follow_redirects=true))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        source: &str,
        kubeconfig: Option<Vec<PathBuf>>,
        context: Option<String>,
        service_account_dir: Option<PathBuf>,
        server: Option<String>,
        token: Option<String>,
        token_file: Option<PathBuf>,
        ca_file: Option<PathBuf>,
        ca_data: Option<Vec<u8>>,
        client_cert: Option<PathBuf>,
        client_key: Option<PathBuf>,
        client_cert_data: Option<Vec<u8>>,
        client_key_data: Option<Vec<u8>>,
        insecure: Option<bool>,
        tls_server_name: Option<String>,
        proxy: Option<String>,
        timeout: Option<TimeoutArg>,
        namespace: Option<String>,
        allow_insecure_http: bool,
        retries: u32,
        http2: bool,
        token_provider: Option<Py<PyAny>>,
        follow_redirects: bool,
    ) -> PyResult<Client> {
        let overrides = Overrides {
            server,
            token: token.map(SecretString::new),
            token_file,
            ca_file,
            ca_data,
            client_cert,
            client_key,
            client_cert_data,
            client_key_data: client_key_data.map(SecretBytes::new),
            insecure,
            tls_server_name,
            proxy,
            namespace,
        };
        let source = match source {
            "auto" => Source::Auto { context },
            "kubeconfig" => Source::Kubeconfig { paths: kubeconfig, context },
            "in_cluster" => Source::InCluster { dir: service_account_dir },
            other => return Err(pyo3::exceptions::PyValueError::new_err(format!("unknown source {other:?}"))),
        };
        let options = TransportOptions {
            timeouts: match timeout {
                Some(t) => to_timeouts(t)?,
                None => DEFAULT_TIMEOUTS,
            },
            allow_insecure_http,
            retry: RetryPolicy { max_retries: retries, ..RetryPolicy::default() },
            http2,
            follow_redirects,
            token_provider: token_provider.map(|f| {
                Arc::new(PyTokenProvider { callable: f }) as Arc<dyn crate::credentials::TokenProvider>
            }),
            ..TransportOptions::default()
        };
        // Reading files and building the TLS configuration: no GIL needed.
        let built = py.detach(move || -> Result<_, Error> {
            let cfg = config::load(&source, &overrides, &|k| std::env::var(k).ok())?;
            let transport = Transport::new(&cfg, options)?;
            Ok((cfg, transport))
        });
        let (cfg, transport) = built.map_err(|e| to_py(py, e))?;
        let auth = match (&cfg.auth, cfg.tls.client_identity.is_some()) {
            _ if transport.credentials().is_provider() => "token-source",
            (AuthConfig::Token(_), _) => "token",
            (AuthConfig::TokenFile(_), _) => "token-file",
            (AuthConfig::Basic { .. }, _) => "basic",
            (AuthConfig::Exec(_), _) => "exec",
            (_, true) => "client-certificate",
            _ => "none",
        };
        Ok(Client {
            transport: RwLock::new(Some(Arc::new(transport))),
            server: cfg.server.as_str().trim_end_matches('/').to_string(),
            namespace: cfg.namespace.clone().unwrap_or_else(|| "default".to_string()),
            insecure: cfg.tls.insecure,
            origin: cfg.origin.clone(),
            auth,
            ca_pem: cfg.tls.ca.as_ref().map(|ca| ca.data.clone()),
        })
    }

    /// Sends one request. `url` is a path joined to the server, or an absolute URL.
    #[pyo3(signature = (method, url, params=None, headers=None, body=None, timeout=None, stream=false))]
    #[allow(clippy::too_many_arguments)]
    fn request(
        &self,
        py: Python<'_>,
        method: &str,
        url: &str,
        params: Option<Vec<(String, String)>>,
        headers: Option<Vec<(String, String)>>,
        body: Option<&Bound<'_, PyBytes>>,
        timeout: Option<TimeoutArg>,
        stream: bool,
    ) -> PyResult<Response> {
        let (transport, req) = self.prepare(py, method, url, params, headers, body, timeout)?;
        block_on(py, execute(transport, req, stream))
    }

    /// `request` as an awaitable (for AsyncSession).
    #[pyo3(signature = (method, url, params=None, headers=None, body=None, timeout=None, stream=false))]
    #[allow(clippy::too_many_arguments)]
    fn request_async<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        url: &str,
        params: Option<Vec<(String, String)>>,
        headers: Option<Vec<(String, String)>>,
        body: Option<&Bound<'py, PyBytes>>,
        timeout: Option<TimeoutArg>,
        stream: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (transport, req) = self.prepare(py, method, url, params, headers, body, timeout)?;
        super::aio::awaitable(py, execute(transport, req, stream))
    }

    /// Watches a collection (see `Session.watch`).
    #[pyo3(signature = (path, label_selector=None, field_selector=None, resource_version=None, timeout=None,
        bookmarks=false, idle_timeout=None, server_timeout=None, max_line=crate::api::lines::DEFAULT_MAX_LINE,
        asynchronous=false, transport="http"))]
    #[allow(clippy::too_many_arguments)]
    fn watch(
        &self,
        py: Python<'_>,
        path: String,
        label_selector: Option<String>,
        field_selector: Option<String>,
        resource_version: Option<String>,
        timeout: Option<f64>,
        bookmarks: bool,
        idle_timeout: Option<f64>,
        server_timeout: Option<(u64, u64)>,
        max_line: usize,
        asynchronous: bool,
        transport: &str,
    ) -> PyResult<Py<PyAny>> {
        let watch_transport = match transport {
            "http" => crate::api::watch::WatchTransport::Http,
            "websocket" => crate::api::watch::WatchTransport::WebSocket,
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "transport must be \"http\" or \"websocket\", not {other:?}"
                )))
            }
        };
        let client_transport = self.transport(py)?;
        let mut params = crate::api::watch::WatchParams::new(path);
        params.transport = watch_transport;
        params.label_selector = label_selector;
        params.field_selector = field_selector;
        params.resource_version = resource_version.filter(|rv| !rv.is_empty());
        params.timeout = super::watch::seconds(timeout, "timeout")?;
        params.bookmarks = bookmarks;
        params.idle_timeout = super::watch::seconds(idle_timeout, "idle_timeout")?;
        if let Some((lo, hi)) = server_timeout {
            if lo == 0 || hi < lo {
                return Err(pyo3::exceptions::PyValueError::new_err("server_timeout must be (low, high) seconds, 0 < low <= high"));
            }
            params.server_timeout = (lo, hi);
        }
        params.max_line = max_line;
        let watcher = crate::api::watch::Watcher::new(client_transport, params);
        if asynchronous {
            Ok(Py::new(py, super::aio::AsyncWatch::new(watcher))?.into_any())
        } else {
            Ok(Py::new(py, super::watch::Watch::new(watcher))?.into_any())
        }
    }

    /// The bearer token in use (from whichever source: argument, token file, exec plugin),
    /// or None. The one place a token is shown on purpose.
    #[getter]
    fn token(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let transport = self.transport(py)?;
        let token = py.detach(move || transport.credentials().token());
        token.map(|t| t.map(|t| t.expose().to_string())).map_err(|e| to_py(py, e))
    }

    /// The CA the Session trusts (PEM bytes), when one is configured.
    #[getter]
    fn ca_pem<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.ca_pem.as_deref().map(|pem| PyBytes::new(py, pem))
    }

    /// Writes this Session's server, CA and token into the kubeconfig at `path` as context
    /// `context` (made current; other entries kept; mode 0600).
    #[pyo3(signature = (path, context, namespace=None))]
    fn save_kubeconfig(&self, py: Python<'_>, path: PathBuf, context: String, namespace: Option<String>) -> PyResult<()> {
        let token = self.token(py)?;
        let entry = crate::config::save::SavedContext {
            context: &context,
            server: &self.server,
            ca_pem: self.ca_pem.as_deref(),
            insecure: self.insecure,
            token: token.as_deref(),
            namespace: namespace.as_deref(),
        };
        crate::config::save::save_context(&path, &entry).map_err(|e| to_py(py, Error::Config(e)))
    }

    /// Frees the connections. Later requests raise SessionClosed.
    fn close(&self) {
        self.transport.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    #[getter]
    fn closed(&self) -> bool {
        self.transport.read().unwrap_or_else(|p| p.into_inner()).is_none()
    }
}
