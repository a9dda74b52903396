//! The admin pages, reached by an LTI launch of a person granted a role inside the tool (never by
//! LMS role alone): registrations and deployments with approval, organisations and their contact
//! persons, cohorts, the completion report with downloads, grade delivery problems and the audit
//! log. Swedish and English. The rules are the admin API's: an organisation administrator sees
//! their own organisation's data and nothing else.
mod audit;
mod changes;
mod deliveries;
mod home;
mod reports;
mod runs;
mod spaces;

pub use audit::show_audit;
pub use changes::{
    approve_deployment, change_organisation, close_cohort, create_invitation, disable_deployment,
    grant_role,
};
pub use deliveries::{retry_delivery, show_deliveries};
pub use home::show_home;
pub use reports::{download_archive, download_csv, download_json, show_report};
pub use runs::{create_run, link_run, show_runs};
pub use spaces::{create_space, invite_to_space, show_spaces};

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Query},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::launched::{course_error, require_session};
use crate::web::page::page_url;
use crate::{
    admin::{
        self,
        access::Principal,
        directory::{AdminError, person_principal},
    },
    i18n::Lang,
    state::{App, AppState},
    web::error::{AppError, InLang},
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

/// The person on an admin page: their session and the principal their granted role makes them.
/// Extracted before the body, so a malformed form from someone without access is still a 401/403.
pub struct Admin {
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

impl axum::extract::FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &AppState,
    ) -> Result<Self, Response> {
        let Query(query) = Query::<AdminQuery>::from_request_parts(parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let ConnectInfo(origin) = ConnectInfo::<SocketAddr>::from_request_parts(parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        admin_of(app, &query, &parts.headers, origin)
            .await
            .map_err(IntoResponse::into_response)
    }
}

async fn admin_of(
    app: &App,
    query: &AdminQuery,
    headers: &HeaderMap,
    origin: SocketAddr,
) -> Result<Admin, AppError> {
    let session = require_session(app, query.session.as_deref(), headers).await?;
    let lang = session.page_language();
    let found = person_principal(
        &app.db,
        session.pid,
        session.uid,
        &origin.ip().to_string(),
        query.org.as_deref(),
        &app.clock,
    )
    .await
    .in_lang(lang)?;
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

impl<T> InLang<T> for Result<T, AdminError> {
    fn in_lang(self, lang: Lang) -> Result<T, AppError> {
        self.map_err(|err| admin_error(err, lang))
    }
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

struct Nav {
    home: String,
    runs: String,
    spaces: String,
    report: String,
    deliveries: String,
    audit: String,
    overview: String,
}

fn nav(app: &App, admin: &Admin) -> Nav {
    Nav {
        home: admin.url(app, "admin"),
        runs: admin.url(app, "admin/runs"),
        spaces: admin.url(app, "admin/spaces"),
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

fn back(app: &App, admin: &Admin, path: &str, notice: &str) -> Response {
    Redirect::to(&format!("{}&notice={notice}", admin.url(app, path))).into_response()
}
