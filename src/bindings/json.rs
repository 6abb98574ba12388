//! JSON bytes straight to Python objects (jiter), with Python's cyclic GC paused while the
//! tree is built: the GC is most of the cost of building a large tree of dicts.

use jiter::{FloatMode, PartialMode, PythonParse, StringCacheMode};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::errors::exception;

const PARSER: PythonParse = PythonParse {
    allow_inf_nan: false,
    cache_mode: StringCacheMode::All,
    partial_mode: PartialMode::Off,
    catch_duplicate_keys: false,
    float_mode: FloatMode::Float,
};

/// Restores the GC's previous state when dropped, even if parsing fails.
struct GcPause {
    was_enabled: bool,
}

impl GcPause {
    fn new(_py: Python<'_>) -> Self {
        // SAFETY: we hold the GIL (the `py` token proves it).
        let was_enabled = unsafe { pyo3::ffi::PyGC_Disable() } == 1;
        GcPause { was_enabled }
    }
}

impl Drop for GcPause {
    fn drop(&mut self) {
        if self.was_enabled {
            // SAFETY: created and dropped with the GIL held, within one call.
            unsafe { pyo3::ffi::PyGC_Enable() };
        }
    }
}

pub fn decode<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let _pause = GcPause::new(py);
    PARSER.python_parse(py, data).map_err(|e| {
        let position = e.get_position(data);
        exception(py, "JSONDecodeError", format!("response body is not valid JSON: {} at {position}", e.error_type))
    })
}

/// `kubesession._core.loads(b)`: the same decoder, for bytes the caller already has.
#[pyfunction]
pub fn loads<'py>(py: Python<'py>, data: &Bound<'py, PyBytes>) -> PyResult<Bound<'py, PyAny>> {
    decode(py, data.as_bytes())
}
