//! A rendered environment as comparable objects: each Kubernetes object by kind, namespace and
//! name; each values file, Terraform file or other document as a whole. An object is a map of
//! leaf paths (`spec.source.helm.valuesObject.replicas`) to values, so two environments compare
//! key by key rather than line by line.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Which object: the file it lives in (environment-relative), and for Kubernetes objects their
/// identity. Files of different environments with the same role have the same key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectKey {
    /// What the object belongs to: an Argo CD Application's component, `terraform`, `policies` ...
    pub component: String,
    /// The file, with the environment's folder left out (`argocd/apps/app.yaml`).
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl ObjectKey {
    /// A Kubernetes Secret: its data is compared but never shown.
    pub fn is_secret(&self) -> bool {
        self.kind.as_deref() == Some("Secret")
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.name) {
            (Some(kind), Some(name)) => match &self.namespace {
                Some(ns) => write!(f, "{kind} {ns}/{name} ({})", self.file),
                None => write!(f, "{kind} {name} ({})", self.file),
            },
            _ => f.write_str(&self.file),
        }
    }
}

/// Leaf path → value (compact JSON). The path `""` holds a document that did not parse.
pub type Leaves = BTreeMap<String, String>;

/// Every object of one environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Objects(pub BTreeMap<ObjectKey, Leaves>);

impl Objects {
    /// The objects of `files` (environment-relative path → contents).
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Self {
        let mut objects = BTreeMap::new();
        for (path, bytes) in files {
            for (key, value) in parse(path, bytes) {
                let leaves = leaves(&value, key.is_secret());
                objects.insert(key, leaves);
            }
        }
        Objects(objects)
    }
}

/// The leaves of one object; a Secret's data only as digests.
pub fn leaves(value: &Value, secret: bool) -> Leaves {
    let mut out = Leaves::new();
    flatten("", value, secret, &mut out);
    out
}

/// The component a file belongs to, from where the renderer puts it.
pub fn component_of(file: &str) -> String {
    let parts: Vec<&str> = file.split('/').collect();
    let stem = |s: &str| s.split('.').next().unwrap_or(s).to_string();
    match parts.as_slice() {
        ["argocd", "apps", f] | ["helm", "values", f] => stem(f),
        ["argocd", "manifests", dir, ..] => (*dir).to_string(),
        ["argocd", ..] => "argocd".into(),
        ["terraform", ..] => "terraform".into(),
        [top, ..] => (*top).to_string(),
        [] => String::new(),
    }
}

fn parse(path: &str, bytes: &[u8]) -> Vec<(ObjectKey, Value)> {
    let file_key = || ObjectKey {
        component: component_of(path),
        file: path.to_string(),
        kind: None,
        namespace: None,
        name: None,
    };
    let text = String::from_utf8_lossy(bytes);
    let unparsed = |key: ObjectKey| vec![(key, Value::String(text.to_string()))];
    let extension = path.rsplit('.').next().unwrap_or_default();
    match extension {
        "yaml" | "yml" => {
            let mut out = Vec::new();
            for (i, document) in yaml_serde::Deserializer::from_str(&text).enumerate() {
                let Ok(value) = Value::deserialize(document) else {
                    return unparsed(file_key());
                };
                if value.is_null() {
                    continue;
                }
                let key = match (value["kind"].as_str(), value["metadata"]["name"].as_str()) {
                    (Some(kind), Some(name)) => ObjectKey {
                        kind: Some(kind.to_string()),
                        namespace: value["metadata"]["namespace"].as_str().map(String::from),
                        name: Some(name.to_string()),
                        ..file_key()
                    },
                    _ if i == 0 => file_key(),
                    _ => ObjectKey {
                        file: format!("{path}#{i}"),
                        ..file_key()
                    },
                };
                out.push((key, value));
            }
            out
        }
        "tf" | "tfvars" | "hcl" => match hcl::from_str::<Value>(&text) {
            Ok(value) => vec![(file_key(), value)],
            Err(_) => unparsed(file_key()),
        },
        "json" => match serde_json::from_str::<Value>(&text) {
            Ok(value) => vec![(file_key(), value)],
            Err(_) => unparsed(file_key()),
        },
        _ => unparsed(file_key()),
    }
}

fn flatten(path: &str, value: &Value, secret: bool, out: &mut Leaves) {
    let child = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                flatten(&child(key), v, secret, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{path}[{i}]"), v, secret, out);
            }
        }
        leaf => {
            let shown = leaf.to_string();
            let data = secret && (path.starts_with("data.") || path.starts_with("stringData."));
            // Secret data is compared by digest and never kept in clear.
            let text = if data {
                format!("{SECRET_MARK}{:x}", Sha256::digest(shown.as_bytes()))
            } else {
                shown
            };
            out.insert(path.to_string(), text);
        }
    }
}

/// Prefix of a Secret value's digest; such a value is printed as "(secret value)".
pub const SECRET_MARK: &str = "secret:sha256:";

/// A leaf value as a report shows it.
pub fn shown(value: &str) -> &str {
    if value.starts_with(SECRET_MARK) {
        "(secret value)"
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_objects_are_keyed_by_identity_and_flattened_to_leaves() {
        let yaml = "# header\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n  labels: {a: b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: app}\ndata: {k: [1, 2]}\n";
        let objects = Objects::from_files([("argocd/manifests/namespaces/namespaces.yaml", yaml.as_bytes())]);
        let keys: Vec<String> = objects.0.keys().map(ToString::to_string).collect();
        assert_eq!(
            keys,
            [
                "ConfigMap app/c (argocd/manifests/namespaces/namespaces.yaml)",
                "Namespace app (argocd/manifests/namespaces/namespaces.yaml)"
            ]
        );
        let cm = objects.0.values().next().expect("configmap");
        assert_eq!(cm["data.k[1]"], "2");
        assert!(objects.0.keys().all(|k| k.component == "namespaces"));
    }

    #[test]
    fn secret_data_is_compared_by_digest_and_never_kept() {
        let yaml = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: aHVudGVyMg==}\nstringData: {token: hunter2}\n";
        let objects = Objects::from_files([("x.yaml", yaml.as_bytes())]);
        let leaves = objects.0.values().next().expect("secret");
        assert!(leaves["data.password"].starts_with(SECRET_MARK));
        assert!(leaves["stringData.token"].starts_with(SECRET_MARK));
        assert!(!format!("{leaves:?}").contains("hunter2") && !format!("{leaves:?}").contains("aHVudGVyMg"));
        assert_eq!(shown(&leaves["data.password"]), "(secret value)");
        assert_eq!(leaves["metadata.name"], "\"s\"");
    }

    #[test]
    fn terraform_files_compare_by_key_path() {
        let tf = "module \"eks\" {\n  source = \"x\"\n  cluster_version = \"1.35\"\n}\n";
        let objects = Objects::from_files([("terraform/main.tf", tf.as_bytes())]);
        let leaves = objects.0.values().next().expect("main.tf");
        assert_eq!(leaves["module.eks.cluster_version"], "\"1.35\"");
    }
}
