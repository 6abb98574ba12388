//! WebSocket connections to the API server (`?watch` over an upgrade: one event per
//! message), with the Session's own TLS configuration and credentials.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, Message};
use tokio_tungstenite::WebSocketStream;
use url::Url;

use super::{authorization, redact_url, same_origin, Transport};
use crate::error::Error;

pub struct WebSocket {
    inner: WebSocketStream<TlsStream<TcpStream>>,
    url: String,
}

/// What opening a WebSocket gave: the stream, or the HTTP status and body the server
/// answered the upgrade with (410 for an expired resourceVersion, 403, ...).
pub enum Opened {
    Stream(Box<WebSocket>),
    Refused { status: u16, body: Bytes },
}

impl Transport {
    /// Opens `url` (https) as a WebSocket. Not through proxies: a CONNECT tunnel for
    /// WebSockets is not supported, and saying so beats bypassing a configured proxy.
    pub async fn websocket(&self, url: &Url, connect_timeout: Option<Duration>) -> Result<Opened, Error> {
        let shown = redact_url(url);
        if url.scheme() != "https" {
            return Err(Error::InvalidRequest(format!("WebSocket watches need an https server, not {shown}")));
        }
        if self.proxied {
            return Err(Error::InvalidRequest(
                "WebSocket watches cannot go through a proxy; use transport=\"http\"".into(),
            ));
        }
        // Resolved before the handshake: an exec plugin run here may hand TLS a new client certificate.
        let authorization = if same_origin(url, &self.server) { authorization(&self.credentials)? } else { None };
        let host = url.host_str().ok_or_else(|| Error::InvalidRequest(format!("no host in {shown}")))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let connect = TcpStream::connect((host.trim_matches(['[', ']']), port));
        let tcp = match connect_timeout {
            Some(t) => tokio::time::timeout(t, connect)
                .await
                .map_err(|_| Error::Timeout { url: shown.clone(), phase: "connect", seconds: t.as_secs_f64() })?,
            None => connect.await,
        }
        .map_err(|e| Error::Connect { url: shown.clone(), detail: e.to_string() })?;
        let _ = tcp.set_nodelay(true);
        let name = self.tls_server_name(url);
        let server_name = ServerName::try_from(name.clone())
            .map_err(|_| Error::InvalidRequest(format!("'{name}' is not a valid TLS server name")))?;
        let connector = tokio_rustls::TlsConnector::from(self.websocket_tls.clone());
        let tls = connector.connect(server_name, tcp).await.map_err(|e| match crate::tls::find_rustls_error(&e) {
            Some(r) => Error::Tls { url: shown.clone(), detail: crate::tls::failure_detail(r, &name, &self.trust) },
            None => Error::Connect { url: shown.clone(), detail: e.to_string() },
        })?;

        let mut ws_url = url.clone();
        let _ = ws_url.set_scheme("wss");
        let mut request = ws_url
            .as_str()
            .into_client_request()
            .map_err(|e| Error::InvalidRequest(format!("cannot build the WebSocket request: {e}")))?;
        // The API server's WebSocket handler (golang.org/x/net/websocket) refuses a
        // handshake without an Origin with 403; present the server's own.
        let origin = url.origin().ascii_serialization();
        if let Ok(value) = reqwest::header::HeaderValue::from_str(&origin) {
            request.headers_mut().insert(reqwest::header::ORIGIN, value);
        }
        if let Some(value) = authorization {
            request.headers_mut().insert(reqwest::header::AUTHORIZATION, value);
        }
        match tokio_tungstenite::client_async(request, tls).await {
            Ok((inner, _response)) => Ok(Opened::Stream(Box::new(WebSocket { inner, url: shown }))),
            Err(tungstenite::Error::Http(resp)) => {
                let status = resp.status().as_u16();
                let body = resp.into_body().map(Bytes::from).unwrap_or_default();
                Ok(Opened::Refused { status, body })
            }
            Err(e) => Err(Error::Connect { url: shown, detail: format!("WebSocket handshake failed: {e}") }),
        }
    }
}

impl WebSocket {
    /// The next data message, or None when the server closed the stream.
    pub async fn next_message(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            match self.inner.next().await {
                None => return Ok(None),
                Some(Ok(Message::Text(t))) => return Ok(Some(Bytes::from(t.as_str().to_owned()))),
                Some(Ok(Message::Binary(b))) => return Ok(Some(b)),
                Some(Ok(Message::Close(_))) => return Ok(None),
                Some(Ok(_)) => continue, // ping/pong: tungstenite answers pings itself
                Some(Err(e)) => {
                    return Err(Error::Connect {
                        url: self.url.clone(),
                        detail: format!("the WebSocket broke: {e}"),
                    })
                }
            }
        }
    }
}

pub(super) fn tls_for_websocket(mut config: rustls::ClientConfig) -> Arc<rustls::ClientConfig> {
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}
