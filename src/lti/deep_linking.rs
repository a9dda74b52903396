//! Deep Linking 2.0: what the platform's `LtiDeepLinkingRequest` allows, and the signed
//! `LtiDeepLinkingResponse` carrying the chosen content back. Only `ltiResourceLink` items are made,
//! the one type every platform takes (itslearning takes nothing else).
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use super::deep_linking_request::{RESOURCE_LINK_TYPE, Settings};
use super::keys::SigningKey;

/// The content items claim of the response.
pub const CONTENT_ITEMS: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items";
/// The `data` claim of the response (echoed from the request).
pub const DATA: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/data";

/// A gradebook column to create with a link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// Highest score.
    pub score_maximum: f64,
    /// Column label.
    pub label: String,
    /// The tool's identifier (`course`, `course-pass` or a module slug).
    pub resource_id: String,
    /// `completion` or `module`.
    pub tag: String,
}

/// One `ltiResourceLink` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceLink {
    /// Title shown in the LMS.
    pub title: String,
    /// A short description.
    pub text: String,
    /// Custom parameters (`module`, `assessment`).
    pub custom: serde_json::Map<String, Value>,
    /// The gradebook column, when the grade mode wants one for this link.
    pub line_item: Option<LineItem>,
}

impl ResourceLink {
    fn to_json(&self) -> Value {
        let mut item = json!({
            "type": RESOURCE_LINK_TYPE,
            "title": self.title,
            "text": self.text,
            "custom": self.custom,
        });
        if let Some(line_item) = &self.line_item {
            item["lineItem"] = json!(line_item);
        }
        item
    }
}

/// Who the response is from and for.
#[derive(Debug, Clone)]
pub struct Parties<'a> {
    /// The tool's client_id (the response's `iss`).
    pub client_id: &'a str,
    /// The platform's issuer (the response's `aud`).
    pub platform_issuer: &'a str,
    /// The `deployment_id` of the request.
    pub deployment_id: &'a str,
}

/// The claims of an `LtiDeepLinkingResponse`.
pub fn response_claims(
    parties: &Parties<'_>,
    settings: &Settings,
    items: &[ResourceLink],
    now: i64,
) -> Value {
    let mut claims = json!({
        "iss": parties.client_id,
        "aud": parties.platform_issuer,
        "iat": now,
        "exp": now + 300,
        "nonce": super::random_token(16),
        super::claims::MESSAGE_TYPE: "LtiDeepLinkingResponse",
        super::claims::VERSION: "1.3.0",
        super::claims::DEPLOYMENT_ID: parties.deployment_id,
        CONTENT_ITEMS: items.iter().map(ResourceLink::to_json).collect::<Vec<_>>(),
    });
    if let Some(data) = &settings.data {
        claims[DATA] = json!(data);
    }
    claims
}

/// The signed response JWT (RS256, the tool's current key, its `kid` in the header).
pub fn sign_response(
    key: &SigningKey,
    parties: &Parties<'_>,
    settings: &Settings,
    items: &[ResourceLink],
    now: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    key.sign(&response_claims(parties, settings, items, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_need_a_return_url_and_default_to_one_item() {
        assert!(Settings::parse(&json!({"accept_types": ["ltiResourceLink"]})).is_none());
        let settings = Settings::parse(&json!({
            "deep_link_return_url": "https://lms.example/dl/return",
            "accept_types": ["link", "ltiResourceLink"],
            "data": "opaque-1",
        }))
        .unwrap();
        assert!(settings.accepts_resource_links());
        assert!(!settings.accept_multiple);
        assert_eq!(settings.data.as_deref(), Some("opaque-1"));
        let files_only = Settings::parse(&json!({
            "deep_link_return_url": "https://lms.example/dl/return",
            "accept_types": ["file"],
        }))
        .unwrap();
        assert!(!files_only.accepts_resource_links());
    }

    #[test]
    fn the_response_echoes_data_and_carries_resource_links_only() {
        let settings = Settings {
            return_url: "https://lms.example/r".into(),
            accept_types: vec![RESOURCE_LINK_TYPE.into()],
            accept_multiple: true,
            auto_create: false,
            data: Some("abc".into()),
        };
        let mut custom = serde_json::Map::new();
        custom.insert("module".into(), json!("ledarskap"));
        let items = [ResourceLink {
            title: "Modul 1".into(),
            text: "Ledarskap".into(),
            custom,
            line_item: Some(LineItem {
                score_maximum: 1.0,
                label: "Modul 1".into(),
                resource_id: "ledarskap".into(),
                tag: "module".into(),
            }),
        }];
        let parties = Parties {
            client_id: "tool-1",
            platform_issuer: "https://lms.example",
            deployment_id: "d-1",
        };
        let claims = response_claims(&parties, &settings, &items, 1_000);
        assert_eq!(claims["iss"], "tool-1");
        assert_eq!(claims["aud"], "https://lms.example");
        assert_eq!(claims[DATA], "abc");
        assert_eq!(
            claims[super::super::claims::MESSAGE_TYPE],
            "LtiDeepLinkingResponse"
        );
        let item = &claims[CONTENT_ITEMS][0];
        assert_eq!(item["type"], "ltiResourceLink");
        assert_eq!(item["custom"]["module"], "ledarskap");
        assert_eq!(item["lineItem"]["resourceId"], "ledarskap");
        assert_eq!(item["lineItem"]["scoreMaximum"], 1.0);
    }
}
