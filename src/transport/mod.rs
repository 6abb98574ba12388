//! Transport: one reqwest client per Session, with the wrappers client-go layers around
//! its `http.RoundTripper`, each doing one thing: credentials (`crate::credentials`), retries
//! ([`retry`]), timeouts and error explanation (here).

mod errors;
mod response;
pub mod retry;
pub mod websocket;

use std::sync::RwLock;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, USER_AGENT};
use reqwest::Method;
use url::Url;

use crate::config::ClusterConfig;
use crate::credentials::Credentials;
use crate::error::Error;
pub use response::Response;
use retry::RetryPolicy;

/// `timeout=(connect, read)`. The read timeout bounds each wait for data (the response
/// head, then each body chunk), as in requests; it never kills a long, healthy stream.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub read: Option<Duration>,
}

pub const DEFAULT_TIMEOUTS: Timeouts =
    Timeouts { connect: Some(Duration::from_secs(10)), read: Some(Duration::from_secs(70)) };

#[derive(Clone, Debug)]
pub struct TransportOptions {
    pub timeouts: Timeouts,
    pub default_headers: HeaderMap,
    /// Let credentials travel over plain `http://`. Off by default.
    pub allow_insecure_http: bool,
    pub retry: RetryPolicy,
    /// Follow redirects (at most 10, never from https to http). Off for OAuth flows that
    /// read the `Location` of a 302 themselves.
    pub follow_redirects: bool,
    /// A caller-supplied token source; replaces the configured credential.
    pub token_provider: Option<std::sync::Arc<dyn crate::credentials::TokenProvider>>,
    /// Negotiate HTTP/2. Off by default: for sequential requests HTTP/1.1 has the lower
    /// latency (measured in bench/), and each watch then has a connection of its own.
    pub http2: bool,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            timeouts: DEFAULT_TIMEOUTS,
            default_headers: HeaderMap::new(),
            allow_insecure_http: false,
            retry: RetryPolicy::default(),
            token_provider: None,
            follow_redirects: true,
            http2: false,
        }
    }
}

/// One request, fully resolved: absolute URL, headers, body bytes.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// Overrides the session's timeouts for this request.
    pub timeouts: Option<Timeouts>,
}

pub struct Transport {
    /// The client and the exec plugin's identity generation its connections were made with.
    client: RwLock<(u64, reqwest::Client)>,
    factory: ClientFactory,
    server: Url,
    credentials: Credentials,
    has_client_cert: bool,
    options: TransportOptions,
    /// For TLS error messages: the name the certificate is checked against, and the trust.
    tls_name_override: Option<String>,
    trust: String,
    /// The same TLS configuration, for WebSocket connections (HTTP/1.1 only).
    websocket_tls: std::sync::Arc<rustls::ClientConfig>,
    proxied: bool,
}

impl Transport {
    pub fn new(cfg: &ClusterConfig, options: TransportOptions) -> Result<Transport, Error> {
        crate::runtime::install_crypto_provider();
        let credentials = match &options.token_provider {
            Some(p) => Credentials::Bearer(crate::credentials::TokenSource::Provider(p.clone())),
            None => Credentials::from_config(&cfg.auth)?,
        };
        let tls = crate::tls::client_config(&cfg.tls, options.http2, credentials.exec_plugin().cloned())?;
        let websocket_tls = websocket::tls_for_websocket(tls.clone());
        let factory = ClientFactory {
            tls,
            proxy_url: cfg.proxy_url.clone(),
            follow_redirects: options.follow_redirects,
            http2: options.http2,
            connect_timeout: options.timeouts.connect,
        };
        let client = factory.build()?;
        let identity_generation = credentials.exec_plugin().map(|p| p.identity_generation()).unwrap_or(0);
        Ok(Transport {
            client: RwLock::new((identity_generation, client)),
            factory,
            server: cfg.server.clone(),
            credentials,
            has_client_cert: cfg.tls.client_identity.is_some(),
            options,
            tls_name_override: cfg.tls.server_name.clone(),
            trust: crate::tls::trust_description(&cfg.tls),
            websocket_tls,
            proxied: cfg.proxy_url.is_some() || environment_proxies(&cfg.server),
        })
    }

    pub fn server(&self) -> &Url {
        &self.server
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn options(&self) -> &TransportOptions {
        &self.options
    }

    /// Sends a request and returns once the response head has arrived. Retries 429/503
    /// for idempotent methods, and retries once after a 401 when the credential changed.
    pub async fn send(&self, req: Request) -> Result<Response, Error> {
        let timeouts = req.timeouts.unwrap_or(self.options.timeouts);
        let same_origin = same_origin(&req.url, &self.server);
        self.check_plain_http(&req.url, same_origin)?;
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        loop {
            let builder = self.build(&req, same_origin)?;
            let resp = self.send_once(builder, &req.url, timeouts).await?;
            let status = resp.status().as_u16();
            if status == 401
                && same_origin
                && !refreshed
                && without_stalling(&self.credentials, || self.credentials.refresh_after_unauthorized())
            {
                refreshed = true;
                continue;
            }
            if let Some(delay) = self.options.retry.should_retry(&req.method, status, resp.headers(), attempt) {
                attempt += 1;
                drop(resp);
                tokio::time::sleep(delay).await;
                continue;
            }
            return Ok(Response::new(resp, timeouts.read, attempt));
        }
    }

    fn check_plain_http(&self, url: &Url, same_origin: bool) -> Result<(), Error> {
        let sends_credentials = same_origin && (self.credentials.is_some() || self.has_client_cert);
        if url.scheme() == "http" && sends_credentials && !self.options.allow_insecure_http {
            return Err(Error::InsecureTransport(format!(
                "refusing to send credentials over plain http to {}; use https, or pass allow_insecure_http=True",
                url.host_str().unwrap_or("")
            )));
        }
        Ok(())
    }

    fn build(&self, req: &Request, same_origin: bool) -> Result<reqwest::RequestBuilder, Error> {
        let mut headers = self.options.default_headers.clone();
        if !headers.contains_key(USER_AGENT) {
            headers.insert(USER_AGENT, HeaderValue::from_static(concat!("kubesession/", env!("CARGO_PKG_VERSION"))));
        }
        // Credentials go only to the Session's own server, never to another host named by
        // an absolute URL. An explicit Authorization header from the caller wins.
        if same_origin && !req.headers.contains_key(reqwest::header::AUTHORIZATION) {
            if let Some(value) = authorization(&self.credentials)? {
                headers.insert(reqwest::header::AUTHORIZATION, value);
            }
        }
        for (name, value) in req.headers.iter() {
            headers.insert(name.clone(), value.clone());
        }
        let mut b = self.http_client()?.request(req.method.clone(), req.url.clone()).headers(headers);
        if let Some(body) = &req.body {
            b = b.body(body.clone());
        }
        Ok(b)
    }

    /// The reqwest client. When an exec plugin has handed out a new client certificate
    /// since the client was made, a new one (with an empty pool) replaces it, so that no
    /// request goes out on a connection authenticated with the old certificate.
    fn http_client(&self) -> Result<reqwest::Client, Error> {
        let current = self.credentials.exec_plugin().map(|p| p.identity_generation()).unwrap_or(0);
        {
            let slot = self.client.read().unwrap_or_else(|p| p.into_inner());
            if slot.0 == current {
                return Ok(slot.1.clone());
            }
        }
        let mut slot = self.client.write().unwrap_or_else(|p| p.into_inner());
        if slot.0 != current {
            *slot = (current, self.factory.build()?);
        }
        Ok(slot.1.clone())
    }

    async fn send_once(
        &self,
        builder: reqwest::RequestBuilder,
        url: &Url,
        timeouts: Timeouts,
    ) -> Result<reqwest::Response, Error> {
        let fut = builder.send();
        let head_wait = match (timeouts.connect.or(self.options.timeouts.connect), timeouts.read) {
            (Some(c), Some(r)) => Some(c + r),
            (None, Some(r)) => Some(r),
            _ => None,
        };
        let result = match head_wait {
            Some(limit) => match tokio::time::timeout(limit, fut).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(Error::Timeout { url: redact_url(url), phase: "read", seconds: limit.as_secs_f64() })
                }
            },
            None => fut.await,
        };
        result.map_err(|e| errors::from_reqwest(&e, url, self.tls_server_name(url), &self.trust, timeouts))
    }

    fn tls_server_name(&self, url: &Url) -> String {
        self.tls_name_override
            .clone()
            .unwrap_or_else(|| url.host_str().unwrap_or("").trim_matches(['[', ']']).to_string())
    }
}

/// What it takes to make the reqwest client again (after a client-certificate rotation).
struct ClientFactory {
    tls: rustls::ClientConfig,
    proxy_url: Option<Url>,
    follow_redirects: bool,
    http2: bool,
    connect_timeout: Option<Duration>,
}

impl ClientFactory {
    fn build(&self) -> Result<reqwest::Client, Error> {
        let follow = self.follow_redirects;
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(self.tls.clone())
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                let downgrade = attempt.previous().last().is_some_and(|p| p.scheme() == "https")
                    && attempt.url().scheme() == "http";
                if !follow {
                    attempt.stop()
                } else if downgrade {
                    attempt.error("refusing to follow a redirect from https to http")
                } else if attempt.previous().len() >= 10 {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .http2_keep_alive_interval(Duration::from_secs(30))
            .http2_keep_alive_timeout(Duration::from_secs(15))
            .http2_initial_stream_window_size(4 * 1024 * 1024)
            .http2_initial_connection_window_size(8 * 1024 * 1024);
        if !self.http2 {
            builder = builder.http1_only();
        }
        if let Some(c) = self.connect_timeout {
            builder = builder.connect_timeout(c);
        }
        if let Some(proxy) = &self.proxy_url {
            let p = reqwest::Proxy::all(proxy.as_str())
                .map_err(|e| Error::InvalidRequest(format!("proxy URL {proxy} cannot be used: {e}")))?;
            builder = builder.proxy(p);
        }
        // Without an explicit proxy, reqwest reads HTTPS_PROXY/NO_PROXY now.
        builder.build().map_err(|e| Error::InvalidRequest(format!("cannot build the HTTP client: {e}")))
    }
}

/// Whether HTTPS_PROXY/ALL_PROXY send requests to `server` through a proxy, NO_PROXY
/// considered: the same rules (hyper-util's matcher) that reqwest applies to HTTP requests.
fn environment_proxies(server: &Url) -> bool {
    let Ok(uri) = server.as_str().parse::<hyper::Uri>() else { return false };
    hyper_util::client::proxy::matcher::Matcher::from_system().intercept(&uri).is_some()
}

/// Runs `f`, which asks the credentials for something. When that may block (an exec plugin
/// to run, a token provider that may make requests of its own), the runtime is told first,
/// so that its other tasks move off this worker instead of stalling, or deadlocking, behind
/// it (the runtime has two workers).
fn without_stalling<T>(credentials: &Credentials, f: impl FnOnce() -> T) -> T {
    if credentials.may_block() && tokio::runtime::Handle::try_current().is_ok() {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// The `Authorization` header (see `without_stalling`).
fn authorization(credentials: &Credentials) -> Result<Option<HeaderValue>, Error> {
    without_stalling(credentials, || credentials.authorization())
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host() == b.host() && a.port_or_known_default() == b.port_or_known_default()
}

/// A URL for messages: without user info or query (which could carry secrets).
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AuthConfig, TlsConfig};
    use crate::secret::SecretString;

    fn cfg(server: &str, auth: AuthConfig) -> ClusterConfig {
        ClusterConfig {
            server: Url::parse(server).unwrap(),
            tls: TlsConfig { insecure: true, ..TlsConfig::default() },
            auth,
            proxy_url: None,
            namespace: None,
            origin: "test".into(),
        }
    }

    #[test]
    fn refuses_token_over_plain_http() {
        let t = Transport::new(
            &cfg("http://127.0.0.1:1", AuthConfig::Token(SecretString::new("s3cret"))),
            TransportOptions::default(),
        )
        .unwrap();
        let req = Request {
            method: Method::GET,
            url: Url::parse("http://127.0.0.1:1/api").unwrap(),
            headers: HeaderMap::new(),
            body: None,
            timeouts: None,
        };
        let err = crate::runtime::get().block_on(t.send(req)).err().unwrap().to_string();
        assert!(err.contains("plain http") && !err.contains("s3cret"), "{err}");
    }

    #[test]
    fn credentials_only_to_own_server() {
        let t = Transport::new(
            &cfg("https://127.0.0.1:6443", AuthConfig::Token(SecretString::new("s3cret"))),
            TransportOptions::default(),
        )
        .unwrap();
        let own = Request {
            method: Method::GET,
            url: Url::parse("https://127.0.0.1:6443/api").unwrap(),
            headers: HeaderMap::new(),
            body: None,
            timeouts: None,
        };
        let other = Request { url: Url::parse("https://example.com/x").unwrap(), ..own.clone() };
        let r1 = t.build(&own, true).unwrap().build().unwrap();
        assert!(r1.headers().contains_key("authorization"));
        let r2 = t.build(&other, same_origin(&other.url, t.server())).unwrap().build().unwrap();
        assert!(!r2.headers().contains_key("authorization"));
    }

    #[test]
    fn redacts_query_and_userinfo() {
        let u = Url::parse("https://user:pw@h/x?token=abc").unwrap();
        assert_eq!(redact_url(&u), "https://h/x");
    }
}
