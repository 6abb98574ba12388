//! A response whose body is read with the read timeout applied to every wait.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use super::redact_url;
use crate::error::Error;

pub struct Response {
    inner: reqwest::Response,
    read_timeout: Option<Duration>,
    retries: u32,
    url: String,
}

impl Response {
    pub(super) fn new(inner: reqwest::Response, read_timeout: Option<Duration>, retries: u32) -> Self {
        let url = redact_url(inner.url());
        Response { inner, read_timeout, retries, url }
    }

    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The final URL (after redirects), without query or user info.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn retries(&self) -> u32 {
        self.retries
    }

    pub fn http_version(&self) -> reqwest::Version {
        self.inner.version()
    }

    /// The next piece of the body, or None at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        let fut = self.inner.chunk();
        let result = match self.read_timeout {
            Some(limit) => tokio::time::timeout(limit, fut).await.map_err(|_| Error::Timeout {
                url: self.url.clone(),
                phase: "read",
                seconds: limit.as_secs_f64(),
            })?,
            None => fut.await,
        };
        result.map_err(|e| Error::Connect {
            url: self.url.clone(),
            detail: format!("the connection broke while reading the body: {}", super::errors::chain(&e)),
        })
    }

    /// The whole body.
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let first = match self.chunk().await? {
            Some(c) => c,
            None => return Ok(Bytes::new()),
        };
        let second = match self.chunk().await? {
            Some(c) => c,
            None => return Ok(first),
        };
        let hint = self.inner.content_length().unwrap_or(0) as usize;
        let mut buf = BytesMut::with_capacity(hint.max(first.len() + second.len()));
        buf.extend_from_slice(&first);
        buf.extend_from_slice(&second);
        while let Some(c) = self.chunk().await? {
            buf.extend_from_slice(&c);
        }
        Ok(buf.freeze())
    }
}
