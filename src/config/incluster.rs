//! In-cluster configuration: the pod's service-account folder and the service env vars.

use std::path::{Path, PathBuf};

use super::{parse_server_url, AuthConfig, ClusterConfig, ConfigError, Pem, TlsConfig};

pub const DEFAULT_SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Reads the in-cluster configuration from `sa_dir` (`token`, `ca.crt`, `namespace`) and
/// `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` taken from `env`.
/// The token is read through a token file, so projected tokens that rotate keep working.
pub fn load(sa_dir: &Path, env: impl Fn(&str) -> Option<String>) -> Result<ClusterConfig, ConfigError> {
    let origin = format!("in-cluster configuration ({})", sa_dir.display());
    let host = env("KUBERNETES_SERVICE_HOST").filter(|h| !h.is_empty());
    let port = env("KUBERNETES_SERVICE_PORT").filter(|p| !p.is_empty());
    let (host, port) = match (host, port) {
        (Some(h), Some(p)) => (h, p),
        _ => {
            return Err(ConfigError::new(
                "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set",
            )
            .origin(origin))
        }
    };
    // An IPv6 service address needs brackets in a URL.
    let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host };
    let server = parse_server_url(&format!("https://{host}:{port}"), &origin)?;

    let token_path: PathBuf = sa_dir.join("token");
    if !token_path.is_file() {
        return Err(ConfigError::new(format!("service-account token {} does not exist", token_path.display()))
            .origin(origin));
    }
    let ca_path = sa_dir.join("ca.crt");
    let ca = std::fs::read(&ca_path).map_err(|e| {
        ConfigError::new(format!("cannot read service-account CA {}: {e}", ca_path.display())).origin(origin.clone())
    })?;
    let namespace = std::fs::read_to_string(sa_dir.join("namespace")).ok().map(|s| s.trim().to_string());

    Ok(ClusterConfig {
        server,
        tls: TlsConfig {
            ca: Some(Pem { data: ca, origin: format!("service-account CA {}", ca_path.display()) }),
            ..TlsConfig::default()
        },
        auth: AuthConfig::TokenFile(token_path),
        proxy_url: None,
        namespace: namespace.filter(|n| !n.is_empty()),
        origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_service_account_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "tok").unwrap();
        std::fs::write(dir.path().join("ca.crt"), "PEM").unwrap();
        std::fs::write(dir.path().join("namespace"), "team-a\n").unwrap();
        let env = |k: &str| match k {
            "KUBERNETES_SERVICE_HOST" => Some("10.0.0.1".to_string()),
            "KUBERNETES_SERVICE_PORT" => Some("443".to_string()),
            _ => None,
        };
        let cfg = load(dir.path(), env).unwrap();
        assert_eq!(cfg.server.as_str(), "https://10.0.0.1/");
        assert_eq!(cfg.namespace.as_deref(), Some("team-a"));
        assert!(matches!(cfg.auth, AuthConfig::TokenFile(_)));
    }

    #[test]
    fn outside_a_cluster_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(dir.path(), |_| None).unwrap_err();
        assert!(err.to_string().contains("KUBERNETES_SERVICE_HOST"), "{err}");
    }

    #[test]
    fn ipv6_service_host() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "tok").unwrap();
        std::fs::write(dir.path().join("ca.crt"), "PEM").unwrap();
        let env = |k: &str| match k {
            "KUBERNETES_SERVICE_HOST" => Some("fd00::1".to_string()),
            "KUBERNETES_SERVICE_PORT" => Some("6443".to_string()),
            _ => None,
        };
        assert_eq!(load(dir.path(), env).unwrap().server.as_str(), "https://[fd00::1]:6443/");
    }
}
