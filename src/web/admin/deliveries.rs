//! Scores the LMS refused or has not received yet, and sending one again.
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};

use super::{Admin, AdminQuery, Nav, back, nav, notice_text, scope_line};
use crate::web::page::{PageContext, page_template};
use crate::{
    admin,
    state::{App, AppState},
    web::error::{AppError, InLang, render},
};

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
struct AdminDeliveries {
    page: PageContext,
    nav: Nav,
    scope_line: String,
    notice: Option<&'static str>,
    failed: Vec<DeliveryRow>,
    pending: Vec<DeliveryRow>,
}

/// `GET /admin/deliveries`: scores the LMS refused, and scores still on their way.
pub async fn show_deliveries(
    State(app): State<AppState>,
    Query(query): Query<AdminQuery>,
    admin: Admin,
) -> Result<Response, AppError> {
    let lang = admin.lang;
    let overview = admin::overview::deliveries_overview(&app.db, &admin.principal)
        .await
        .in_lang(lang)?;
    let row = |entry| delivery_row(&app, &admin, entry);
    let page = AdminDeliveries {
        page: PageContext::launched(&app, lang, &admin.token),
        nav: nav(&app, &admin),
        scope_line: scope_line(&admin),
        notice: notice_text(lang, query.notice.as_deref()),
        failed: overview.refused.into_iter().map(row).collect(),
        pending: overview.pending.into_iter().map(row).collect(),
    };
    Ok(render(&page, StatusCode::OK))
}

fn delivery_row(app: &App, admin: &Admin, entry: admin::overview::DeliveryEntry) -> DeliveryRow {
    let r = entry.delivery;
    DeliveryRow {
        cohort: entry.cohort.unwrap_or_default(),
        person: entry
            .person
            .map(|u| u.name.unwrap_or(u.sub))
            .unwrap_or_default(),
        retry_action: admin.url(app, &format!("admin/deliveries/{}/retry", r.id)),
        line_item: r.resource_id,
        attempts: r.attempts,
        error: r.last_error.unwrap_or_default(),
    }
}

/// `POST /admin/deliveries/{id}/retry`.
pub async fn retry_delivery(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    admin: Admin,
) -> Result<Response, AppError> {
    admin::directory::retry_delivery(&app.db, &admin.principal, id)
        .await
        .in_lang(admin.lang)?;
    Ok(back(&app, &admin, "admin/deliveries", "retried"))
}

page_template!(AdminDeliveries);
