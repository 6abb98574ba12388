//! asyncio: Rust futures as Python awaitables (pyo3-async-runtimes, on our own runtime),
//! the async watch, async body iterators, and the exit-time shutdown.

use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use pyo3_async_runtimes::generic::{ContextExt, Runtime};
use pyo3_async_runtimes::TaskLocals;
use tokio::sync::Mutex;

use super::errors::to_py;
use super::response::LineState;
use super::watch::{WatchEvent, WatchHandle};
use crate::api::watch::Watcher;
use crate::error::Error;

/// Our tokio runtime as seen by pyo3-async-runtimes: tasks go to `crate::runtime`, which
/// (unlike a `&'static Runtime`) can be shut down before the interpreter finalizes.
pub struct KsRuntime;

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

impl Runtime for KsRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        crate::runtime::get().spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        crate::runtime::get().spawn_blocking(f)
    }
}

impl ContextExt for KsRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS.try_with(|c| c.get().cloned()).unwrap_or_default()
    }
}

/// A core future as an awaitable; core errors become kubesession exceptions.
pub fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    if crate::runtime::is_shut_down() {
        return Err(to_py(py, Error::Closed));
    }
    pyo3_async_runtimes::generic::future_into_py::<KsRuntime, _, T>(py, async move {
        fut.await.map_err(|e| Python::attach(|py| to_py(py, e)))
    })
}

/// Registered with `atexit`: stops the runtime while the interpreter is still whole, so
/// that no tokio worker completes an asyncio future during finalization (which aborts
/// the process: PyO3/pyo3-async-runtimes#40).
#[pyfunction]
pub fn _shutdown(py: Python<'_>) {
    py.detach(|| crate::runtime::shutdown(Duration::from_millis(250)));
}

/// `async for ev in session.watch(...)`.
#[pyclass(module = "kubesession._core", name = "AsyncWatch", frozen)]
pub struct AsyncWatch {
    handle: WatchHandle,
}

impl AsyncWatch {
    pub fn new(watcher: Watcher) -> AsyncWatch {
        AsyncWatch { handle: WatchHandle::new(watcher) }
    }
}

#[pymethods]
impl AsyncWatch {
    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(slf: Py<Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let this = slf.get();
        // Hot path: an event already buffered is handed back as an awaitable that is
        // complete at once, without a round trip through the event loop.
        if let Some(ev) = this.handle.next_buffered(py)? {
            return Ok(Bound::new(py, Ready { value: std::sync::Mutex::new(Some(Py::new(py, ev)?.into_any())) })?.into_any());
        }
        if crate::runtime::is_shut_down() {
            return Err(to_py(py, Error::Closed));
        }
        let next = this.handle.next_event();
        pyo3_async_runtimes::generic::future_into_py::<KsRuntime, _, WatchEvent>(py, async move {
            let ev = next.await;
            Python::attach(|py| match ev {
                Ok(Some(ev)) => slf.get().handle.decode(py, ev),
                Ok(None) => Err(PyStopAsyncIteration::new_err(())),
                Err(e) => Err(to_py(py, e)),
            })
        })
    }

    #[getter]
    fn resource_version(&self) -> Option<String> {
        self.handle.resource_version()
    }

    #[getter]
    fn reconnects(&self) -> u64 {
        self.handle.reconnects()
    }

    #[getter]
    fn stopped(&self) -> bool {
        self.handle.stopped()
    }

    /// Ends the watch; a pending `__anext__` finishes with StopAsyncIteration.
    fn stop(&self) {
        self.handle.stop();
    }

    fn __aenter__<'py>(slf: Py<Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable(py, async move { Ok(slf) })
    }

    #[pyo3(signature = (*_args))]
    fn __aexit__<'py>(&self, py: Python<'py>, _args: &Bound<'py, pyo3::types::PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.stop();
        awaitable(py, async move { Ok(false) })
    }
}

/// An awaitable that is already complete: `await` returns `value` at once.
#[pyclass(module = "kubesession._core", name = "Ready")]
pub struct Ready {
    value: std::sync::Mutex<Option<Py<PyAny>>>,
}

#[pymethods]
impl Ready {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = self.value.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or_else(|| py.None());
        Err(pyo3::exceptions::PyStopIteration::new_err((value,)))
    }

    fn send(&self, py: Python<'_>, _value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.__next__(py)
    }

    #[pyo3(signature = (exc, *_args))]
    fn throw(&self, exc: &Bound<'_, PyAny>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<()> {
        Err(PyErr::from_value(exc.clone()))
    }

    fn close(&self) {}
}

/// `async for line in response.aiter_lines()`.
#[pyclass(module = "kubesession._core", name = "AsyncLineIterator", frozen)]
pub struct AsyncLineIterator {
    state: Arc<Mutex<LineState>>,
}

impl AsyncLineIterator {
    pub fn new(state: LineState) -> Self {
        AsyncLineIterator { state: Arc::new(Mutex::new(state)) }
    }
}

#[pymethods]
impl AsyncLineIterator {
    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let state = self.state.clone();
        pyo3_async_runtimes::generic::future_into_py::<KsRuntime, _, Py<PyAny>>(py, async move {
            let line = state.lock().await.next_line().await;
            Python::attach(|py| match line {
                Ok(Some(l)) => Ok(pyo3::types::PyBytes::new(py, &l).into_any().unbind()),
                Ok(None) => Err(PyStopAsyncIteration::new_err(())),
                Err(e) => Err(to_py(py, e)),
            })
        })
    }
}
