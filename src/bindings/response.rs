//! `kubesession._core.Response` and its streaming iterators.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyString};
use tokio::sync::Mutex;

use super::errors::api_error_from_body;
use super::json::decode;
use super::wait::block_on;
use crate::api::lines::{LineBuffer, DEFAULT_MAX_LINE};
use crate::error::Error;
use crate::transport;

pub struct Head {
    status: u16,
    headers: Vec<(String, String)>,
    url: String,
    elapsed: Duration,
    version: &'static str,
    retries: u32,
    /// Retry-After in seconds, read while the real header map is at hand.
    retry_after: Option<f64>,
}

impl Head {
    pub fn from_response(resp: &transport::Response, elapsed: Duration) -> Head {
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let version = match resp.http_version() {
            reqwest::Version::HTTP_2 => "HTTP/2",
            reqwest::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        };
        Head {
            status: resp.status().as_u16(),
            headers,
            url: resp.url().to_string(),
            elapsed,
            version,
            retries: resp.retries(),
            retry_after: crate::transport::retry::retry_after(resp.headers()).map(|d| d.as_secs_f64()),
        }
    }
}

pub enum Body {
    Loaded(Bytes),
    Streaming { resp: transport::Response, started: bool },
    Closed,
}

type SharedBody = Arc<Mutex<Body>>;

/// Reads whatever is left of a streamed body into memory.
async fn load(body: SharedBody) -> Result<Bytes, Error> {
    let mut guard = body.lock().await;
    match std::mem::replace(&mut *guard, Body::Closed) {
        Body::Loaded(b) => {
            *guard = Body::Loaded(b.clone());
            Ok(b)
        }
        Body::Streaming { started: true, .. } => {
            Err(Error::Body("the body was already partly read with iter_bytes()/iter_lines()".into()))
        }
        Body::Streaming { resp, started: false } => {
            let b = resp.bytes().await?;
            *guard = Body::Loaded(b.clone());
            Ok(b)
        }
        Body::Closed => Err(Error::Body("the response is closed".into())),
    }
}

/// The next chunk of a body: streamed from the network, or the loaded body at once.
async fn next_chunk(body: &SharedBody, loaded_sent: &mut bool) -> Result<Option<Bytes>, Error> {
    let mut guard = body.lock().await;
    match &mut *guard {
        Body::Loaded(b) => {
            if *loaded_sent || b.is_empty() {
                Ok(None)
            } else {
                *loaded_sent = true;
                Ok(Some(b.clone()))
            }
        }
        Body::Streaming { resp, started } => {
            *started = true;
            let chunk = resp.chunk().await?;
            if chunk.is_none() {
                *guard = Body::Closed;
            }
            Ok(chunk)
        }
        Body::Closed => Ok(None),
    }
}

#[pyclass(module = "kubesession._core", name = "Response", frozen)]
pub struct Response {
    head: Head,
    method: String,
    body: SharedBody,
    headers_obj: PyOnceLock<Py<PyAny>>,
}

static HEADERS_CLASS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

impl Response {
    pub fn new(head: Head, method: String, body: Body) -> Response {
        Response { head, method, body: Arc::new(Mutex::new(body)), headers_obj: PyOnceLock::new() }
    }

    fn line_state(&self, max_line: usize) -> LineState {
        LineState { body: self.body.clone(), lines: LineBuffer::new(max_line), loaded_sent: false, done: false }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The whole body, reading a streamed one to its end first.
    fn bytes(&self, py: Python<'_>) -> PyResult<Bytes> {
        if let Ok(guard) = self.body.try_lock() {
            if let Body::Loaded(b) = &*guard {
                return Ok(b.clone());
            }
        }
        block_on(py, load(self.body.clone()))
    }
}

#[pymethods]
impl Response {
    #[getter]
    fn status_code(&self) -> u16 {
        self.head.status
    }

    #[getter]
    fn ok(&self) -> bool {
        self.head.status < 400
    }

    #[getter]
    fn reason(&self) -> &'static str {
        reqwest::StatusCode::from_u16(self.head.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("")
    }

    #[getter]
    fn url(&self) -> &str {
        &self.head.url
    }

    #[getter]
    fn method(&self) -> &str {
        &self.method
    }

    #[getter]
    fn http_version(&self) -> &'static str {
        self.head.version
    }

    /// How many times the request was retried (429/503 with Retry-After).
    #[getter]
    fn retries(&self) -> u32 {
        self.head.retries
    }

    /// Time from sending the request to the arrival of the response head (a timedelta).
    #[getter]
    fn elapsed(&self) -> Duration {
        self.head.elapsed
    }

    /// A case-insensitive mapping of the response headers.
    #[getter]
    fn headers(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.headers_obj
            .get_or_try_init(py, || {
                let cls = HEADERS_CLASS.get_or_try_init(py, || {
                    Ok::<_, PyErr>(py.import("kubesession.structures")?.getattr("Headers")?.unbind())
                })?;
                Ok::<_, PyErr>(cls.bind(py).call1((self.head.headers.clone(),))?.unbind())
            })
            .map(|h| h.clone_ref(py))
    }

    #[getter]
    fn content<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let b = self.bytes(py)?;
        Ok(PyBytes::new(py, &b))
    }

    #[getter]
    fn text<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let b = self.bytes(py)?;
        let charset = self
            .header("content-type")
            .and_then(|ct| ct.split(';').map(str::trim).find_map(|p| p.strip_prefix("charset=")))
            .map(|c| c.trim_matches('"').to_ascii_lowercase());
        match charset.as_deref() {
            None | Some("utf-8") | Some("utf8") => Ok(PyString::new(py, &String::from_utf8_lossy(&b)).into_any()),
            Some(other) => PyBytes::new(py, &b).call_method1("decode", (other, "replace")),
        }
    }

    /// The body decoded from JSON into dicts and lists, in the Rust core.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let b = self.bytes(py)?;
        decode(py, &b)
    }

    /// Raises the `ApiError` subclass that matches the Kubernetes Status of a failed response.
    fn raise_for_status(&self, py: Python<'_>) -> PyResult<()> {
        let code = self.head.status;
        if code < 400 {
            return Ok(());
        }
        let body = self.bytes(py).unwrap_or_default();
        Err(api_error_from_body(py, code, &body, &self.head.url, self.head.retry_after))
    }

    /// The body as it arrives, chunk by chunk (with `stream=True`; otherwise the whole body once).
    #[pyo3(signature = (chunk_size=None))]
    fn iter_bytes(&self, chunk_size: Option<usize>) -> ByteIterator {
        let _ = chunk_size; // chunks are yielded as the network delivers them
        ByteIterator { body: self.body.clone(), loaded_sent: std::sync::Mutex::new(false) }
    }

    /// The body line by line (bytes, without the newline). A line longer than `max_line`
    /// bytes raises StreamError instead of exhausting memory.
    #[pyo3(signature = (max_line=DEFAULT_MAX_LINE))]
    fn iter_lines(&self, max_line: usize) -> LineIterator {
        LineIterator { state: Arc::new(Mutex::new(self.line_state(max_line))) }
    }

    /// `iter_lines()` for asyncio: `async for line in r.aiter_lines()`.
    #[pyo3(signature = (max_line=DEFAULT_MAX_LINE))]
    fn aiter_lines(&self, max_line: usize) -> super::aio::AsyncLineIterator {
        super::aio::AsyncLineIterator::new(self.line_state(max_line))
    }

    /// Releases the connection; the unread body is discarded.
    fn close(&self) {
        match self.body.try_lock() {
            Ok(mut g) => {
                if !matches!(*g, Body::Loaded(_)) {
                    *g = Body::Closed;
                }
            }
            Err(_) => {
                let body = self.body.clone();
                crate::runtime::get().spawn(async move {
                    let mut g = body.lock().await;
                    if !matches!(*g, Body::Loaded(_)) {
                        *g = Body::Closed;
                    }
                });
            }
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }

    fn __bool__(&self) -> bool {
        self.ok()
    }

    /// True when the body has been read (always, unless `stream=True` and not yet consumed):
    /// a notebook renders only what it can show without reading a stream.
    #[getter]
    fn body_loaded(&self) -> bool {
        self.body.try_lock().is_ok_and(|g| matches!(&*g, Body::Loaded(_)))
    }

    /// Jupyter: a table (name, namespace, age, status) of the object or list in the body.
    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Ok(slf.py().import("kubesession.display")?.call_method1("response_html", (slf,))?.unbind())
    }

    /// IPython: the same table as text.
    fn _repr_pretty_(slf: &Bound<'_, Self>, p: &Bound<'_, PyAny>, cycle: bool) -> PyResult<()> {
        slf.py().import("kubesession.display")?.call_method1("pretty", (slf, p, cycle))?;
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("<Response [{}]>", self.head.status)
    }
}

#[pyclass(module = "kubesession._core", name = "ByteIterator", frozen)]
pub struct ByteIterator {
    body: SharedBody,
    loaded_sent: std::sync::Mutex<bool>,
}

#[pymethods]
impl ByteIterator {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let body = self.body.clone();
        let mut sent = *self.loaded_sent.lock().unwrap_or_else(|p| p.into_inner());
        let (chunk, sent) = block_on(py, async move {
            let c = next_chunk(&body, &mut sent).await?;
            Ok((c, sent))
        })?;
        *self.loaded_sent.lock().unwrap_or_else(|p| p.into_inner()) = sent;
        Ok(chunk.map(|c| PyBytes::new(py, &c)))
    }
}

pub struct LineState {
    body: SharedBody,
    lines: LineBuffer,
    loaded_sent: bool,
    done: bool,
}

impl LineState {
    pub async fn next_line(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            if let Some(line) = self.lines.next_line()? {
                return Ok(Some(line));
            }
            if self.done {
                return Ok(self.lines.finish());
            }
            match next_chunk(&self.body, &mut self.loaded_sent).await? {
                Some(chunk) => self.lines.push(&chunk),
                None => self.done = true,
            }
        }
    }
}

#[pyclass(module = "kubesession._core", name = "LineIterator", frozen)]
pub struct LineIterator {
    state: Arc<Mutex<LineState>>,
}

#[pymethods]
impl LineIterator {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        // Fast path: a complete line is already buffered.
        if let Ok(mut st) = self.state.try_lock() {
            match st.lines.next_line() {
                Ok(Some(line)) => return Ok(Some(PyBytes::new(py, &line))),
                Ok(None) => {}
                Err(e) => return Err(super::errors::to_py(py, e)),
            }
        }
        let state = self.state.clone();
        let line = block_on(py, async move { state.lock().await.next_line().await })?;
        Ok(line.map(|l| PyBytes::new(py, &l)))
    }
}
