//! YAML for the CLI (`apply -f`, `-o yaml`) through the core's YAML library, so that
//! kubesession needs no Python YAML package. JSON text crosses the boundary.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The documents of a YAML (or JSON) text, as one JSON array text. Errors give the
/// position, never the text (a manifest can hold secrets).
#[pyfunction]
pub fn yaml_documents_as_json(py: Python<'_>, text: &str) -> PyResult<String> {
    let text = text.to_string();
    py.detach(move || {
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).map_err(|e| {
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("").to_string();
            PyValueError::new_err(format!("not valid YAML: {first}"))
        })?;
        let docs: Vec<serde_json::Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
        Ok(serde_json::to_string(&docs).expect("JSON"))
    })
}

/// A JSON text as YAML.
#[pyfunction]
pub fn json_as_yaml(json: &str) -> PyResult<String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| PyValueError::new_err(e.to_string()))?;
    serde_saphyr::to_string(&value).map_err(|e| PyValueError::new_err(e.to_string()))
}
