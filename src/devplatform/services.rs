//! The platform's service side: the OAuth2 token endpoint (client_credentials with the tool's
//! signed assertion), Assignment and Grade Services and Names and Role Provisioning Services, all
//! kept in memory so tests can see exactly what the tool sent.
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Inner, lock};
use crate::lti::{self, token::CLIENT_ASSERTION_TYPE};

/// What the services hold.
#[derive(Default)]
pub struct ServiceState {
    tokens: Mutex<HashMap<String, (HashSet<String>, i64)>>,
    seen_jti: Mutex<HashSet<String>>,
    line_items: Mutex<Vec<Value>>,
    pub(crate) scores: Mutex<Vec<Value>>,
    pub(crate) roster: Mutex<Vec<Value>>,
    pub(crate) token_requests: std::sync::atomic::AtomicUsize,
    pub(crate) service_user_agents: Mutex<Vec<String>>,
}

impl ServiceState {
    pub(crate) fn revoke_tokens(&self) {
        lock(&self.tokens).clear();
    }
}

const SCOPE_LINEITEM: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem";
const SCOPE_LINEITEM_READONLY: &str =
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly";
const SCOPE_SCORE: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/score";
const SCOPE_NRPS: &str =
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// The token request.
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
    scope: Option<String>,
}

/// `POST /token`.
pub async fn token(State(inner): State<Arc<Inner>>, Form(request): Form<TokenRequest>) -> Response {
    inner
        .services
        .token_requests
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if request.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "client_credentials only",
        );
    }
    if request.client_assertion_type.as_deref() != Some(CLIENT_ASSERTION_TYPE) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "JWT client assertion required",
        );
    }
    let Some(assertion) = request.client_assertion else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "client_assertion missing",
        );
    };
    if let Err(problem) = verify_assertion(&inner, &assertion).await {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", &problem);
    }
    let allowed = [
        SCOPE_LINEITEM,
        SCOPE_LINEITEM_READONLY,
        SCOPE_SCORE,
        SCOPE_NRPS,
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    ];
    let granted: HashSet<String> = request
        .scope
        .unwrap_or_default()
        .split_whitespace()
        .filter(|s| allowed.contains(s))
        .map(str::to_owned)
        .collect();
    if granted.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "no known scope requested",
        );
    }
    let access_token = lti::random_token(24);
    let scope = granted.iter().cloned().collect::<Vec<_>>().join(" ");
    lock(&inner.services.tokens).insert(access_token.clone(), (granted, lti::now_unix() + 3600));
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": scope,
    }))
    .into_response()
}

async fn verify_assertion(inner: &Inner, assertion: &str) -> Result<(), String> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("assertion has no kid")?;
    let set: JwkSet = inner
        .http()
        .get(inner.tool().jwks.clone())
        .send()
        .await
        .map_err(|e| format!("tool JWKS unreachable: {e}"))?
        .json()
        .await
        .map_err(|e| format!("tool JWKS unreadable: {e}"))?;
    let jwk = set.find(&kid).ok_or("kid not in the tool's JWKS")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[inner.url("token").as_str()]);
    validation.set_issuer(&[inner.client_id()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud", "jti"]);
    let data =
        jsonwebtoken::decode::<Value>(assertion, &key, &validation).map_err(|e| e.to_string())?;
    if data.claims["sub"] != inner.client_id() {
        return Err("sub must be the client_id".into());
    }
    let jti = data.claims["jti"].as_str().unwrap_or_default().to_owned();
    if !lock(&inner.services.seen_jti).insert(jti) {
        return Err("jti already used".into());
    }
    Ok(())
}

fn authorised(inner: &Inner, headers: &HeaderMap, scope: &str) -> Result<(), StatusCode> {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    lock(&inner.services.service_user_agents).push(agent);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let tokens = lock(&inner.services.tokens);
    match token.and_then(|t| tokens.get(t)) {
        Some((scopes, expires)) if *expires > lti::now_unix() && scopes.contains(scope) => Ok(()),
        Some(_) => Err(StatusCode::FORBIDDEN),
        None => Err(StatusCode::UNAUTHORIZED),
    }
}

/// `GET /lineitems`.
pub async fn list_line_items(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if let Err(refusal) = authorised(&inner, &headers, SCOPE_LINEITEM)
        .or_else(|_| authorised(&inner, &headers, SCOPE_LINEITEM_READONLY))
    {
        return refusal.into_response();
    }
    let items = lock(&inner.services.line_items).clone();
    (
        [(
            header::CONTENT_TYPE,
            "application/vnd.ims.lis.v2.lineitemcontainer+json",
        )],
        Json(items),
    )
        .into_response()
}

/// `POST /lineitems`.
pub async fn create_line_item(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Json(mut item): Json<Value>,
) -> Response {
    if let Err(refusal) = authorised(&inner, &headers, SCOPE_LINEITEM) {
        return refusal.into_response();
    }
    if item
        .get("scoreMaximum")
        .and_then(Value::as_f64)
        .is_none_or(|max| max <= 0.0)
    {
        return (
            StatusCode::BAD_REQUEST,
            "scoreMaximum must be a positive number",
        )
            .into_response();
    }
    let mut items = lock(&inner.services.line_items);
    let id = inner.url(&format!("lineitems/{}", items.len() + 1));
    item["id"] = json!(id.as_str());
    items.push(item.clone());
    (
        StatusCode::CREATED,
        [(
            header::CONTENT_TYPE,
            "application/vnd.ims.lis.v2.lineitem+json",
        )],
        Json(item),
    )
        .into_response()
}

/// `POST /lineitems/{id}/scores`.
pub async fn post_score(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(mut score): Json<Value>,
) -> Response {
    if let Err(refusal) = authorised(&inner, &headers, SCOPE_SCORE) {
        return refusal.into_response();
    }
    for required in ["userId", "activityProgress", "gradingProgress", "timestamp"] {
        if score.get(required).is_none() {
            return (StatusCode::BAD_REQUEST, format!("{required} is required")).into_response();
        }
    }
    score["lineItem"] = json!(id);
    lock(&inner.services.scores).push(score);
    StatusCode::OK.into_response()
}

/// Paging of the membership list.
#[derive(Debug, Deserialize)]
pub struct Page {
    page: Option<usize>,
    limit: Option<usize>,
}

/// `GET /memberships`: the roster, `limit` members a page, with `Link: rel="next"`.
pub async fn memberships(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Query(page): Query<Page>,
) -> Response {
    if let Err(refusal) = authorised(&inner, &headers, SCOPE_NRPS) {
        return refusal.into_response();
    }
    let limit = page.limit.unwrap_or(2).clamp(1, 100);
    let number = page.page.unwrap_or(1).max(1);
    let roster = lock(&inner.services.roster).clone();
    let members: Vec<Value> = roster
        .iter()
        .skip((number - 1) * limit)
        .take(limit)
        .cloned()
        .collect();
    let mut response = Json(json!({
        "id": inner.url("memberships").as_str(),
        "context": { "id": "ctx-digital-omstallning", "title": "Att leda digital omställning" },
        "members": members,
    }))
    .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(
            "application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
        ),
    );
    if number * limit < roster.len() {
        let mut next = inner.url("memberships");
        next.query_pairs_mut()
            .append_pair("page", &(number + 1).to_string())
            .append_pair("limit", &limit.to_string());
        if let Ok(link) = header::HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
            response.headers_mut().insert(header::LINK, link);
        }
    }
    response
}
