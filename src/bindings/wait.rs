//! Waiting on the runtime from a Python thread: the GIL is released while we wait, and
//! the wait is cut into slices so that Ctrl-C (a pending signal) is seen within ~0.1 s.

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
    let rt = crate::runtime::get();
    let mut handle = rt.spawn(fut);
    loop {
        let done = py.detach(|| rt.block_on(async { tokio::time::timeout(SLICE, &mut handle).await }));
        match done {
            Ok(Ok(result)) => return result.map_err(|e| to_py(py, e)),
            Ok(Err(join_error)) => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(format!("kubesession I/O task failed: {join_error}")))
            }
            Err(_elapsed) => {
                if let Err(interrupt) = py.check_signals() {
                    handle.abort();
                    return Err(interrupt);
                }
            }
        }
    }
}
