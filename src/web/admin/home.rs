//! `GET /admin`: registrations, deployments, organisations with their settings and contact persons,
//! cohorts, and the grant form.
use super::*;
use crate::web::page::{PageContext, page_template};

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
    let lang = admin.lang;
    let system = admin.principal.organisation.is_none();
    // Only a system administrator sees and names registrations.
    let registrations = if system {
        admin::platforms::registrations(&app.db, &admin.principal)
            .await
            .in_lang(lang)?
            .into_iter()
            .map(|p| (p.id, p.name, p.issuer))
            .collect()
    } else {
        Vec::new()
    };
    let deployments = admin::directory::deployments(&app.db, &admin.principal)
        .await
        .in_lang(lang)?
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
        .in_lang(lang)?
    {
        let contacts = admin::directory::contact_persons(&app.db, &admin.principal, &org.name)
            .await
            .in_lang(lang)?
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
        .in_lang(lang)?
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
    let now = app.clock.now_unix();
    let invitations = admin::registrations::invitations(&app.db, &admin.principal)
        .await
        .in_lang(lang)?
        .into_iter()
        .take(20)
        .map(|i| {
            let state = lang.t(match admin::registrations::InvitationState::of(&i, now) {
                admin::registrations::InvitationState::Used => "admin-invitation-used",
                admin::registrations::InvitationState::Expired => "admin-invitation-expired",
                admin::registrations::InvitationState::Open => "admin-invitation-open",
            });
            (
                i.organisation,
                state,
                crate::i18n::time::format_date(i.expires_at),
            )
        })
        .collect();
    let page = AdminHome {
        page: PageContext::launched(&app, lang, &admin.token),
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

page_template!(AdminHome);
