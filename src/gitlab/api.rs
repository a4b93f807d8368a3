//! The REST answers tokenscope reads, as types. Every field is optional and lenient: a field that is
//! missing, null or of another type than documented reads as `None`, so one odd value never drops a whole
//! project (which would make it look like it does not exist). What a missing value means is decided where
//! it is used.

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};

/// A field that reads as `None` unless it has the expected type.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

/// `GET /projects/:id`, and the rows of `GET /groups/:id/projects`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProjectRow {
    #[serde(deserialize_with = "lenient")]
    pub(crate) id: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) path_with_namespace: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) visibility: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) archived: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) ci_config_path: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) default_branch: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) empty_repo: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) container_registry_image_prefix: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) last_activity_at: Option<String>,
}

/// `GET /projects/:id/job_token_scope`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct JobTokenScope {
    #[serde(deserialize_with = "lenient")]
    pub(crate) inbound_enabled: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) outbound_enabled: Option<bool>,
}

/// A row of `GET /projects/:id/job_token_scope/allowlist`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AllowlistedProject {
    #[serde(deserialize_with = "lenient")]
    pub(crate) path_with_namespace: Option<String>,
}

/// A row of `GET /projects/:id/job_token_scope/groups_allowlist`: GitLab documents `web_url`; newer
/// versions also send `full_path`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AllowlistedGroup {
    #[serde(deserialize_with = "lenient")]
    pub(crate) full_path: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) web_url: Option<String>,
}

/// A row of `GET /projects/:id/repository/tree`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TreeEntry {
    #[serde(rename = "type", deserialize_with = "lenient")]
    pub(crate) kind: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) path: Option<String>,
}

/// `GET /metadata` (or `/version` on older GitLab).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Metadata {
    #[serde(deserialize_with = "lenient")]
    pub(crate) version: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub(crate) enterprise: Option<bool>,
}

/// `GET /namespaces/:id`: the plan is visible on GitLab.com (and to administrators).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Namespace {
    #[serde(deserialize_with = "lenient")]
    pub(crate) plan: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_values_read_as_none_without_dropping_the_row() {
        let row: ProjectRow = serde_json::from_str(
            r#"{"id": "not a number", "path_with_namespace": "g/p", "archived": "yes", "extra": [1], "default_branch": null}"#,
        )
        .unwrap();
        assert_eq!((row.id, row.path_with_namespace.as_deref(), row.archived), (None, Some("g/p"), None));
        assert!(row.default_branch.is_none());
        let entry: TreeEntry = serde_json::from_str(r#"{"type": "blob", "path": "a.yml"}"#).unwrap();
        assert_eq!((entry.kind.as_deref(), entry.path.as_deref()), (Some("blob"), Some("a.yml")));
    }
}
