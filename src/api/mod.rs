//! The API layer: URLs relative to a server, and Kubernetes `Status` errors.

pub mod lines;
pub mod status;
pub mod url;
pub mod watch;

pub use status::{ApiErrorKind, Status};
