//! The admin pages, reached by an LTI launch of a person granted a role inside the tool (never by
//! LMS role alone): registrations and deployments with approval, organisations and their contact
//! persons, cohorts, the completion report with downloads, grade delivery problems and the audit
//! log. Swedish and English. The rules are the admin API's: an organisation administrator sees
//! their own organisation's data and nothing else.
use std::net::SocketAddr;

use askama::Template;
use axum::{
    extract::{ConnectInfo, Form, Path, Query, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::course::{course_error, page_url, require_session};
use crate::{
    admin::reports::RecordFilter,
    admin::{
        self,
        access::Principal,
        directory::{AdminError, person_principal},
    },
    error::{AppError, form_or_400, render},
    i18n::Lang,
    learning::records::CompletionView,
    session::Session,
    state::{App, AppState},
};

/// Query of every admin page.
#[derive(Debug, Deserialize)]
pub struct AdminQuery {
    /// The session token.
    pub session: Option<String>,
    /// Which of several granted organisations.
    pub org: Option<String>,
    /// The cohort of a report.
    pub cohort: Option<i64>,
    /// A notice after a change.
    pub notice: Option<String>,
}

struct Admin {
    token: String,
    lang: Lang,
    principal: Principal,
    organisations: Vec<String>,
}

impl Admin {
    fn url(&self, app: &App, path: &str) -> String {
        let mut url = page_url(app, path, &self.token);
        if let Some(org) = &self.principal.organisation
            && self.organisations.len() > 1
        {
            url.push_str("&org=");
            url.push_str(&url::form_urlencoded::byte_serialize(org.as_bytes()).collect::<String>());
        }
        url
    }
}

async fn admin_of(
    app: &App,
    query: &AdminQuery,
    headers: &HeaderMap,
    origin: SocketAddr,
) -> Result<Admin, AppError> {
    let session = require_session(app, query.session.as_deref(), headers).await?;
    let lang = Lang::from_locale(Some(&session.lang));
    let found = person_principal(
        &app.db,
        session.pid,
        session.uid,
        &origin.ip().to_string(),
        query.org.as_deref(),
    )
    .await
    .map_err(|err| course_error(err.into(), lang))?;
    let Some((principal, organisations)) = found else {
        tracing::warn!(
            user = session.uid,
            "admin page refused to a person without an admin role"
        );
        return Err(AppError::Forbidden { lang });
    };
    Ok(Admin {
        token: session.link_token.clone(),
        lang,
        principal,
        organisations,
    })
}

fn admin_error(error: AdminError, lang: Lang) -> AppError {
    match error {
        AdminError::Denied(admin::access::Denied::OtherOrganisation) | AdminError::NotFound(_) => {
            AppError::NotFound { lang }
        }
        AdminError::Denied(_) => AppError::Forbidden { lang },
        AdminError::Conflict(detail) | AdminError::Invalid(detail) => {
            AppError::BadRequest { detail, lang }
        }
        AdminError::Db(err) => course_error(err.into(), lang),
    }
}

/// Whether the person may see the admin pages (for the link on their course pages).
pub(crate) async fn has_admin_role(app: &App, session: &Session) -> Result<bool, sea_orm::DbErr> {
    if let Some(found) = app.admin_roles.get(&session.uid) {
        return Ok(found);
    }
    let found = person_principal(&app.db, session.pid, session.uid, "", None)
        .await?
        .is_some();
    app.admin_roles.insert(session.uid, found);
    Ok(found)
}

struct Nav {
    home: String,
    report: String,
    deliveries: String,
    audit: String,
    overview: String,
}

fn nav(app: &App, admin: &Admin) -> Nav {
    Nav {
        home: admin.url(app, "admin"),
        report: admin.url(app, "admin/completions"),
        deliveries: admin.url(app, "admin/deliveries"),
        audit: admin.url(app, "admin/audit"),
        overview: page_url(app, "course", &admin.token),
    }
}

fn scope_line(admin: &Admin) -> String {
    match &admin.principal.organisation {
        None => admin.lang.t("admin-scope-system").to_owned(),
        Some(org) => admin
            .lang
            .tf("admin-scope-organisation", &[("organisation", org)]),
    }
}

fn notice_text(lang: Lang, notice: Option<&str>) -> Option<&'static str> {
    match notice? {
        "approved" => Some(lang.t("admin-notice-approved")),
        "disabled" => Some(lang.t("admin-notice-disabled")),
        "retried" => Some(lang.t("admin-notice-retried")),
        "granted" => Some(lang.t("admin-notice-granted")),
        "closed" => Some(lang.t("admin-notice-closed")),
        "organisation" => Some(lang.t("admin-notice-organisation")),
        _ => None,
    }
}

struct DeploymentRow {
    id: i64,
    registration: String,
    deployment_id: String,
    organisation: String,
    status: &'static str,
    approve_action: Option<String>,
    disable_action: Option<String>,
}

struct OrganisationRow {
    /// Also the `id` suffix of the settings form's fields.
    index: usize,
    name: String,
    webhook: &'static str,
    retention: String,
    contacts: Vec<String>,
    webhook_url: String,
    retention_months: String,
    retention_delete: bool,
}

struct CohortRow {
    title: String,
    organisation: String,
    participants: i64,
    state: String,
    report_url: String,
    archive_url: String,
    close_action: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_home.html")]
struct AdminHome<'a> {
    lang: Lang,
    assets_base: &'a str,
    accessibility_url: String,
    nav: Nav,
    scope_line: String,
    notice: Option<&'static str>,
    switch: Vec<(String, String)>,
    system: bool,
    registrations: Vec<(i64, String, String)>,
    deployments: Vec<DeploymentRow>,
    organisations: Vec<OrganisationRow>,
    cohorts: Vec<CohortRow>,
    grant_action: String,
    organisation_action: String,
    invitation_action: String,
    /// The organisation an organisation administrator acts for.
    scope_organisation: String,
    /// Organisation, state, valid until.
    invitations: Vec<(String, &'static str, String)>,
}

fn status_label(lang: Lang, status: &str) -> &'static str {
    match status {
        admin::directory::APPROVED => lang.t("admin-status-approved"),
        admin::directory::DISABLED => lang.t("admin-status-disabled"),
        _ => lang.t("admin-status-pending"),
    }
}

/// `GET /admin`.
pub async fn show_home(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    let lang = admin.lang;
    let system = admin.principal.organisation.is_none();
    let admin_failed = |err| admin_error(err, lang);
    // Only a system administrator sees and names registrations.
    let registrations = if system {
        admin::platforms::registrations(&app.db, &admin.principal)
            .await
            .map_err(admin_failed)?
            .into_iter()
            .map(|p| (p.id, p.name, p.issuer))
            .collect()
    } else {
        Vec::new()
    };
    let deployments = admin::directory::deployments(&app.db, &admin.principal)
        .await
        .map_err(admin_failed)?
        .into_iter()
        .map(|(d, platform)| DeploymentRow {
            id: d.id,
            registration: platform.map(|p| p.name).unwrap_or_default(),
            deployment_id: d.lti_deployment_id.clone(),
            organisation: d.organisation.clone().unwrap_or_default(),
            status: status_label(lang, &d.status),
            approve_action: (system && d.status != admin::directory::APPROVED)
                .then(|| admin.url(&app, &format!("admin/deployments/{}/approve", d.id))),
            disable_action: (d.status == admin::directory::APPROVED)
                .then(|| admin.url(&app, &format!("admin/deployments/{}/disable", d.id))),
        })
        .collect();
    let mut organisations = Vec::new();
    for org in admin::directory::organisations(&app.db, &admin.principal)
        .await
        .map_err(admin_failed)?
    {
        let contacts = admin::directory::contact_persons(&app.db, &admin.principal, &org.name)
            .await
            .map_err(admin_failed)?
            .into_iter()
            .map(|(sub, name)| match name {
                Some(name) => format!("{name} ({sub})"),
                None => sub,
            })
            .collect();
        organisations.push(OrganisationRow {
            index: organisations.len(),
            webhook_url: org.webhook_url.clone().unwrap_or_default(),
            retention_months: org
                .retention_months
                .map(|m| m.to_string())
                .unwrap_or_default(),
            retention_delete: org.retention_action == admin::directory::RETENTION_DELETE,
            webhook: if org.webhook_url.is_some() {
                lang.t("admin-webhook-set")
            } else {
                lang.t("admin-webhook-none")
            },
            retention: match org.retention_months {
                Some(months) => lang.tf(
                    if org.retention_action == admin::directory::RETENTION_DELETE {
                        "admin-retention-delete"
                    } else {
                        "admin-retention-anonymise"
                    },
                    &[("months", &months.to_string())],
                ),
                None => lang.t("admin-retention-none").to_owned(),
            },
            name: org.name,
            contacts,
        });
    }
    let cohorts = admin::directory::cohorts(&app.db, &admin.principal)
        .await
        .map_err(|err| admin_error(err, lang))?
        .into_iter()
        .map(|c| CohortRow {
            title: c
                .context
                .title
                .clone()
                .unwrap_or_else(|| c.context.lti_context_id.clone()),
            organisation: c.deployment.organisation.clone().unwrap_or_default(),
            participants: c.participants,
            state: match c.context.closed_at {
                Some(at) => lang.tf(
                    "admin-cohort-closed",
                    &[("date", &crate::i18n::time::format_date(at))],
                ),
                None => lang.t("admin-cohort-open").to_owned(),
            },
            report_url: format!(
                "{}&cohort={}",
                admin.url(&app, "admin/completions"),
                c.context.id
            ),
            archive_url: admin.url(&app, &format!("admin/cohorts/{}/archive", c.context.id)),
            close_action: c
                .context
                .closed_at
                .is_none()
                .then(|| admin.url(&app, &format!("admin/cohorts/{}/close", c.context.id))),
        })
        .collect();
    let switch = if admin.organisations.len() > 1 {
        admin
            .organisations
            .iter()
            .map(|org| {
                (
                    format!(
                        "{}&org={}",
                        page_url(&app, "admin", &admin.token),
                        url::form_urlencoded::byte_serialize(org.as_bytes()).collect::<String>()
                    ),
                    org.clone(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let now = crate::lti::now_unix();
    let invitations = admin::registrations::invitations(&app.db, &admin.principal)
        .await
        .map_err(|err| admin_error(err, lang))?
        .into_iter()
        .take(20)
        .map(|i| {
            let state = if i.used_at.is_some() {
                lang.t("admin-invitation-used")
            } else if i.expires_at <= now {
                lang.t("admin-invitation-expired")
            } else {
                lang.t("admin-invitation-open")
            };
            (
                i.organisation,
                state,
                crate::i18n::time::format_date(i.expires_at),
            )
        })
        .collect();
    let page = AdminHome {
        lang,
        assets_base: app.public_base.as_str(),
        accessibility_url: page_url(&app, "accessibility", &admin.token),
        nav: nav(&app, &admin),
        scope_line: scope_line(&admin),
        notice: notice_text(lang, query.notice.as_deref()),
        switch,
        system,
        registrations,
        deployments,
        organisations,
        cohorts,
        grant_action: admin.url(&app, "admin/grants"),
        organisation_action: admin.url(&app, "admin/organisations"),
        invitation_action: admin.url(&app, "admin/invitations"),
        scope_organisation: admin.principal.organisation.clone().unwrap_or_default(),
        invitations,
    };
    Ok(render(&page, StatusCode::OK))
}

/// The approval form.
#[derive(Debug, Deserialize)]
pub struct ApproveForm {
    /// The organisation the deployment belongs to.
    pub organisation: Option<String>,
}

fn back(app: &App, admin: &Admin, path: &str, notice: &str) -> Response {
    Redirect::to(&format!("{}&notice={notice}", admin.url(app, path))).into_response()
}

/// `POST /admin/deployments/{id}/approve`.
pub async fn approve_deployment(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
    Path(id): Path<i64>,
    form: Result<Form<ApproveForm>, FormRejection>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    // Checked after the person: a malformed form from someone without access is still a 401/403.
    let form = form_or_400(form, admin.lang)?;
    let organisation = form.organisation.as_deref();
    set_deployment_status(&app, &admin, id, admin::directory::APPROVED, organisation).await
}

/// `POST /admin/deployments/{id}/disable`.
pub async fn disable_deployment(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
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
    .map_err(|err| admin_error(err, admin.lang))?;
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
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    admin::directory::close_cohort(&app.db, &admin.principal, id, true)
        .await
        .map_err(|err| admin_error(err, admin.lang))?;
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
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
    form: Result<Form<GrantForm>, FormRejection>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
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
    .map_err(|err| admin_error(err, admin.lang))?;
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
struct AdminSecret<'a> {
    lang: Lang,
    assets_base: &'a str,
    accessibility_url: String,
    nav: Nav,
    intro: String,
    secret: String,
    back_url: String,
}

/// `POST /admin/organisations`: an organisation's webhook and retention rule. A new webhook URL gets
/// a new signing secret, shown once on the answer page (never in a URL, never again).
pub async fn change_organisation(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
    form: Result<Form<OrganisationForm>, FormRejection>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    // Checked after the person: a malformed form from someone without access is still a 401/403.
    let form = form_or_400(form, admin.lang)?;
    let lang = admin.lang;
    let invalid = |key: &str| AppError::Invalid {
        message: lang.t(key).to_owned(),
        lang,
    };
    let mut settings = admin::directory::OrganisationSettings::default();
    // What the page shows is what is saved: an empty field removes the setting.
    let url = form.webhook_url.trim();
    settings.webhook_url = Some(if url.is_empty() {
        None
    } else {
        Some(
            admin::directory::webhook_url(url, app.config.outbound_allow_loopback).map_err(
                |err| match err {
                    admin::directory::WebhookUrlError::NotUrl => {
                        invalid("admin-invalid-webhook-url")
                    }
                    admin::directory::WebhookUrlError::NotHttps => {
                        invalid("admin-invalid-webhook-https")
                    }
                    admin::directory::WebhookUrlError::Inside => {
                        invalid("admin-invalid-webhook-inside")
                    }
                },
            )?,
        )
    });
    let months = form.retention_months.trim();
    settings.retention = Some(if months.is_empty() {
        None
    } else {
        let months = months
            .parse::<i32>()
            .ok()
            .filter(|m| admin::directory::RETENTION_MONTHS.contains(m))
            .ok_or_else(|| invalid("admin-invalid-retention-months"))?;
        let action = match form.retention_action.as_str() {
            admin::directory::RETENTION_DELETE => admin::directory::RETENTION_DELETE,
            _ => admin::directory::RETENTION_ANONYMISE,
        };
        Some(admin::directory::RetentionRule {
            months: Some(months),
            action: Some(action.to_owned()),
        })
    });
    let (updated, secret) = admin::directory::change_organisation(
        &app.db,
        &admin.principal,
        &form.organisation,
        settings,
    )
    .await
    .map_err(|err| admin_error(err, lang))?;
    let Some(secret) = secret else {
        return Ok(back(&app, &admin, "admin", "organisation"));
    };
    let page = AdminSecret {
        lang,
        assets_base: app.public_base.as_str(),
        accessibility_url: page_url(&app, "accessibility", &admin.token),
        nav: nav(&app, &admin),
        intro: lang.tf(
            "admin-secret-intro",
            &[
                ("organisation", &updated.name),
                ("url", updated.webhook_url.as_deref().unwrap_or_default()),
            ],
        ),
        secret,
        back_url: admin.url(&app, "admin"),
    };
    Ok(render(&page, StatusCode::OK))
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
struct AdminInvitation<'a> {
    lang: Lang,
    assets_base: &'a str,
    accessibility_url: String,
    nav: Nav,
    intro: String,
    url: String,
    back_url: String,
}

/// `POST /admin/invitations`: a one-time Dynamic Registration link, shown once on the answer page
/// (never in a URL the browser keeps, never again).
pub async fn create_invitation(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
    form: Result<Form<InvitationForm>, FormRejection>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    // Checked after the person: a malformed form from someone without access is still a 401/403.
    let form = form_or_400(form, admin.lang)?;
    let lang = admin.lang;
    let days = match form.days.trim() {
        "" => 7,
        days => days
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=90).contains(d))
            .ok_or_else(|| AppError::Invalid {
                message: lang.t("admin-invalid-invitation-days").to_owned(),
                lang,
            })?,
    };
    let invitation = admin::registrations::invite(
        &app.db,
        &app.public_base,
        &admin.principal,
        &form.organisation,
        crate::lti::now_unix() + days * 86_400,
        form.auto_approve_deployments.as_deref() == Some("true"),
    )
    .await
    .map_err(|err| admin_error(err, lang))?;
    let page = AdminInvitation {
        lang,
        assets_base: app.public_base.as_str(),
        accessibility_url: page_url(&app, "accessibility", &admin.token),
        nav: nav(&app, &admin),
        intro: lang.tf(
            "admin-invitation-intro",
            &[
                ("organisation", &invitation.row.organisation),
                (
                    "expires",
                    &crate::i18n::time::format_date(invitation.row.expires_at),
                ),
            ],
        ),
        url: invitation.url.to_string(),
        back_url: admin.url(&app, "admin"),
    };
    // Not cached: every page without a cache rule of its own is `no-store` (web::security_headers).
    Ok(render(&page, StatusCode::OK))
}

struct ReportRow {
    name: String,
    sub: String,
    modules: String,
    completed: String,
    gradebook: &'static str,
}

#[derive(Template)]
#[template(path = "admin_report.html")]
struct AdminReport<'a> {
    lang: Lang,
    assets_base: &'a str,
    accessibility_url: String,
    nav: Nav,
    scope_line: String,
    cohorts: Vec<(String, String, bool)>,
    title: String,
    rows: Vec<ReportRow>,
    csv_url: String,
    json_url: String,
}

async fn report_records(
    app: &App,
    admin: &Admin,
    cohort: Option<i64>,
) -> Result<Vec<CompletionView>, AppError> {
    let lang = admin.lang;
    if let Some(cohort) = cohort {
        admin::directory::visible_cohort(&app.db, &admin.principal, cohort)
            .await
            .map_err(|err| admin_error(err, lang))?;
    }
    admin::reports::all_views(
        &app.db,
        RecordFilter {
            organisation: admin.principal.organisation.clone(),
            context_id: cohort,
            ..RecordFilter::default()
        },
        true,
    )
    .await
    .map_err(|err| course_error(err.into(), lang))
}

fn gradebook_label(lang: Lang, state: Option<&str>) -> &'static str {
    match state {
        Some("up_to_date") => lang.t("gradebook-up-to-date"),
        Some("on_its_way") => lang.t("gradebook-pending"),
        Some("refused") => lang.t("admin-gradebook-refused"),
        _ => lang.t("admin-gradebook-not-used"),
    }
}

/// `GET /admin/completions`: the completion report of an organisation, or of one cohort.
pub async fn show_report(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    let lang = admin.lang;
    let records = report_records(&app, &admin, query.cohort).await?;
    let cohorts = admin::directory::cohorts(&app.db, &admin.principal)
        .await
        .map_err(|err| admin_error(err, lang))?;
    let title = match query.cohort {
        Some(id) => cohorts
            .iter()
            .find(|c| c.context.id == id)
            .and_then(|c| c.context.title.clone())
            .unwrap_or_default(),
        None => admin
            .principal
            .organisation
            .clone()
            .unwrap_or_else(|| lang.t("admin-all-organisations").to_owned()),
    };
    let suffix = query
        .cohort
        .map(|c| format!("&cohort={c}"))
        .unwrap_or_default();
    let page = AdminReport {
        lang,
        assets_base: app.public_base.as_str(),
        accessibility_url: page_url(&app, "accessibility", &admin.token),
        nav: nav(&app, &admin),
        scope_line: scope_line(&admin),
        cohorts: cohorts
            .iter()
            .map(|c| {
                (
                    format!(
                        "{}&cohort={}",
                        admin.url(&app, "admin/completions"),
                        c.context.id
                    ),
                    c.context
                        .title
                        .clone()
                        .unwrap_or_else(|| c.context.lti_context_id.clone()),
                    Some(c.context.id) == query.cohort,
                )
            })
            .collect(),
        title,
        rows: records
            .iter()
            .map(|r| ReportRow {
                name: r
                    .person
                    .name
                    .clone()
                    .unwrap_or_else(|| lang.t("instructor-unnamed").to_owned()),
                sub: r.person.sub.clone(),
                modules: if r.modules.is_empty() {
                    "–".to_owned()
                } else {
                    r.modules
                        .iter()
                        .map(|m| format!("{} ({})", m.slug, &m.completed_at[..10]))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                completed: r
                    .course_completed_at
                    .as_deref()
                    .map(|at| at[..10].to_owned())
                    .unwrap_or_else(|| lang.t("admin-not-yet").to_owned()),
                gradebook: gradebook_label(lang, r.gradebook.as_deref()),
            })
            .collect(),
        csv_url: format!("{}{suffix}", admin.url(&app, "admin/completions.csv")),
        json_url: format!("{}{suffix}", admin.url(&app, "admin/completions.json")),
    };
    Ok(render(&page, StatusCode::OK))
}

/// `GET /admin/completions.csv`.
pub async fn download_csv(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    let records = report_records(&app, &admin, query.cohort).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"slutforanden.csv\"",
            ),
        ],
        admin::reports::completions_csv(&records),
    )
        .into_response())
}

/// `GET /admin/completions.json`.
pub async fn download_json(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    let records = report_records(&app, &admin, query.cohort).await?;
    let body = serde_json::to_string_pretty(&records).unwrap_or_else(|_| "[]".to_owned());
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"slutforanden.json\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /admin/cohorts/{id}/archive`.
pub async fn download_archive(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    let lang = admin.lang;
    let package = admin::archive::build(&app.db, &admin.principal, id)
        .await
        .map_err(|err| match err {
            admin::archive::ArchiveError::Denied(_) => AppError::Forbidden { lang },
            admin::archive::ArchiveError::NotFound => AppError::NotFound { lang },
            admin::archive::ArchiveError::Db(err) => course_error(err.into(), lang),
            admin::archive::ArchiveError::Zip(err) => AppError::Internal(anyhow::anyhow!(err)),
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.zip\"", package.id),
            ),
        ],
        package.zip,
    )
        .into_response())
}

struct DeliveryRow {
    cohort: String,
    person: String,
    line_item: String,
    attempts: i32,
    error: String,
    retry_action: String,
}

#[derive(Template)]
#[template(path = "admin_deliveries.html")]
struct AdminDeliveries<'a> {
    lang: Lang,
    assets_base: &'a str,
    accessibility_url: String,
    nav: Nav,
    scope_line: String,
    notice: Option<&'static str>,
    failed: Vec<DeliveryRow>,
    pending: Vec<DeliveryRow>,
}

/// `GET /admin/deliveries`: scores the LMS refused, and scores still on their way.
pub async fn show_deliveries(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    let lang = admin.lang;
    let cohorts = admin::directory::cohorts(&app.db, &admin.principal)
        .await
        .map_err(|err| admin_error(err, lang))?;
    let mut rows_of = Vec::new();
    for state in [
        admin::directory::delivery_state::NOT_GRADABLE,
        admin::directory::delivery_state::PENDING,
    ] {
        let (rows, people) =
            admin::directory::deliveries(&app.db, &admin.principal, Some(state), 200)
                .await
                .map_err(|err| admin_error(err, lang))?;
        rows_of.push(
            rows.into_iter()
                .map(|r| DeliveryRow {
                    cohort: cohorts
                        .iter()
                        .find(|c| c.context.id == r.context_id)
                        .and_then(|c| c.context.title.clone())
                        .unwrap_or_default(),
                    person: people
                        .get(&r.user_id)
                        .map(|u| u.name.clone().unwrap_or_else(|| u.sub.clone()))
                        .unwrap_or_default(),
                    line_item: r.resource_id.clone(),
                    attempts: r.attempts,
                    error: r.last_error.clone().unwrap_or_default(),
                    retry_action: admin.url(&app, &format!("admin/deliveries/{}/retry", r.id)),
                })
                .collect::<Vec<_>>(),
        );
    }
    let pending = rows_of.pop().unwrap_or_default();
    let failed = rows_of.pop().unwrap_or_default();
    let page = AdminDeliveries {
        lang,
        assets_base: app.public_base.as_str(),
        accessibility_url: page_url(&app, "accessibility", &admin.token),
        nav: nav(&app, &admin),
        scope_line: scope_line(&admin),
        notice: notice_text(lang, query.notice.as_deref()),
        failed,
        pending,
    };
    Ok(render(&page, StatusCode::OK))
}

/// `POST /admin/deliveries/{id}/retry`.
pub async fn retry_delivery(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    admin::directory::retry_delivery(&app.db, &admin.principal, id)
        .await
        .map_err(|err| admin_error(err, admin.lang))?;
    Ok(back(&app, &admin, "admin/deliveries", "retried"))
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AdminAudit<'a> {
    lang: Lang,
    assets_base: &'a str,
    accessibility_url: String,
    nav: Nav,
    scope_line: String,
    entries: Vec<[String; 5]>,
}

/// `GET /admin/audit`: the latest 200 administrative actions.
pub async fn show_audit(
    State(app): State<AppState>,
    ConnectInfo(origin): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<AdminQuery>,
) -> Result<Response, AppError> {
    let admin = admin_of(&app, &query, &headers, origin).await?;
    let lang = admin.lang;
    let entries = admin::directory::audit_entries(&app.db, &admin.principal, None, 200)
        .await
        .map_err(|err| admin_error(err, lang))?
        .into_iter()
        .map(|e| {
            [
                format!(
                    "{} {}",
                    crate::i18n::time::format_date(e.at_ms / 1000),
                    crate::i18n::time::format_time(e.at_ms / 1000)
                ),
                e.actor,
                e.action,
                e.target,
                e.origin,
            ]
        })
        .collect();
    let page = AdminAudit {
        lang,
        assets_base: app.public_base.as_str(),
        accessibility_url: page_url(&app, "accessibility", &admin.token),
        nav: nav(&app, &admin),
        scope_line: scope_line(&admin),
        entries,
    };
    Ok(render(&page, StatusCode::OK))
}
