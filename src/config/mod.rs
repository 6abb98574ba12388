//! Configuration as plain data: where the cluster is, how to trust it, who we are.
//!
//! [`ClusterConfig`] is what every Session is built from. It comes from a kubeconfig
//! ([`kubeconfig`]), from the in-cluster service-account folder ([`incluster`]), or from
//! explicit arguments, and explicit [`Overrides`] can be laid over any of them.

pub mod error;
pub mod incluster;
pub mod kubeconfig;
pub mod save;

use std::path::PathBuf;

pub use error::ConfigError;
use url::Url;

use crate::secret::{SecretBytes, SecretString};

/// PEM data together with a human description of where it came from, for error messages
/// ("file /etc/ca.crt", "certificate-authority-data of cluster 'prod' in /root/.kube/config").
#[derive(Clone, Debug)]
pub struct Pem {
    pub data: Vec<u8>,
    pub origin: String,
}

/// A client certificate chain and its private key, both kept in memory only.
#[derive(Clone, Debug)]
pub struct ClientIdentity {
    pub cert: Pem,
    pub key: SecretBytes,
    pub key_origin: String,
}

#[derive(Clone, Debug, Default)]
pub struct TlsConfig {
    /// The only trust root for this cluster when set; otherwise the system roots.
    pub ca: Option<Pem>,
    /// `insecure-skip-tls-verify` / `verify=False`.
    pub insecure: bool,
    /// Verify the server certificate against this name instead of the URL's host.
    pub server_name: Option<String>,
    pub client_identity: Option<ClientIdentity>,
}

/// How requests authenticate, as configured (the live token sources are in `credentials`).
#[derive(Clone, Debug, Default)]
pub enum AuthConfig {
    #[default]
    None,
    Token(SecretString),
    TokenFile(PathBuf),
    Basic { username: String, password: SecretString },
    /// An exec credential plugin (`client.authentication.k8s.io/v1` or `v1beta1`).
    Exec(ExecConfig),
    /// A legacy `auth-provider` entry (gcp, azure, oidc), which kubectl also dropped.
    AuthProvider { name: String, context: String },
}

#[derive(Clone, Debug)]
pub struct ClusterConfig {
    pub server: Url,
    pub tls: TlsConfig,
    pub auth: AuthConfig,
    pub proxy_url: Option<Url>,
    /// The context's namespace, if it names one.
    pub namespace: Option<String>,
    /// Where this configuration came from, for messages ("kubeconfig /x (context y)").
    pub origin: String,
}

/// A kubeconfig `exec` user: what to run and how.
#[derive(Clone, Debug, Default)]
pub struct ExecConfig {
    pub command: String,
    pub args: Vec<String>,
    /// Extra environment, added to the process's own.
    pub env: Vec<(String, String)>,
    pub api_version: String,
    pub install_hint: Option<String>,
    /// "Never", "IfAvailable" or "Always".
    pub interactive_mode: Option<String>,
    pub provide_cluster_info: bool,
    /// The context it belongs to, for messages.
    pub context: String,
}

/// Explicit settings laid over an inferred configuration (or forming one on their own,
/// when `server` is set).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub server: Option<String>,
    pub token: Option<SecretString>,
    pub token_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub ca_data: Option<Vec<u8>>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub client_cert_data: Option<Vec<u8>>,
    pub client_key_data: Option<SecretBytes>,
    pub insecure: Option<bool>,
    pub tls_server_name: Option<String>,
    pub proxy: Option<String>,
    pub namespace: Option<String>,
}

pub fn parse_server_url(server: &str, origin: &str) -> Result<Url, ConfigError> {
    let with_scheme = if server.contains("://") { server.to_string() } else { format!("https://{server}") };
    let url = Url::parse(&with_scheme)
        .map_err(|e| ConfigError::new(format!("server URL '{server}' is not valid: {e}")).origin(origin))?;
    match url.scheme() {
        "https" | "http" => {}
        other => {
            return Err(ConfigError::new(format!("server URL '{server}' has scheme '{other}'; use https")).origin(origin))
        }
    }
    if url.host().is_none() {
        return Err(ConfigError::new(format!("server URL '{server}' has no host")).origin(origin));
    }
    Ok(url)
}

fn read_file(path: &std::path::Path, what: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::new(format!("cannot read {what} {}: {e}", path.display())))
}

impl ClusterConfig {
    /// A configuration made of explicit settings only.
    pub fn explicit(overrides: &Overrides) -> Result<ClusterConfig, ConfigError> {
        let server = overrides.server.as_deref().ok_or_else(|| ConfigError::new("no server given"))?;
        let origin = "explicit arguments".to_string();
        let base = ClusterConfig {
            server: parse_server_url(server, &origin)?,
            tls: TlsConfig::default(),
            auth: AuthConfig::None,
            proxy_url: None,
            namespace: None,
            origin,
        };
        base.with_overrides(overrides)
    }

    /// Lays explicit settings over this configuration. An explicit credential replaces the
    /// configured one; an explicit CA replaces the configured CA.
    pub fn with_overrides(mut self, o: &Overrides) -> Result<ClusterConfig, ConfigError> {
        if let Some(server) = &o.server {
            self.server = parse_server_url(server, "explicit arguments")?;
        }
        if let Some(token) = &o.token {
            self.auth = AuthConfig::Token(token.clone());
        } else if let Some(path) = &o.token_file {
            self.auth = AuthConfig::TokenFile(path.clone());
        }
        if let Some(data) = &o.ca_data {
            self.tls.ca = Some(Pem { data: data.clone(), origin: "ca_data argument".into() });
        } else if let Some(path) = &o.ca_file {
            let data = read_file(path, "CA file")?;
            self.tls.ca = Some(Pem { data, origin: format!("CA file {}", path.display()) });
        }
        let cert = match (&o.client_cert_data, &o.client_cert) {
            (Some(d), _) => Some(Pem { data: d.clone(), origin: "client_cert_data argument".into() }),
            (None, Some(p)) => {
                Some(Pem { data: read_file(p, "client certificate")?, origin: format!("client certificate {}", p.display()) })
            }
            _ => None,
        };
        let key = match (&o.client_key_data, &o.client_key) {
            (Some(d), _) => Some((d.clone(), "client_key_data argument".to_string())),
            (None, Some(p)) => Some((SecretBytes::new(read_file(p, "client key")?), format!("client key {}", p.display()))),
            _ => None,
        };
        match (cert, key) {
            (Some(cert), Some((key, key_origin))) => {
                self.tls.client_identity = Some(ClientIdentity { cert, key, key_origin });
            }
            (None, None) => {}
            _ => return Err(ConfigError::new("a client certificate needs both the certificate and its key")),
        }
        if let Some(insecure) = o.insecure {
            self.tls.insecure = insecure;
        }
        if let Some(name) = &o.tls_server_name {
            self.tls.server_name = Some(name.clone());
        }
        if let Some(proxy) = &o.proxy {
            self.proxy_url = Some(
                Url::parse(proxy).map_err(|e| ConfigError::new(format!("proxy URL '{proxy}' is not valid: {e}")))?,
            );
        }
        if let Some(ns) = &o.namespace {
            self.namespace = Some(ns.clone());
        }
        Ok(self)
    }
}

/// Where a Session's configuration comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// Like kubectl: explicit server, else $KUBECONFIG or ~/.kube/config, else in-cluster.
    Auto { context: Option<String> },
    /// These kubeconfig files (or the default ones when `paths` is None).
    Kubeconfig { paths: Option<Vec<PathBuf>>, context: Option<String> },
    /// The pod's service-account folder (default [`incluster::DEFAULT_SA_DIR`]).
    InCluster { dir: Option<PathBuf> },
}

/// Builds the configuration from `source`, with `overrides` laid over it. `env` is the
/// process environment, read here (at Session creation) and nowhere else.
pub fn load(source: &Source, overrides: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Result<ClusterConfig, ConfigError> {
    match source {
        Source::Auto { context } => {
            if overrides.server.is_some() && context.is_none() {
                return ClusterConfig::explicit(overrides);
            }
            let paths = kubeconfig::default_paths(env);
            if !paths.is_empty() {
                return kubeconfig::Kubeconfig::load(&paths)?.resolve(context.as_deref())?.with_overrides(overrides);
            }
            if context.is_none() && env("KUBERNETES_SERVICE_HOST").is_some_and(|h| !h.is_empty()) {
                return incluster::load(std::path::Path::new(incluster::DEFAULT_SA_DIR), env)?.with_overrides(overrides);
            }
            Err(ConfigError::new(
                "no cluster configured: KUBECONFIG is not set, ~/.kube/config does not exist and this is not a pod; \
                 pass a server URL, or create a kubeconfig",
            ))
        }
        Source::Kubeconfig { paths, context } => {
            let paths = match paths {
                Some(p) => {
                    for path in p {
                        if !path.is_file() {
                            return Err(ConfigError::new("the file does not exist").file(path));
                        }
                    }
                    p.clone()
                }
                None => kubeconfig::default_paths(env),
            };
            if paths.is_empty() {
                return Err(ConfigError::new("no kubeconfig found: KUBECONFIG is not set and ~/.kube/config does not exist"));
            }
            kubeconfig::Kubeconfig::load(&paths)?.resolve(context.as_deref())?.with_overrides(overrides)
        }
        Source::InCluster { dir } => {
            let dir = dir.clone().unwrap_or_else(|| PathBuf::from(incluster::DEFAULT_SA_DIR));
            incluster::load(&dir, env)?.with_overrides(overrides)
        }
    }
}
