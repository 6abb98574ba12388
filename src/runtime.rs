//! The one tokio runtime of the process, built on first use (never at import).

use std::sync::OnceLock;
use tokio::runtime::Runtime;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

pub fn get() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kubesession-io")
            .enable_all()
            .build()
            .expect("kubesession: cannot start the I/O runtime")
    })
}

/// rustls needs its crypto provider chosen once per process before any client is built.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
