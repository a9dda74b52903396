//! Names and Role Provisioning Services 2.0: the context's roster, every page followed through
//! `Link: rel="next"`.
use serde::Deserialize;

use super::keys::SigningKey;
use super::token::{TokenCache, TokenEndpoint, TokenError};

/// The NRPS scope.
pub const SCOPE: &str = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";
const MEDIA_TYPE: &str = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json";
/// Upper bound on pages, against a platform that links pages in a circle.
const MAX_PAGES: usize = 1_000;

/// One member as the platform lists them.
#[derive(Debug, Clone, Deserialize)]
pub struct Member {
    /// The LTI `sub` of the person.
    pub user_id: String,
    /// Roles in the context.
    #[serde(default)]
    pub roles: Vec<String>,
    /// `Active`, `Inactive` or `Deleted`.
    #[serde(default)]
    pub status: Option<String>,
    /// Full name, when the platform shares it.
    #[serde(default)]
    pub name: Option<String>,
    /// Given name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub family_name: Option<String>,
}

#[derive(Deserialize)]
struct Container {
    #[serde(default)]
    members: Vec<Member>,
}

/// Why the roster could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// No access token.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The request failed.
    #[error("the membership service could not be reached: {0}")]
    Transport(#[from] reqwest::Error),
    /// The URL is not one the tool calls, or the answer was too large or unreadable.
    #[error("the membership service: {0}")]
    Outbound(#[from] crate::outbound::OutboundError),
    /// The platform refused or answered something unreadable.
    #[error("the membership service answered HTTP {status}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The start of the answer.
        body: String,
    },
}

/// The `rel="next"` URL of a `Link` header, if any.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_owned())
    })
}

/// Reads every page of the roster. A 401 renews the token once.
pub async fn fetch_roster(
    http: &crate::outbound::Outbound,
    tokens: &TokenCache,
    endpoint: &TokenEndpoint<'_>,
    key: &SigningKey,
    memberships_url: &str,
) -> Result<Vec<Member>, RosterError> {
    let mut members = Vec::new();
    let mut next = Some(memberships_url.to_owned());
    let mut renewed = false;
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            break;
        }
        let token = tokens.token(http, endpoint, key, &[SCOPE]).await?;
        let response = http
            .get("memberships URL", &url)?
            .header(reqwest::header::ACCEPT, MEDIA_TYPE)
            .bearer_auth(&token)
            .send()
            .await?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED && !renewed {
            tokens.forget(endpoint.registration, &[SCOPE]);
            renewed = true;
            next = Some(url);
            pages -= 1;
            continue;
        }
        if !response.status().is_success() {
            let status = response.status().as_u16();
            let body = crate::outbound::body_for_log(response).await;
            tracing::info!(code = "NRPS_REFUSED", status, body = %body,
                "the membership service refused");
            return Err(RosterError::Refused { status, body });
        }
        next = response
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        let page: Container = crate::outbound::read_json(response).await?;
        members.extend(page.members);
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_others() {
        let header = r#"<https://lms.example/m?page=1>; rel="first", <https://lms.example/m?page=3&limit=2>; rel="next""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://lms.example/m?page=3&limit=2")
        );
        assert_eq!(
            next_link(r#"<https://lms.example/m?page=1>; rel="first""#),
            None
        );
    }
}
