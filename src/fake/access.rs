//! Who may do what on a FakeCluster: bearer-token users with fixed permissions (401 for an
//! unknown token, 403 for a verb a user lacks), and the faults a test injects.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    /// `(verb, resource)` pairs; `*` matches any.
    rules: Vec<(String, String)>,
}

impl User {
    /// Rules are `"verb"`, `"verb:resource"`, `"*"` or `"*:resource"`.
    pub fn new(name: &str, rules: &[String]) -> User {
        let rules = rules
            .iter()
            .map(|r| match r.split_once(':') {
                Some((verb, resource)) => (verb.trim().to_string(), resource.trim().to_string()),
                None => (r.trim().to_string(), "*".to_string()),
            })
            .collect();
        User { name: name.to_string(), rules }
    }

    pub fn allows(&self, verb: &str, resource: &str) -> bool {
        self.rules.iter().any(|(v, r)| (v == "*" || v == verb) && (r == "*" || r == resource))
    }
}

#[derive(Default)]
pub struct Users {
    by_token: RwLock<HashMap<String, User>>,
}

impl Users {
    pub fn add(&self, token: &str, user: User) {
        self.by_token.write().unwrap_or_else(|p| p.into_inner()).insert(token.to_string(), user);
    }

    pub fn authenticate(&self, authorization: Option<&str>) -> Option<User> {
        let token = authorization?.strip_prefix("Bearer ")?.trim();
        self.by_token.read().unwrap_or_else(|p| p.into_inner()).get(token).cloned()
    }
}

/// A failure the next requests get instead of an answer.
#[derive(Clone, Copy, Debug)]
pub struct Injected {
    pub remaining: u32,
    pub status: u16,
    pub retry_after: Option<u64>,
}

pub struct Faults {
    fail_next: Mutex<Option<Injected>>,
    latency_micros: AtomicU64,
    /// Bumped by `drop_watches`: every open watch stream ends.
    pub drops: tokio::sync::watch::Sender<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults { fail_next: Mutex::new(None), latency_micros: AtomicU64::new(0), drops: tokio::sync::watch::channel(0).0 }
    }
}

impl Faults {
    pub fn fail_next(&self, n: u32, status: u16, retry_after: Option<u64>) {
        *self.fail_next.lock().unwrap_or_else(|p| p.into_inner()) =
            (n > 0).then_some(Injected { remaining: n, status, retry_after });
    }

    /// Takes one injected failure, if any are left.
    pub fn take_failure(&self) -> Option<Injected> {
        let mut slot = self.fail_next.lock().unwrap_or_else(|p| p.into_inner());
        let injected = (*slot)?;
        *slot = (injected.remaining > 1).then_some(Injected { remaining: injected.remaining - 1, ..injected });
        Some(injected)
    }

    pub fn set_latency(&self, latency: Duration) {
        self.latency_micros.store(latency.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_micros.load(Ordering::Relaxed))
    }

    pub fn drop_watches(&self) {
        self.drops.send_modify(|g| *g += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let u = User::new("bob", &["get".into(), "list:configmaps".into()]);
        assert!(u.allows("get", "pods") && u.allows("list", "configmaps"));
        assert!(!u.allows("list", "pods") && !u.allows("delete", "configmaps"));
        assert!(User::new("root", &["*".into()]).allows("delete", "anything"));
    }

    #[test]
    fn injected_failures_count_down() {
        let f = Faults::default();
        f.fail_next(2, 503, Some(1));
        assert_eq!(f.take_failure().unwrap().status, 503);
        assert!(f.take_failure().is_some());
        assert!(f.take_failure().is_none());
    }
}
