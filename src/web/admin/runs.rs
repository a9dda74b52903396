//! `GET /admin/runs`: course runs (cohorts across LMS courses) with their organisations, LMS
//! courses, participants and leaders; system administrators create runs and link LMS courses to
//! them here. An organisation administrator sees the runs their organisation takes part in.
use askama::Template;
use axum::{
    extract::{Form, Path, Query, State, rejection::FormRejection},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;

use super::{Admin, AdminQuery, Nav, back, nav, scope_line};
use crate::{
    admin::{
        self,
        cohorts::{CohortOverview, CohortProblem, CohortRequest, CreateError, LmsCourse},
    },
    i18n::Lang,
    state::{App, AppState},
    web::{
        error::{AppError, InLang, form_or_400, render},
        page::{PageContext, page_template},
    },
};

struct RunRow {
    name: String,
    code: String,
    version: String,
    dates: String,
    organisations: String,
    lms_courses: Vec<String>,
    participants: i64,
    leaders: String,
    link_action: String,
}

/// The create form as it was sent, and what is wrong with it.
#[derive(Default)]
struct CreateState {
    name: String,
    version: String,
    starts: String,
    ends: String,
    organisations: String,
    /// (field id, message).
    problems: Vec<(&'static str, &'static str)>,
}

impl CreateState {
    fn problem(&self, field: &str) -> Option<&'static str> {
        self.problems
            .iter()
            .find(|(id, _)| *id == field)
            .map(|(_, message)| *message)
    }
}

#[derive(Template)]
#[template(path = "admin_runs.html")]
struct RunsPage {
    page: PageContext,
    nav: Nav,
    scope_line: String,
    notice: Option<String>,
    system: bool,
    runs: Vec<RunRow>,
    /// LMS courses in no run: (row id, title).
    unlinked: Vec<(i64, String)>,
    /// Stored course versions: (`#id`, label).
    versions: Vec<(String, String)>,
    create_action: String,
    form: CreateState,
    /// Sign-in providers: (name, issuer, organisation, who may sign in).
    providers: Vec<(String, String, String, String)>,
    /// The redirect URI to register at every provider.
    redirect_uri: String,
}
page_template!(RunsPage);

/// `GET /admin/runs`.
pub async fn show_runs(
    State(app): State<AppState>,
    Query(query): Query<AdminQuery>,
    admin: Admin,
) -> Result<Response, AppError> {
    let notice = match query.notice.as_deref() {
        Some("run-created") => Some(admin.lang.t("admin-run-created").to_owned()),
        Some("run-linked") => Some(admin.lang.t("admin-run-linked").to_owned()),
        _ => None,
    };
    runs_page(&app, &admin, notice, CreateState::default(), StatusCode::OK).await
}

async fn runs_page(
    app: &App,
    admin: &Admin,
    notice: Option<String>,
    form: CreateState,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = admin.lang;
    let runs = admin::cohorts::list(&app.db, &admin.principal)
        .await
        .in_lang(lang)?;
    let lms_courses = admin::directory::cohorts(&app.db, &admin.principal)
        .await
        .in_lang(lang)?;
    let versions = admin::courses::versions(&app.db, &admin.principal)
        .await
        .in_lang(lang)?;
    let providers = admin::signin::providers(&app.db, &admin.principal)
        .await
        .in_lang(lang)?;
    let system = admin.principal.organisation.is_none();
    let page = RunsPage {
        page: PageContext::launched(app, lang, &admin.token),
        nav: nav(app, admin),
        scope_line: scope_line(admin),
        notice,
        system,
        runs: runs
            .into_iter()
            .map(|run| run_row(app, admin, run))
            .collect(),
        unlinked: lms_courses
            .into_iter()
            .filter(|c| c.context.cohort_id.is_none())
            .map(|c| {
                let title = c.context.title.unwrap_or(c.context.lti_context_id);
                let owner = c.deployment.organisation.unwrap_or_default();
                (c.context.id, format!("{title} ({owner})"))
            })
            .collect(),
        versions: versions
            .into_iter()
            .map(|v| (format!("#{}", v.id), format!("{} {}", v.slug, v.version)))
            .collect(),
        create_action: admin.url(app, "admin/runs"),
        form,
        providers: providers
            .into_iter()
            .map(|p| {
                let rules = [p.allowed_tenants, p.allowed_domains]
                    .into_iter()
                    .filter(|r| !r.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let rules = if rules.is_empty() {
                    lang.t("admin-signin-anyone").to_owned()
                } else {
                    rules
                };
                (p.name, p.issuer, p.organisation.unwrap_or_default(), rules)
            })
            .collect(),
        redirect_uri: crate::signin::redirect_uri(app).to_string(),
    };
    Ok(render(&page, status))
}

fn run_row(app: &App, admin: &Admin, run: CohortOverview) -> RunRow {
    let unknown = "–".to_owned();
    RunRow {
        link_action: admin.url(app, &format!("admin/runs/{}/link", run.cohort.id)),
        name: run.cohort.name,
        code: run.cohort.code,
        version: run
            .version
            .map(|v| format!("{} {}", v.slug, v.version))
            .unwrap_or_else(|| unknown.clone()),
        dates: format!(
            "{} – {}",
            run.cohort.starts_on.unwrap_or_else(|| unknown.clone()),
            run.cohort.ends_on.unwrap_or(unknown)
        ),
        organisations: run.organisations.join(", "),
        lms_courses: run
            .lms_courses
            .into_iter()
            .map(|c| c.title.unwrap_or(c.lti_context_id))
            .collect(),
        participants: run.participants,
        leaders: run
            .leaders
            .into_iter()
            .map(|p| p.name.unwrap_or(p.sub))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The create form.
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    name: Option<String>,
    course_version: Option<String>,
    starts_on: Option<String>,
    ends_on: Option<String>,
    /// One organisation a line.
    organisations: Option<String>,
}

/// `POST /admin/runs`: creates a run, or shows the form again with what is wrong.
pub async fn create_run(
    State(app): State<AppState>,
    admin: Admin,
    form: Result<Form<CreateForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = admin.lang;
    let form = form_or_400(form, lang)?;
    let sent = CreateState {
        name: form.name.unwrap_or_default(),
        version: form.course_version.unwrap_or_default(),
        starts: form.starts_on.unwrap_or_default(),
        ends: form.ends_on.unwrap_or_default(),
        organisations: form.organisations.unwrap_or_default(),
        problems: Vec::new(),
    };
    match admin::cohorts::create(&app.db, &admin.principal, request_of(&sent)).await {
        Ok(_) => Ok(back(&app, &admin, "admin/runs", "run-created")),
        Err(CreateError::Problems(problems)) => {
            let form = CreateState {
                problems: problems.iter().map(|p| field_problem(lang, *p)).collect(),
                ..sent
            };
            runs_page(&app, &admin, None, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(CreateError::Admin(err)) => Err(err).in_lang(lang),
    }
}

fn request_of(sent: &CreateState) -> CohortRequest {
    CohortRequest {
        name: sent.name.clone(),
        course_version: sent.version.clone(),
        starts_on: Some(sent.starts.clone()),
        ends_on: Some(sent.ends.clone()),
        organisations: sent
            .organisations
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// The field a problem belongs to and what the page says about it.
fn field_problem(lang: Lang, problem: CohortProblem) -> (&'static str, &'static str) {
    let (field, key) = match problem {
        CohortProblem::Name => ("run-name", "admin-run-problem-name"),
        CohortProblem::UnknownVersion | CohortProblem::AmbiguousVersion => {
            ("run-version", "admin-run-problem-version")
        }
        CohortProblem::StartDate => ("run-starts", "admin-run-problem-date"),
        CohortProblem::EndDate => ("run-ends", "admin-run-problem-date"),
        CohortProblem::EndsBeforeStart => ("run-ends", "admin-run-problem-order"),
        CohortProblem::OrganisationName => ("run-organisations", "admin-run-problem-organisation"),
    };
    (field, lang.t(key))
}

/// The link form.
#[derive(Debug, Deserialize)]
pub struct LinkForm {
    lms_course: Option<i64>,
}

/// `POST /admin/runs/{id}/link`: links a launched LMS course to the run.
pub async fn link_run(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    admin: Admin,
    form: Result<Form<LinkForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = admin.lang;
    let form = form_or_400(form, lang)?;
    let Some(context) = form.lms_course else {
        let detail = lang.t("admin-run-problem-lms-course").to_owned();
        return Err(AppError::BadRequest { detail, lang });
    };
    let course = LmsCourse::Context(context);
    admin::cohorts::link(&app.db, &app.courses, &admin.principal, id, course)
        .await
        .in_lang(lang)?;
    Ok(back(&app, &admin, "admin/runs", "run-linked"))
}
