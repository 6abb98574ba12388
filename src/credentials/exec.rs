//! kubeconfig `exec` credential plugins (client.authentication.k8s.io v1 / v1beta1), as
//! client-go runs them: the command with its args and env plus `KUBERNETES_EXEC_INFO`, no
//! shell, stdin closed; the result (a token, a client certificate, or both) cached until
//! `expirationTimestamp`; rerun after a 401. Output is never logged or quoted in errors (it
//! holds the credential); stderr is.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use serde::Deserialize;

use crate::config::ExecConfig;
use crate::error::Error;
use crate::secret::SecretString;

/// How long a plugin may run (client-go has no limit; a hung plugin must not hang us).
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);
/// A cached token this close to its expiry is renewed first.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct ExecPlugin {
    cfg: ExecConfig,
    timeout: Duration,
    cached: Mutex<Option<Cached>>,
    /// The client certificate of the latest run, for the TLS layer's certificate resolver.
    /// Kept after the token cache is invalidated: a handshake always has something to send.
    identity: Mutex<Option<Arc<CertifiedKey>>>,
    /// Bumped each time a run returns a client certificate, so that the transport opens
    /// new connections with it instead of reusing ones that carry the old one.
    identity_generation: AtomicU64,
}

#[derive(Debug, Clone)]
struct Cached {
    token: Option<SecretString>,
    identity: Option<Arc<CertifiedKey>>,
    expires: Option<SystemTime>,
}

impl Cached {
    /// Usable: no expiry, or not within EXPIRY_MARGIN of it.
    fn is_fresh(&self) -> bool {
        self.expires.is_none_or(|e| e > SystemTime::now() + EXPIRY_MARGIN)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredential {
    api_version: Option<String>,
    kind: Option<String>,
    status: Option<ExecStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecStatus {
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
    expiration_timestamp: Option<String>,
}

impl ExecPlugin {
    pub fn new(cfg: ExecConfig) -> Result<ExecPlugin, Error> {
        if cfg.interactive_mode.as_deref() == Some("Always") {
            return Err(Error::Auth(format!(
                "the exec plugin '{}' of context '{}' has interactiveMode: Always, and kubesession has no terminal to give it{}",
                cfg.command,
                cfg.context,
                hint(&cfg)
            )));
        }
        Ok(ExecPlugin {
            cfg,
            timeout: EXEC_TIMEOUT,
            cached: Mutex::new(None),
            identity: Mutex::new(None),
            identity_generation: AtomicU64::new(0),
        })
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The current token (None when the plugin gives a client certificate only): cached
    /// until it nearly expires, else from a fresh run. A fresh run also installs a returned
    /// client certificate for [`ExecPlugin::identity`].
    pub fn token(&self) -> Result<Option<SecretString>, Error> {
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cached.as_ref().filter(|c| c.is_fresh()) {
            return Ok(c.token.clone());
        }
        let new = self.run()?;
        if let Some(id) = &new.identity {
            *self.identity.lock().unwrap_or_else(|p| p.into_inner()) = Some(id.clone());
            self.identity_generation.fetch_add(1, Ordering::SeqCst);
        }
        *cached = Some(new.clone());
        Ok(new.token)
    }

    /// True when [`ExecPlugin::token`] would run the plugin (nothing cached, or expired).
    pub fn needs_run(&self) -> bool {
        let cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        !cached.as_ref().is_some_and(Cached::is_fresh)
    }

    /// The client certificate and key of the latest run, if it returned one. Never runs
    /// the plugin (it is read during TLS handshakes); [`ExecPlugin::token`] runs it first.
    pub fn identity(&self) -> Option<Arc<CertifiedKey>> {
        self.identity.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Changes each time the plugin hands out a new client certificate.
    pub fn identity_generation(&self) -> u64 {
        self.identity_generation.load(Ordering::SeqCst)
    }

    /// After a 401: forget the cached token so that the next request reruns the plugin.
    pub fn invalidate(&self) -> bool {
        self.cached.lock().unwrap_or_else(|p| p.into_inner()).take().is_some()
    }

    fn fail(&self, what: String) -> Error {
        Error::Auth(format!(
            "exec plugin '{}' of context '{}': {what}{}",
            self.cfg.command,
            self.cfg.context,
            hint(&self.cfg)
        ))
    }

    fn run(&self) -> Result<Cached, Error> {
        let info = serde_json::json!({
            "apiVersion": self.cfg.api_version,
            "kind": "ExecCredential",
            "spec": {"interactive": false},
        });
        let mut child = Command::new(&self.cfg.command)
            .args(&self.cfg.args)
            .envs(self.cfg.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("KUBERNETES_EXEC_INFO", info.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => self.fail("the command was not found".to_string()),
                _ => self.fail(format!("cannot start the command: {e}")),
            })?;
        // Read both pipes on their own threads so that a chatty plugin cannot block on a full pipe.
        let mut out = child.stdout.take().expect("piped");
        let mut err = child.stderr.take().expect("piped");
        let out_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        });
        let err_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            buf
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.fail(format!("it did not finish within {} s", self.timeout.as_secs())));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(self.fail(format!("waiting for it failed: {e}"))),
            }
        };
        let stdout = out_reader.join().unwrap_or_default();
        let stderr = err_reader.join().unwrap_or_default();
        if !status.success() {
            let text = String::from_utf8_lossy(&stderr);
            let tail: String = text.trim().chars().rev().take(2000).collect::<Vec<_>>().into_iter().rev().collect();
            return Err(self.fail(format!(
                "it failed ({status}){}",
                if tail.is_empty() { String::new() } else { format!(": {tail}") }
            )));
        }
        self.parse(&stdout)
    }

    fn parse(&self, stdout: &[u8]) -> Result<Cached, Error> {
        let cred: ExecCredential = serde_json::from_slice(stdout).map_err(|e| {
            self.fail(format!(
                "its output is not an ExecCredential (JSON error at line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        if cred.kind.as_deref() != Some("ExecCredential") {
            return Err(self.fail("its output is not of kind ExecCredential".to_string()));
        }
        if cred.api_version.as_deref() != Some(self.cfg.api_version.as_str()) {
            return Err(self.fail(format!(
                "it answered with apiVersion {:?}, but the kubeconfig asks for {}",
                cred.api_version.unwrap_or_default(),
                self.cfg.api_version
            )));
        }
        let status = cred.status.ok_or_else(|| self.fail("its ExecCredential has no status".to_string()))?;
        let expires = match status.expiration_timestamp.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => Some(
                parse_rfc3339(t)
                    .ok_or_else(|| self.fail(format!("its expirationTimestamp {t:?} is not an RFC 3339 time")))?,
            ),
            None => None,
        };
        let token = status.token.filter(|t| !t.is_empty()).map(SecretString::new);
        let cert = status.client_certificate_data.filter(|c| !c.is_empty());
        let key = status.client_key_data.filter(|k| !k.is_empty()).map(SecretString::new);
        let identity = match (cert, key) {
            (Some(cert), Some(key)) => Some(self.identity_from_pem(cert.as_bytes(), &key)?),
            (Some(_), None) => {
                return Err(self.fail("it returned clientCertificateData without clientKeyData".to_string()))
            }
            (None, Some(_)) => {
                return Err(self.fail("it returned clientKeyData without clientCertificateData".to_string()))
            }
            (None, None) => None,
        };
        if token.is_none() && identity.is_none() {
            return Err(self.fail("its ExecCredential status has neither a token nor a client certificate".to_string()));
        }
        Ok(Cached { token, identity, expires })
    }

    /// The certificate chain and key as rustls uses them; errors never quote the PEM.
    fn identity_from_pem(&self, cert: &[u8], key: &SecretString) -> Result<Arc<CertifiedKey>, Error> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
            .collect::<Result<_, _>>()
            .map_err(|_| self.fail("its clientCertificateData is not valid PEM".to_string()))?;
        if chain.is_empty() {
            return Err(self.fail("its clientCertificateData holds no PEM certificate".to_string()));
        }
        let der = PrivateKeyDer::from_pem_slice(key.expose().as_bytes())
            .map_err(|_| self.fail("its clientKeyData holds no PEM private key (PKCS#8, RSA or EC)".to_string()))?;
        let signing = rustls::crypto::ring::default_provider()
            .key_provider
            .load_private_key(der)
            .map_err(|e| self.fail(format!("its clientKeyData cannot be used: {e}")))?;
        let identity = CertifiedKey::new(chain, signing);
        if let Err(e) = identity.keys_match() {
            if !matches!(e, rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) {
                return Err(self.fail("its clientCertificateData and clientKeyData do not belong together".to_string()));
            }
        }
        Ok(Arc::new(identity))
    }
}

fn hint(cfg: &ExecConfig) -> String {
    cfg.install_hint.as_deref().map(|h| format!("\n{h}")).unwrap_or_default()
}

/// `2026-12-04T10:00:00Z` (or with an offset / fraction) as a time.
fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let t = text.trim();
    let (date, rest) = t.split_once(['T', 't'])?;
    let mut d = date.split('-');
    let (y, mo, da): (i64, i64, i64) = (d.next()?.parse().ok()?, d.next()?.parse().ok()?, d.next()?.parse().ok()?);
    let (clock, offset_secs) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let idx = rest.rfind(['+', '-'])?;
        let (c, off) = rest.split_at(idx);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (c, sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60))
    };
    let clock = clock.split('.').next()?;
    let mut c = clock.split(':');
    let (h, mi, s): (i64, i64, i64) = (c.next()?.parse().ok()?, c.next()?.parse().ok()?, c.next()?.parse().ok()?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (mo + if mo > 2 { -3 } else { 9 }) + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + h * 3600 + mi * 60 + s - offset_secs;
    if secs < 0 {
        return None;
    }
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(script: &str) -> ExecPlugin {
        ExecPlugin::new(ExecConfig {
            command: "sh".into(),
            args: vec!["-c".into(), script.into()],
            api_version: "client.authentication.k8s.io/v1".into(),
            install_hint: Some("install it with: apt install thing".into()),
            context: "ctx".into(),
            ..ExecConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:01:00Z"), Some(SystemTime::UNIX_EPOCH + Duration::from_secs(60)));
        assert_eq!(parse_rfc3339("2026-12-04T10:00:00.5+01:00"), parse_rfc3339("2026-12-04T09:00:00Z"));
        assert!(parse_rfc3339("yesterday").is_none());
    }

    #[test]
    fn token_and_caching() {
        let p = plugin(
            r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t1"}}'"#,
        );
        assert_eq!(p.token().unwrap().unwrap().expose(), "t1");
        assert!(p.identity().is_none());
        assert!(p.invalidate());
    }

    #[test]
    fn failures_carry_stderr_and_hint_never_stdout() {
        let e =
            plugin("echo secret-token-out; echo 'no credentials found' >&2; exit 3").token().unwrap_err().to_string();
        assert!(
            e.contains("no credentials found") && e.contains("apt install thing") && e.contains("context 'ctx'"),
            "{e}"
        );
        assert!(!e.contains("secret-token-out"), "{e}");
        let e = plugin("echo not-json-secret").token().unwrap_err().to_string();
        assert!(e.contains("not an ExecCredential") && !e.contains("not-json-secret"), "{e}");
        let e = plugin(r#"echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'"#)
            .token()
            .unwrap_err()
            .to_string();
        assert!(e.contains("v1beta1"), "{e}");
    }

    #[test]
    fn client_certificate_needs_a_key_and_valid_pem() {
        let only_cert = plugin(
            r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"x"}}'"#,
        );
        assert!(only_cert.token().unwrap_err().to_string().contains("without clientKeyData"));
        let bad_pem = plugin(
            r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"secret-junk","clientKeyData":"secret-key"}}'"#,
        );
        let e = bad_pem.token().unwrap_err().to_string();
        assert!(e.contains("clientCertificateData") && !e.contains("secret-junk") && !e.contains("secret-key"), "{e}");
        assert_eq!(bad_pem.identity_generation(), 0);
    }

    #[test]
    fn missing_command_and_interactive_and_timeout() {
        let mut cfg = ExecConfig {
            command: "/nonexistent/kubelogin".into(),
            api_version: "client.authentication.k8s.io/v1".into(),
            install_hint: Some("brew install kubelogin".into()),
            context: "c".into(),
            ..ExecConfig::default()
        };
        let e = ExecPlugin::new(cfg.clone()).unwrap().token().unwrap_err().to_string();
        assert!(e.contains("not found") && e.contains("brew install kubelogin"), "{e}");
        cfg.interactive_mode = Some("Always".into());
        assert!(ExecPlugin::new(cfg).unwrap_err().to_string().contains("interactiveMode: Always"));
        let slow = plugin("sleep 5").with_timeout(Duration::from_millis(200));
        assert!(slow.token().unwrap_err().to_string().contains("did not finish"));
    }
}
