//! The admin pages' forms: approving and disabling deployments, closing cohorts, granting roles,
//! an organisation's webhook and retention rule, registration invitations.
use askama::Template;
use axum::{
    extract::{Form, Path, State, rejection::FormRejection},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;

use super::{Admin, Nav, back, nav};
use crate::web::page::{PageContext, page_template};
use crate::{
    admin,
    i18n::Lang,
    state::{App, AppState},
    web::error::{AppError, InLang, form_or_400, render},
};

/// The approval form.
#[derive(Debug, Deserialize)]
pub struct ApproveForm {
    /// The organisation the deployment belongs to.
    pub organisation: Option<String>,
}

/// `POST /admin/deployments/{id}/approve`.
pub async fn approve_deployment(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    admin: Admin,
    form: Result<Form<ApproveForm>, FormRejection>,
) -> Result<Response, AppError> {
    // Checked after the person: a malformed form from someone without access is still a 401/403.
    let form = form_or_400(form, admin.lang)?;
    let organisation = form.organisation.as_deref();
    set_deployment_status(&app, &admin, id, admin::directory::APPROVED, organisation).await
}

/// `POST /admin/deployments/{id}/disable`.
pub async fn disable_deployment(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    admin: Admin,
) -> Result<Response, AppError> {
    set_deployment_status(&app, &admin, id, admin::directory::DISABLED, None).await
}

/// Approves or disables a deployment and goes back to the admin home with the matching notice.
async fn set_deployment_status(
    app: &App,
    admin: &Admin,
    id: i64,
    status: &str,
    organisation: Option<&str>,
) -> Result<Response, AppError> {
    admin::directory::set_deployment_status(
        &app.db,
        &app.registry,
        &admin.principal,
        id,
        status,
        organisation,
    )
    .await
    .in_lang(admin.lang)?;
    let notice = if status == admin::directory::APPROVED {
        "approved"
    } else {
        "disabled"
    };
    Ok(back(app, admin, "admin", notice))
}

/// `POST /admin/cohorts/{id}/close`.
pub async fn close_cohort(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    admin: Admin,
) -> Result<Response, AppError> {
    admin::directory::close_cohort(&app.db, &admin.principal, id, true)
        .await
        .in_lang(admin.lang)?;
    Ok(back(&app, &admin, "admin", "closed"))
}

/// The grant form.
#[derive(Debug, Deserialize)]
pub struct GrantForm {
    /// The registration (platform row id).
    pub registration: i64,
    /// The person's LTI `sub`.
    pub sub: String,
    /// `system` or `organisation`.
    pub role: String,
    /// For the organisation role.
    pub organisation: Option<String>,
}

/// `POST /admin/grants` (system administrators).
pub async fn grant_role(
    State(app): State<AppState>,
    admin: Admin,
    form: Result<Form<GrantForm>, FormRejection>,
) -> Result<Response, AppError> {
    // Checked after the person: a malformed form from someone without access is still a 401/403.
    let form = form_or_400(form, admin.lang)?;
    admin::directory::grant_role(
        &app.db,
        &admin.principal,
        form.registration,
        &form.sub,
        &form.role,
        form.organisation.as_deref(),
    )
    .await
    .in_lang(admin.lang)?;
    Ok(back(&app, &admin, "admin", "granted"))
}

/// The settings form of one organisation: what the page shows is what is saved. An empty webhook
/// URL or month count removes the webhook or the rule.
#[derive(Debug, Deserialize)]
pub struct OrganisationForm {
    /// The organisation's name.
    pub organisation: String,
    /// Where completion events go, or empty.
    #[serde(default)]
    pub webhook_url: String,
    /// Months after a cohort closes, or empty.
    #[serde(default)]
    pub retention_months: String,
    /// `anonymise` or `delete`.
    #[serde(default)]
    pub retention_action: String,
}

#[derive(Template)]
#[template(path = "admin_secret.html")]
struct AdminSecret {
    page: PageContext,
    nav: Nav,
    intro: String,
    secret: String,
    back_url: String,
}

/// `POST /admin/organisations`: an organisation's webhook and retention rule. A new webhook URL gets
/// a new signing secret, shown once on the answer page (never in a URL, never again).
pub async fn change_organisation(
    State(app): State<AppState>,
    admin: Admin,
    form: Result<Form<OrganisationForm>, FormRejection>,
) -> Result<Response, AppError> {
    // Checked after the person: a malformed form from someone without access is still a 401/403.
    let form = form_or_400(form, admin.lang)?;
    let settings = settings_of(&form, app.config.outbound_allow_loopback, admin.lang)?;
    let (updated, secret) = admin::directory::change_organisation(
        &app.db,
        &admin.principal,
        &form.organisation,
        settings,
    )
    .await
    .in_lang(admin.lang)?;
    Ok(match secret {
        None => back(&app, &admin, "admin", "organisation"),
        Some(secret) => render(&secret_page(&app, &admin, &updated, secret), StatusCode::OK),
    })
}

/// The settings the form asks for: what the page shows is what is saved, so an empty field
/// removes the setting.
fn settings_of(
    form: &OrganisationForm,
    allow_loopback: bool,
    lang: Lang,
) -> Result<admin::directory::OrganisationSettings, AppError> {
    use admin::directory::{RETENTION_ANONYMISE, RETENTION_DELETE, WebhookUrlError};
    let invalid = |key: &str| AppError::Invalid {
        message: lang.t(key).to_owned(),
        lang,
    };
    let url = form.webhook_url.trim();
    let webhook_url = match url {
        "" => None,
        url => Some(admin::directory::webhook_url(url, allow_loopback).map_err(
            |err| match err {
                WebhookUrlError::NotUrl => invalid("admin-invalid-webhook-url"),
                WebhookUrlError::NotHttps => invalid("admin-invalid-webhook-https"),
                WebhookUrlError::Inside => invalid("admin-invalid-webhook-inside"),
            },
        )?),
    };
    let retention = match form.retention_months.trim() {
        "" => None,
        months => Some(admin::directory::RetentionRule {
            months: Some(
                months
                    .parse::<i32>()
                    .ok()
                    .filter(|m| admin::directory::RETENTION_MONTHS.contains(m))
                    .ok_or_else(|| invalid("admin-invalid-retention-months"))?,
            ),
            action: Some(
                match form.retention_action.as_str() {
                    RETENTION_DELETE => RETENTION_DELETE,
                    _ => RETENTION_ANONYMISE,
                }
                .to_owned(),
            ),
        }),
    };
    Ok(admin::directory::OrganisationSettings {
        webhook_url: Some(webhook_url),
        retention: Some(retention),
    })
}

fn secret_page(
    app: &App,
    admin: &Admin,
    updated: &entity::organisation::Model,
    secret: String,
) -> AdminSecret {
    let lang = admin.lang;
    AdminSecret {
        page: PageContext::launched(app, lang, &admin.token),
        nav: nav(app, admin),
        intro: lang.tf(
            "admin-secret-intro",
            &[
                ("organisation", &updated.name),
                ("url", updated.webhook_url.as_deref().unwrap_or_default()),
            ],
        ),
        secret,
        back_url: admin.url(app, "admin"),
    }
}

/// The registration link form.
#[derive(Debug, Deserialize)]
pub struct InvitationForm {
    /// The organisation that owns the registration's deployments.
    pub organisation: String,
    /// Days the link works.
    #[serde(default)]
    pub days: String,
    /// `true` when checked.
    #[serde(default)]
    pub auto_approve_deployments: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_invitation.html")]
struct AdminInvitation {
    page: PageContext,
    nav: Nav,
    intro: String,
    url: String,
    back_url: String,
}

/// `POST /admin/invitations`: a one-time Dynamic Registration link, shown once on the answer page
/// (never in a URL the browser keeps, never again).
pub async fn create_invitation(
    State(app): State<AppState>,
    admin: Admin,
    form: Result<Form<InvitationForm>, FormRejection>,
) -> Result<Response, AppError> {
    // Checked after the person: a malformed form from someone without access is still a 401/403.
    let form = form_or_400(form, admin.lang)?;
    let days = invitation_days(&form.days).ok_or_else(|| AppError::Invalid {
        message: admin.lang.t("admin-invalid-invitation-days").to_owned(),
        lang: admin.lang,
    })?;
    let invitation = admin::registrations::invite(
        &app.db,
        &app.public_base,
        &admin.principal,
        &form.organisation,
        admin.principal.now_unix() + days * 86_400,
        form.auto_approve_deployments.as_deref() == Some("true"),
    )
    .await
    .in_lang(admin.lang)?;
    // Not cached: every page without a cache rule of its own is `no-store` (web::security_headers).
    Ok(render(
        &invitation_page(&app, &admin, &invitation),
        StatusCode::OK,
    ))
}

/// Days a link works: 7 when left empty, 1–90 when given.
fn invitation_days(days: &str) -> Option<i64> {
    match days.trim() {
        "" => Some(7),
        days => days.parse::<i64>().ok().filter(|d| (1..=90).contains(d)),
    }
}

fn invitation_page(
    app: &App,
    admin: &Admin,
    invitation: &admin::registrations::Invitation,
) -> AdminInvitation {
    let lang = admin.lang;
    let expires = crate::i18n::time::format_date(invitation.row.expires_at);
    AdminInvitation {
        page: PageContext::launched(app, lang, &admin.token),
        nav: nav(app, admin),
        intro: lang.tf(
            "admin-invitation-intro",
            &[
                ("organisation", &invitation.row.organisation),
                ("expires", &expires),
            ],
        ),
        url: invitation.url.to_string(),
        back_url: admin.url(app, "admin"),
    }
}

page_template!(AdminSecret, AdminInvitation);
