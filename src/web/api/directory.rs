//! Organisations, registrations, deployments, cohorts, grade deliveries and the audit log.
use axum::{
    Json,
    extract::{Path, State},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, ApiId, ApiJson, ApiPrincipal, ApiQuery, Problem, page_limit};
use crate::{
    admin::{self, access::Scope},
    i18n::time::iso8601_utc_ms,
    state::AppState,
};

fn at(unix: i64) -> String {
    iso8601_utc_ms(unix * 1000)
}

/// An organisation (municipality or region), the controller of its people's data.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Organisation {
    /// Its name, as deployments name it.
    pub name: String,
    /// Where completion changes are pushed, when set.
    pub webhook_url: Option<String>,
    /// Months after a cohort closes before its people's data is anonymised or deleted.
    pub retention_months: Option<i32>,
    /// `anonymise` or `delete`.
    pub retention_action: String,
    /// The webhook's signing secret: only in the answer that set a new webhook URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
}

impl Organisation {
    fn from_row(row: entity::organisation::Model) -> Self {
        Self {
            name: row.name,
            webhook_url: row.webhook_url,
            retention_months: row.retention_months,
            retention_action: row.retention_action,
            webhook_secret: None,
        }
    }
}

/// List organisations (an organisation token sees its own only).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "administration",
    security(("token" = [])),
    responses(
        (status = 200, description = "The organisations", body = Vec<Organisation>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_organisations(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
) -> Result<Json<Vec<Organisation>>, ApiError> {
    principal.require(Scope::Admin)?;
    let rows = admin::directory::organisations(&app.db, &principal).await?;
    Ok(Json(rows.into_iter().map(Organisation::from_row).collect()))
}

/// What retention does to a person's data.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RetentionAction {
    /// Identity and personal content removed, counts kept.
    Anonymise,
    /// Everything removed.
    Delete,
}

/// A change to an organisation. Fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    /// A new webhook URL (https; http only on this machine's loopback). A new signing secret is
    /// made and returned once.
    pub webhook_url: Option<String>,
    /// `true` removes the webhook.
    pub remove_webhook: Option<bool>,
    /// Months after a cohort closes (1–240).
    #[schema(minimum = 1, maximum = 240)]
    #[serde(default, deserialize_with = "whole_number")]
    pub retention_months: Option<i32>,
    /// `anonymise` (default) or `delete`.
    pub retention_action: Option<RetentionAction>,
    /// `true` removes the retention rule.
    pub remove_retention: Option<bool>,
}

/// A whole number, also when written as `6.0` (JSON Schema counts that as an integer).
fn whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i32>, D::Error> {
    let value: Option<serde_json::Number> = Option::deserialize(deserializer)?;
    let Some(number) = value else {
        return Ok(None);
    };
    let whole = number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0)
                .map(|f| f as i64)
        })
        .and_then(|n| i32::try_from(n).ok());
    whole
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("retention_months must be a whole number"))
}

fn webhook_url_ok(value: &str, allow_loopback: bool) -> Result<String, ApiError> {
    use admin::directory::WebhookUrlError;
    admin::directory::webhook_url(value, allow_loopback).map_err(|err| match err {
        WebhookUrlError::NotUrl => ApiError::bad_request("webhook_url is not a valid URL."),
        WebhookUrlError::NotHttps => {
            ApiError::bad_request("webhook_url must use https (http is accepted only on loopback).")
        }
        WebhookUrlError::Inside => ApiError::bad_request(
            "webhook_url points at an address inside (loopback, private or link-local), which the tool does not call.",
        ),
    })
}

/// Change an organisation's webhook or retention rule.
#[utoipa::path(patch, path = "/api/v1/organisations/{name}", tag = "administration",
    security(("token" = [])),
    params(("name" = String, Path, description = "The organisation's name")),
    request_body = OrganisationPatch,
    responses(
        (status = 200, description = "The organisation after the change", body = Organisation),
        (status = 400, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_organisation(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    Path(name): Path<String>,
    ApiJson(patch): ApiJson<OrganisationPatch>,
) -> Result<Json<Organisation>, ApiError> {
    let settings = settings_of(patch, app.config.outbound_allow_loopback)?;
    let (updated, secret) =
        admin::directory::change_organisation(&app.db, &principal, &name, settings).await?;
    let mut view = Organisation::from_row(updated);
    view.webhook_secret = secret;
    Ok(Json(view))
}

/// The settings a patch asks for. Every value given must be valid, also beside a removal.
fn settings_of(
    patch: OrganisationPatch,
    allow_loopback: bool,
) -> Result<admin::directory::OrganisationSettings, ApiError> {
    if patch
        .retention_months
        .is_some_and(|months| !admin::directory::RETENTION_MONTHS.contains(&months))
    {
        return Err(ApiError::bad_request(
            "retention_months must be between 1 and 240.",
        ));
    }
    let webhook_url = patch
        .webhook_url
        .as_deref()
        .map(|url| webhook_url_ok(url, allow_loopback))
        .transpose()?;
    if patch.remove_webhook == Some(true) && webhook_url.is_some() {
        return Err(ApiError::bad_request(
            "Give either webhook_url or remove_webhook, not both.",
        ));
    }
    if patch.remove_retention == Some(true)
        && (patch.retention_months.is_some() || patch.retention_action.is_some())
    {
        return Err(ApiError::bad_request(
            "Give either a retention rule or remove_retention, not both.",
        ));
    }
    let mut settings = admin::directory::OrganisationSettings::default();
    if patch.remove_webhook == Some(true) {
        settings.webhook_url = Some(None);
    } else if let Some(url) = webhook_url {
        settings.webhook_url = Some(Some(url));
    }
    if patch.remove_retention == Some(true) {
        settings.retention = Some(None);
    } else if patch.retention_months.is_some() || patch.retention_action.is_some() {
        settings.retention = Some(Some(admin::directory::RetentionRule {
            months: patch.retention_months,
            action: patch.retention_action.map(|action| {
                match action {
                    RetentionAction::Anonymise => admin::directory::RETENTION_ANONYMISE,
                    RetentionAction::Delete => admin::directory::RETENTION_DELETE,
                }
                .to_owned()
            }),
        }));
    }
    Ok(settings)
}

/// A platform registration.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Registration {
    /// Row id.
    pub id: i64,
    /// The platform's issuer.
    pub issuer: String,
    /// The tool's client_id there.
    pub client_id: String,
    /// A label.
    pub name: String,
    /// OIDC login URL.
    pub auth_login_url: String,
    /// OAuth2 token URL.
    pub auth_token_url: String,
    /// The platform's key set.
    pub jwks_url: String,
    /// Whether new deployments are approved on first launch.
    pub auto_approve_deployments: bool,
    /// When registered.
    pub created_at: String,
}

/// List platform registrations (system administrators only).
#[utoipa::path(get, path = "/api/v1/registrations", tag = "administration",
    security(("token" = [])),
    responses(
        (status = 200, description = "The registrations", body = Vec<Registration>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_registrations(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
) -> Result<Json<Vec<Registration>>, ApiError> {
    principal.require_system()?;
    let rows = admin::platforms::registrations(&app.db, &principal).await?;
    Ok(Json(
        rows.into_iter()
            .map(|p| Registration {
                id: p.id,
                issuer: p.issuer,
                client_id: p.client_id,
                name: p.name,
                auth_login_url: p.auth_login_url,
                auth_token_url: p.auth_token_url,
                jwks_url: p.jwks_url,
                auto_approve_deployments: p.auto_approve_deployments,
                created_at: at(p.created_at),
            })
            .collect(),
    ))
}

/// A deployment of the tool in a platform.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Deployment {
    /// Row id.
    pub id: i64,
    /// The registration's row id.
    pub registration_id: i64,
    /// The LTI deployment_id.
    pub deployment_id: String,
    /// The organisation it belongs to.
    pub organisation: Option<String>,
    /// `pending`, `approved` or `disabled`.
    pub status: String,
    /// `course_fraction`, `course_pass` or `per_module`.
    pub grade_mode: String,
    /// First seen.
    pub created_at: String,
    /// When approved.
    pub approved_at: Option<String>,
}

impl Deployment {
    fn from_row(d: entity::deployment::Model) -> Self {
        Self {
            id: d.id,
            registration_id: d.platform_id,
            deployment_id: d.lti_deployment_id,
            organisation: d.organisation,
            status: d.status,
            grade_mode: d.grade_mode,
            created_at: at(d.created_at),
            approved_at: d.approved_at.map(at),
        }
    }
}

/// List deployments (an organisation token sees its own only; pending ones have no organisation
/// yet and are seen by system tokens).
#[utoipa::path(get, path = "/api/v1/deployments", tag = "administration",
    security(("token" = [])),
    responses(
        (status = 200, description = "The deployments", body = Vec<Deployment>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_deployments(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
) -> Result<Json<Vec<Deployment>>, ApiError> {
    principal.require(Scope::Admin)?;
    let rows = admin::directory::deployments(&app.db, &principal).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(d, _)| Deployment::from_row(d))
            .collect(),
    ))
}

/// Approval of a pending deployment.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The organisation the deployment belongs to (created when new).
    pub organisation: Option<String>,
}

/// Approve a deployment (system administrators only); optionally assign its organisation.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/approve", tag = "administration",
    security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Deployment row id")),
    request_body(content = Option<Approval>, description = "Optional: the organisation"),
    responses(
        (status = 400, description = "The id is not a whole number in range", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "The approved deployment", body = Deployment),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such deployment", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn approve_deployment(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiId(id): ApiId,
    body: axum::body::Bytes,
) -> Result<Json<Deployment>, ApiError> {
    principal.require_system()?;
    let approval: Approval = if body.iter().all(u8::is_ascii_whitespace) {
        Approval::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|err| ApiError::bad_request(format!("The body is not valid: {err}.")))?
    };
    let updated = admin::directory::set_deployment_status(
        &app.db,
        &app.registry,
        &principal,
        id,
        admin::directory::APPROVED,
        approval.organisation.as_deref(),
    )
    .await?;
    Ok(Json(Deployment::from_row(updated)))
}

/// Disable a deployment: its launches are refused, its data stays.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/disable", tag = "administration",
    security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Deployment row id")),
    responses(
        (status = 400, description = "The id is not a whole number in range", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "The disabled deployment", body = Deployment),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such deployment", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn disable_deployment(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiId(id): ApiId,
) -> Result<Json<Deployment>, ApiError> {
    let updated = admin::directory::set_deployment_status(
        &app.db,
        &app.registry,
        &principal,
        id,
        admin::directory::DISABLED,
        None,
    )
    .await?;
    Ok(Json(Deployment::from_row(updated)))
}

/// A cohort: one LMS course running the course.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Cohort {
    /// Row id.
    pub id: i64,
    /// The LMS course's context id.
    pub context_id: String,
    /// The LMS course's title.
    pub title: Option<String>,
    /// The deployment's row id.
    pub deployment: i64,
    /// The organisation.
    pub organisation: Option<String>,
    /// Participants (not instructors).
    pub participants: i64,
    /// The course version row it runs, once pinned.
    pub course_version_id: Option<i64>,
    /// When it closed (retention counts from here).
    pub closed_at: Option<String>,
    /// When the organisation's retention rule was applied.
    pub retained_at: Option<String>,
    /// The course run (`/api/v1/course-runs`) it is linked to; absent when it is a cohort of its
    /// own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_run: Option<i64>,
}

/// List cohorts.
#[utoipa::path(get, path = "/api/v1/cohorts", tag = "administration",
    security(("token" = [])),
    responses(
        (status = 200, description = "The cohorts, newest first", body = Vec<Cohort>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_cohorts(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
) -> Result<Json<Vec<Cohort>>, ApiError> {
    principal.require(Scope::Admin)?;
    let rows = admin::directory::cohorts(&app.db, &principal).await?;
    Ok(Json(rows.into_iter().map(cohort_view).collect()))
}

fn cohort_view(row: admin::directory::LmsCourseSummary) -> Cohort {
    Cohort {
        id: row.context.id,
        context_id: row.context.lti_context_id,
        title: row.context.title,
        deployment: row.deployment.id,
        organisation: row.deployment.organisation,
        participants: row.participants,
        course_version_id: row.course_version_id,
        closed_at: row.context.closed_at.map(at),
        retained_at: row.context.retained_at.map(at),
        course_run: row.context.cohort_id,
    }
}

/// Closing or reopening a cohort.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Closing {
    /// `true` closes the cohort now; `false` reopens it.
    pub closed: bool,
}

/// Close (or reopen) a cohort. The organisation's retention rule counts from the closing.
#[utoipa::path(post, path = "/api/v1/cohorts/{id}/close", tag = "administration",
    security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Cohort row id")),
    request_body = Closing,
    responses(
        (status = 200, description = "The cohort", body = Cohort),
        (status = 400, description = "The body is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such cohort", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn close_cohort(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiId(id): ApiId,
    ApiJson(closing): ApiJson<Closing>,
) -> Result<Json<Cohort>, ApiError> {
    admin::directory::close_cohort(&app.db, &principal, id, closing.closed).await?;
    let updated = admin::directory::cohorts(&app.db, &principal)
        .await?
        .into_iter()
        .find(|c| c.context.id == id)
        .ok_or_else(|| ApiError::not_found("such cohort"))?;
    Ok(Json(cohort_view(updated)))
}

/// A cohort the principal may see.
pub(super) async fn visible_cohort(
    app: &AppState,
    principal: &crate::admin::access::Principal,
    id: i64,
) -> Result<admin::directory::Cohort, ApiError> {
    Ok(admin::directory::visible_cohort(&app.db, principal, id).await?)
}

/// A score on its way to, or refused by, an LMS gradebook.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GradeDelivery {
    /// Row id.
    pub id: i64,
    /// The cohort.
    pub cohort_id: i64,
    /// The person.
    pub person_id: i64,
    /// `course`, `course-pass` or a module slug.
    pub line_item: String,
    /// `pending`, `sent`, `not_gradable` or `superseded`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The platform's last answer when it was not a success.
    pub last_error: Option<String>,
    /// When the score was given.
    pub scored_at: String,
    /// When the platform accepted it.
    pub sent_at: Option<String>,
}

/// A delivery state to list.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Refused by the platform.
    Failed,
    /// Waiting or being retried.
    Pending,
    /// Accepted.
    Sent,
}

/// Which deliveries.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `failed` (refused by the platform), `pending`, `sent`; all when left out.
    pub state: Option<DeliveryState>,
    /// At most this many (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// List grade deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/grade-deliveries", tag = "administration",
    security(("token" = [])),
    params(DeliveryQuery),
    responses(
        (status = 200, description = "The deliveries", body = Vec<GradeDelivery>),
        (status = 400, description = "A parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_grade_deliveries(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<Json<Vec<GradeDelivery>>, ApiError> {
    principal.require(Scope::Admin)?;
    let limit = page_limit(query.limit, 100, 1000)?;
    let state = query.state.map(|state| match state {
        DeliveryState::Failed => admin::directory::delivery_state::NOT_GRADABLE,
        DeliveryState::Pending => admin::directory::delivery_state::PENDING,
        DeliveryState::Sent => admin::directory::delivery_state::SENT,
    });
    let (rows, _) = admin::directory::deliveries(&app.db, &principal, state, limit).await?;
    Ok(Json(rows.into_iter().map(delivery_view).collect()))
}

fn delivery_view(row: entity::score_outbox::Model) -> GradeDelivery {
    GradeDelivery {
        id: row.id,
        cohort_id: row.context_id,
        person_id: row.user_id,
        line_item: row.resource_id,
        state: row.state,
        attempts: row.attempts,
        last_error: row.last_error,
        scored_at: iso8601_utc_ms(row.scored_at_ms),
        sent_at: row.sent_at_ms.map(iso8601_utc_ms),
    }
}

/// Send a refused or waiting score again now.
#[utoipa::path(post, path = "/api/v1/grade-deliveries/{id}/retry", tag = "administration",
    security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Delivery row id")),
    responses(
        (status = 400, description = "The id is not a whole number in range", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Queued again", body = GradeDelivery),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already sent or replaced by a newer score", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retry_grade_delivery(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiId(id): ApiId,
) -> Result<Json<GradeDelivery>, ApiError> {
    let row = admin::directory::retry_delivery(&app.db, &principal, id).await?;
    Ok(Json(delivery_view(row)))
}

/// An administrative action.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Row id; pass the smallest seen as `before` for the next page.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who: `token:<id>`, `person:<platform>:<id>`, `cli` or `retention`.
    pub actor: String,
    /// What: `deployment.approve`, `person.anonymise`, …
    pub action: String,
    /// On what.
    pub target: String,
    /// Whose data.
    pub organisation: Option<String>,
    /// From where: client address, `cli` or `worker`.
    pub origin: String,
    /// The action's parameters.
    pub detail: serde_json::Value,
}

/// Which audit entries.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries with an id below this (paging backwards).
    pub before: Option<i64>,
    /// At most this many (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// Read the audit log, newest first (an organisation token sees its organisation's entries).
#[utoipa::path(get, path = "/api/v1/audit-log", tag = "administration",
    security(("token" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "Entries, newest first", body = Vec<AuditEntry>),
        (status = 400, description = "A parameter is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_audit_log(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    principal.require(Scope::Admin)?;
    let limit = page_limit(query.limit, 100, 1000)?;
    let rows = admin::directory::audit_entries(&app.db, &principal, query.before, limit).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| AuditEntry {
                id: row.id,
                at: iso8601_utc_ms(row.at_ms),
                actor: row.actor,
                action: row.action,
                target: row.target,
                organisation: row.organisation,
                origin: row.origin,
                detail: serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
    ))
}

/// A Dynamic Registration link, as listed (the link itself is shown only when it is made).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RegistrationInvitation {
    /// Row id.
    pub id: i64,
    /// The organisation that owns the registration's deployments.
    pub organisation: String,
    /// Whether the registration's later deployments are approved at once.
    pub auto_approve_deployments: bool,
    /// When it stops working.
    pub expires_at: String,
    /// When a platform registered with it.
    pub used_at: Option<String>,
    /// The registration made with it.
    pub registration_id: Option<i64>,
    /// The one-time link: only in the answer that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl RegistrationInvitation {
    fn from_row(row: entity::registration_invitation::Model) -> Self {
        Self {
            id: row.id,
            organisation: row.organisation,
            auto_approve_deployments: row.auto_approve_deployments,
            expires_at: at(row.expires_at),
            used_at: row.used_at.map(at),
            registration_id: row.platform_id,
            url: None,
        }
    }
}

/// What a new registration link says.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegistrationInvitation {
    /// The organisation that owns the registration's deployments.
    #[schema(min_length = 1, max_length = 200)]
    pub organisation: String,
    /// Days until it stops working (default 7).
    #[schema(minimum = 1, maximum = 90)]
    #[serde(default)]
    pub expires_in_days: Option<u16>,
    /// Approve the registration's later deployments at once (default: they wait for approval).
    #[serde(default)]
    pub auto_approve_deployments: Option<bool>,
}

/// Make a one-time Dynamic Registration link for a platform administrator.
#[utoipa::path(post, path = "/api/v1/registration-invitations", tag = "administration",
    security(("token" = [])),
    request_body = NewRegistrationInvitation,
    responses(
        (status = 201, description = "The invitation, with its link (shown this once)", body = RegistrationInvitation),
        (status = 400, description = "A field is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The organisation is another organisation's", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_registration_invitation(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiJson(new): ApiJson<NewRegistrationInvitation>,
) -> Result<(axum::http::StatusCode, Json<RegistrationInvitation>), ApiError> {
    let days = i64::from(new.expires_in_days.unwrap_or(7));
    if !(1..=90).contains(&days) {
        return Err(ApiError::bad_request(
            "expires_in_days must be between 1 and 90.",
        ));
    }
    let invitation = admin::registrations::invite(
        &app.db,
        &app.public_base,
        &principal,
        &new.organisation,
        principal.now_unix() + days * 86_400,
        new.auto_approve_deployments.unwrap_or(false),
    )
    .await?;
    let mut view = RegistrationInvitation::from_row(invitation.row);
    view.url = Some(invitation.url.to_string());
    Ok((axum::http::StatusCode::CREATED, Json(view)))
}

/// List Dynamic Registration links (never the links themselves), newest first.
#[utoipa::path(get, path = "/api/v1/registration-invitations", tag = "administration",
    security(("token" = [])),
    responses(
        (status = 200, description = "The invitations", body = Vec<RegistrationInvitation>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_registration_invitations(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
) -> Result<Json<Vec<RegistrationInvitation>>, ApiError> {
    let rows = admin::registrations::invitations(&app.db, &principal).await?;
    Ok(Json(
        rows.into_iter()
            .map(RegistrationInvitation::from_row)
            .collect(),
    ))
}
