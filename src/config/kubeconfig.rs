//! kubeconfig files: parsing, merging several files the way kubectl does, and resolving
//! one context into a [`ClusterConfig`].
//!
//! Merging (KUBECONFIG=a:b:c): for every named cluster, user and context, and for
//! `current-context`, the first file that sets it wins. Relative paths inside an entry
//! resolve against the folder of the file that defined that entry. Nothing is written to
//! disk: `*-data` fields are decoded into memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

use super::{parse_server_url, AuthConfig, ClientIdentity, ClusterConfig, ConfigError, ExecConfig, Pem, TlsConfig};
use crate::secret::{SecretBytes, SecretString};

#[derive(Deserialize, Default)]
struct RawFile {
    #[serde(default)]
    clusters: Option<Vec<Named<RawCluster>>>,
    #[serde(default)]
    users: Option<Vec<Named<RawUser>>>,
    #[serde(default)]
    contexts: Option<Vec<Named<RawContext>>>,
    #[serde(rename = "current-context", default)]
    current_context: Option<String>,
}

#[derive(Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "user", alias = "context")]
    #[serde(default = "Option::default")]
    value: Option<T>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "kebab-case")]
struct RawCluster {
    server: Option<String>,
    certificate_authority: Option<String>,
    certificate_authority_data: Option<String>,
    #[serde(default)]
    insecure_skip_tls_verify: bool,
    tls_server_name: Option<String>,
    proxy_url: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
struct RawUser {
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    #[serde(rename = "client-certificate")]
    client_certificate: Option<String>,
    #[serde(rename = "client-certificate-data")]
    client_certificate_data: Option<String>,
    #[serde(rename = "client-key")]
    client_key: Option<String>,
    #[serde(rename = "client-key-data")]
    client_key_data: Option<String>,
    username: Option<String>,
    password: Option<String>,
    exec: Option<RawExec>,
    #[serde(rename = "auth-provider")]
    auth_provider: Option<RawAuthProvider>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct RawExec {
    command: Option<String>,
    #[serde(default)]
    args: Option<Vec<String>>,
    #[serde(default)]
    env: Option<Vec<RawEnv>>,
    api_version: Option<String>,
    install_hint: Option<String>,
    interactive_mode: Option<String>,
    #[serde(default)]
    provide_cluster_info: bool,
}

#[derive(Deserialize, Default, Clone)]
struct RawEnv {
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize, Default, Clone)]
struct RawAuthProvider {
    name: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
struct RawContext {
    cluster: Option<String>,
    user: Option<String>,
    namespace: Option<String>,
}

/// An entry together with the file that defined it.
struct Sourced<T> {
    value: T,
    file: PathBuf,
}

/// Several kubeconfig files merged with kubectl's first-wins rule.
pub struct Kubeconfig {
    files: Vec<PathBuf>,
    clusters: HashMap<String, Sourced<RawCluster>>,
    users: HashMap<String, Sourced<RawUser>>,
    contexts: HashMap<String, Sourced<RawContext>>,
    current_context: Option<(String, PathBuf)>,
}

/// The kubeconfig paths kubectl would use: `$KUBECONFIG` (split on ':', empty parts and
/// missing files dropped), else `~/.kube/config` if it exists. Empty when there is none.
pub fn default_paths(env: impl Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    if let Some(list) = env("KUBECONFIG").filter(|v| !v.is_empty()) {
        let mut seen = Vec::new();
        for part in std::env::split_paths(&list) {
            if part.as_os_str().is_empty() || !part.is_file() || seen.contains(&part) {
                continue;
            }
            seen.push(part);
        }
        return seen;
    }
    let home = env("HOME").filter(|h| !h.is_empty());
    match home {
        Some(home) => {
            let path = Path::new(&home).join(".kube").join("config");
            if path.is_file() {
                vec![path]
            } else {
                Vec::new()
            }
        }
        None => Vec::new(),
    }
}

impl Kubeconfig {
    /// Reads and merges `paths` in order. Every path must exist and parse.
    pub fn load(paths: &[PathBuf]) -> Result<Kubeconfig, ConfigError> {
        let mut merged = Kubeconfig {
            files: paths.to_vec(),
            clusters: HashMap::new(),
            users: HashMap::new(),
            contexts: HashMap::new(),
            current_context: None,
        };
        for path in paths {
            let text = std::fs::read(path)
                .map_err(|e| ConfigError::new(format!("cannot read the file: {e}")).file(path))?;
            let raw = parse(&text).map_err(|e| e.file(path))?;
            merged.merge(raw, path);
        }
        Ok(merged)
    }

    /// Parses one document given as text (for tests and `from_kubeconfig(data=...)`).
    pub fn from_text(text: &[u8], pretend_path: &Path) -> Result<Kubeconfig, ConfigError> {
        let raw = parse(text).map_err(|e| e.file(pretend_path))?;
        let mut merged = Kubeconfig {
            files: vec![pretend_path.to_path_buf()],
            clusters: HashMap::new(),
            users: HashMap::new(),
            contexts: HashMap::new(),
            current_context: None,
        };
        merged.merge(raw, pretend_path);
        Ok(merged)
    }

    fn merge(&mut self, raw: RawFile, path: &Path) {
        fn add<T>(into: &mut HashMap<String, Sourced<T>>, items: Option<Vec<Named<T>>>, path: &Path)
        where
            T: Default,
        {
            for item in items.unwrap_or_default() {
                into.entry(item.name)
                    .or_insert_with(|| Sourced { value: item.value.unwrap_or_default(), file: path.to_path_buf() });
            }
        }
        add(&mut self.clusters, raw.clusters, path);
        add(&mut self.users, raw.users, path);
        add(&mut self.contexts, raw.contexts, path);
        if self.current_context.is_none() {
            if let Some(cc) = raw.current_context.filter(|c| !c.is_empty()) {
                self.current_context = Some((cc, path.to_path_buf()));
            }
        }
    }

    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    pub fn current_context(&self) -> Option<&str> {
        self.current_context.as_ref().map(|(c, _)| c.as_str())
    }

    pub fn context_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.contexts.keys().cloned().collect();
        names.sort();
        names
    }

    fn files_label(&self) -> PathBuf {
        let joined = self.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":");
        PathBuf::from(joined)
    }

    /// Resolves `context` (or the current context) into a cluster configuration.
    pub fn resolve(&self, context: Option<&str>) -> Result<ClusterConfig, ConfigError> {
        let (name, ctx_file) = match context {
            Some(c) => (c.to_string(), None),
            None => match &self.current_context {
                Some((c, f)) => (c.clone(), Some(f.clone())),
                None => {
                    return Err(ConfigError::new(format!(
                        "no current-context is set and no context was given (contexts: {})",
                        self.context_names().join(", ")
                    ))
                    .file(self.files_label()))
                }
            },
        };
        let ctx = self.contexts.get(&name).ok_or_else(|| {
            ConfigError::new(format!("context not found (contexts: {})", self.context_names().join(", ")))
                .file(ctx_file.unwrap_or_else(|| self.files_label()))
                .context(&name)
        })?;
        let err = |file: &Path, key: &str, msg: String| ConfigError::new(msg).file(file).context(&name).key(key);

        let cluster_name = ctx.value.cluster.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| {
            err(&ctx.file, "cluster", "the context names no cluster".to_string())
        })?;
        let cluster = self.clusters.get(cluster_name).ok_or_else(|| {
            err(&ctx.file, "cluster", format!("cluster '{cluster_name}' is not defined"))
        })?;
        let cfile = &cluster.file;
        let c = &cluster.value;
        let server = c.server.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| {
            err(cfile, "server", format!("cluster '{cluster_name}' has no server"))
        })?;
        let origin = format!("kubeconfig {} (context '{name}')", cfile.display());
        let server = parse_server_url(server, &origin).map_err(|e| err(cfile, "server", e.message))?;

        let mut tls = TlsConfig { insecure: c.insecure_skip_tls_verify, ..TlsConfig::default() };
        tls.server_name = c.tls_server_name.clone().filter(|s| !s.is_empty());
        tls.ca = pem_field(
            cfile,
            &name,
            "certificate-authority",
            c.certificate_authority.as_deref(),
            c.certificate_authority_data.as_deref(),
            &format!("cluster '{cluster_name}'"),
        )?;
        let proxy_url = match c.proxy_url.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => Some(url::Url::parse(p).map_err(|e| err(cfile, "proxy-url", format!("not a valid URL: {e}")))?),
            None => None,
        };

        let mut auth = AuthConfig::None;
        if let Some(user_name) = ctx.value.user.as_deref().filter(|u| !u.is_empty()) {
            let user = self.users.get(user_name).ok_or_else(|| {
                err(&ctx.file, "user", format!("user '{user_name}' is not defined"))
            })?;
            let ufile = &user.file;
            let u = &user.value;
            let who = format!("user '{user_name}'");
            let cert = pem_field(
                ufile,
                &name,
                "client-certificate",
                u.client_certificate.as_deref(),
                u.client_certificate_data.as_deref(),
                &who,
            )?;
            let key = pem_field(ufile, &name, "client-key", u.client_key.as_deref(), u.client_key_data.as_deref(), &who)?;
            match (cert, key) {
                (Some(cert), Some(key)) => {
                    tls.client_identity =
                        Some(ClientIdentity { cert, key: SecretBytes::new(key.data), key_origin: key.origin });
                }
                (None, None) => {}
                (Some(_), None) => {
                    return Err(err(ufile, "client-key", format!("{who} has a client certificate but no client key")))
                }
                (None, Some(_)) => {
                    return Err(err(ufile, "client-certificate", format!("{who} has a client key but no certificate")))
                }
            }
            auth = if let Some(exec) = &u.exec {
                AuthConfig::Exec(exec_config(exec, ufile, &name)?)
            } else if let Some(ap) = &u.auth_provider {
                AuthConfig::AuthProvider { name: ap.name.clone().unwrap_or_default(), context: name.clone() }
            } else if let Some(tf) = u.token_file.as_deref().filter(|t| !t.is_empty()) {
                AuthConfig::TokenFile(resolve_path(ufile, tf))
            } else if let Some(t) = u.token.as_deref().filter(|t| !t.is_empty()) {
                AuthConfig::Token(SecretString::new(t))
            } else if let Some(user) = u.username.as_deref().filter(|t| !t.is_empty()) {
                AuthConfig::Basic {
                    username: user.to_string(),
                    password: SecretString::new(u.password.clone().unwrap_or_default()),
                }
            } else {
                AuthConfig::None
            };
        }

        Ok(ClusterConfig {
            server,
            tls,
            auth,
            proxy_url,
            namespace: ctx.value.namespace.clone().filter(|n| !n.is_empty()),
            origin,
        })
    }
}

fn exec_config(exec: &RawExec, file: &Path, context: &str) -> Result<ExecConfig, ConfigError> {
    let err = |key: &str, msg: &str| ConfigError::new(msg).file(file).context(context).key(key);
    let command = exec.command.clone().filter(|c| !c.is_empty()).ok_or_else(|| err("exec.command", "the exec plugin has no command"))?;
    let api_version = exec.api_version.clone().unwrap_or_default();
    if !matches!(api_version.as_str(), "client.authentication.k8s.io/v1" | "client.authentication.k8s.io/v1beta1") {
        return Err(err(
            "exec.apiVersion",
            "the exec plugin's apiVersion must be client.authentication.k8s.io/v1 or v1beta1",
        ));
    }
    // kubectl: a command with a path separator is relative to the kubeconfig's folder;
    // a bare name is looked up in PATH.
    let command = if command.contains('/') { resolve_path(file, &command).display().to_string() } else { command };
    Ok(ExecConfig {
        command,
        args: exec.args.clone().unwrap_or_default(),
        env: exec.env.clone().unwrap_or_default().into_iter().map(|e| (e.name, e.value)).collect(),
        api_version,
        install_hint: exec.install_hint.clone().filter(|h| !h.is_empty()),
        interactive_mode: exec.interactive_mode.clone(),
        provide_cluster_info: exec.provide_cluster_info,
        context: context.to_string(),
    })
}

fn parse(text: &[u8]) -> Result<RawFile, ConfigError> {
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(RawFile::default());
    }
    let text = std::str::from_utf8(text).map_err(|_| ConfigError::new("the file is not UTF-8 text"))?;
    serde_saphyr::from_str::<RawFile>(text).map_err(|e| ConfigError::new(format!("not a valid kubeconfig: {}", yaml_error_summary(&e))))
}

/// The parser's message and location, without the quoted source snippet: a snippet of a
/// kubeconfig can contain a token or a key.
fn yaml_error_summary(e: &serde_saphyr::Error) -> String {
    let full = e.to_string();
    full.lines().next().unwrap_or("malformed YAML").trim().to_string()
}

fn resolve_path(file: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    if let Some(rest) = path.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return Path::new(&home).join(rest);
        }
    }
    file.parent().unwrap_or(Path::new(".")).join(p)
}

/// A PEM value given either as a path (`key`) or inline base64 (`key-data`). Data wins,
/// as in kubectl.
fn pem_field(
    file: &Path,
    context: &str,
    key: &str,
    path: Option<&str>,
    data: Option<&str>,
    owner: &str,
) -> Result<Option<Pem>, ConfigError> {
    let err = |k: String, msg: String| ConfigError::new(msg).file(file).context(context).key(k);
    if let Some(data) = data.filter(|d| !d.trim().is_empty()) {
        let cleaned: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(cleaned.as_bytes())
            .map_err(|e| err(format!("{key}-data"), format!("{owner}: not valid base64 ({e})")))?;
        return Ok(Some(Pem { data: bytes, origin: format!("{key}-data of {owner} in {}", file.display()) }));
    }
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        let resolved = resolve_path(file, path);
        let bytes = std::fs::read(&resolved)
            .map_err(|e| err(key.to_string(), format!("{owner}: cannot read {}: {e}", resolved.display())))?;
        return Ok(Some(Pem { data: bytes, origin: format!("{key} {}", resolved.display()) }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const BASIC: &str = r#"
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: ca.crt
users:
- name: u1
  user:
    token: tok-123
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team}
"#;

    #[test]
    fn resolves_current_context_with_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ca.crt", "CA PEM");
        let cfg = write(dir.path(), "config", BASIC);
        let kc = Kubeconfig::load(&[cfg]).unwrap();
        let c = kc.resolve(None).unwrap();
        assert_eq!(c.server.as_str(), "https://127.0.0.1:6443/");
        assert_eq!(c.namespace.as_deref(), Some("team"));
        assert_eq!(c.tls.ca.unwrap().data, b"CA PEM");
        match c.auth {
            AuthConfig::Token(t) => assert_eq!(t.expose(), "tok-123"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn first_file_wins_like_kubectl() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ca.crt", "CA");
        let a = write(
            dir.path(),
            "a",
            "current-context: first\ncontexts:\n- name: first\n  context: {cluster: c1}\nclusters:\n- name: c1\n  cluster: {server: https://a.example}\n",
        );
        let b = write(
            dir.path(),
            "b",
            "current-context: second\ncontexts:\n- name: second\n  context: {cluster: c1}\nclusters:\n- name: c1\n  cluster: {server: https://b.example}\n",
        );
        let kc = Kubeconfig::load(&[a, b]).unwrap();
        assert_eq!(kc.current_context(), Some("first"));
        assert_eq!(kc.resolve(None).unwrap().server.as_str(), "https://a.example/");
        // A context only the second file defines still uses the first file's cluster c1.
        assert_eq!(kc.resolve(Some("second")).unwrap().server.as_str(), "https://a.example/");
    }

    #[test]
    fn errors_name_file_context_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "config",
            "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: https://h}\nusers:\n- name: u\n  user: {client-certificate-data: '!!notbase64', client-key-data: 'AAAA'}\n",
        );
        let err = Kubeconfig::load(std::slice::from_ref(&cfg)).unwrap().resolve(None).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&cfg.display().to_string()), "{msg}");
        assert!(msg.contains("context 'x'"), "{msg}");
        assert!(msg.contains("client-certificate-data"), "{msg}");
    }

    #[test]
    fn missing_context_lists_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(dir.path(), "config", BASIC);
        write(dir.path(), "ca.crt", "CA");
        let err = Kubeconfig::load(&[cfg]).unwrap().resolve(Some("nope")).unwrap_err().to_string();
        assert!(err.contains("context 'nope'") && err.contains("dev"), "{err}");
    }

    #[test]
    fn malformed_yaml_does_not_echo_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(dir.path(), "config", "users:\n- name: u\n  user:\n    token: sekrit-token-value\n  : [\n");
        let err = Kubeconfig::load(std::slice::from_ref(&cfg)).err().unwrap().to_string();
        assert!(err.contains(&cfg.display().to_string()), "{err}");
        assert!(!err.contains("sekrit"), "{err}");
    }

    #[test]
    fn exec_users_are_marked_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "config",
            "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: https://h}\nusers:\n- name: u\n  user:\n    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}\n",
        );
        match Kubeconfig::load(&[cfg]).unwrap().resolve(None).unwrap().auth {
            AuthConfig::Exec(exec) => {
                assert_eq!(exec.command, "aws");
                assert_eq!(exec.context, "x");
                assert_eq!(exec.api_version, "client.authentication.k8s.io/v1");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kubeconfig_paths_from_env() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", "");
        let b = write(dir.path(), "b", "");
        let list = format!("{}::{}:{}/missing:{}", a.display(), b.display(), dir.path().display(), a.display());
        let paths = default_paths(|k| if k == "KUBECONFIG" { Some(list.clone()) } else { None });
        assert_eq!(paths, vec![a, b]);
    }
}
