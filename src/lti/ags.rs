//! Assignment and Grade Services 2.0: finding and creating line items and posting scores. Service
//! URLs are built with a URL parser, because Moodle's carry a query string (`…/lineitem?type_id=3`),
//! and a naive `+ "/scores"` would post into the query.
use serde::{Deserialize, Serialize};
use url::Url;

/// Create, read and change line items.
pub const SCOPE_LINEITEM: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem";
/// Read line items (Moodle wants it asked for explicitly before a GET).
pub const SCOPE_LINEITEM_READONLY: &str =
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly";
/// Read results.
pub const SCOPE_RESULT_READONLY: &str =
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly";
/// Post scores.
pub const SCOPE_SCORE: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/score";
/// Every scope the grade worker asks for, in one token.
pub const SCOPES: [&str; 4] = [
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
];

const SCORE_MEDIA_TYPE: &str = "application/vnd.ims.lis.v1.score+json";
const LINE_ITEM_MEDIA_TYPE: &str = "application/vnd.ims.lis.v2.lineitem+json";
const CONTAINER_MEDIA_TYPE: &str = "application/vnd.ims.lis.v2.lineitemcontainer+json";
/// Upper bound on pages of line items, against a platform that links pages in a circle.
const MAX_PAGES: usize = 100;

/// A line item as the tool asks for it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// The platform's URL of the line item (absent when creating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Column label.
    #[serde(default)]
    pub label: String,
    /// Highest score.
    #[serde(default)]
    pub score_maximum: f64,
    /// The tool's own identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The tool's tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The resource link the column belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_link_id: Option<String>,
}

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum AgsError {
    /// The request failed before an answer arrived (connection refused, timeout).
    #[error("the grade service could not be reached: {0}")]
    Transport(#[from] reqwest::Error),
    /// The URL is not one the tool calls, or the answer was too large.
    #[error("the grade service: {0}")]
    Outbound(#[from] crate::outbound::OutboundError),
    /// The platform answered with an error status.
    #[error("the grade service answered HTTP {status}")]
    Status {
        /// HTTP status.
        status: u16,
        /// `Retry-After`, in seconds, when sent.
        retry_after: Option<u64>,
        /// The start of the answer.
        body: String,
    },
    /// A URL from the platform is not a URL.
    #[error("the grade service URL {0:?} is not valid")]
    BadUrl(String),
    /// An answer could not be read.
    #[error("the grade service answered something unreadable: {0}")]
    Unreadable(String),
}

/// `…/lineitem/3?type_id=1` → `…/lineitem/3/scores?type_id=1`.
pub fn scores_url(line_item: &str) -> Result<Url, AgsError> {
    let mut url = Url::parse(line_item).map_err(|_| AgsError::BadUrl(line_item.to_owned()))?;
    let path = format!("{}/scores", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Ok(url)
}

async fn refusal(response: reqwest::Response) -> AgsError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    AgsError::Status {
        status,
        retry_after,
        body: crate::outbound::body_for_log(response).await,
    }
}

/// Posts one score to a line item.
pub async fn post_score(
    http: &crate::outbound::Outbound,
    token: &str,
    line_item: &str,
    score: &serde_json::Value,
) -> Result<(), AgsError> {
    let response = http
        .post("score URL", scores_url(line_item)?.as_str())?
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, SCORE_MEDIA_TYPE)
        .body(score.to_string())
        .send()
        .await?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(refusal(response).await)
    }
}

/// The line item of the context with this `resource_id` (and `tag`), looking through every page.
pub async fn find_line_item(
    http: &crate::outbound::Outbound,
    token: &str,
    line_items: &str,
    resource_id: &str,
    tag: &str,
) -> Result<Option<String>, AgsError> {
    let mut url = Url::parse(line_items).map_err(|_| AgsError::BadUrl(line_items.to_owned()))?;
    url.query_pairs_mut()
        .append_pair("resource_id", resource_id)
        .append_pair("tag", tag);
    let mut next = Some(url.to_string());
    let mut pages = 0;
    while let Some(page_url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            break;
        }
        let response = http
            .get("line items URL", &page_url)?
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, CONTAINER_MEDIA_TYPE)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        next = response
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(super::nrps::next_link);
        let items: Vec<LineItem> = crate::outbound::read_json(response).await?;
        // Platforms may ignore the filters; check them here.
        if let Some(found) = items.into_iter().find(|item| {
            item.resource_id.as_deref() == Some(resource_id)
                && item.tag.as_deref().is_none_or(|t| t == tag)
        }) {
            return Ok(found.id);
        }
    }
    Ok(None)
}

/// Creates a line item and returns its URL.
pub async fn create_line_item(
    http: &crate::outbound::Outbound,
    token: &str,
    line_items: &str,
    item: &LineItem,
) -> Result<String, AgsError> {
    let url = Url::parse(line_items).map_err(|_| AgsError::BadUrl(line_items.to_owned()))?;
    let response = http
        .post("line items URL", url.as_str())?
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, LINE_ITEM_MEDIA_TYPE)
        .header(reqwest::header::ACCEPT, LINE_ITEM_MEDIA_TYPE)
        .body(serde_json::to_string(item).unwrap_or_default())
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    let created: LineItem = crate::outbound::read_json(response).await?;
    created
        .id
        .ok_or_else(|| AgsError::Unreadable("the created line item has no id".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_go_under_the_line_item_path_before_its_query() {
        assert_eq!(
            scores_url(
                "https://moodle.example/mod/lti/services.php/2/lineitems/7/lineitem?type_id=3"
            )
            .unwrap()
            .as_str(),
            "https://moodle.example/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=3"
        );
        assert_eq!(
            scores_url("https://canvas.example/api/lti/courses/1/line_items/5/")
                .unwrap()
                .as_str(),
            "https://canvas.example/api/lti/courses/1/line_items/5/scores"
        );
        assert!(scores_url("not a url").is_err());
    }
}
