//! The audit log as an administrator may read it.
use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};

use super::{Admin, Nav, nav, scope_line};
use crate::web::page::{PageContext, page_template};
use crate::{
    admin,
    state::AppState,
    web::error::{AppError, InLang, render},
};

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AdminAudit {
    page: PageContext,
    nav: Nav,
    scope_line: String,
    entries: Vec<[String; 5]>,
}

/// `GET /admin/audit`: the latest 200 administrative actions.
pub async fn show_audit(State(app): State<AppState>, admin: Admin) -> Result<Response, AppError> {
    let lang = admin.lang;
    let entries = admin::directory::audit_entries(&app.db, &admin.principal, None, 200)
        .await
        .in_lang(lang)?;
    let page = AdminAudit {
        page: PageContext::launched(&app, lang, &admin.token),
        nav: nav(&app, &admin),
        scope_line: scope_line(&admin),
        entries: entries.into_iter().map(audit_row).collect(),
    };
    Ok(render(&page, StatusCode::OK))
}

/// When, who, what, on what, from where.
fn audit_row(e: entity::audit_log::Model) -> [String; 5] {
    let at = e.at_ms / 1000;
    let when = format!(
        "{} {}",
        crate::i18n::time::format_date(at),
        crate::i18n::time::format_time(at)
    );
    [when, e.actor, e.action, e.target, e.origin]
}

page_template!(AdminAudit);
