//! JSON merge patch (RFC 7386) and JSON patch (RFC 6902), as the API server applies them.

use serde_json::Value;

/// RFC 7386: objects merge recursively, `null` removes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let map = target.as_object_mut().expect("an object");
    for (key, value) in patch_map {
        if value.is_null() {
            map.remove(key);
        } else {
            merge(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// RFC 6902: `add`, `remove`, `replace`, `move`, `copy`, `test`, applied in order; the
/// first failing operation fails the whole patch (the target is left unchanged).
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops.as_array().ok_or("a JSON patch must be a list of operations")?;
    let mut doc = target.clone();
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).ok_or("a JSON patch operation has no \"op\"")?;
        let path = op.get("path").and_then(Value::as_str).ok_or("a JSON patch operation has no \"path\"")?;
        let value = || op.get("value").cloned().ok_or_else(|| format!("the {name} operation needs a \"value\""));
        let from = || op.get("from").and_then(Value::as_str).ok_or_else(|| format!("the {name} operation needs \"from\""));
        match name {
            "add" => add(&mut doc, path, value()?)?,
            "remove" => {
                remove(&mut doc, path)?;
            }
            "replace" => {
                remove(&mut doc, path)?;
                add(&mut doc, path, value()?)?;
            }
            "move" => {
                let v = remove(&mut doc, from()?)?;
                add(&mut doc, path, v)?;
            }
            "copy" => {
                let v = doc.pointer(from()?).cloned().ok_or_else(|| format!("no value at {}", from().unwrap_or("")))?;
                add(&mut doc, path, v)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(format!("the test of {path} failed"));
                }
            }
            other => return Err(format!("unknown JSON patch operation {other:?}")),
        }
    }
    *target = doc;
    Ok(())
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split(path: &str) -> Result<(String, String), String> {
    if path.is_empty() {
        return Err("a JSON patch cannot replace the whole object".into());
    }
    let idx = path.rfind('/').ok_or_else(|| format!("{path:?} is not a JSON pointer"))?;
    Ok((path[..idx].to_string(), unescape(&path[idx + 1..])))
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let (parent, last) = split(path)?;
    match doc.pointer_mut(&parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
            Ok(())
        }
        Some(Value::Array(list)) => {
            let idx = if last == "-" { list.len() } else { last.parse().map_err(|_| format!("bad index in {path}"))? };
            if idx > list.len() {
                return Err(format!("index out of range in {path}"));
            }
            list.insert(idx, value);
            Ok(())
        }
        _ => Err(format!("the parent of {path} does not exist")),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split(path)?;
    let missing = || format!("no value at {path}");
    match doc.pointer_mut(&parent) {
        Some(Value::Object(map)) => map.remove(&last).ok_or_else(missing),
        Some(Value::Array(list)) => {
            let idx: usize = last.parse().map_err(|_| missing())?;
            if idx < list.len() {
                Ok(list.remove(idx))
            } else {
                Err(missing())
            }
        }
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch() {
        let mut v = json!({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]});
        merge(&mut v, &json!({"a": null, "b": {"c": 5}, "l": [9], "n": "x"}));
        assert_eq!(v, json!({"b": {"c": 5, "d": 3}, "l": [9], "n": "x"}));
    }

    #[test]
    fn json_patch_ops() {
        let mut v = json!({"data": {"a": "1"}, "l": [1, 3]});
        let ops = json!([
            {"op": "add", "path": "/data/b", "value": "2"},
            {"op": "remove", "path": "/data/a"},
            {"op": "add", "path": "/l/1", "value": 2},
            {"op": "add", "path": "/l/-", "value": 4},
            {"op": "replace", "path": "/data/b", "value": "3"},
            {"op": "copy", "from": "/data/b", "path": "/data/c"},
            {"op": "move", "from": "/data/c", "path": "/data/d~1e"},
            {"op": "test", "path": "/data/b", "value": "3"},
        ]);
        json_patch(&mut v, &ops).unwrap();
        assert_eq!(v, json!({"data": {"b": "3", "d/e": "3"}, "l": [1, 2, 3, 4]}));
        let before = v.clone();
        assert!(json_patch(&mut v, &json!([{"op": "add", "path": "/x", "value": 1}, {"op": "remove", "path": "/nope"}])).is_err());
        assert_eq!(v, before);
    }
}
