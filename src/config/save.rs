//! Writing a Session's server, CA and token into a kubeconfig as a context, so that a
//! login made in Python can be reused by kubectl and oc. Existing entries are kept; the
//! file is written atomically with mode 0600.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use serde_json::{json, Value};

use super::ConfigError;

/// What goes into the kubeconfig.
pub struct SavedContext<'a> {
    pub context: &'a str,
    pub server: &'a str,
    pub ca_pem: Option<&'a [u8]>,
    pub insecure: bool,
    pub token: Option<&'a str>,
    pub namespace: Option<&'a str>,
}

/// Adds (or replaces) the cluster, user and context named `entry.context` in the
/// kubeconfig at `path`, makes it the current context, and writes the file back.
pub fn save_context(path: &Path, entry: &SavedContext<'_>) -> Result<(), ConfigError> {
    let err = |m: String| ConfigError::new(m).file(path);
    let mut doc: Value = match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => serde_saphyr::from_str(&text)
            .map_err(|e| err(format!("not a valid kubeconfig, not changed: {}", e.to_string().lines().next().unwrap_or(""))))?,
        Ok(_) => json!({}),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => json!({}),
        Err(e) => return Err(err(format!("cannot read the file: {e}"))),
    };
    let map = doc.as_object_mut().ok_or_else(|| err("the kubeconfig is not a mapping, not changed".into()))?;
    map.entry("apiVersion").or_insert(json!("v1"));
    map.entry("kind").or_insert(json!("Config"));

    let mut cluster = json!({"server": entry.server});
    if let Some(ca) = entry.ca_pem {
        cluster["certificate-authority-data"] = json!(base64::engine::general_purpose::STANDARD.encode(ca));
    }
    if entry.insecure {
        cluster["insecure-skip-tls-verify"] = json!(true);
    }
    let mut user = json!({});
    if let Some(t) = entry.token {
        user["token"] = json!(t);
    }
    let mut context = json!({"cluster": entry.context, "user": entry.context});
    if let Some(ns) = entry.namespace {
        context["namespace"] = json!(ns);
    }
    upsert(map, "clusters", "cluster", entry.context, cluster).map_err(err)?;
    upsert(map, "users", "user", entry.context, user).map_err(err)?;
    upsert(map, "contexts", "context", entry.context, context).map_err(err)?;
    map.insert("current-context".into(), json!(entry.context));

    let text = serde_saphyr::to_string(&doc).map_err(|e| err(format!("cannot write YAML: {e}")))?;
    write_private(path, text.as_bytes()).map_err(|e| err(format!("cannot write the file: {e}")))
}

fn upsert(map: &mut serde_json::Map<String, Value>, list: &str, key: &str, name: &str, value: Value) -> Result<(), String> {
    let entries = map.entry(list).or_insert(json!([]));
    if entries.is_null() {
        *entries = json!([]);
    }
    let entries = entries.as_array_mut().ok_or_else(|| format!("'{list}' is not a list, not changed"))?;
    let item = json!({"name": name, key: value});
    match entries.iter_mut().find(|e| e.get("name").and_then(Value::as_str) == Some(name)) {
        Some(existing) => *existing = item,
        None => entries.push(item),
    }
    Ok(())
}

/// Writes through a temporary file in the same folder, created with mode 0600, then
/// renamed over the target: a crash never leaves half a kubeconfig, and the token is
/// never readable by others, not even for a moment.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.kubesession-{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("config"), std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::kubeconfig::Kubeconfig;

    #[test]
    fn adds_a_context_and_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: old\nclusters:\n- name: old\n  cluster: {server: https://old}\ncontexts:\n- name: old\n  context: {cluster: old}\nusers: []\n",
        )
        .unwrap();
        let entry = SavedContext {
            context: "new",
            server: "https://new:6443",
            ca_pem: Some(b"PEM"),
            insecure: false,
            token: Some("sha256~t"),
            namespace: Some("dev"),
        };
        save_context(&path, &entry).unwrap();
        save_context(&path, &entry).unwrap(); // replacing, not duplicating
        let kc = Kubeconfig::load(std::slice::from_ref(&path)).unwrap();
        assert_eq!(kc.current_context(), Some("new"));
        assert_eq!(kc.context_names(), vec!["new".to_string(), "old".to_string()]);
        let cfg = kc.resolve(None).unwrap();
        assert_eq!(cfg.server.as_str(), "https://new:6443/");
        assert_eq!(cfg.namespace.as_deref(), Some("dev"));
        assert_eq!(cfg.tls.ca.unwrap().data, b"PEM");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn refuses_to_overwrite_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "clusters: [unclosed").unwrap();
        let entry = SavedContext { context: "x", server: "https://x", ca_pem: None, insecure: false, token: None, namespace: None };
        assert!(save_context(&path, &entry).unwrap_err().to_string().contains("not changed"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "clusters: [unclosed");
    }
}
