//! `kubesession._core.Watch` (a blocking iterator) and `WatchEvent`.

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use pyo3::prelude::*;
use tokio::sync::Mutex;

use super::errors::to_py;
use super::json::decode;
use super::wait::block_on;
use crate::api::watch::{Event, StopHandle, Watcher};
use crate::error::Error;

/// One watch event: `type` ("ADDED", "MODIFIED", "DELETED", "BOOKMARK" or "RESYNC") and
/// `object` (a dict; for RESYNC the fresh list). `ev["type"]`/`ev["object"]` work too, as
/// with the official client's dict events.
#[pyclass(module = "kubesession._core", name = "WatchEvent", frozen)]
pub struct WatchEvent {
    #[pyo3(get, name = "type")]
    kind: &'static str,
    #[pyo3(get)]
    object: Py<PyAny>,
}

impl WatchEvent {
    /// Decodes the event's object. A malformed object is a bad line in the stream: the
    /// watch ends with a StreamError naming the line's offset.
    pub fn from_event(py: Python<'_>, ev: Event, stop: &StopHandle) -> PyResult<WatchEvent> {
        match decode(py, &ev.object) {
            Ok(object) => Ok(WatchEvent { kind: ev.kind.as_str(), object: object.unbind() }),
            Err(e) => {
                stop.stop();
                Err(to_py(py, Error::Body(format!(
                    "bad line in the watch stream at byte offset {}: {}",
                    ev.offset,
                    e.value(py)
                ))))
            }
        }
    }
}

#[pymethods]
impl WatchEvent {
    fn __getitem__(&self, py: Python<'_>, key: &str) -> PyResult<Py<PyAny>> {
        match key {
            "type" => Ok(self.kind.into_pyobject(py)?.into_any().unbind()),
            "object" => Ok(self.object.clone_ref(py)),
            _ => Err(pyo3::exceptions::PyKeyError::new_err(key.to_string())),
        }
    }

    /// Jupyter: one table row (type, kind, name, namespace, age, status).
    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Ok(slf.py().import("kubesession.display")?.call_method1("event_html", (slf,))?.unbind())
    }

    fn _repr_pretty_(slf: &Bound<'_, Self>, p: &Bound<'_, PyAny>, cycle: bool) -> PyResult<()> {
        slf.py().import("kubesession.display")?.call_method1("pretty", (slf, p, cycle))?;
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let obj = self.object.bind(py);
        let field = |path: &[&str]| -> Option<String> {
            let mut cur = obj.clone();
            for p in path {
                cur = cur.get_item(*p).ok()?;
            }
            cur.extract::<String>().ok()
        };
        let kind = field(&["kind"]).unwrap_or_default();
        let name = match (field(&["metadata", "namespace"]), field(&["metadata", "name"])) {
            (Some(ns), Some(n)) => format!("{ns}/{n}"),
            (None, Some(n)) => n,
            _ => field(&["metadata", "resourceVersion"]).map(|rv| format!("rv={rv}")).unwrap_or_default(),
        };
        format!("<WatchEvent {} {kind} {name}>", self.kind)
    }
}

/// What the sync and async watch objects share: the core watcher, its stop handle, and
/// what the last wait saw (readable while another thread holds the watcher).
pub struct WatchHandle {
    watcher: Arc<Mutex<Watcher>>,
    stop: Arc<StopHandle>,
    seen: Arc<StdMutex<Seen>>,
}

#[derive(Default)]
struct Seen {
    resource_version: Option<String>,
    reconnects: u64,
}

impl WatchHandle {
    pub fn new(mut watcher: Watcher) -> WatchHandle {
        let stop = watcher.stop_handle();
        let seen = Seen { resource_version: watcher.resource_version().map(str::to_string), reconnects: 0 };
        WatchHandle { watcher: Arc::new(Mutex::new(watcher)), stop, seen: Arc::new(StdMutex::new(seen)) }
    }

    /// Hot path: the next event if it is already buffered (no GIL release, no task switch).
    pub fn next_buffered(&self, py: Python<'_>) -> PyResult<Option<WatchEvent>> {
        let Ok(mut w) = self.watcher.try_lock() else { return Ok(None) };
        match w.next_buffered() {
            Ok(Some(ev)) => WatchEvent::from_event(py, ev, &self.stop).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(to_py(py, e)),
        }
    }

    /// The next event, waiting for I/O; records what the wait saw.
    pub fn next_event(&self) -> impl std::future::Future<Output = Result<Option<Event>, Error>> + Send + 'static {
        let watcher = self.watcher.clone();
        let seen = self.seen.clone();
        async move {
            let mut w = watcher.lock().await;
            let ev = w.next().await;
            let mut s = seen.lock().unwrap_or_else(|p| p.into_inner());
            s.resource_version = w.resource_version().map(str::to_string);
            s.reconnects = w.reconnects();
            ev
        }
    }

    pub fn decode(&self, py: Python<'_>, ev: Event) -> PyResult<WatchEvent> {
        WatchEvent::from_event(py, ev, &self.stop)
    }

    pub fn resource_version(&self) -> Option<String> {
        match self.watcher.try_lock() {
            Ok(mut w) => w.resource_version().map(str::to_string),
            Err(_) => self.seen.lock().unwrap_or_else(|p| p.into_inner()).resource_version.clone(),
        }
    }

    pub fn reconnects(&self) -> u64 {
        match self.watcher.try_lock() {
            Ok(w) => w.reconnects(),
            Err(_) => self.seen.lock().unwrap_or_else(|p| p.into_inner()).reconnects,
        }
    }

    pub fn stop(&self) {
        self.stop.stop();
    }

    pub fn stopped(&self) -> bool {
        self.stop.is_stopped()
    }
}

#[pyclass(module = "kubesession._core", name = "Watch", frozen)]
pub struct Watch {
    handle: WatchHandle,
}

impl Watch {
    pub fn new(watcher: Watcher) -> Watch {
        Watch { handle: WatchHandle::new(watcher) }
    }
}

#[pymethods]
impl Watch {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<WatchEvent>> {
        if let Some(ev) = self.handle.next_buffered(py)? {
            return Ok(Some(ev));
        }
        let ev = block_on(py, self.handle.next_event())?;
        ev.map(|ev| self.handle.decode(py, ev)).transpose()
    }

    /// The resourceVersion of the last event delivered (bookmarks included).
    #[getter]
    fn resource_version(&self) -> Option<String> {
        self.handle.resource_version()
    }

    /// How many times the watch reconnected (server timeouts, broken or idle connections).
    #[getter]
    fn reconnects(&self) -> u64 {
        self.handle.reconnects()
    }

    #[getter]
    fn stopped(&self) -> bool {
        self.handle.stopped()
    }

    /// Ends the watch, from any thread; a pending iteration returns promptly.
    fn stop(&self) {
        self.handle.stop();
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.handle.stop();
        false
    }
}

pub fn seconds(value: Option<f64>, what: &str) -> PyResult<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(pyo3::exceptions::PyValueError::new_err(format!("{what} must be a positive number of seconds, not {s}"))),
    }
}
