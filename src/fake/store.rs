//! The objects of a FakeCluster: one ordered collection per resource type, one global
//! resourceVersion counter, and a bounded history of change events that watches replay
//! from (older versions are gone: 410 Expired, as after an etcd compaction).
//!
//! Each object is kept both as JSON (for selectors and patches) and serialized without
//! `kind`/`apiVersion` (list items carry neither on the API server), so that a LIST is
//! a concatenation and a watch event is serialized once for every watcher.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::patch;
use super::resources::ResourceType;
use super::selectors::{FieldSelector, LabelSelector};
use super::status::Failure;

#[derive(Clone, Debug)]
struct Stored {
    value: Value,
    bytes: Bytes,
}

#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    pub type_key: String,
    pub namespace: String,
    pub object: Value,
    /// `{"type":...,"object":{...}}\n`, as sent on a watch stream.
    pub line: Bytes,
}

/// What a list or watch selects.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Query {
    fn matches(&self, namespace: &str, object: &Value) -> bool {
        self.namespace.as_deref().is_none_or(|n| n == namespace) && self.labels.matches(object) && self.fields.matches(object)
    }
}

pub enum PatchKind {
    Merge,
    Json,
    Apply { field_manager: String },
}

pub struct WatchStart {
    pub initial: Vec<Bytes>,
    pub receiver: broadcast::Receiver<Arc<Event>>,
    pub rv: u64,
}

struct Inner {
    rv: u64,
    collections: HashMap<String, BTreeMap<(String, String), Stored>>,
    history: VecDeque<Arc<Event>>,
    /// Events up to this resourceVersion are no longer in the history.
    compacted_through: u64,
}

pub struct Store {
    inner: Mutex<Inner>,
    events: broadcast::Sender<Arc<Event>>,
    history_limit: usize,
}

const NAMESPACES: &str = "/namespaces";

impl Store {
    pub fn new(history_limit: usize) -> Store {
        let (events, _) = broadcast::channel(65536);
        let store = Store {
            inner: Mutex::new(Inner { rv: 0, collections: HashMap::new(), history: VecDeque::new(), compacted_through: 0 }),
            events,
            history_limit: history_limit.max(1),
        };
        let ns = ResourceType::new("", "v1", "Namespace", "namespaces", false, true);
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            store.create(&ns, "", json!({"metadata": {"name": name}})).expect("a fresh store");
        }
        store
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// Forgets the whole history: every resourceVersion before now is expired.
    pub fn compact(&self) {
        let mut inner = self.lock();
        inner.history.clear();
        inner.compacted_through = inner.rv;
    }

    pub fn get(&self, t: &ResourceType, ns: &str, name: &str) -> Result<Bytes, Failure> {
        let inner = self.lock();
        let stored = inner.collections.get(&t.key()).and_then(|c| c.get(&(ns.to_string(), name.to_string())));
        stored.map(|s| with_type(t, &s.bytes)).ok_or_else(|| Failure::not_found(t, name))
    }

    pub fn create(&self, t: &ResourceType, ns: &str, mut obj: Value) -> Result<Bytes, Failure> {
        check_type(t, &obj)?;
        if !obj.is_object() {
            return Err(Failure::bad_request("the body is not a JSON object"));
        }
        let meta = metadata(&mut obj);
        let name = match meta.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => match meta.get("generateName").and_then(Value::as_str).filter(|n| !n.is_empty()) {
                Some(prefix) => format!("{prefix}{}", random_suffix()),
                None => {
                    return Err(Failure::invalid(t, "", "metadata.name", "Required value: name or generateName is required"))
                }
            },
        };
        validate_name(t, &name)?;
        check_namespace(t, ns, meta)?;
        let mut inner = self.lock();
        if t.namespaced && !inner.exists_namespace(ns) {
            return Err(Failure::namespace_not_found(ns));
        }
        let key = (ns.to_string(), name.clone());
        if inner.collections.get(&t.key()).is_some_and(|c| c.contains_key(&key)) {
            return Err(Failure::already_exists(t, &name));
        }
        let rv = inner.rv + 1;
        let meta = metadata(&mut obj);
        meta.insert("name".into(), json!(name));
        if t.namespaced {
            meta.insert("namespace".into(), json!(ns));
        } else {
            meta.remove("namespace");
        }
        meta.insert("uid".into(), json!(uid()));
        meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        meta.remove("deletionTimestamp");
        if obj.get("spec").is_some() {
            metadata(&mut obj).insert("generation".into(), json!(1));
        }
        default_fields(t, &mut obj);
        Ok(inner.commit(self, t, key, Some(obj), "ADDED").expect("an object"))
    }

    /// PUT. With `status_only`, only the object's status changes (the `/status` subresource);
    /// otherwise a type with a status subresource keeps its stored status.
    pub fn update(&self, t: &ResourceType, ns: &str, name: &str, mut obj: Value, status_only: bool) -> Result<Bytes, Failure> {
        check_type(t, &obj)?;
        if !obj.is_object() {
            return Err(Failure::bad_request("the body is not a JSON object"));
        }
        let given = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or(name).to_string();
        if given != name {
            return Err(Failure::bad_request(format!(
                "the name of the object ({given}) does not match the name on the URL ({name})"
            )));
        }
        check_namespace(t, ns, metadata(&mut obj))?;
        let mut inner = self.lock();
        let current = inner.current(t, ns, name)?;
        let precondition = obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).map(str::to_string);
        self.replace(&mut inner, t, ns, name, current, obj, precondition, status_only)
    }

    pub fn patch(
        &self,
        t: &ResourceType,
        ns: &str,
        name: &str,
        kind: PatchKind,
        body: &Value,
        status_only: bool,
    ) -> Result<(u16, Bytes), Failure> {
        let mut inner = self.lock();
        let current = match (inner.current(t, ns, name), &kind) {
            (Ok(c), _) => c,
            (Err(_), PatchKind::Apply { field_manager }) => {
                // Server-side apply of an object that does not exist creates it.
                drop(inner);
                let mut obj = body.clone();
                set_managed_fields(t, &mut obj, field_manager);
                if obj.pointer("/metadata/name").is_none() {
                    metadata(&mut obj).insert("name".into(), json!(name));
                }
                return self.create(t, ns, obj).map(|b| (201, b));
            }
            (Err(e), _) => return Err(e),
        };
        let mut next = current.value.clone();
        let precondition;
        match &kind {
            PatchKind::Merge => {
                precondition = body.pointer("/metadata/resourceVersion").and_then(Value::as_str).map(str::to_string);
                patch::merge(&mut next, body);
            }
            PatchKind::Json => {
                precondition = None;
                patch::json_patch(&mut next, body).map_err(|e| Failure::new(422, "Invalid", e))?;
            }
            PatchKind::Apply { field_manager } => {
                precondition = None;
                let mut applied = body.clone();
                if let Some(m) = applied.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("resourceVersion");
                }
                patch::merge(&mut next, &applied);
                set_managed_fields(t, &mut next, field_manager);
            }
        }
        // The patched object keeps its identity; a resourceVersion in a merge patch is a precondition.
        let meta = metadata(&mut next);
        if let Some(m) = current.value.get("metadata") {
            for k in ["name", "namespace", "uid", "creationTimestamp", "resourceVersion"] {
                match m.get(k) {
                    Some(v) => meta.insert(k.into(), v.clone()),
                    None => meta.remove(k),
                };
            }
        }
        self.replace(&mut inner, t, ns, name, current, next, precondition, status_only).map(|b| (200, b))
    }

    #[allow(clippy::too_many_arguments)]
    fn replace(
        &self,
        inner: &mut Inner,
        t: &ResourceType,
        ns: &str,
        name: &str,
        current: Stored,
        mut obj: Value,
        precondition: Option<String>,
        status_only: bool,
    ) -> Result<Bytes, Failure> {
        let current_rv = current.value.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("");
        if precondition.as_deref().is_some_and(|p| !p.is_empty() && p != current_rv) {
            return Err(Failure::conflict(t, name));
        }
        if status_only {
            let status = obj.get("status").cloned();
            obj = current.value.clone();
            match status {
                Some(s) => obj["status"] = s,
                None => {
                    obj.as_object_mut().map(|m| m.remove("status"));
                }
            }
        } else if t.has_status {
            match current.value.get("status") {
                Some(s) => obj["status"] = s.clone(),
                None => {
                    obj.as_object_mut().map(|m| m.remove("status"));
                }
            }
        }
        let rv = inner.rv + 1;
        let old_meta = current.value.get("metadata").cloned().unwrap_or_default();
        let generation = old_meta.get("generation").and_then(Value::as_i64);
        let spec_changed = obj.get("spec") != current.value.get("spec");
        let meta = metadata(&mut obj);
        for k in ["uid", "creationTimestamp"] {
            if let Some(v) = old_meta.get(k) {
                meta.insert(k.into(), v.clone());
            }
        }
        meta.insert("name".into(), json!(name));
        if t.namespaced {
            meta.insert("namespace".into(), json!(ns));
        }
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        match generation {
            Some(g) => {
                meta.insert("generation".into(), json!(if spec_changed { g + 1 } else { g }));
            }
            None if obj.get("spec").is_some() => {
                metadata(&mut obj).insert("generation".into(), json!(1));
            }
            None => {}
        }
        if current.value == without_rv(&obj, &current.value) {
            // Nothing changed: the API server answers with the stored object, no new version.
            return Ok(with_type(t, &current.bytes));
        }
        let key = (ns.to_string(), name.to_string());
        Ok(inner.commit(self, t, key, Some(obj), "MODIFIED").expect("an object"))
    }

    pub fn delete(&self, t: &ResourceType, ns: &str, name: &str) -> Result<Bytes, Failure> {
        let mut inner = self.lock();
        let current = inner.current(t, ns, name)?;
        if t.key() == NAMESPACES {
            // No namespace controller: the namespace's objects go at once.
            let doomed: Vec<(String, (String, String))> = inner
                .collections
                .iter()
                .flat_map(|(k, c)| c.keys().filter(|(n, _)| n == name).map(move |key| (k.clone(), key.clone())))
                .collect();
            for (type_key, key) in doomed {
                let t = inner.type_of(&type_key);
                inner.commit(self, &t, key, None, "DELETED");
            }
        }
        let _ = current;
        Ok(inner.commit(self, t, (ns.to_string(), name.to_string()), None, "DELETED").expect("the deleted object"))
    }

    /// A LIST: `{"kind":"<Kind>List",...,"items":[...]}`, one page of `limit` items from
    /// the `continue` token on.
    pub fn list(&self, t: &ResourceType, q: &Query, limit: Option<usize>, cont: Option<&str>) -> Result<Bytes, Failure> {
        let inner = self.lock();
        let (start, list_rv) = match cont {
            Some(token) => {
                let (rv, key) = decode_continue(token)?;
                if rv <= inner.compacted_through {
                    return Err(Failure::gone(
                        "The provided continue parameter is too old to display a consistent list result. You can \
                         start a new list without the continue parameter.",
                    ));
                }
                (Some(key), rv)
            }
            None => (None, inner.rv),
        };
        let empty = BTreeMap::new();
        let collection = inner.collections.get(&t.key()).unwrap_or(&empty);
        let range: Box<dyn Iterator<Item = (&(String, String), &Stored)>> = match &start {
            Some(k) => Box::new(collection.range::<(String, String), _>((std::ops::Bound::Excluded(k.clone()), std::ops::Bound::Unbounded))),
            None => Box::new(collection.iter()),
        };
        let mut matching = range.filter(|((ns, _), s)| q.matches(ns, &s.value));
        let mut body = BytesMut::with_capacity(4096);
        body.extend_from_slice(format!("{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{{", t.kind, t.api_version()).as_bytes());
        let mut items = BytesMut::new();
        let mut last: Option<&(String, String)> = None;
        let mut count = 0usize;
        let mut more = false;
        for (key, s) in matching.by_ref() {
            if limit.is_some_and(|l| count >= l) {
                more = true;
                break;
            }
            if count > 0 {
                items.extend_from_slice(b",");
            }
            items.extend_from_slice(&s.bytes);
            last = Some(key);
            count += 1;
        }
        body.extend_from_slice(format!("\"resourceVersion\":\"{list_rv}\"").as_bytes());
        if let (true, Some(last)) = (more, last) {
            // The one match seen past the page, and the rest, for remainingItemCount.
            let remaining = 1 + matching.count();
            let token = encode_continue(list_rv, last);
            body.extend_from_slice(format!(",\"continue\":\"{token}\",\"remainingItemCount\":{remaining}").as_bytes());
        }
        body.extend_from_slice(b"},\"items\":[");
        body.extend_from_slice(&items);
        body.extend_from_slice(b"]}");
        Ok(body.freeze())
    }

    /// Starts a watch: from `rv` (events after it, replayed from the history; 410 when the
    /// history no longer reaches back that far), or with `rv` unset or "0", ADDED events for
    /// every matching object first.
    pub fn watch(&self, t: &ResourceType, q: &Query, rv: Option<u64>) -> Result<WatchStart, Failure> {
        let inner = self.lock();
        let receiver = self.events.subscribe();
        let mut initial = Vec::new();
        match rv {
            Some(rv) if rv > 0 => {
                if rv < inner.compacted_through {
                    return Err(Failure::gone(format!("too old resource version: {rv} ({})", inner.compacted_through + 1)));
                }
                for e in inner.history.iter().filter(|e| e.rv > rv) {
                    if e.type_key == t.key() && q.matches(&e.namespace, &e.object) {
                        initial.push(e.line.clone());
                    }
                }
            }
            _ => {
                if let Some(c) = inner.collections.get(&t.key()) {
                    for ((ns, _), s) in c.iter().filter(|((ns, _), s)| q.matches(ns, &s.value)) {
                        let _ = ns;
                        initial.push(event_line("ADDED", &with_type(t, &s.bytes)));
                    }
                }
            }
        }
        Ok(WatchStart { initial, receiver, rv: inner.rv })
    }
}

impl Inner {
    fn exists_namespace(&self, ns: &str) -> bool {
        self.collections.get(NAMESPACES).is_some_and(|c| c.contains_key(&(String::new(), ns.to_string())))
    }

    fn current(&self, t: &ResourceType, ns: &str, name: &str) -> Result<Stored, Failure> {
        self.collections
            .get(&t.key())
            .and_then(|c| c.get(&(ns.to_string(), name.to_string())))
            .cloned()
            .ok_or_else(|| Failure::not_found(t, name))
    }

    /// A type from the objects' own kind/apiVersion, for cascading namespace deletion.
    fn type_of(&self, type_key: &str) -> ResourceType {
        let (group, plural) = type_key.split_once('/').unwrap_or(("", type_key));
        let sample = self.collections.get(type_key).and_then(|c| c.values().next()).map(|s| s.value.clone());
        let kind = sample.as_ref().and_then(|v| v.get("kind")).and_then(Value::as_str).unwrap_or("").to_string();
        ResourceType { group: group.into(), version: String::new(), kind, plural: plural.into(), namespaced: true, has_status: false }
    }

    /// Stores (or with None, deletes) an object under a new resourceVersion, records the
    /// event and sends it to the watchers, all under the store's lock so that every watcher
    /// sees every event once, in order.
    fn commit(&mut self, store: &Store, t: &ResourceType, key: (String, String), obj: Option<Value>, kind: &str) -> Option<Bytes> {
        self.rv += 1;
        let rv = self.rv;
        let collection = self.collections.entry(t.key()).or_default();
        let (value, bytes) = match obj {
            Some(mut value) => {
                strip_type(&mut value);
                let bytes = Bytes::from(serde_json::to_vec(&value).expect("JSON"));
                collection.insert(key.clone(), Stored { value: value.clone(), bytes: bytes.clone() });
                (value, bytes)
            }
            None => {
                let mut old = collection.remove(&key)?.value;
                metadata(&mut old).insert("resourceVersion".into(), json!(rv.to_string()));
                let bytes = Bytes::from(serde_json::to_vec(&old).expect("JSON"));
                (old, bytes)
            }
        };
        let full = with_type_named(&type_kind(t, &value), &type_api_version(t, &value), &bytes);
        let event = Arc::new(Event {
            rv,
            type_key: t.key(),
            namespace: key.0,
            object: value,
            line: event_line(kind, &full),
        });
        if self.history.len() >= store.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted_through = old.rv;
            }
        }
        self.history.push_back(event.clone());
        let _ = store.events.send(event);
        Some(full)
    }
}

fn type_kind(t: &ResourceType, v: &Value) -> String {
    if t.kind.is_empty() {
        v.get("kind").and_then(Value::as_str).unwrap_or("").to_string()
    } else {
        t.kind.clone()
    }
}

fn type_api_version(t: &ResourceType, v: &Value) -> String {
    if t.version.is_empty() {
        v.get("apiVersion").and_then(Value::as_str).unwrap_or("").to_string()
    } else {
        t.api_version()
    }
}

fn strip_type(v: &mut Value) {
    if let Some(m) = v.as_object_mut() {
        m.remove("kind");
        m.remove("apiVersion");
    }
}

fn without_rv(obj: &Value, current: &Value) -> Value {
    let mut o = obj.clone();
    strip_type(&mut o);
    if let (Some(m), Some(rv)) = (o.get_mut("metadata").and_then(Value::as_object_mut), current.pointer("/metadata/resourceVersion")) {
        m.insert("resourceVersion".into(), rv.clone());
    }
    o
}

/// `{"kind":K,"apiVersion":V,` + the stored object's fields.
pub fn with_type(t: &ResourceType, stored: &[u8]) -> Bytes {
    with_type_named(&t.kind, &t.api_version(), stored)
}

fn with_type_named(kind: &str, api_version: &str, stored: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(stored.len() + 48);
    out.extend_from_slice(format!("{{\"kind\":\"{kind}\",\"apiVersion\":\"{api_version}\"").as_bytes());
    if stored.len() > 2 {
        out.extend_from_slice(b",");
        out.extend_from_slice(&stored[1..]);
    } else {
        out.extend_from_slice(b"}");
    }
    out.freeze()
}

pub fn event_line(kind: &str, object: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(object.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(object);
    out.extend_from_slice(b"}\n");
    out.freeze()
}

fn metadata(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"].as_object_mut().expect("an object")
}

fn check_type(t: &ResourceType, obj: &Value) -> Result<(), Failure> {
    if let Some(kind) = obj.get("kind").and_then(Value::as_str) {
        if !kind.is_empty() && kind != t.kind {
            return Err(Failure::bad_request(format!(
                "the kind of the object ({kind}) does not match the kind of the URL ({})",
                t.kind
            )));
        }
    }
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str) {
        if !av.is_empty() && av != t.api_version() {
            return Err(Failure::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                t.api_version()
            )));
        }
    }
    Ok(())
}

fn check_namespace(t: &ResourceType, ns: &str, meta: &serde_json::Map<String, Value>) -> Result<(), Failure> {
    if let Some(given) = meta.get("namespace").and_then(Value::as_str) {
        if t.namespaced && !given.is_empty() && given != ns {
            return Err(Failure::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    }
    Ok(())
}

fn validate_name(t: &ResourceType, name: &str) -> Result<(), Failure> {
    let label = |s: &str| {
        !s.is_empty()
            && s.len() <= 63
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    };
    let (ok, what) = if t.key() == NAMESPACES {
        (label(name), "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    } else {
        (
            name.len() <= 253 && name.split('.').all(label),
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        )
    };
    if ok {
        Ok(())
    } else {
        Err(Failure::invalid(t, name, "metadata.name", &format!("Invalid value: \"{name}\": {what}")))
    }
}

fn default_fields(t: &ResourceType, obj: &mut Value) {
    if t.key() == NAMESPACES {
        if obj.pointer("/spec/finalizers").is_none() {
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
        }
        obj["status"] = json!({"phase": "Active"});
        metadata(obj).remove("generation");
    }
}

fn set_managed_fields(t: &ResourceType, obj: &mut Value, manager: &str) {
    let entry = json!({
        "manager": manager, "operation": "Apply", "apiVersion": t.api_version(),
        "time": now_rfc3339(), "fieldsType": "FieldsV1", "fieldsV1": {},
    });
    let meta = metadata(obj);
    let mut list: Vec<Value> = meta.get("managedFields").and_then(Value::as_array).cloned().unwrap_or_default();
    list.retain(|m| m.get("manager").and_then(Value::as_str) != Some(manager));
    list.push(entry);
    meta.insert("managedFields".into(), Value::Array(list));
}

fn encode_continue(rv: u64, next: &(String, String)) -> String {
    use base64::Engine;
    // The token names the last key of the page; the next page starts after it.
    let doc = json!({"rv": rv, "ns": next.0, "name": next.1});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(doc.to_string())
}

fn decode_continue(token: &str) -> Result<(u64, (String, String)), Failure> {
    use base64::Engine;
    let bad = || Failure::bad_request("the continue token is not valid");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let doc: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = doc.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let ns = doc.get("ns").and_then(Value::as_str).ok_or_else(bad)?.to_string();
    let name = doc.get("name").and_then(Value::as_str).ok_or_else(bad)?.to_string();
    Ok((rv, (ns, name)))
}

fn random_suffix() -> String {
    const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5).map(|_| CHARS[fastrand::usize(..CHARS.len())] as char).collect()
}

fn uid() -> String {
    let hex: String = (0..32).map(|_| char::from_digit(fastrand::u32(..16), 16).expect("hex")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Now, as `2026-12-04T15:00:00Z`.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil date from days (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm() -> ResourceType {
        ResourceType::new("", "v1", "ConfigMap", "configmaps", true, false)
    }

    fn parse(b: &Bytes) -> Value {
        serde_json::from_slice(b).unwrap()
    }

    #[test]
    fn create_get_update_conflict_delete() {
        let s = Store::new(100);
        let created = parse(&s.create(&cm(), "default", json!({"metadata": {"name": "a"}, "data": {"k": "v"}})).unwrap());
        assert_eq!(created["kind"], "ConfigMap");
        assert_eq!(created["metadata"]["namespace"], "default");
        let rv = created["metadata"]["resourceVersion"].as_str().unwrap().to_string();
        assert!(s.create(&cm(), "default", json!({"metadata": {"name": "a"}})).unwrap_err().reason == "AlreadyExists");
        assert_eq!(s.create(&cm(), "nope", json!({"metadata": {"name": "a"}})).unwrap_err().code, 404);
        let mut next = created.clone();
        next["data"]["k"] = json!("w");
        let updated = parse(&s.update(&cm(), "default", "a", next.clone(), false).unwrap());
        assert_ne!(updated["metadata"]["resourceVersion"].as_str().unwrap(), rv);
        assert_eq!(s.update(&cm(), "default", "a", next, false).unwrap_err().reason, "Conflict");
        assert_eq!(s.delete(&cm(), "default", "a").unwrap().len() > 0, true);
        assert_eq!(s.get(&cm(), "default", "a").unwrap_err().code, 404);
    }

    #[test]
    fn pages_cover_every_item_once() {
        let s = Store::new(100);
        for i in 0..7 {
            s.create(&cm(), "default", json!({"metadata": {"name": format!("p{i}")}})).unwrap();
        }
        let (mut names, mut token) = (Vec::new(), None::<String>);
        loop {
            let page = parse(&s.list(&cm(), &Query::default(), Some(3), token.as_deref()).unwrap());
            names.extend(page["items"].as_array().unwrap().iter().map(|i| i["metadata"]["name"].as_str().unwrap().to_string()));
            token = page["metadata"]["continue"].as_str().map(str::to_string);
            if token.is_none() {
                break;
            }
            assert!(page["metadata"]["remainingItemCount"].as_u64().unwrap() >= 1);
        }
        assert_eq!(names, (0..7).map(|i| format!("p{i}")).collect::<Vec<_>>());
    }

    #[test]
    fn watch_replays_history_and_expires() {
        let s = Store::new(3);
        let rv0 = s.resource_version();
        for i in 0..2 {
            s.create(&cm(), "default", json!({"metadata": {"name": format!("w{i}")}})).unwrap();
        }
        let w = s.watch(&cm(), &Query::default(), Some(rv0)).unwrap();
        assert_eq!(w.initial.len(), 2);
        for i in 2..6 {
            s.create(&cm(), "default", json!({"metadata": {"name": format!("w{i}")}})).unwrap();
        }
        assert_eq!(s.watch(&cm(), &Query::default(), Some(rv0)).err().unwrap().code, 410);
        assert_eq!(s.watch(&cm(), &Query::default(), None).unwrap().initial.len(), 6);
    }

    #[test]
    fn rfc3339_now_is_well_formed() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20);
        assert!(t.starts_with("20") && t.ends_with('Z'));
    }
}
