//! Waiting on the runtime from a Python thread: the GIL is released while we wait, and
//! the wait is cut into slices so that Ctrl-C (a pending signal) is seen within ~0.1 s.
//!
//! The future is driven by the calling thread itself (no spawn, no extra thread hop on
//! the hot path); dropping it on Ctrl-C cancels the request.

use std::future::Future;
use std::time::Duration;

use pyo3::prelude::*;

use super::errors::to_py;
use crate::error::Error;

const SLICE: Duration = Duration::from_millis(100);

pub fn block_on<F, T>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    if crate::runtime::is_shut_down() {
        return Err(to_py(py, Error::Closed));
    }
    let rt = crate::runtime::get();
    if tokio::runtime::Handle::try_current().is_ok() {
        // Nested: Python code called from inside a request this thread is driving (a
        // token source that itself makes a request). Run this one on the runtime's workers
        // and wait for it here, without entering the runtime a second time.
        let (tx, rx) = std::sync::mpsc::channel();
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        let result = py.detach(move || rx.recv());
        return match result {
            Ok(r) => r.map_err(|e| to_py(py, e)),
            Err(_) => Err(to_py(py, Error::Closed)),
        };
    }
    let mut fut = std::pin::pin!(fut);
    loop {
        // The timer must be created inside the runtime, hence the async block.
        let done = py.detach(|| rt.block_on(async { tokio::time::timeout(SLICE, fut.as_mut()).await }));
        match done {
            Ok(result) => return result.map_err(|e| to_py(py, e)),
            Err(_elapsed) => py.check_signals()?,
        }
    }
}
