//! What a platform's `LtiDeepLinkingRequest` allows (its `deep_linking_settings` claim), read with
//! the rest of a launch's claims; the response the tool sends back is `deep_linking`'s.
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only content item type this tool makes.
pub const RESOURCE_LINK_TYPE: &str = "ltiResourceLink";
/// The `deep_linking_settings` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Where the response is posted.
    pub return_url: String,
    /// Content item types the platform accepts.
    pub accept_types: Vec<String>,
    /// Several items may be returned.
    pub accept_multiple: bool,
    /// The platform creates the items without asking the instructor again.
    pub auto_create: bool,
    /// Opaque value to echo back.
    pub data: Option<String>,
}

impl Settings {
    /// Reads the claim; `None` without a usable `deep_link_return_url`.
    pub fn parse(claim: &Value) -> Option<Self> {
        let return_url = claim
            .get("deep_link_return_url")
            .and_then(Value::as_str)
            .filter(|url| url.starts_with("https://") || url.starts_with("http://"))?
            .to_owned();
        let accept_types = claim
            .get("accept_types")
            .and_then(Value::as_array)
            .map(|types| {
                types
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            return_url,
            accept_types,
            // Absent means one item (the specification's default is false).
            accept_multiple: claim
                .get("accept_multiple")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            auto_create: claim
                .get("auto_create")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            data: claim.get("data").and_then(Value::as_str).map(str::to_owned),
        })
    }

    /// The platform takes resource links.
    pub fn accepts_resource_links(&self) -> bool {
        self.accept_types.iter().any(|t| t == RESOURCE_LINK_TYPE)
    }
}
