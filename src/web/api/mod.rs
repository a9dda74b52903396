//! The admin API (`/api/v1`, JSON): organisations, registrations, deployments, cohorts, grade
//! deliveries, completion records (incremental sync, JSON and CSV), personal data, the audit log and
//! archive packages. Machines authenticate with API tokens; every answer that is not a success is an
//! RFC 9457 problem document. The OpenAPI document is generated from these handlers.
use std::net::SocketAddr;

use axum::{
    Json, Router,
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    admin::{
        access::{Denied, Principal},
        tokens::{self, TokenRefused},
    },
    state::AppState,
};

mod archive;
mod completions;
mod course_runs;
mod directory;
mod docs;
mod people;

/// The routes under `/api`.
pub fn routes() -> Router<AppState> {
    let (documented, _) = documented().split_for_parts();
    documented
        .route("/api/v1/openapi.json", get(docs::openapi_json))
        .route("/api/docs", get(docs::show_docs))
        .route("/api/{*rest}", axum::routing::any(not_found))
}

/// Every documented route of the API, from the one list that makes both the router and the
/// OpenAPI document: a handler cannot be served without being documented, or the reverse.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(directory::list_organisations))
        .routes(routes!(directory::change_organisation))
        .routes(routes!(directory::list_registrations))
        .routes(routes!(
            directory::list_registration_invitations,
            directory::create_registration_invitation
        ))
        .routes(routes!(directory::list_deployments))
        .routes(routes!(directory::approve_deployment))
        .routes(routes!(directory::disable_deployment))
        .routes(routes!(directory::list_cohorts))
        .routes(routes!(directory::close_cohort))
        .routes(routes!(
            course_runs::list_course_runs,
            course_runs::create_course_run
        ))
        .routes(routes!(course_runs::link_lms_course))
        .routes(routes!(archive::download_archive))
        .routes(routes!(directory::list_grade_deliveries))
        .routes(routes!(directory::retry_grade_delivery))
        .routes(routes!(completions::list_completions))
        .routes(routes!(people::export_person))
        .routes(routes!(people::erase_person))
        .routes(routes!(directory::list_audit_log))
}

/// The OpenAPI document of the admin API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "coursebridge admin API",
        description = "Completion records, registrations, deployments, cohorts, grade deliveries, personal data and archive packages of a coursebridge service. Authenticate with an API token (`coursebridge token create`) as `Authorization: Bearer <token>`. Errors are RFC 9457 problem documents.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    components(schemas(Problem, crate::learning::records::WebhookEvent)),
    modifiers(&BearerAuth),
    tags(
        (name = "completions", description = "Completion records and their incremental sync"),
        (name = "administration", description = "Organisations, registrations, deployments, cohorts, grade deliveries, audit log"),
        (name = "personal data", description = "Subject access export and erasure"),
        (name = "archive", description = "Archive packages (E-ARK SIP, FGS Paketstruktur 2.0)"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `coursebridge token create`"))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document as committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let (_, document) = documented().split_for_parts();
    let mut json = document
        .to_pretty_json()
        .unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"));
    json.push('\n');
    json
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (stable; documented in the README).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong in this request, in words a person can act on.
    pub detail: String,
}

/// An error answered as a problem document.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, title: &'static str, detail: String) -> Self {
        Self {
            status,
            code,
            title,
            detail,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request is not valid",
            detail.into(),
        )
    }

    /// 404: nothing there (or nothing the principal may see).
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("There is no {what} here, or it belongs to another organisation."),
        )
    }

    /// 409: the change conflicts with the current state.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "conflict",
            "The change conflicts with the current state",
            detail.into(),
        )
    }

    fn unauthorized(refused: TokenRefused) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            refused.to_string(),
        )
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::OtherOrganisation => Self::not_found("such resource"),
            other => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed",
                format!("The token may not do this: {other}."),
            ),
        }
    }
}

impl From<crate::admin::directory::AdminError> for ApiError {
    fn from(error: crate::admin::directory::AdminError) -> Self {
        use crate::admin::directory::AdminError;
        match error {
            AdminError::Denied(denied) => denied.into(),
            AdminError::NotFound(what) => Self::not_found(&format!("such {what}")),
            AdminError::Conflict(detail) => Self::conflict(detail),
            AdminError::Invalid(detail) => Self::bad_request(detail),
            AdminError::Db(err) => err.into(),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        tracing::error!(error = %err, "admin API storage failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "The service could not complete the request; it has been logged.".to_owned(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_client_error() {
            tracing::info!(status = self.status.as_u16(), code = self.code, detail = %self.detail,
                "admin API request refused");
        }
        let problem = Problem {
            kind: format!("urn:coursebridge:problem:{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let mut response = (self.status, Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"coursebridge\""),
            );
        }
        response
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("such API route")
}

/// The principal behind an API request's bearer token.
pub struct ApiPrincipal(pub Principal);

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl FromRequestParts<AppState> for ApiPrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let origin = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        match tokens::authenticate(&state.db, bearer(&parts.headers), &origin, &state.clock).await?
        {
            Ok(principal) => Ok(ApiPrincipal(principal)),
            Err(refused) => Err(ApiError::unauthorized(refused)),
        }
    }
}

/// A JSON body, or a problem document saying what is wrong with it.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}

/// Query parameters, or a problem document saying which one is wrong.
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}

/// A path id, or a problem document.
pub struct ApiId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for ApiId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<i64>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(ApiId(id)),
            Err(_) => Err(ApiError::bad_request(
                "The id in the path must be a whole number.",
            )),
        }
    }
}

/// How many items a list returns at most, by default and at most.
pub(crate) fn page_limit(asked: Option<u64>, default: u64, max: u64) -> Result<u64, ApiError> {
    match asked {
        None => Ok(default),
        Some(0) => Err(ApiError::bad_request("limit must be at least 1.")),
        Some(n) if n > max => Err(ApiError::bad_request(format!(
            "limit may be at most {max}."
        ))),
        Some(n) => Ok(n),
    }
}
