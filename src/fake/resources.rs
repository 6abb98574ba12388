//! The resource types a FakeCluster serves: the built-in kinds it knows and any registered
//! later, and the discovery documents that describe them.

use serde_json::{json, Value};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    /// Has a `/status` subresource: writes to the main resource keep the stored status.
    pub has_status: bool,
}

impl ResourceType {
    pub fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool, has_status: bool) -> Self {
        ResourceType {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced,
            has_status,
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The storage key: one collection per group and plural, whatever the version.
    pub fn key(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }

    /// `configmaps` in messages, `deployments.apps` for other groups, as the API server says it.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

const VERBS: [&str; 8] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

pub fn builtins() -> Vec<ResourceType> {
    let t = ResourceType::new;
    vec![
        t("", "v1", "Namespace", "namespaces", false, true),
        t("", "v1", "ConfigMap", "configmaps", true, false),
        t("", "v1", "Secret", "secrets", true, false),
        t("", "v1", "Pod", "pods", true, true),
        t("", "v1", "PodTemplate", "podtemplates", true, false),
        t("", "v1", "Service", "services", true, true),
        t("", "v1", "ServiceAccount", "serviceaccounts", true, false),
        t("", "v1", "Endpoints", "endpoints", true, false),
        t("", "v1", "Event", "events", true, false),
        t("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, true),
        t("", "v1", "PersistentVolume", "persistentvolumes", false, true),
        t("", "v1", "Node", "nodes", false, true),
        t("", "v1", "ReplicationController", "replicationcontrollers", true, true),
        t("apps", "v1", "Deployment", "deployments", true, true),
        t("apps", "v1", "StatefulSet", "statefulsets", true, true),
        t("apps", "v1", "DaemonSet", "daemonsets", true, true),
        t("apps", "v1", "ReplicaSet", "replicasets", true, true),
        t("batch", "v1", "Job", "jobs", true, true),
        t("batch", "v1", "CronJob", "cronjobs", true, true),
        t("rbac.authorization.k8s.io", "v1", "Role", "roles", true, false),
        t("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, false),
        t("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, false),
        t("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, false),
        t("networking.k8s.io", "v1", "Ingress", "ingresses", true, true),
        t("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, false),
        t("coordination.k8s.io", "v1", "Lease", "leases", true, false),
        t("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, true),
    ]
}

/// `/api`
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_versions(types: &[ResourceType], group: &str) -> Vec<String> {
    let mut versions: Vec<String> = Vec::new();
    for t in types.iter().filter(|t| t.group == group) {
        if !versions.contains(&t.version) {
            versions.push(t.version.clone());
        }
    }
    versions
}

fn group_doc(types: &[ResourceType], group: &str) -> Value {
    let versions: Vec<Value> = group_versions(types, group)
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({"name": group, "versions": versions.clone(), "preferredVersion": versions[0]})
}

/// `/apis`
pub fn group_list(types: &[ResourceType]) -> Value {
    let mut groups: Vec<&str> = Vec::new();
    for t in types.iter().filter(|t| !t.group.is_empty()) {
        if !groups.contains(&t.group.as_str()) {
            groups.push(&t.group);
        }
    }
    let docs: Vec<Value> = groups.iter().map(|g| group_doc(types, g)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": docs})
}

/// `/apis/{group}`, if the group is served.
pub fn group(types: &[ResourceType], group: &str) -> Option<Value> {
    if !types.iter().any(|t| t.group == group) {
        return None;
    }
    let mut doc = group_doc(types, group);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

/// `/api/v1` or `/apis/{group}/{version}`, if served.
pub fn resource_list(types: &[ResourceType], group: &str, version: &str) -> Option<Value> {
    let served: Vec<&ResourceType> = types.iter().filter(|t| t.group == group && t.version == version).collect();
    if served.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for t in served {
        resources.push(json!({
            "name": t.plural, "singularName": t.kind.to_lowercase(), "namespaced": t.namespaced,
            "kind": t.kind, "verbs": VERBS,
        }));
        if t.has_status {
            resources.push(json!({
                "name": format!("{}/status", t.plural), "singularName": "", "namespaced": t.namespaced,
                "kind": t.kind, "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
}

pub fn version() -> Value {
    json!({
        "major": "1", "minor": "20", "gitVersion": "v1.20.2-kubesession-fakecluster",
        "gitCommit": "", "gitTreeState": "clean", "buildDate": "", "goVersion": "",
        "compiler": "rustc", "platform": "linux/amd64",
    })
}
