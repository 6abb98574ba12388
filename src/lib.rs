//! kubesession's Rust core.
//!
//! The layers, each usable and testable without Python, data flowing one way:
//! `config` (kubeconfig, in-cluster) -> `credentials` (token sources) -> `tls`
//! (rustls configuration and error explanations) -> `transport` (one reqwest client per
//! Session, auth, retries, timeouts) -> `api` (URLs, Kubernetes `Status` errors).
//! `bindings` is the only module that knows about Python. `fake` (FakeCluster, an
//! in-process API server for tests) stands beside the layers; none of them uses it.

pub mod api;
pub mod config;
pub mod credentials;
pub mod error;
pub mod fake;
pub mod runtime;
pub mod secret;
pub mod tls;
pub mod transport;

#[cfg(feature = "python")]
mod bindings;

pub use error::Error;
