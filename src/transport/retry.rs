//! Retries of idempotent requests on 429 and 503, honouring Retry-After.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::Method;

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt. 0 turns retries off.
    pub max_retries: u32,
    /// Used when the server sends no Retry-After: base * 2^attempt.
    pub base_delay: Duration,
    /// No single wait is longer than this, whatever Retry-After says.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(30) }
    }
}

pub fn is_idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS)
}

impl RetryPolicy {
    /// How long to wait before retrying, or None to return the response as it is.
    pub fn should_retry(&self, method: &Method, status: u16, headers: &HeaderMap, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_retries || !is_idempotent(method) || !(status == 429 || status == 503) {
            return None;
        }
        let delay = retry_after(headers).unwrap_or_else(|| self.base_delay.saturating_mul(1 << attempt.min(16)));
        Some(delay.min(self.max_delay))
    }
}

/// Retry-After as delay-seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, v.parse().unwrap());
        h
    }

    #[test]
    fn retries_idempotent_only() {
        let p = RetryPolicy::default();
        assert_eq!(p.should_retry(&Method::GET, 429, &headers("2"), 0), Some(Duration::from_secs(2)));
        assert_eq!(p.should_retry(&Method::POST, 429, &headers("2"), 0), None);
        assert_eq!(p.should_retry(&Method::GET, 500, &headers("2"), 0), None);
        assert_eq!(p.should_retry(&Method::GET, 503, &HeaderMap::new(), 3), None, "bounded");
        assert_eq!(p.should_retry(&Method::DELETE, 503, &HeaderMap::new(), 1), Some(Duration::from_secs(1)));
    }

    #[test]
    fn retry_after_is_capped_and_parses_dates() {
        let p = RetryPolicy::default();
        assert_eq!(p.should_retry(&Method::GET, 429, &headers("3600"), 0), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(10));
        assert_eq!(retry_after(&headers(&past)), Some(Duration::ZERO));
    }
}
