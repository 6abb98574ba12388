//! FakeCluster: an in-process Kubernetes API server for tests and demos, on 127.0.0.1 with
//! a fresh CA and TLS. It serves any resource path generically from an in-memory store
//! (CRUD, merge and JSON patches, server-side apply as a merge, selectors, pagination,
//! watches with bookmarks and 410 Expired past its history), bearer-token users with fixed
//! permissions, and injected faults. It does no admission, defaulting (beyond a Namespace's
//! phase), RBAC rule evaluation or subresources other than `status`.
//!
//! It is its own branch beside the client layers: nothing in the client depends on it.

mod access;
mod patch;
mod pki;
mod resources;
mod selectors;
mod server;
mod status;
mod store;

use std::sync::Arc;
use std::time::Duration;

pub use resources::ResourceType;

use crate::error::Error;

#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// How many change events watches can resume from; older versions answer 410 Expired.
    pub history: usize,
    /// How often a watch that asked for bookmarks gets one.
    pub bookmark_interval: Duration,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions { history: 10_000, bookmark_interval: Duration::from_secs(60) }
    }
}

pub struct FakeCluster {
    state: Arc<server::State>,
    pub server: String,
    pub ca_pem: String,
    pub admin_token: String,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl FakeCluster {
    /// Starts a FakeCluster on the process's runtime, on a free port of 127.0.0.1.
    pub fn start(options: FakeOptions) -> Result<FakeCluster, Error> {
        let pki = pki::generate().map_err(Error::InvalidRequest)?;
        let rt = crate::runtime::get();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
            .map_err(|e| Error::InvalidRequest(format!("FakeCluster cannot listen on 127.0.0.1: {e}")))?;
        let port = listener.local_addr().map_err(|e| Error::InvalidRequest(e.to_string()))?.port();
        let state = Arc::new(server::State {
            store: store::Store::new(options.history),
            types: std::sync::RwLock::new(resources::builtins()),
            users: access::Users::default(),
            faults: access::Faults::default(),
            address: format!("127.0.0.1:{port}"),
            bookmark_interval: options.bookmark_interval,
        });
        let admin_token: String = (0..32).map(|_| char::from_digit(fastrand::u32(..16), 16).expect("hex")).collect();
        state.users.add(&admin_token, access::User::new("admin", &["*".to_string()]));
        let (shutdown, watch) = tokio::sync::watch::channel(false);
        rt.spawn(server::serve(listener, pki.server_config, state.clone(), watch));
        Ok(FakeCluster { state, server: format!("https://127.0.0.1:{port}"), ca_pem: pki.ca_pem, admin_token, shutdown })
    }

    pub fn add_user(&self, name: &str, token: &str, rules: &[String]) {
        self.state.users.add(token, access::User::new(name, rules));
    }

    /// Serves a new kind (a CRD's, say) with its discovery entry. Registering a served
    /// group/version/plural again replaces it.
    pub fn register(&self, t: ResourceType) {
        let mut types = self.state.types.write().unwrap_or_else(|p| p.into_inner());
        types.retain(|x| !(x.group == t.group && x.version == t.version && x.plural == t.plural));
        types.push(t);
    }

    pub fn fail_next(&self, n: u32, status: u16, retry_after: Option<u64>) {
        self.state.faults.fail_next(n, status, retry_after);
    }

    pub fn set_latency(&self, latency: Duration) {
        self.state.faults.set_latency(latency);
    }

    pub fn drop_watches(&self) {
        self.state.faults.drop_watches();
    }

    /// Forgets the change history: watches from any earlier resourceVersion get 410.
    pub fn compact(&self) {
        self.state.store.compact();
    }

    pub fn resource_version(&self) -> u64 {
        self.state.store.resource_version()
    }

    /// Stops listening and closes every connection (WebSocket watches, which have left
    /// their HTTP connection, end with the watches). Idempotent.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
        self.state.faults.drop_watches();
    }
}

impl Drop for FakeCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AuthConfig, ClusterConfig, Pem, TlsConfig};
    use crate::secret::SecretString;
    use crate::transport::{Request, Transport, TransportOptions};

    fn client(cluster: &FakeCluster, token: &str) -> Transport {
        let cfg = ClusterConfig {
            server: url::Url::parse(&cluster.server).unwrap(),
            tls: TlsConfig {
                ca: Some(Pem { data: cluster.ca_pem.clone().into_bytes(), origin: "FakeCluster".into() }),
                ..TlsConfig::default()
            },
            auth: AuthConfig::Token(SecretString::new(token)),
            proxy_url: None,
            namespace: None,
            origin: "test".into(),
        };
        Transport::new(&cfg, TransportOptions::default()).unwrap()
    }

    fn send(t: &Transport, method: reqwest::Method, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        let req = Request {
            method,
            url: t.server().join(path).unwrap(),
            headers,
            body: body.map(|b| bytes::Bytes::from(b.to_string())),
            timeouts: None,
        };
        crate::runtime::get().block_on(async {
            let resp = t.send(req).await.unwrap();
            let status = resp.status().as_u16();
            let body = resp.bytes().await.unwrap();
            (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
        })
    }

    #[test]
    fn serves_crud_over_verified_tls_and_checks_tokens() {
        let cluster = FakeCluster::start(FakeOptions::default()).unwrap();
        let admin = client(&cluster, &cluster.admin_token);
        let (code, body) = send(&admin, reqwest::Method::POST, "/api/v1/namespaces/default/configmaps", Some(r#"{"metadata":{"name":"a"}}"#));
        assert_eq!(code, 201, "{body}");
        let (code, body) = send(&admin, reqwest::Method::GET, "/api/v1/namespaces/default/configmaps/a", None);
        assert_eq!((code, body["metadata"]["name"].as_str()), (200, Some("a")));
        let (code, body) = send(&client(&cluster, "wrong"), reqwest::Method::GET, "/api/v1/namespaces", None);
        assert_eq!((code, body["reason"].as_str()), (401, Some("Unauthorized")));
        cluster.add_user("reader", "reader-token", &["get".into(), "list".into()]);
        let reader = client(&cluster, "reader-token");
        assert_eq!(send(&reader, reqwest::Method::GET, "/api/v1/namespaces/default/configmaps", None).0, 200);
        let (code, body) = send(&reader, reqwest::Method::DELETE, "/api/v1/namespaces/default/configmaps/a", None);
        assert_eq!((code, body["reason"].as_str()), (403, Some("Forbidden")));
        cluster.stop();
    }
}
