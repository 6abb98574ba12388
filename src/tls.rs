//! TLS: the rustls configuration of a Session, and explanations of TLS failures.
//!
//! We build the rustls `ClientConfig` ourselves (instead of reqwest's TLS options) so that
//! one verifier handles all three policies: an explicit CA as the only trust root (never
//! widened by SSL_CERT_FILE, REQUESTS_CA_BUNDLE or the system store), `tls-server-name`
//! (verify the certificate against another name than the URL's host), and the loud
//! opt-out `insecure`. Keys and CAs stay in memory.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::{ConfigError, TlsConfig};
use crate::credentials::exec::ExecPlugin;
use crate::error::Error;

/// Describes the trust a Session uses, for error messages.
pub fn trust_description(tls: &TlsConfig) -> String {
    if tls.insecure {
        "none (verification disabled)".to_string()
    } else {
        match &tls.ca {
            Some(ca) => ca.origin.clone(),
            None => "the system trust store".to_string(),
        }
    }
}

/// `http2` offers h2 in ALPN; otherwise only HTTP/1.1 is offered. With an exec plugin, the
/// client certificate is the one the plugin returned last (read at each handshake).
pub fn client_config(
    tls: &TlsConfig,
    http2: bool,
    exec: Option<Arc<ExecPlugin>>,
) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = if tls.insecure { None } else { Some(webpki_verifier(tls, provider.clone())?) };
    let name_override = match &tls.server_name {
        Some(name) => Some(ServerName::try_from(name.clone()).map_err(|_| {
            ConfigError::new(format!("tls-server-name '{name}' is not a valid DNS name or IP address"))
        })?),
        None => None,
    };
    let verifier = Arc::new(KubeVerifier { inner, name_override, provider: provider.clone() });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidRequest(format!("TLS setup failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&tls.client_identity, exec) {
        (_, Some(plugin)) => {
            let mut config = builder.with_client_cert_resolver(Arc::new(ExecIdentity { plugin }));
            // A resumed TLS session keeps the client certificate it was made with: after a
            // rotation the server would still see the old one. Full handshakes only.
            config.resumption = rustls::client::Resumption::disabled();
            config
        }
        (Some(id), None) => {
            let chain = parse_certs(&id.cert.data, &id.cert.origin)?;
            let key = PrivateKeyDer::from_pem_slice(id.key.expose()).map_err(|_| {
                ConfigError::new(format!(
                    "{} holds no PEM private key (PKCS#8, RSA or EC) that can be read",
                    id.key_origin
                ))
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                ConfigError::new(format!(
                    "client certificate {} and key {} cannot be used together: {e}",
                    id.cert.origin, id.key_origin
                ))
            })?
        }
        (None, None) => builder.with_no_client_auth(),
    };
    config.alpn_protocols = if http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
    Ok(config)
}

fn parse_certs(pem: &[u8], origin: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    let certs = certs.map_err(|e| ConfigError::new(format!("{origin} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(ConfigError::new(format!("{origin} contains no PEM certificate")).into());
    }
    Ok(certs)
}

fn webpki_verifier(tls: &TlsConfig, provider: Arc<CryptoProvider>) -> Result<Arc<WebPkiServerVerifier>, Error> {
    let mut roots = RootCertStore::empty();
    match &tls.ca {
        Some(ca) => {
            for cert in parse_certs(&ca.data, &ca.origin)? {
                roots.add(cert).map_err(|e| {
                    ConfigError::new(format!("{} holds a certificate rustls cannot use: {e}", ca.origin))
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(ConfigError::new(
                    "no CA was configured and the system trust store is empty; pass ca_file= or ca_data=",
                )
                .into());
            }
        }
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| Error::InvalidRequest(format!("TLS verifier setup failed: {e}")))
}

/// Hands the server the client certificate the exec plugin returned last (none when it
/// returns tokens only). The transport runs the plugin before a request needs it.
#[derive(Debug)]
struct ExecIdentity {
    plugin: Arc<ExecPlugin>,
}

impl ResolvesClientCert for ExecIdentity {
    fn resolve(&self, _root_hint_subjects: &[&[u8]], _sigschemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.plugin.identity()
    }

    fn has_certs(&self) -> bool {
        true
    }
}

#[derive(Debug)]
struct KubeVerifier {
    /// None when verification is disabled on purpose.
    inner: Option<Arc<WebPkiServerVerifier>>,
    name_override: Option<ServerName<'static>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for KubeVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.inner {
            None => Ok(ServerCertVerified::assertion()),
            Some(v) => {
                let name = self.name_override.as_ref().unwrap_or(server_name);
                v.verify_server_cert(end_entity, intermediates, name, ocsp_response, now)
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Finds a rustls error anywhere in an error's chain. `io::Error` hides its payload from
/// `source()`, so it is unwrapped by hand.
pub fn find_rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(found) = find_rustls_error(inner) {
                    return Some(found);
                }
            }
        }
        cur = e.source();
    }
    None
}

/// A sentence saying why the handshake failed, in terms a user can act on.
pub fn explain(err: &rustls::Error) -> String {
    use rustls::Error as E;
    match err {
        E::InvalidCertificate(ce) => match ce {
            CertificateError::UnknownIssuer => {
                "the server's certificate is not signed by a trusted CA (unknown issuer)".to_string()
            }
            CertificateError::NotValidForName => {
                "the server's certificate is not valid for this server name".to_string()
            }
            CertificateError::NotValidForNameContext { expected, presented } => format!(
                "the server's certificate is not valid for the name '{}' (it is valid for: {})",
                server_name_str(expected),
                if presented.is_empty() { "no names".to_string() } else { presented_names(presented) }
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the server's certificate has expired".to_string()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (check the clock)".to_string()
            }
            CertificateError::Revoked => "the server's certificate has been revoked".to_string(),
            CertificateError::BadSignature => {
                "the server's certificate is not signed by the trusted CA (the signature does not verify: \
                 a different CA with the same name?)"
                    .to_string()
            }
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                "the server's certificate is not meant for TLS servers (extendedKeyUsage)".to_string()
            }
            CertificateError::BadEncoding => "the server's certificate cannot be decoded".to_string(),
            CertificateError::Other(other) => format!("the server's certificate was rejected: {other}"),
            other => format!("the server's certificate was rejected: {other:?}"),
        },
        E::AlertReceived(alert) => format!(
            "the server ended the handshake with the alert {alert:?} (a client certificate it does not accept?)"
        ),
        E::InvalidMessage(_) => "the server did not answer with TLS (is it plain HTTP, or the wrong port?)".to_string(),
        E::NoCertificatesPresented => "the server presented no certificate".to_string(),
        other => format!("{other}"),
    }
}

/// rustls shows presented names as `DnsName("x")` / `IpAddress(1.2.3.4)`: keep the names.
fn presented_names(presented: &[String]) -> String {
    presented
        .iter()
        .map(|p| match p.split_once('(') {
            Some((_, rest)) => rest.trim_end_matches(')').trim_matches('"').to_string(),
            None => p.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The SSLError message: why, the server name checked and the trust used.
pub fn failure_detail(err: &rustls::Error, server_name: &str, trust: &str) -> String {
    format!("{}; server name '{server_name}', trusted CA: {trust}", explain(err))
}

fn server_name_str(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(d) => d.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Pem;

    #[test]
    fn garbage_ca_is_a_config_error_naming_its_origin() {
        crate::runtime::install_crypto_provider();
        let tls = TlsConfig {
            ca: Some(Pem { data: b"not a pem".to_vec(), origin: "CA file /tmp/x.pem".into() }),
            ..TlsConfig::default()
        };
        let err = client_config(&tls, false, None).unwrap_err().to_string();
        assert!(err.contains("/tmp/x.pem") && err.contains("no PEM certificate"), "{err}");
    }

    #[test]
    fn insecure_needs_no_roots() {
        let tls = TlsConfig { insecure: true, ..TlsConfig::default() };
        assert!(client_config(&tls, true, None).is_ok());
        assert_eq!(trust_description(&tls), "none (verification disabled)");
    }

    #[test]
    fn explains_name_mismatch_with_presented_names() {
        let e = rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("api.example").unwrap().to_owned(),
            presented: vec!["DnsName(\"localhost\")".into()],
        });
        let s = explain(&e);
        assert!(s.contains("api.example") && s.contains("valid for: localhost)"), "{s}");
    }
}
