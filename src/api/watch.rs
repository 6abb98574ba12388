//! Watching a collection, correctly by default: client-go's reflector loop as an explicit
//! state machine (like kube-rs's watcher).
//!
//! ```text
//!   List ──items──▶ Connect ──200──▶ Streaming ──line──▶ event (resourceVersion advances)
//!    ▲                 │  ▲              │
//!    │ 410 / Expired   │  └─ stream ends, breaks or goes idle: reconnect from the last
//!    └─────────────────┘     delivered resourceVersion (backoff on errors)
//! ```
//!
//! Without a starting resourceVersion the watch LISTs first and yields every item as
//! ADDED. A 410 (HTTP status or ERROR event) relists and yields one RESYNC event holding
//! the fresh list. Events are delivered exactly once: the watch always resumes from the
//! resourceVersion of the last event it handed out.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, Notify};

use super::lines::{LineBuffer, DEFAULT_MAX_LINE};
use super::status::Status;
use crate::error::Error;
use crate::transport::websocket::{Opened, WebSocket};
use crate::transport::{self, Request, Timeouts, Transport};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
    Bookmark,
    Resync,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
            EventType::Bookmark => "BOOKMARK",
            EventType::Resync => "RESYNC",
        }
    }
}

/// One event: its type and the object's JSON, undecoded (the bindings decode it), and
/// where its line started in the stream (for error messages).
#[derive(Clone, Debug)]
pub struct Event {
    pub kind: EventType,
    pub object: Bytes,
    pub offset: u64,
}

/// The resourceVersion to resume from. Reading it out of every event would parse each
/// object twice; instead the last delivered object is kept and parsed only when the
/// version is needed (a reconnect, or the user asking).
#[derive(Debug, Default)]
struct Progress {
    rv: Option<String>,
    last: Option<Bytes>,
}

impl Progress {
    fn delivered(&mut self, object: &Bytes) {
        self.last = Some(object.clone());
    }

    fn set(&mut self, rv: Option<String>) {
        self.rv = rv;
        self.last = None;
    }

    fn current(&mut self) -> Option<&str> {
        if let Some(obj) = self.last.take() {
            if let Ok(meta) = serde_json::from_slice::<ObjectMeta<'_>>(&obj) {
                if let Some(rv) = meta.metadata.and_then(|m| m.resource_version) {
                    self.rv = Some(rv.into_owned());
                }
            }
        }
        self.rv.as_deref()
    }
}

#[derive(Clone, Debug)]
pub struct WatchParams {
    /// The collection path, e.g. `/api/v1/namespaces/ns/pods`.
    pub path: String,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// Start from here instead of listing first.
    pub resource_version: Option<String>,
    /// Hand out BOOKMARK events (they always advance the resourceVersion).
    pub bookmarks: bool,
    /// Bounds the whole watch; None runs until stopped.
    pub timeout: Option<Duration>,
    /// The server is asked for a random `timeoutSeconds` in this range (client-go: 5–10 min).
    pub server_timeout: (u64, u64),
    /// Give up on a connection that sends nothing for this long. None: the chosen server
    /// timeout plus 30 s.
    pub idle_timeout: Option<Duration>,
    pub list_page_size: u32,
    pub max_line: usize,
    pub backoff: BackoffPolicy,
    /// Stream over a plain HTTP response (chunked lines) or a WebSocket (a message each).
    pub transport: WatchTransport,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WatchTransport {
    #[default]
    Http,
    WebSocket,
}

impl WatchParams {
    pub fn new(path: impl Into<String>) -> Self {
        WatchParams {
            path: path.into(),
            label_selector: None,
            field_selector: None,
            resource_version: None,
            bookmarks: false,
            timeout: None,
            server_timeout: (300, 600),
            idle_timeout: None,
            list_page_size: 500,
            max_line: DEFAULT_MAX_LINE,
            backoff: BackoffPolicy::default(),
            transport: WatchTransport::Http,
        }
    }
}

/// Jittered exponential backoff (client-go's reflector: 0.8 s doubling to 30 s), reset
/// once a connection delivers events again.
#[derive(Clone, Debug)]
pub struct BackoffPolicy {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy { initial: Duration::from_millis(800), max: Duration::from_secs(30) }
    }
}

#[derive(Debug)]
struct Backoff {
    policy: BackoffPolicy,
    next: Duration,
}

impl Backoff {
    fn new(policy: BackoffPolicy) -> Self {
        let next = policy.initial;
        Backoff { policy, next }
    }

    /// The next wait: the current step with ±20 % jitter; the step then doubles.
    fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.policy.max);
        base.mul_f64(0.8 + fastrand::f64() * 0.4)
    }

    fn reset(&mut self) {
        self.next = self.policy.initial;
    }
}

/// Stops a watch from any thread; the pending `next()` returns None promptly.
#[derive(Debug, Default)]
pub struct StopHandle {
    stopped: AtomicBool,
    notify: Notify,
}

impl StopHandle {
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }
}

enum State {
    /// LIST (paginated) before watching; `resync` after a 410.
    List { resync: bool },
    /// Open a watch from the current resourceVersion.
    Connect,
    Streaming(Box<Stream>),
    Done,
}

/// Where a watch's bytes come from.
enum Source {
    Http(transport::Response),
    WebSocket(Box<WebSocket>),
}

impl Source {
    /// The next piece of data; a WebSocket message is a whole event, so it gets the
    /// newline that ends a line.
    async fn next_data(&mut self) -> Result<Option<Bytes>, Error> {
        match self {
            Source::Http(resp) => resp.chunk().await,
            Source::WebSocket(ws) => Ok(ws.next_message().await?.map(|m| {
                let mut framed = BytesMut::with_capacity(m.len() + 1);
                framed.extend_from_slice(&m);
                framed.extend_from_slice(b"\n");
                framed.freeze()
            })),
        }
    }
}

/// Chunks a reader task has fetched ahead: the network and TLS work of a watch overlap
/// with the consumer decoding events (on the other core) instead of alternating with it.
const READ_AHEAD_CHUNKS: usize = 16;

fn spawn_reader(mut source: Source) -> mpsc::Receiver<Result<Bytes, Error>> {
    let (tx, rx) = mpsc::channel(READ_AHEAD_CHUNKS);
    tokio::spawn(async move {
        loop {
            // Stop as soon as the watch drops its end (stopped, reconnecting, idle).
            let next = tokio::select! {
                _ = tx.closed() => return,
                next = source.next_data() => next,
            };
            match next {
                Ok(Some(chunk)) => {
                    if tx.send(Ok(chunk)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => return, // a clean end: the closed channel says so
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
    });
    rx
}

struct Stream {
    chunks: mpsc::Receiver<Result<Bytes, Error>>,
    /// An error taken from `chunks` by the synchronous path, for the async path to handle.
    failed: Option<Error>,
    lines: LineBuffer,
    idle: Duration,
    opened: Instant,
    delivered: u64,
}

pub struct Watcher {
    transport: Arc<Transport>,
    params: WatchParams,
    state: State,
    progress: Progress,
    pending: VecDeque<Event>,
    /// A failure seen while reading buffered lines synchronously: wait (backoff) before
    /// the next connection attempt.
    retry_pending: bool,
    deadline: Option<Instant>,
    backoff: Backoff,
    stop: Arc<StopHandle>,
    /// Reconnections so far (for tests and logs).
    reconnects: u64,
    /// The server has been reached: it answered a request of this watch, or the caller
    /// gave a resourceVersion, which came from it. Until then a connection failure is
    /// raised, not retried: the server name, port or proxy is likely wrong, and retrying
    /// would hide that (`kubectl get -w` says so at once, too). After, it is an outage.
    established: bool,
    /// The failure being retried, cleared when a request succeeds again: raised if the
    /// watch's `timeout` passes before it recovers, so that "no events" never hides
    /// "could not watch".
    last_failure: Option<Error>,
}

#[derive(Deserialize)]
struct WireEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    object: &'a RawValue,
}

#[derive(Deserialize)]
struct ObjectMeta<'a> {
    #[serde(borrow, default)]
    metadata: Option<Meta<'a>>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(rename = "resourceVersion", borrow, default)]
    resource_version: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "continue", borrow, default)]
    continue_token: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ListPage<'a> {
    #[serde(rename = "apiVersion", borrow, default)]
    api_version: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    metadata: Option<Meta<'a>>,
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
}

/// What went wrong, and whether trying again can help.
enum Failure {
    Retry(Error),
    Fatal(Error),
}

impl Watcher {
    pub fn new(transport: Arc<Transport>, params: WatchParams) -> Watcher {
        let established = params.resource_version.is_some();
        let state = if established { State::Connect } else { State::List { resync: false } };
        Watcher {
            progress: Progress { rv: params.resource_version.clone(), last: None },
            retry_pending: false,
            deadline: params.timeout.map(|t| Instant::now() + t),
            backoff: Backoff::new(params.backoff.clone()),
            transport,
            params,
            state,
            pending: VecDeque::new(),
            stop: Arc::new(StopHandle::default()),
            reconnects: 0,
            established,
            last_failure: None,
        }
    }

    pub fn stop_handle(&self) -> Arc<StopHandle> {
        self.stop.clone()
    }

    /// The resourceVersion of the last event handed out (or of the last list).
    pub fn resource_version(&mut self) -> Option<&str> {
        self.progress.current()
    }

    /// The next event if it can be had without I/O (queued, or a complete line already
    /// buffered); None when the caller must await [`Watcher::next`]. This is the hot path
    /// of a busy watch: no waiting, no task switch, no timer.
    pub fn next_buffered(&mut self) -> Result<Option<Event>, Error> {
        if self.stop.is_stopped() || self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
        if let Some(ev) = self.pending.pop_front() {
            return Ok(Some(ev));
        }
        match self.take_buffered() {
            Ok(ev) => Ok(ev),
            Err(Failure::Retry(e)) => {
                self.last_failure = Some(e);
                self.retry_pending = true;
                Ok(None)
            }
            Err(Failure::Fatal(e)) => {
                self.finish();
                Err(e)
            }
        }
    }

    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// The next event; None when stopped or when `timeout` has passed.
    pub async fn next(&mut self) -> Result<Option<Event>, Error> {
        if self.stop.is_stopped() {
            self.finish();
        }
        if matches!(self.state, State::Done) {
            return Ok(None);
        }
        let stop = self.stop.clone();
        let deadline = self.deadline;
        let result = tokio::select! {
            biased;
            _ = stop.wait() => Ok(None),
            // The timeout ends the watch; if it was failing to reconnect, that is said.
            _ = sleep_until(deadline) => self.last_failure.take().map_or(Ok(None), Err),
            r = self.next_inner() => r.map(Some),
        };
        if !matches!(result, Ok(Some(_))) {
            self.finish();
        }
        result
    }

    /// Ends the watch and drops its connection.
    pub fn finish(&mut self) {
        self.state = State::Done;
        self.pending.clear();
    }

    async fn next_inner(&mut self) -> Result<Event, Error> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(ev);
            }
            if std::mem::take(&mut self.retry_pending) {
                tokio::time::sleep(self.backoff.next_delay()).await;
            }
            let step = match &self.state {
                State::Done => return Err(Error::Closed),
                State::List { resync } => {
                    let resync = *resync;
                    self.list(resync).await.map(|()| None)
                }
                State::Connect => self.connect().await.map(|()| None),
                State::Streaming(_) => self.read().await,
            };
            match step {
                Ok(Some(ev)) => return Ok(ev),
                Ok(None) => {}
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Retry(e)) => {
                    // `self.state` was set to what to try again; wait first.
                    self.last_failure = Some(e);
                    let delay = self.backoff.next_delay();
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    fn url(&self, query: &[(String, String)]) -> Result<url::Url, Error> {
        let mut url = super::url::join(self.transport.server(), &self.params.path)?;
        let mut all: Vec<(String, String)> = Vec::new();
        if let Some(l) = &self.params.label_selector {
            all.push(("labelSelector".into(), l.clone()));
        }
        if let Some(f) = &self.params.field_selector {
            all.push(("fieldSelector".into(), f.clone()));
        }
        all.extend_from_slice(query);
        super::url::add_params(&mut url, &all);
        Ok(url)
    }

    fn get(&self, url: url::Url, timeouts: Option<Timeouts>) -> Request {
        Request { method: Method::GET, url, headers: HeaderMap::new(), body: None, timeouts }
    }

    async fn list(&mut self, resync: bool) -> Result<(), Failure> {
        self.state = State::List { resync };
        let mut items: Vec<Bytes> = Vec::new();
        let mut continue_token: Option<String> = None;
        let (api_version, kind, list_rv) = loop {
            let mut query = vec![("limit".to_string(), self.params.list_page_size.to_string())];
            if let Some(c) = &continue_token {
                query.push(("continue".into(), c.clone()));
            }
            let url = self.url(&query).map_err(Failure::Fatal)?;
            let shown = transport::redact_url(&url);
            let resp = match self.transport.send(self.get(url, None)).await {
                Ok(resp) => resp,
                Err(e) => return Err(self.transport_failure(e)),
            };
            self.established = true;
            let code = resp.status().as_u16();
            let body = resp.bytes().await.map_err(retry_transport)?;
            if code == 410 && continue_token.is_some() {
                // The continue token expired mid-list: start the list again.
                continue_token = None;
                items.clear();
                continue;
            }
            if code >= 400 {
                return Err(status_failure(code, body, &shown));
            }
            let page: ListPage<'_> = serde_json::from_slice(&body)
                .map_err(|e| Failure::Fatal(Error::Body(format!("the LIST of {} is not a valid list: {e}", self.params.path))))?;
            let item_kind = page.kind.as_deref().and_then(|k| k.strip_suffix("List")).map(str::to_string);
            let item_api_version = page.api_version.as_deref().map(str::to_string);
            for item in page.items.unwrap_or_default() {
                let raw = body.slice_ref(item.get().as_bytes());
                items.push(with_type_meta(raw, item_api_version.as_deref(), item_kind.as_deref()));
            }
            let meta = page.metadata.unwrap_or(Meta { resource_version: None, continue_token: None });
            match meta.continue_token.filter(|c| !c.is_empty()) {
                Some(c) => continue_token = Some(c.into_owned()),
                None => {
                    break (
                        page.api_version.map(|s| s.into_owned()).unwrap_or_else(|| "v1".into()),
                        page.kind.map(|s| s.into_owned()).unwrap_or_else(|| "List".into()),
                        meta.resource_version.map(|s| s.into_owned()),
                    )
                }
            }
        };
        self.last_failure = None;
        self.progress.set(list_rv.clone());
        if resync {
            let object = synthesize_list(&api_version, &kind, list_rv.as_deref(), &items);
            self.pending.push_back(Event { kind: EventType::Resync, object, offset: 0 });
        } else {
            self.pending.extend(items.into_iter().map(|object| Event { kind: EventType::Added, object, offset: 0 }));
        }
        self.state = State::Connect;
        Ok(())
    }

    async fn connect(&mut self) -> Result<(), Failure> {
        self.state = State::Connect;
        let (lo, hi) = self.params.server_timeout;
        let server_timeout = if hi > lo { fastrand::u64(lo..=hi) } else { lo };
        let idle = self.params.idle_timeout.unwrap_or(Duration::from_secs(server_timeout + 30));
        let mut query = vec![
            ("watch".to_string(), "1".to_string()),
            ("allowWatchBookmarks".to_string(), "true".to_string()),
            ("timeoutSeconds".to_string(), server_timeout.to_string()),
        ];
        if let Some(rv) = self.progress.current() {
            query.push(("resourceVersion".into(), rv.to_string()));
        }
        let url = self.url(&query).map_err(Failure::Fatal)?;
        let shown = transport::redact_url(&url);
        let connect_timeout = self.transport.options().timeouts.connect;
        let source = match self.params.transport {
            WatchTransport::Http => {
                // The read timeout of the watch request is the idle timeout: each wait for data is bounded.
                let timeouts = Timeouts { connect: connect_timeout, read: Some(idle) };
                let resp = match self.transport.send(self.get(url, Some(timeouts))).await {
                    Ok(resp) => resp,
                    Err(e) => return Err(self.transport_failure(e)),
                };
                self.established = true;
                let code = resp.status().as_u16();
                if code >= 400 {
                    let body = if code == 410 { Bytes::new() } else { resp.bytes().await.unwrap_or_default() };
                    return self.refused(code, body, &shown);
                }
                Source::Http(resp)
            }
            WatchTransport::WebSocket => {
                let limit = connect_timeout.unwrap_or(Duration::from_secs(30)) + idle;
                let opened = match tokio::time::timeout(limit, self.transport.websocket(&url, connect_timeout)).await {
                    Ok(Ok(opened)) => opened,
                    Ok(Err(e)) => return Err(self.transport_failure(e)),
                    Err(_) => {
                        let seconds = limit.as_secs_f64();
                        return Err(self.transport_failure(Error::Timeout { url: shown.clone(), phase: "read", seconds }));
                    }
                };
                self.established = true;
                match opened {
                    Opened::Stream(ws) => Source::WebSocket(ws),
                    Opened::Refused { status, body } => return self.refused(status, body, &shown),
                }
            }
        };
        self.last_failure = None;
        self.state = State::Streaming(Box::new(Stream {
            chunks: spawn_reader(source),
            failed: None,
            lines: LineBuffer::new(self.params.max_line),
            idle,
            opened: Instant::now(),
            delivered: 0,
        }));
        Ok(())
    }

    /// A request of the watch could not reach the server: raised while the watch has never
    /// reached it, else retried (connection trouble and timeouts; see `retry_transport`).
    fn transport_failure(&self, e: Error) -> Failure {
        if self.established {
            retry_transport(e)
        } else {
            Failure::Fatal(e)
        }
    }

    /// The server refused to start the watch: 410 relists, the rest as `status_failure`.
    fn refused(&mut self, code: u16, body: Bytes, url: &str) -> Result<(), Failure> {
        if code == 410 {
            self.state = State::List { resync: true };
            return Ok(());
        }
        Err(status_failure(code, body, url))
    }

    /// Reads until one event can be handed out (or the stream ends / breaks). The stream
    /// stays in `self.state` across awaits, so a cancelled call loses nothing: a line leaves
    /// the buffer only right before its event is returned.
    async fn read(&mut self) -> Result<Option<Event>, Failure> {
        loop {
            if let Some(ev) = self.take_buffered()? {
                return Ok(Some(ev));
            }
            let State::Streaming(stream) = &mut self.state else { return Ok(None) };
            let chunk = match stream.failed.take() {
                Some(e) => Ok(Some(Err(e))),
                None => tokio::time::timeout(stream.idle, stream.chunks.recv()).await,
            };
            let (delivered, lived) = (stream.delivered, stream.opened.elapsed());
            match chunk {
                Ok(Some(Ok(c))) => {
                    stream.lines.push(&c);
                    continue;
                }
                Ok(None) => {
                    // The server ended the watch (timeoutSeconds): resume at once, unless it
                    // keeps closing straight away without sending anything.
                    self.state = State::Connect;
                    self.reconnects += 1;
                    if delivered == 0 && lived < Duration::from_secs(1) {
                        return Err(Failure::Retry(Error::Body("the watch stream closed at once".into())));
                    }
                    return Ok(None);
                }
                Ok(Some(Err(e))) => {
                    self.state = State::Connect;
                    self.reconnects += 1;
                    return Err(Failure::Retry(e));
                }
                Err(_idle) => {
                    // Nothing, not even a bookmark, for longer than the idle timeout: the
                    // connection is presumed dead. Drop it and resume.
                    self.state = State::Connect;
                    self.reconnects += 1;
                    return Ok(None);
                }
            }
        }
    }

    /// Hands out the next event from complete lines already buffered, without I/O. The
    /// stream stays in `self.state`, so a cancelled caller loses nothing: a line leaves
    /// the buffer only right before its event is returned.
    fn take_buffered(&mut self) -> Result<Option<Event>, Failure> {
        loop {
            let State::Streaming(stream) = &mut self.state else { return Ok(None) };
            let offset = stream.lines.offset();
            let Some(line) = stream.lines.next_line().map_err(Failure::Fatal)? else {
                // Refill from what the reader task has already fetched, without waiting.
                match stream.chunks.try_recv() {
                    Ok(Ok(chunk)) => {
                        stream.lines.push(&chunk);
                        continue;
                    }
                    Ok(Err(e)) => stream.failed = Some(e),
                    Err(_empty_or_ended) => {}
                }
                return Ok(None);
            };
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            match handle_line(&line, offset, &self.params, &mut self.progress)? {
                LineOutcome::Event(ev) => {
                    // A connection that delivers events proves the server healthy: the
                    // next failure starts the backoff from its first step again.
                    if stream.delivered == 0 {
                        self.backoff.reset();
                    }
                    stream.delivered += 1;
                    return Ok(Some(ev));
                }
                LineOutcome::Skip => continue,
                LineOutcome::Relist => {
                    self.state = State::List { resync: true };
                    return Ok(None);
                }
                LineOutcome::Resume(e) => {
                    self.state = State::Connect;
                    self.reconnects += 1;
                    return Err(Failure::Retry(e));
                }
            }
        }
    }
}

/// Turns one line of the stream into what the watcher does next; advances the
/// resourceVersion for every event, bookmarks included.
fn handle_line(line: &Bytes, offset: u64, params: &WatchParams, progress: &mut Progress) -> Result<LineOutcome, Failure> {
    let bad = |e: serde_json::Error| {
        let preview: String = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
        Failure::Fatal(Error::Body(format!(
            "bad line in the watch stream of {} at byte offset {offset}: {e} (line starts {preview:?})",
            params.path
        )))
    };
    let (kind_str, object) = match split_event(line) {
        Some(parts) => parts,
        None => {
            let wire: WireEvent<'_> = serde_json::from_slice(line).map_err(bad)?;
            (wire.kind.to_string(), line.slice_ref(wire.object.get().as_bytes()))
        }
    };
    let kind = match kind_str.as_str() {
        "ADDED" => EventType::Added,
        "MODIFIED" => EventType::Modified,
        "DELETED" => EventType::Deleted,
        "BOOKMARK" => EventType::Bookmark,
        "ERROR" => {
            let raw = object;
            let status = Status::parse(&raw);
            let code = status.as_ref().and_then(|s| s.code).unwrap_or(500);
            let reason = status.as_ref().and_then(|s| s.reason.clone()).unwrap_or_default();
            if code == 410 || reason == "Expired" || reason == "Gone" {
                return Ok(LineOutcome::Relist);
            }
            // A 5xx or 429 inside a stream: resume rather than fail.
            return match status_failure(code, raw, &params.path) {
                Failure::Retry(err) => Ok(LineOutcome::Resume(err)),
                fatal => Err(fatal),
            };
        }
        other => {
            return Err(Failure::Fatal(Error::Body(format!(
                "unknown watch event type {other:?} at byte offset {offset} of the watch stream of {}",
                params.path
            ))))
        }
    };
    // The object itself is validated when it is decoded (by the bindings, or by
    // `Progress::current`); a malformed one ends the watch with an error naming `offset`.
    progress.delivered(&object);
    if kind == EventType::Bookmark && !params.bookmarks {
        return Ok(LineOutcome::Skip);
    }
    Ok(LineOutcome::Event(Event { kind, object, offset }))
}

/// The API server writes every event as `{"type":"T","object":{...}}`, in that order:
/// split that layout without a parse. Anything else takes the general (serde) path.
fn split_event(line: &Bytes) -> Option<(String, Bytes)> {
    const HEAD: &[u8] = br#"{"type":""#;
    const MID: &[u8] = br#"","object":"#;
    let rest = line.strip_prefix(HEAD)?;
    let end = memchr::memchr(b'"', rest)?;
    let kind = std::str::from_utf8(&rest[..end]).ok()?;
    if !kind.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let after = rest[end..].strip_prefix(MID)?;
    let trimmed = after.strip_suffix(b"}")?;
    if trimmed.first() != Some(&b'{') || trimmed.last() != Some(&b'}') {
        return None;
    }
    Some((kind.to_string(), line.slice_ref(trimmed)))
}

/// An error status: 429 and 5xx are worth retrying (with backoff), others are fatal.
/// (410 never gets here: it relists.)
fn status_failure(code: u16, body: Bytes, url: &str) -> Failure {
    let err = Error::Api { code, body, url: url.to_string() };
    if code == 429 || code >= 500 {
        Failure::Retry(err)
    } else {
        Failure::Fatal(err)
    }
}

enum LineOutcome {
    Event(Event),
    Skip,
    Relist,
    Resume(Error),
}

/// Transport errors while watching: connection trouble and timeouts are worth retrying;
/// TLS, configuration and auth errors are not.
fn retry_transport(e: Error) -> Failure {
    match e {
        Error::Connect { .. } | Error::Timeout { .. } => Failure::Retry(e),
        other => Failure::Fatal(other),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

#[derive(Deserialize)]
struct TypeMeta<'a> {
    #[serde(borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

/// List items come without `kind`/`apiVersion`; watch events carry them. Add them, so
/// that every object a watch hands out looks the same.
fn with_type_meta(item: Bytes, api_version: Option<&str>, kind: Option<&str>) -> Bytes {
    let (Some(api_version), Some(kind)) = (api_version, kind) else { return item };
    let has_kind = serde_json::from_slice::<TypeMeta<'_>>(&item).map(|t| t.kind.is_some()).unwrap_or(true);
    if has_kind || item.first() != Some(&b'{') {
        return item;
    }
    let head = serde_json::to_string(&serde_json::json!({"apiVersion": api_version, "kind": kind}))
        .expect("strings serialize");
    let mut out = BytesMut::with_capacity(item.len() + head.len() + 1);
    out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    if item.len() > 2 {
        out.extend_from_slice(b",");
    }
    out.extend_from_slice(&item[1..]);
    out.freeze()
}

/// `{"apiVersion":..,"kind":..,"metadata":{"resourceVersion":..},"items":[...]}` from raw items.
fn synthesize_list(api_version: &str, kind: &str, rv: Option<&str>, items: &[Bytes]) -> Bytes {
    let total: usize = items.iter().map(|i| i.len() + 1).sum();
    let mut out = BytesMut::with_capacity(total + 128);
    let head = serde_json::json!({"apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": rv}});
    let head = serde_json::to_vec(&head).expect("a JSON value serializes");
    out.extend_from_slice(&head[..head.len() - 1]);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b",");
        }
        out.extend_from_slice(item);
    }
    out.extend_from_slice(b"]}");
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_api_servers_event_layout() {
        let line = Bytes::from_static(br#"{"type":"MODIFIED","object":{"kind":"Pod","metadata":{"resourceVersion":"7"}}}"#);
        let (kind, object) = split_event(&line).unwrap();
        assert_eq!(kind, "MODIFIED");
        assert_eq!(&object[..], br#"{"kind":"Pod","metadata":{"resourceVersion":"7"}}"#);
        let mut p = Progress::default();
        p.delivered(&object);
        assert_eq!(p.current(), Some("7"));
        // Other layouts fall back to the general parser.
        assert!(split_event(&Bytes::from_static(br#"{"object":{},"type":"ADDED"}"#)).is_none());
        assert!(split_event(&Bytes::from_static(br#"{"type":"ADDED","object":{}} "#)).is_none());
        let params = WatchParams::new("/x");
        let mut p = Progress::default();
        let other = Bytes::from_static(br#"{ "object": {"metadata":{"resourceVersion":"9"}}, "type": "ADDED" }"#);
        assert!(matches!(handle_line(&other, 0, &params, &mut p), Ok(LineOutcome::Event(_))));
        assert_eq!(p.current(), Some("9"));
    }

    #[test]
    fn backoff_grows_with_jitter_and_resets() {
        let mut b = Backoff::new(BackoffPolicy::default());
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(640) && first <= Duration::from_millis(960), "{first:?}");
        for _ in 0..10 {
            b.next_delay();
        }
        let capped = b.next_delay();
        assert!(capped <= Duration::from_secs(36), "{capped:?}");
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(960));
    }

    #[test]
    fn list_items_get_kind_and_api_version() {
        let item = with_type_meta(Bytes::from_static(br#"{"metadata":{"name":"a"}}"#), Some("v1"), Some("ConfigMap"));
        let v: serde_json::Value = serde_json::from_slice(&item).unwrap();
        assert_eq!(v["kind"], "ConfigMap");
        assert_eq!(v["apiVersion"], "v1");
        assert_eq!(v["metadata"]["name"], "a");
        let kept = with_type_meta(Bytes::from_static(br#"{"kind":"X"}"#), Some("v1"), Some("ConfigMap"));
        assert_eq!(&kept[..], br#"{"kind":"X"}"#);
        let empty = with_type_meta(Bytes::from_static(b"{}"), Some("v1"), Some("Pod"));
        assert!(serde_json::from_slice::<serde_json::Value>(&empty).is_ok());
    }

    #[test]
    fn synthesized_list_is_valid_json() {
        let items = vec![Bytes::from_static(br#"{"a":1}"#), Bytes::from_static(br#"{"b":2}"#)];
        let raw = synthesize_list("v1", "ConfigMapList", Some("42"), &items);
        let v: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(v["items"].as_array().unwrap().len(), 2);
        assert_eq!(v["metadata"]["resourceVersion"], "42");
        assert_eq!(v["kind"], "ConfigMapList");
    }
}
