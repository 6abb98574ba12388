//! The `Status` bodies a FakeCluster answers failures with, worded as the API server words them.

use serde_json::{json, Value};

use super::resources::ResourceType;

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl Failure {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Failure {
        Failure { code, reason, message: message.into(), details: None }
    }

    pub fn bad_request(message: impl Into<String>) -> Failure {
        Failure::new(400, "BadRequest", message)
    }

    pub fn not_found(t: &ResourceType, name: &str) -> Failure {
        Failure {
            details: details(t, name, &t.plural),
            ..Failure::new(404, "NotFound", format!("{} \"{name}\" not found", t.qualified()))
        }
    }

    pub fn namespace_not_found(name: &str) -> Failure {
        Failure {
            details: Some(json!({"name": name, "kind": "namespaces"})),
            ..Failure::new(404, "NotFound", format!("namespaces \"{name}\" not found"))
        }
    }

    pub fn no_route() -> Failure {
        Failure { details: Some(json!({})), ..Failure::new(404, "NotFound", "the server could not find the requested resource") }
    }

    pub fn already_exists(t: &ResourceType, name: &str) -> Failure {
        Failure {
            details: details(t, name, &t.plural),
            ..Failure::new(409, "AlreadyExists", format!("{} \"{name}\" already exists", t.qualified()))
        }
    }

    pub fn conflict(t: &ResourceType, name: &str) -> Failure {
        Failure {
            details: details(t, name, &t.plural),
            ..Failure::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your \
                     changes to the latest version and try again",
                    t.qualified()
                ),
            )
        }
    }

    pub fn invalid(t: &ResourceType, name: &str, field: &str, detail: &str) -> Failure {
        Failure {
            details: Some({
                let mut d = details(t, name, &t.kind).expect("details");
                d["causes"] = json!([{"reason": "FieldValueInvalid", "message": detail, "field": field}]);
                d
            }),
            ..Failure::new(422, "Invalid", format!("{} \"{name}\" is invalid: {field}: {detail}", t.kind))
        }
    }

    pub fn gone(message: impl Into<String>) -> Failure {
        Failure { details: Some(json!({})), ..Failure::new(410, "Expired", message) }
    }

    pub fn unauthorized() -> Failure {
        Failure { details: Some(json!({})), ..Failure::new(401, "Unauthorized", "Unauthorized") }
    }

    pub fn forbidden(user: &str, verb: &str, t: Option<&ResourceType>, namespace: Option<&str>) -> Failure {
        let message = match t {
            Some(t) => format!(
                "{} is forbidden: User \"{user}\" cannot {verb} resource \"{}\" in API group \"{}\"{}",
                t.qualified(),
                t.plural,
                t.group,
                namespace.map(|n| format!(" in the namespace \"{n}\"")).unwrap_or_else(|| " at the cluster scope".into())
            ),
            None => format!("forbidden: User \"{user}\" cannot {verb} this path"),
        };
        Failure {
            details: Some(json!({"kind": t.map(|t| t.plural.clone()).unwrap_or_default()})),
            ..Failure::new(403, "Forbidden", message)
        }
    }

    pub fn body(&self) -> Value {
        let mut v = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code,
        });
        if let Some(d) = &self.details {
            v["details"] = d.clone();
        }
        v
    }
}

/// `details` as the API server writes them: `group` only when not the core group.
fn details(t: &ResourceType, name: &str, kind: &str) -> Option<Value> {
    let mut d = json!({"name": name, "kind": kind});
    if !t.group.is_empty() {
        d["group"] = json!(t.group);
    }
    Some(d)
}
