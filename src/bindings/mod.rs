//! The Python face of the core: the only module that uses PyO3.

mod aio;
mod client;
mod errors;
mod fake;
mod json;
mod response;
mod wait;
mod watch;
mod yaml;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::runtime::install_crypto_provider();
    m.add_class::<client::Client>()?;
    m.add_class::<response::Response>()?;
    m.add_class::<response::ByteIterator>()?;
    m.add_class::<response::LineIterator>()?;
    m.add_class::<watch::Watch>()?;
    m.add_class::<watch::WatchEvent>()?;
    m.add_class::<fake::FakeCluster>()?;
    m.add_class::<aio::AsyncWatch>()?;
    m.add_class::<aio::AsyncLineIterator>()?;
    m.add_function(wrap_pyfunction!(aio::_shutdown, m)?)?;
    m.add_function(wrap_pyfunction!(json::loads, m)?)?;
    m.add_function(wrap_pyfunction!(yaml::yaml_documents_as_json, m)?)?;
    m.add_function(wrap_pyfunction!(yaml::json_as_yaml, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
