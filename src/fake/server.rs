//! The HTTP side of a FakeCluster: TLS, HTTP/1.1 (hyper), injected faults, authentication,
//! routing of `/api`, `/apis` and `/version`, and watch streams.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response};
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::access::{Faults, Users};
use super::resources::{self, ResourceType};
use super::selectors::{FieldSelector, LabelSelector};
use super::status::Failure;
use super::store::{event_line, PatchKind, Query, Store};

pub type Body = BoxBody<Bytes, Infallible>;

/// The largest request body accepted (the API server's limit is 3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;
/// Watch streams without `timeoutSeconds` end after this long, like the API server's
/// default (`--min-request-timeout`); clients resume.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

pub struct State {
    pub store: Store,
    pub types: RwLock<Vec<ResourceType>>,
    pub users: Users,
    pub faults: Faults,
    pub address: String,
    pub bookmark_interval: Duration,
}

impl State {
    fn find_type(&self, group: &str, version: &str, plural: &str) -> Option<ResourceType> {
        let types = self.types.read().unwrap_or_else(|p| p.into_inner());
        types.iter().find(|t| t.group == group && t.version == version && t.plural == plural).cloned()
    }
}

fn json_response(status: u16, body: Bytes) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Full::new(body).boxed())
        .expect("a valid response")
}

fn value_response(status: u16, body: &Value) -> Response<Body> {
    json_response(status, Bytes::from(serde_json::to_vec(body).expect("JSON")))
}

fn failure_response(f: &Failure) -> Response<Body> {
    value_response(f.code, &f.body())
}

pub async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let latency = state.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(injected) = state.faults.take_failure() {
        let reason = match injected.status {
            429 => "TooManyRequests",
            503 => "ServiceUnavailable",
            500 => "InternalError",
            _ => "InternalError",
        };
        let f = Failure::new(injected.status, reason, "injected by cluster.faults.fail_next");
        let mut resp = failure_response(&f);
        if let Some(secs) = injected.retry_after {
            resp.headers_mut().insert("Retry-After", secs.to_string().parse().expect("a number"));
        }
        return Ok(resp);
    }
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok());
    let Some(user) = state.users.authenticate(auth) else {
        return Ok(failure_response(&Failure::unauthorized()));
    };
    Ok(route(state, user, req).await.unwrap_or_else(|f| failure_response(&f)))
}

/// The parts of a resource path.
struct Target {
    t: ResourceType,
    namespace: String,
    name: Option<String>,
    status: bool,
}

enum Route {
    Doc(Value),
    Resource(Target),
}

fn parse_path(state: &State, path: &str) -> Result<Route, Failure> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let types = || state.types.read().unwrap_or_else(|p| p.into_inner()).clone();
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return Ok(Route::Doc(resources::version())),
        ["api"] => return Ok(Route::Doc(resources::core_versions(&state.address))),
        ["apis"] => return Ok(Route::Doc(resources::group_list(&types()))),
        ["apis", g] => return resources::group(&types(), g).map(Route::Doc).ok_or_else(Failure::no_route),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(Failure::no_route()),
    };
    if rest.is_empty() {
        return resources::resource_list(&types(), group, version).map(Route::Doc).ok_or_else(Failure::no_route);
    }
    let find = |plural: &str| state.find_type(group, version, plural).ok_or_else(Failure::no_route);
    let target = match rest {
        // Namespaced: namespaces/{ns}/{plural}[/{name}[/status]]. (namespaces/{name}/status is the Namespace's own.)
        ["namespaces", ns, plural, tail @ ..] if !(group.is_empty() && *plural == "status" && tail.is_empty()) => {
            let t = find(plural)?;
            if !t.namespaced {
                return Err(Failure::no_route());
            }
            let (name, status) = match tail {
                [] => (None, false),
                [name] => (Some(name.to_string()), false),
                [name, "status"] => (Some(name.to_string()), true),
                _ => return Err(Failure::no_route()),
            };
            Target { t, namespace: ns.to_string(), name, status }
        }
        [plural, tail @ ..] => {
            let t = find(plural)?;
            let (name, status) = match tail {
                [] => (None, false),
                [name] if !t.namespaced => (Some(name.to_string()), false),
                [name, "status"] if !t.namespaced => (Some(name.to_string()), true),
                _ => return Err(Failure::no_route()),
            };
            Target { t, namespace: String::new(), name, status }
        }
        [] => unreachable!("handled above"),
    };
    Ok(Route::Resource(target))
}

fn query_params(req: &Request<Incoming>) -> HashMap<String, String> {
    req.uri()
        .query()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

fn verb_of(method: &Method, target: &Target, watch: bool) -> Option<&'static str> {
    Some(match (method, target.name.is_some()) {
        (&Method::GET, true) => "get",
        (&Method::GET, false) if watch => "watch",
        (&Method::GET, false) => "list",
        (&Method::POST, false) => "create",
        (&Method::PUT, true) => "update",
        (&Method::PATCH, true) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => return None,
    })
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, Failure> {
    let limited = http_body_util::Limited::new(req.into_body(), MAX_BODY);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(_) => Err(Failure::new(413, "RequestEntityTooLarge", "the request body is too large")),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, Failure> {
    serde_json::from_slice(body).map_err(|e| {
        Failure::bad_request(format!("the body of the request was in an unknown format: json parse error: {e}"))
    })
}

async fn route(state: Arc<State>, user: super::access::User, mut req: Request<Incoming>) -> Result<Response<Body>, Failure> {
    if req.method() == Method::POST && req.uri().path() == "/apis/authentication.k8s.io/v1/selfsubjectreviews" {
        // Who am I: any authenticated user may ask (Kubernetes 1.28+).
        let review = serde_json::json!({
            "kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {"username": user.name, "groups": ["system:authenticated"]}},
        });
        return Ok(value_response(201, &review));
    }
    let route = parse_path(&state, req.uri().path())?;
    let target = match route {
        Route::Doc(doc) => {
            return if req.method() == Method::GET {
                Ok(value_response(200, &doc))
            } else {
                Err(Failure::new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"))
            }
        }
        Route::Resource(t) => t,
    };
    let params = query_params(&req);
    let watching = params.get("watch").is_some_and(|w| w == "true" || w == "1");
    let verb = verb_of(req.method(), &target, watching).ok_or_else(|| {
        Failure::new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    })?;
    if target.status && !matches!(verb, "get" | "update" | "patch") {
        return Err(Failure::new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"));
    }
    if !target.t.has_status && target.status {
        return Err(Failure::no_route());
    }
    let resource = if target.status { format!("{}/status", target.t.plural) } else { target.t.plural.clone() };
    if !user.allows(verb, &resource) {
        let ns = (!target.namespace.is_empty()).then_some(target.namespace.as_str());
        return Err(Failure::forbidden(&user.name, verb, Some(&target.t), ns));
    }
    let store = &state.store;
    let t = &target.t;
    let ns = target.namespace.as_str();
    let name = target.name.clone().unwrap_or_default();
    match verb {
        "get" => Ok(json_response(200, store.get(t, ns, &name)?)),
        "list" => {
            let q = query(&params, t, ns)?;
            let limit = params.get("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0);
            let cont = params.get("continue").filter(|c| !c.is_empty());
            Ok(json_response(200, store.list(t, &q, limit, cont.map(String::as_str))?))
        }
        "watch" => {
            let upgrade = websocket_upgrade(&mut req);
            watch(state.clone(), t.clone(), query(&params, t, ns)?, &params, upgrade)
        }
        "create" => {
            let body = parse_json(&read_body(req).await?)?;
            Ok(json_response(201, store.create(t, ns, body)?))
        }
        "update" => {
            let body = parse_json(&read_body(req).await?)?;
            Ok(json_response(200, store.update(t, ns, &name, body, target.status)?))
        }
        "patch" => {
            let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let raw = read_body(req).await?;
            let (kind, body) = match content_type.split(';').next().unwrap_or("").trim() {
                "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                    (PatchKind::Merge, parse_json(&raw)?)
                }
                "application/json-patch+json" => (PatchKind::Json, parse_json(&raw)?),
                "application/apply-patch+yaml" => {
                    let field_manager = params.get("fieldManager").cloned().unwrap_or_default();
                    if field_manager.is_empty() {
                        return Err(Failure::bad_request("PATCH requests with apply content type require a fieldManager"));
                    }
                    let text = std::str::from_utf8(&raw).map_err(|_| Failure::bad_request("the body is not UTF-8"))?;
                    let body: Value = serde_saphyr::from_str(text)
                        .map_err(|_| Failure::bad_request("the body of the apply request is not valid YAML or JSON"))?;
                    (PatchKind::Apply { field_manager }, body)
                }
                other => {
                    return Err(Failure::new(
                        415,
                        "UnsupportedMediaType",
                        format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other:?})"),
                    ))
                }
            };
            let (code, out) = store.patch(t, ns, &name, kind, &body, target.status)?;
            Ok(json_response(code, out))
        }
        "delete" => Ok(json_response(200, store.delete(t, ns, &name)?)),
        "deletecollection" => {
            let q = query(&params, t, ns)?;
            let list: Value = serde_json::from_slice(&store.list(t, &q, None, None)?).expect("our own JSON");
            for item in list["items"].as_array().into_iter().flatten() {
                let item_ns = item.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
                let item_name = item.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
                let _ = store.delete(t, item_ns, item_name);
            }
            Ok(value_response(200, &serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})))
        }
        _ => Err(Failure::no_route()),
    }
}

fn query(params: &HashMap<String, String>, t: &ResourceType, ns: &str) -> Result<Query, Failure> {
    let labels = LabelSelector::parse(params.get("labelSelector").map(String::as_str).unwrap_or(""))
        .map_err(Failure::bad_request)?;
    let fields = FieldSelector::parse(params.get("fieldSelector").map(String::as_str).unwrap_or(""))
        .map_err(Failure::bad_request)?;
    Ok(Query { namespace: (t.namespaced && !ns.is_empty()).then(|| ns.to_string()), labels, fields })
}

/// A WebSocket handshake asked for on a watch: the `Sec-WebSocket-Accept` answer, and the
/// connection to take over once the 101 response has gone out.
struct WebSocketUpgrade {
    accept: String,
    on_upgrade: hyper::upgrade::OnUpgrade,
}

fn websocket_upgrade(req: &mut Request<Incoming>) -> Option<WebSocketUpgrade> {
    let asks = req.headers().get("upgrade").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = req.headers().get("sec-websocket-key")?.as_bytes().to_vec();
    asks.then(|| WebSocketUpgrade {
        accept: tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key),
        on_upgrade: hyper::upgrade::on(req),
    })
}

/// A watch stream: the initial events (history replay or ADDED for what exists), then live
/// events, bookmarks when asked for, until `timeoutSeconds`, a dropped watch or the
/// client's going away. Over HTTP, events are coalesced into chunks of up to 64 KiB; over a
/// WebSocket (as the API server serves `?watch` to an upgrade), each event is a message.
fn watch(
    state: Arc<State>,
    t: ResourceType,
    q: Query,
    params: &HashMap<String, String>,
    upgrade: Option<WebSocketUpgrade>,
) -> Result<Response<Body>, Failure> {
    let rv = match params.get("resourceVersion").filter(|v| !v.is_empty()) {
        Some(v) => Some(v.parse::<u64>().map_err(|_| Failure::bad_request(format!("invalid resource version: {v}")))?),
        None => None,
    };
    let bookmarks = params.get("allowWatchBookmarks").is_some_and(|b| b == "true");
    let timeout = params
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_WATCH_TIMEOUT);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let start = state.store.watch(&t, &q, rv);
    let mut drops = state.faults.drops.subscribe();
    drops.mark_unchanged();
    let bookmark_interval = state.bookmark_interval;
    tokio::spawn(async move {
        let mut start = match start {
            Ok(s) => s,
            Err(f) => {
                // An expired resourceVersion is an ERROR event on a 200 stream, as on the API server.
                let body = serde_json::to_vec(&f.body()).expect("JSON");
                let _ = tx.send(event_line("ERROR", &body)).await;
                return;
            }
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last_rv = start.rv.max(rv.unwrap_or(0));
        let mut chunk = BytesMut::new();
        for line in start.initial.drain(..) {
            chunk.extend_from_slice(&line);
            if chunk.len() >= 64 * 1024 && tx.send(chunk.split().freeze()).await.is_err() {
                return;
            }
        }
        if !chunk.is_empty() && tx.send(chunk.split().freeze()).await.is_err() {
            return;
        }
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + bookmark_interval, bookmark_interval);
        let type_key = t.key();
        loop {
            tokio::select! {
                received = start.receiver.recv() => {
                    let mut next = Some(received);
                    while let Some(r) = next.take() {
                        match r {
                            Ok(e) => {
                                last_rv = e.rv;
                                if e.type_key == type_key && q_matches(&q, &e.namespace, &e.object) {
                                    chunk.extend_from_slice(&e.line);
                                }
                            }
                            // Too slow to keep up: end the stream; the client resumes from its last event.
                            Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => {
                                let _ = tx.send(chunk.split().freeze()).await;
                                return;
                            }
                        }
                        if chunk.len() < 64 * 1024 {
                            next = match start.receiver.try_recv() {
                                Ok(e) => Some(Ok(e)),
                                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
                                Err(_) => None,
                            };
                        }
                    }
                    if !chunk.is_empty() && tx.send(chunk.split().freeze()).await.is_err() {
                        return;
                    }
                }
                _ = ticker.tick(), if bookmarks => {
                    let object = serde_json::json!({
                        "kind": t.kind, "apiVersion": t.api_version(),
                        "metadata": {"resourceVersion": last_rv.to_string()},
                    });
                    let line = event_line("BOOKMARK", &serde_json::to_vec(&object).expect("JSON"));
                    if tx.send(line).await.is_err() {
                        return;
                    }
                }
                _ = tokio::time::sleep_until(deadline) => return,
                _ = drops.changed() => return,
                _ = tx.closed() => return,
            }
        }
    });
    if let Some(upgrade) = upgrade {
        tokio::spawn(serve_websocket(upgrade.on_upgrade, rx));
        return Ok(Response::builder()
            .status(101)
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Accept", upgrade.accept)
            .body(Full::new(Bytes::new()).boxed())
            .expect("a valid response"));
    }
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    Ok(Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .body(StreamBody::new(stream).boxed())
        .expect("a valid response"))
}

/// Sends a watch's event lines, one text message each, then a close frame when the watch
/// ends (timeout, dropped watches); stops when the client closes or goes away.
async fn serve_websocket(on_upgrade: hyper::upgrade::OnUpgrade, mut events: tokio::sync::mpsc::Receiver<Bytes>) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{protocol::Role, Message};

    let Ok(upgraded) = on_upgrade.await else { return };
    let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(hyper_util::rt::TokioIo::new(upgraded), Role::Server, None).await;
    let (mut sink, mut incoming) = ws.split();
    loop {
        tokio::select! {
            chunk = events.recv() => {
                let Some(chunk) = chunk else { break };
                for line in chunk.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    let Ok(text) = std::str::from_utf8(line) else { continue };
                    if sink.feed(Message::text(text)).await.is_err() {
                        return;
                    }
                }
                if sink.flush().await.is_err() {
                    return;
                }
            }
            message = incoming.next() => match message {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {} // pings are answered by the library; nothing else is expected
            },
        }
    }
    let _ = sink.send(Message::Close(None)).await;
}

fn q_matches(q: &Query, namespace: &str, object: &Value) -> bool {
    q.namespace.as_deref().is_none_or(|n| n == namespace) && q.labels.matches(object) && q.fields.matches(object)
}

/// Serves connections until `shutdown` fires; each connection ends with it too.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<State>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => continue,
            },
            _ = shutdown.changed() => return,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = state.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let tls = tokio::select! {
                tls = acceptor.accept(tcp) => match tls {
                    Ok(t) => t,
                    Err(_) => return, // a client that does not trust us, or not TLS at all
                },
                _ = shutdown.changed() => return,
            };
            let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .with_upgrades();
            tokio::select! {
                _ = conn => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}
