//! `kubesession._core.FakeCluster`: the in-process API server of `crate::fake`, for
//! `kubesession.testing`.

use std::time::Duration;

use pyo3::prelude::*;

use super::errors::to_py;
use crate::fake::{FakeCluster as Core, FakeOptions, ResourceType};

#[pyclass(module = "kubesession._core", name = "FakeCluster", frozen)]
pub struct FakeCluster {
    inner: Core,
}

#[pymethods]
impl FakeCluster {
    #[new]
    #[pyo3(signature = (history=10_000, bookmark_interval=60.0))]
    fn new(py: Python<'_>, history: usize, bookmark_interval: f64) -> PyResult<Self> {
        let options = FakeOptions { history, bookmark_interval: Duration::from_secs_f64(bookmark_interval.max(0.01)) };
        let inner = py.detach(move || Core::start(options)).map_err(|e| to_py(py, e))?;
        Ok(FakeCluster { inner })
    }

    #[getter]
    fn server(&self) -> &str {
        &self.inner.server
    }

    #[getter]
    fn ca_pem(&self) -> &str {
        &self.inner.ca_pem
    }

    #[getter]
    fn admin_token(&self) -> &str {
        &self.inner.admin_token
    }

    #[getter]
    fn resource_version(&self) -> u64 {
        self.inner.resource_version()
    }

    fn add_user(&self, name: &str, token: &str, rules: Vec<String>) {
        self.inner.add_user(name, token, &rules);
    }

    #[pyo3(signature = (group, version, kind, plural, namespaced=true, status=true))]
    fn register(&self, group: &str, version: &str, kind: &str, plural: &str, namespaced: bool, status: bool) {
        self.inner.register(ResourceType::new(group, version, kind, plural, namespaced, status));
    }

    #[pyo3(signature = (n, status=503, retry_after=None))]
    fn fail_next(&self, n: u32, status: u16, retry_after: Option<u64>) {
        self.inner.fail_next(n, status, retry_after);
    }

    fn latency(&self, seconds: f64) {
        self.inner.set_latency(Duration::from_secs_f64(seconds.max(0.0)));
    }

    fn drop_watches(&self) {
        self.inner.drop_watches();
    }

    fn compact(&self) {
        self.inner.compact();
    }

    fn stop(&self) {
        self.inner.stop();
    }
}
