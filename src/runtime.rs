//! The one tokio runtime of the process, built on first use (never at import), and shut
//! down at interpreter exit (see `bindings::aio`): tokio workers must not call into a
//! finalizing Python.

use std::sync::{Mutex, OnceLock};
use tokio::runtime::{Handle, Runtime};

struct Shared {
    handle: Handle,
    runtime: Mutex<Option<Runtime>>,
}

static RUNTIME: OnceLock<Shared> = OnceLock::new();

fn shared() -> &'static Shared {
    RUNTIME.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kubesession-io")
            .enable_all()
            .build()
            .expect("kubesession: cannot start the I/O runtime");
        Shared { handle: runtime.handle().clone(), runtime: Mutex::new(Some(runtime)) }
    })
}

/// A handle to the runtime: `spawn` and `block_on` from any thread.
pub fn get() -> &'static Handle {
    &shared().handle
}

/// True once [`shutdown`] ran: nothing may be started any more.
pub fn is_shut_down() -> bool {
    RUNTIME.get().is_some_and(|s| s.runtime.lock().map(|r| r.is_none()).unwrap_or(true))
}

/// Stops the runtime: running tasks are dropped at their next await point. For process
/// exit only; the caller must not hold the GIL (workers may be waiting for it).
pub fn shutdown(grace: std::time::Duration) {
    if let Some(s) = RUNTIME.get() {
        let taken = s.runtime.lock().ok().and_then(|mut r| r.take());
        if let Some(rt) = taken {
            rt.shutdown_timeout(grace);
        }
    }
}

/// rustls needs its crypto provider chosen once per process before any client is built.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
