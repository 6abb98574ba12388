//! Joining request paths to a server URL.

use url::Url;

use crate::error::Error;

/// `path_or_url` joined to `server`. A path keeps the server's own path prefix
/// (`https://host/k8s/clusters/c-1` + `/api/v1/pods`); an absolute URL is used as it is.
pub fn join(server: &Url, path_or_url: &str) -> Result<Url, Error> {
    if path_or_url.starts_with("https://") || path_or_url.starts_with("http://") {
        return Url::parse(path_or_url).map_err(|e| Error::InvalidRequest(format!("invalid URL '{path_or_url}': {e}")));
    }
    let mut url = server.clone();
    let (path, query) = match path_or_url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_or_url, None),
    };
    let prefix = server.path().trim_end_matches('/');
    let joined = format!("{prefix}/{}", path.trim_start_matches('/'));
    url.set_path(&joined);
    url.set_query(query);
    url.set_fragment(None);
    Ok(url)
}

/// Appends query parameters, keeping any already in the URL.
pub fn add_params(url: &mut Url, params: &[(String, String)]) {
    if params.is_empty() {
        return;
    }
    let mut pairs = url.query_pairs_mut();
    for (k, v) in params {
        pairs.append_pair(k, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_with_prefix_and_query() {
        let s = Url::parse("https://rancher.example/k8s/clusters/c-1").unwrap();
        assert_eq!(join(&s, "/api/v1/pods").unwrap().as_str(), "https://rancher.example/k8s/clusters/c-1/api/v1/pods");
        assert_eq!(join(&s, "api/v1/pods?limit=5").unwrap().as_str(), "https://rancher.example/k8s/clusters/c-1/api/v1/pods?limit=5");
        let s = Url::parse("https://h:6443/").unwrap();
        assert_eq!(join(&s, "/version").unwrap().as_str(), "https://h:6443/version");
        assert_eq!(join(&s, "https://other/x").unwrap().as_str(), "https://other/x");
        let mut u = join(&s, "/api?a=1").unwrap();
        add_params(&mut u, &[("labelSelector".into(), "app=x,tier in (a,b)".into())]);
        assert_eq!(u.as_str(), "https://h:6443/api?a=1&labelSelector=app%3Dx%2Ctier+in+%28a%2Cb%29");
    }
}
