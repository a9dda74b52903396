//! `GET /admin`: registrations, deployments, organisations with their settings and contact persons,
//! cohorts, and the grant form.
use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};

use super::{Admin, AdminQuery, Nav, nav, notice_text, scope_line};
use crate::admin::{
    overview::{AdminOverview, OrganisationEntry},
    registrations::InvitationState,
};
use crate::web::page::page_url;
use crate::web::page::{PageContext, page_template};
use crate::{
    admin,
    i18n::Lang,
    state::{App, AppState},
    web::error::{AppError, InLang, render},
};

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
struct AdminHome {
    page: PageContext,
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
    Query(query): Query<AdminQuery>,
    admin: Admin,
) -> Result<Response, AppError> {
    let overview = admin::overview::admin_overview(&app.db, &admin.principal)
        .await
        .in_lang(admin.lang)?;
    let page = home_page(&app, &admin, overview, query.notice.as_deref());
    Ok(render(&page, StatusCode::OK))
}

fn home_page(app: &App, admin: &Admin, overview: AdminOverview, notice: Option<&str>) -> AdminHome {
    let lang = admin.lang;
    AdminHome {
        page: PageContext::launched(app, lang, &admin.token),
        nav: nav(app, admin),
        scope_line: scope_line(admin),
        notice: notice_text(lang, notice),
        switch: organisation_switch(app, admin),
        system: overview.system,
        registrations: overview
            .registrations
            .into_iter()
            .map(|p| (p.id, p.name, p.issuer))
            .collect(),
        deployments: overview
            .deployments
            .into_iter()
            .map(|(d, platform)| deployment_row(app, admin, overview.system, d, platform))
            .collect(),
        organisations: overview
            .organisations
            .into_iter()
            .enumerate()
            .map(|(index, entry)| organisation_row(lang, index, entry))
            .collect(),
        cohorts: overview
            .cohorts
            .into_iter()
            .map(|c| cohort_row(app, admin, c))
            .collect(),
        grant_action: admin.url(app, "admin/grants"),
        organisation_action: admin.url(app, "admin/organisations"),
        invitation_action: admin.url(app, "admin/invitations"),
        scope_organisation: admin.principal.organisation.clone().unwrap_or_default(),
        invitations: overview
            .invitations
            .into_iter()
            .map(|(i, state)| {
                let state = lang.t(match state {
                    InvitationState::Used => "admin-invitation-used",
                    InvitationState::Expired => "admin-invitation-expired",
                    InvitationState::Open => "admin-invitation-open",
                });
                (
                    i.organisation,
                    state,
                    crate::i18n::time::format_date(i.expires_at),
                )
            })
            .collect(),
    }
}

fn deployment_row(
    app: &App,
    admin: &Admin,
    system: bool,
    d: entity::deployment::Model,
    platform: Option<entity::platform::Model>,
) -> DeploymentRow {
    DeploymentRow {
        id: d.id,
        registration: platform.map(|p| p.name).unwrap_or_default(),
        status: status_label(admin.lang, &d.status),
        approve_action: (system && d.status != admin::directory::APPROVED)
            .then(|| admin.url(app, &format!("admin/deployments/{}/approve", d.id))),
        disable_action: (d.status == admin::directory::APPROVED)
            .then(|| admin.url(app, &format!("admin/deployments/{}/disable", d.id))),
        deployment_id: d.lti_deployment_id,
        organisation: d.organisation.unwrap_or_default(),
    }
}

fn organisation_row(lang: Lang, index: usize, entry: OrganisationEntry) -> OrganisationRow {
    let org = entry.organisation;
    let deletes = org.retention_action == admin::directory::RETENTION_DELETE;
    OrganisationRow {
        index,
        webhook_url: org.webhook_url.clone().unwrap_or_default(),
        retention_months: org
            .retention_months
            .map(|m| m.to_string())
            .unwrap_or_default(),
        retention_delete: deletes,
        webhook: if org.webhook_url.is_some() {
            lang.t("admin-webhook-set")
        } else {
            lang.t("admin-webhook-none")
        },
        retention: match org.retention_months {
            Some(months) => lang.tf(
                if deletes {
                    "admin-retention-delete"
                } else {
                    "admin-retention-anonymise"
                },
                &[("months", &months.to_string())],
            ),
            None => lang.t("admin-retention-none").to_owned(),
        },
        name: org.name,
        contacts: entry
            .contacts
            .into_iter()
            .map(|(sub, name)| match name {
                Some(name) => format!("{name} ({sub})"),
                None => sub,
            })
            .collect(),
    }
}

fn cohort_row(app: &App, admin: &Admin, c: admin::directory::LmsCourseSummary) -> CohortRow {
    let lang = admin.lang;
    let id = c.context.id;
    CohortRow {
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
        report_url: format!("{}&cohort={id}", admin.url(app, "admin/completions")),
        archive_url: admin.url(app, &format!("admin/cohorts/{id}/archive")),
        close_action: c
            .context
            .closed_at
            .is_none()
            .then(|| admin.url(app, &format!("admin/cohorts/{id}/close"))),
    }
}

/// Links to the same page for each organisation a person administers, when there are several.
fn organisation_switch(app: &App, admin: &Admin) -> Vec<(String, String)> {
    if admin.organisations.len() < 2 {
        return Vec::new();
    }
    admin
        .organisations
        .iter()
        .map(|org| {
            (
                format!(
                    "{}&org={}",
                    page_url(app, "admin", &admin.token),
                    url::form_urlencoded::byte_serialize(org.as_bytes()).collect::<String>()
                ),
                org.clone(),
            )
        })
        .collect()
}

page_template!(AdminHome);
