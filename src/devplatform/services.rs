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
    pub(crate) line_items: Mutex<Vec<Value>>,
    pub(crate) scores: Mutex<Vec<Value>>,
    pub(crate) roster: Mutex<Vec<Value>>,
    pub(crate) token_requests: std::sync::atomic::AtomicUsize,
    pub(crate) service_user_agents: Mutex<Vec<String>>,
    /// Score posts answered with an error before the next succeeds: (status, Retry-After).
    pub(crate) score_failures: Mutex<std::collections::VecDeque<(u16, Option<u64>)>>,
    /// People the gradebook refuses (a Test Student, someone not enrolled): sub → (status, text).
    pub(crate) refused_users: Mutex<HashMap<String, (u16, String)>>,
    /// Every score post that arrived, answered or not.
    pub(crate) score_posts: std::sync::atomic::AtomicUsize,
    /// Deep linking responses the platform accepted (their claims).
    pub(crate) deep_linking_responses: Mutex<Vec<Value>>,
    /// Registration tokens handed out and not used yet.
    pub(crate) registration_tokens: Mutex<HashSet<String>>,
    /// Tool registrations the platform accepted (the request bodies).
    pub(crate) registrations: Mutex<Vec<Value>>,
    /// Requests for the OpenID configuration, answered or not.
    pub(crate) configuration_fetches: std::sync::atomic::AtomicUsize,
    /// How long the gradebook takes to answer a score, in milliseconds (a slow LMS).
    pub(crate) score_delay_ms: std::sync::atomic::AtomicU64,
    /// The gradebook is down: every score post answers 503 until this is cleared.
    pub(crate) scores_down: std::sync::atomic::AtomicBool,
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
    lock(&inner.services.tokens).insert(access_token.clone(), (granted, super::wall_unix() + 3600));
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": scope,
    }))
    .into_response()
}

/// The tool's public keys: handed over, or fetched from its JWKS URL.
async fn tool_key_set(inner: &Inner) -> Result<JwkSet, String> {
    let trusted = lock(&inner.trusted_tool_keys).clone();
    Ok(match trusted {
        Some(set) => set,
        None => inner
            .http()
            .get(inner.tool().jwks.clone())
            .send()
            .await
            .map_err(|e| format!("tool JWKS unreachable: {e}"))?
            .json()
            .await
            .map_err(|e| format!("tool JWKS unreadable: {e}"))?,
    })
}

/// The decoding key of a JWT the tool signed, found by its `kid` in the tool's key set.
pub(crate) async fn tool_key_for(inner: &Inner, jwt: &str) -> Result<DecodingKey, String> {
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| e.to_string())?;
    if header.alg != Algorithm::RS256 {
        return Err(format!("alg {:?} is not RS256", header.alg));
    }
    let kid = header.kid.ok_or("the JWT has no kid")?;
    let set = tool_key_set(inner).await?;
    let jwk = set.find(&kid).ok_or("kid not in the tool's JWKS")?;
    DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())
}

async fn verify_assertion(inner: &Inner, assertion: &str) -> Result<(), String> {
    let key = tool_key_for(inner, assertion).await?;
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
        Some((scopes, expires)) if *expires > super::wall_unix() && scopes.contains(scope) => {
            Ok(())
        }
        Some(_) => Err(StatusCode::FORBIDDEN),
        None => Err(StatusCode::UNAUTHORIZED),
    }
}

/// Filters of the line item container (AGS §3.2.6).
#[derive(Debug, Deserialize)]
pub struct LineItemFilter {
    resource_id: Option<String>,
    tag: Option<String>,
    resource_link_id: Option<String>,
}

/// `GET /lineitems`.
pub async fn list_line_items(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Query(filter): Query<LineItemFilter>,
) -> Response {
    if let Err(refusal) = authorised(&inner, &headers, SCOPE_LINEITEM)
        .or_else(|_| authorised(&inner, &headers, SCOPE_LINEITEM_READONLY))
    {
        return refusal.into_response();
    }
    let matches = |item: &Value, field: &str, wanted: &Option<String>| {
        wanted
            .as_deref()
            .is_none_or(|wanted| item.get(field).and_then(Value::as_str) == Some(wanted))
    };
    let items: Vec<Value> = lock(&inner.services.line_items)
        .iter()
        .filter(|item| {
            matches(item, "resourceId", &filter.resource_id)
                && matches(item, "tag", &filter.tag)
                && matches(item, "resourceLinkId", &filter.resource_link_id)
        })
        .cloned()
        .collect();
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
    item["id"] = json!(inner.add_line_item(item.clone()));
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

/// The query Moodle-style line item URLs carry.
#[derive(Debug, Deserialize)]
pub struct LineItemQuery {
    type_id: Option<String>,
}

/// `POST /lineitems/{id}/lineitem/scores?type_id={id}`: the URL shape of Moodle, whose line item
/// URLs carry a query string, so a tool that appends `/scores` to the string posts to nowhere.
pub async fn post_score(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    Query(query): Query<LineItemQuery>,
    headers: HeaderMap,
    Json(mut score): Json<Value>,
) -> Response {
    inner
        .services
        .score_posts
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let delay = inner
        .services
        .score_delay_ms
        .load(std::sync::atomic::Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    if inner
        .services
        .scores_down
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        return (StatusCode::SERVICE_UNAVAILABLE, "the gradebook is down").into_response();
    }
    if let Err(refusal) = authorised(&inner, &headers, SCOPE_SCORE) {
        return refusal.into_response();
    }
    if query.type_id.as_deref() != Some(id.as_str()) {
        return (StatusCode::NOT_FOUND, "no such line item").into_response();
    }
    let known = lock(&inner.services.line_items).iter().any(|item| {
        item["id"]
            .as_str()
            .is_some_and(|url| url.contains(&format!("/lineitems/{id}/")))
    });
    if !known {
        return (StatusCode::NOT_FOUND, "Line item does not exist").into_response();
    }
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some("application/vnd.ims.lis.v1.score+json")
    {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "score+json expected").into_response();
    }
    for required in ["userId", "activityProgress", "gradingProgress", "timestamp"] {
        if score.get(required).is_none() {
            return (StatusCode::BAD_REQUEST, format!("{required} is required")).into_response();
        }
    }
    if let Some((status, retry_after)) = lock(&inner.services.score_failures).pop_front() {
        let mut response = (
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "the gradebook is unavailable",
        )
            .into_response();
        if let Some(seconds) = retry_after
            && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let user = score["userId"].as_str().unwrap_or_default().to_owned();
    if let Some((status, text)) = lock(&inner.services.refused_users).get(&user).cloned() {
        return (
            StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            Json(json!({ "errors": [{ "message": text }] })),
        )
            .into_response();
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

/// The deep linking response form.
#[derive(Debug, Deserialize)]
pub struct DeepLinkingReturn {
    #[serde(rename = "JWT")]
    jwt: Option<String>,
}

/// `POST /deep-linking/return`: checks the tool's signed `LtiDeepLinkingResponse` as an LMS does and
/// keeps its claims.
pub async fn deep_linking_return(
    State(inner): State<Arc<Inner>>,
    Form(form): Form<DeepLinkingReturn>,
) -> Response {
    let Some(jwt) = form.jwt else {
        return (StatusCode::BAD_REQUEST, "JWT missing").into_response();
    };
    let checked = async {
        let key = tool_key_for(&inner, &jwt).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[inner.issuer()]);
        validation.set_issuer(&[inner.client_id()]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        let claims = jsonwebtoken::decode::<Value>(&jwt, &key, &validation)
            .map_err(|e| e.to_string())?
            .claims;
        if claims[crate::lti::claims::MESSAGE_TYPE] != "LtiDeepLinkingResponse" {
            return Err("message_type must be LtiDeepLinkingResponse".to_owned());
        }
        if claims[crate::lti::claims::VERSION] != "1.3.0" {
            return Err("version must be 1.3.0".to_owned());
        }
        if claims["nonce"].as_str().is_none_or(str::is_empty) {
            return Err("nonce missing".to_owned());
        }
        if claims[crate::lti::claims::DEPLOYMENT_ID].as_str().is_none() {
            return Err("deployment_id missing".to_owned());
        }
        Ok::<Value, String>(claims)
    }
    .await;
    match checked {
        Ok(claims) => {
            let count = claims[crate::lti::deep_linking::CONTENT_ITEMS]
                .as_array()
                .map_or(0, Vec::len);
            lock(&inner.services.deep_linking_responses).push(claims);
            axum::response::Html(format!(
                "<!DOCTYPE html><html lang=\"sv\"><title>Innehåll tillagt</title><h1>{count} objekt tillagda</h1></html>"
            ))
            .into_response()
        }
        Err(problem) => (StatusCode::BAD_REQUEST, problem).into_response(),
    }
}

/// Which LMS the development platform plays during Dynamic Registration.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// Moodle: makes the deployment at once and names it in its answer.
    Moodle,
    /// Canvas: answers with the client_id only; deployments come when the tool is enabled.
    Canvas,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Moodle => "moodle",
            Variant::Canvas => "canvas",
        }
    }
}

/// `GET /openid-configuration/{variant}`: the platform's OpenID configuration.
pub async fn openid_configuration(
    State(inner): State<Arc<Inner>>,
    Path(variant): Path<Variant>,
    headers: HeaderMap,
) -> Response {
    inner
        .services
        .configuration_fetches
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    // Canvas answers this GET only with the registration token as bearer (its documentation's
    // step 2); Moodle ignores the header.
    if variant == Variant::Canvas
        && !bearer(&headers).is_some_and(|t| lock(&inner.services.registration_tokens).contains(&t))
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the registration token must be sent as a bearer token",
        );
    }
    let mut config = json!({
        "issuer": inner.issuer(),
        "authorization_endpoint": inner.url("auth").as_str(),
        "token_endpoint": inner.url("token").as_str(),
        "jwks_uri": inner.url("jwks").as_str(),
        "registration_endpoint": inner.url(&format!("register/{}", variant.name())).as_str(),
        "scopes_supported": ["openid", SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_SCORE, SCOPE_NRPS],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
        crate::lti::registration::PLATFORM_CONFIGURATION: {
            "product_family_code": variant.name(),
            "version": "dev",
            "messages_supported": [
                {"type": "LtiResourceLinkRequest"},
                {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]},
            ],
        },
    });
    if variant == Variant::Canvas {
        config["https://canvas.instructure.com/lti/account_name"] = json!("Region Västerbotten");
    }
    Json(config).into_response()
}

/// Placements Canvas knows (its LTI placements documentation), the ones a tool may name.
const CANVAS_PLACEMENTS: [&str; 17] = [
    "account_navigation",
    "assignment_edit",
    "assignment_selection",
    "assignment_menu",
    "collaboration",
    "course_assignments_menu",
    "course_home_sub_navigation",
    "course_navigation",
    "course_settings_sub_navigation",
    "editor_button",
    "file_menu",
    "global_navigation",
    "homework_submission",
    "link_selection",
    "migration_selection",
    "module_menu",
    "user_navigation",
];

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
}

/// `POST /register/{variant}`: takes the tool's registration with a valid registration token.
pub async fn register(
    State(inner): State<Arc<Inner>>,
    Path(variant): Path<Variant>,
    headers: HeaderMap,
    Json(request): Json<Value>,
) -> Response {
    let token = bearer(&headers);
    if !token.is_some_and(|t| lock(&inner.services.registration_tokens).remove(&t)) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "registration token missing, unknown or used",
        );
    }
    let tool = &request[crate::lti::registration::TOOL_CONFIGURATION];
    let problems: Vec<&str> = [
        (
            request["initiate_login_uri"].is_string(),
            "initiate_login_uri",
        ),
        (
            request["redirect_uris"]
                .as_array()
                .is_some_and(|u| !u.is_empty()),
            "redirect_uris",
        ),
        (request["jwks_uri"].is_string(), "jwks_uri"),
        (
            request["token_endpoint_auth_method"] == "private_key_jwt",
            "token_endpoint_auth_method",
        ),
        (
            request["scope"]
                .as_str()
                .is_some_and(|s| s.contains(SCOPE_SCORE)),
            "scope",
        ),
        (tool["target_link_uri"].is_string(), "target_link_uri"),
        (
            tool["messages"].as_array().is_some_and(|m| !m.is_empty()),
            "messages",
        ),
    ]
    .into_iter()
    .filter_map(|(ok, name)| (!ok).then_some(name))
    .collect();
    let unknown_placements: Vec<&str> = tool["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["placements"].as_array())
        .flatten()
        .filter_map(Value::as_str)
        .filter(|p| variant == Variant::Canvas && !CANVAS_PLACEMENTS.contains(p))
        .collect();
    if !unknown_placements.is_empty() {
        return oauth_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_client_metadata",
            &format!("unknown placements: {}", unknown_placements.join(", ")),
        );
    }
    if !problems.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            &format!("missing or wrong: {}", problems.join(", ")),
        );
    }
    lock(&inner.services.registrations).push(request.clone());
    let mut answer = request;
    answer["client_id"] = json!(inner.client_id());
    if variant == Variant::Moodle {
        answer[crate::lti::registration::TOOL_CONFIGURATION]["deployment_id"] =
            json!(inner.deployment_id);
    }
    Json(answer).into_response()
}
