//! The completion report and its downloads (CSV, JSON, archive package).
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{Admin, AdminQuery, Nav, nav, scope_line};
use crate::web::launched::course_error;
use crate::web::page::{PageContext, page_template};
use crate::{
    admin,
    admin::reports::RecordFilter,
    i18n::Lang,
    learning::records::CompletionView,
    state::{App, AppState},
    web::error::{AppError, InLang, render},
};

struct ReportRow {
    name: String,
    sub: String,
    modules: String,
    completed: String,
    gradebook: &'static str,
}

#[derive(Template)]
#[template(path = "admin_report.html")]
struct AdminReport {
    page: PageContext,
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
            .in_lang(lang)?;
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
    .in_lang(lang)
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
    Query(query): Query<AdminQuery>,
    admin: Admin,
) -> Result<Response, AppError> {
    let records = report_records(&app, &admin, query.cohort).await?;
    let cohorts = admin::directory::cohorts(&app.db, &admin.principal)
        .await
        .in_lang(admin.lang)?;
    let page = report_page(&app, &admin, query.cohort, &cohorts, &records);
    Ok(render(&page, StatusCode::OK))
}

fn report_page(
    app: &App,
    admin: &Admin,
    cohort: Option<i64>,
    cohorts: &[admin::directory::LmsCourseSummary],
    records: &[CompletionView],
) -> AdminReport {
    let lang = admin.lang;
    let title = match cohort {
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
    let suffix = cohort.map(|c| format!("&cohort={c}")).unwrap_or_default();
    let report_url = admin.url(app, "admin/completions");
    AdminReport {
        page: PageContext::launched(app, lang, &admin.token),
        nav: nav(app, admin),
        scope_line: scope_line(admin),
        cohorts: cohorts
            .iter()
            .map(|c| {
                let title = c.context.title.clone();
                (
                    format!("{report_url}&cohort={}", c.context.id),
                    title.unwrap_or_else(|| c.context.lti_context_id.clone()),
                    Some(c.context.id) == cohort,
                )
            })
            .collect(),
        title,
        rows: records.iter().map(|r| report_row(lang, r)).collect(),
        csv_url: format!("{}{suffix}", admin.url(app, "admin/completions.csv")),
        json_url: format!("{}{suffix}", admin.url(app, "admin/completions.json")),
    }
}

/// The date of an ISO 8601 time (`2026-12-01T…` → `2026-12-01`).
fn date_part(at: &str) -> &str {
    at.get(..10).unwrap_or(at)
}

fn report_row(lang: Lang, r: &CompletionView) -> ReportRow {
    ReportRow {
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
                .map(|m| format!("{} ({})", m.slug, date_part(&m.completed_at)))
                .collect::<Vec<_>>()
                .join(", ")
        },
        completed: r
            .course_completed_at
            .as_deref()
            .map(|at| date_part(at).to_owned())
            .unwrap_or_else(|| lang.t("admin-not-yet").to_owned()),
        gradebook: gradebook_label(lang, r.gradebook.as_deref()),
    }
}

/// `GET /admin/completions.csv`.
pub async fn download_csv(
    State(app): State<AppState>,
    Query(query): Query<AdminQuery>,
    admin: Admin,
) -> Result<Response, AppError> {
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
    Query(query): Query<AdminQuery>,
    admin: Admin,
) -> Result<Response, AppError> {
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
    Path(id): Path<i64>,
    admin: Admin,
) -> Result<Response, AppError> {
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

page_template!(AdminReport);
