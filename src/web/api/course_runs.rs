//! Course runs (cohorts across LMS courses): one run of the course for a region, the
//! organisations taking part, and the LMS courses linked to it. `/api/v1/cohorts` predates them
//! and keeps listing LMS courses, each with the course run it is linked to.
use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ApiId, ApiJson, ApiPrincipal, Problem};
use crate::{
    admin::cohorts::{self, CohortOverview, CohortRequest, LmsCourse},
    state::AppState,
};

/// A course run.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CourseRun {
    /// Row id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The code an instructor types, or an LTI link carries as `cohort=<code>`, to link an LMS
    /// course.
    pub code: String,
    /// The course version it runs, `slug@version`.
    pub course_version: Option<String>,
    /// First and last day, `YYYY-MM-DD`.
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// The organisations taking part.
    pub organisations: Vec<String>,
    /// The LMS courses linked to it (their ids in `/api/v1/cohorts`).
    pub lms_courses: Vec<i64>,
    /// Participants across them.
    pub participants: i64,
    /// Its course leaders (person ids).
    pub leaders: Vec<i64>,
}

fn view(overview: CohortOverview) -> CourseRun {
    CourseRun {
        id: overview.cohort.id,
        name: overview.cohort.name,
        code: overview.cohort.code,
        course_version: overview
            .version
            .map(|v| format!("{}@{}", v.slug, v.version)),
        starts_on: overview.cohort.starts_on,
        ends_on: overview.cohort.ends_on,
        organisations: overview.organisations,
        lms_courses: overview.lms_courses.iter().map(|c| c.id).collect(),
        participants: overview.participants,
        leaders: overview.leaders.iter().map(|p| p.id).collect(),
    }
}

/// List course runs, newest first.
#[utoipa::path(get, path = "/api/v1/course-runs", tag = "administration",
    security(("token" = [])),
    responses(
        (status = 200, description = "The course runs, newest first", body = Vec<CourseRun>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the admin scope", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_course_runs(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
) -> Result<Json<Vec<CourseRun>>, ApiError> {
    let runs = cohorts::list(&app.db, &principal).await?;
    Ok(Json(runs.into_iter().map(view).collect()))
}

/// A new course run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCourseRun {
    /// Its name.
    pub name: String,
    /// The course version: `1.2`, `slug@1.2`, or `#7` (row id).
    pub course_version: String,
    /// First day, `YYYY-MM-DD`.
    #[serde(default)]
    pub starts_on: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    #[serde(default)]
    pub ends_on: Option<String>,
    /// The organisations taking part (made when new).
    #[serde(default)]
    pub organisations: Vec<String>,
}

/// Create a course run (system administrators).
#[utoipa::path(post, path = "/api/v1/course-runs", tag = "administration",
    security(("token" = [])),
    request_body = NewCourseRun,
    responses(
        (status = 201, description = "The course run, with its code", body = CourseRun),
        (status = 400, description = "The body is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_course_run(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiJson(new): ApiJson<NewCourseRun>,
) -> Result<(StatusCode, Json<CourseRun>), ApiError> {
    let request = CohortRequest {
        name: new.name,
        course_version: new.course_version,
        starts_on: new.starts_on,
        ends_on: new.ends_on,
        organisations: new.organisations,
    };
    let made = cohorts::create(&app.db, &principal, request)
        .await
        .map_err(crate::admin::directory::AdminError::from)?;
    let overview = cohorts::get(&app.db, &principal, made.id).await?;
    Ok((StatusCode::CREATED, Json(view(overview))))
}

/// Which LMS course to link: a launched one by `lms_course` (its id in `/api/v1/cohorts`), or
/// any by `issuer`, `client_id` and `context_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    #[serde(default)]
    pub lms_course: Option<i64>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub context_id: Option<String>,
}

impl LinkRequest {
    /// The LMS course it names: one way or the other, never both.
    fn lms_course(self) -> Result<LmsCourse, ApiError> {
        match self {
            LinkRequest {
                lms_course: Some(context),
                issuer: None,
                client_id: None,
                context_id: None,
            } => Ok(LmsCourse::Context(context)),
            LinkRequest {
                lms_course: None,
                issuer: Some(issuer),
                client_id: Some(client_id),
                context_id: Some(context_id),
            } => Ok(LmsCourse::Lti {
                issuer,
                client_id,
                context_id,
            }),
            _ => Err(ApiError::bad_request(
                "give either lms_course, or issuer, client_id and context_id",
            )),
        }
    }
}

/// Link an LMS course to a course run, before or after its first launch (system administrators).
#[utoipa::path(post, path = "/api/v1/course-runs/{id}/lms-courses", tag = "administration",
    security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Course run row id")),
    request_body = LinkRequest,
    responses(
        (status = 200, description = "The course run", body = CourseRun),
        (status = 400, description = "The body is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a system administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such course run, LMS course or registration", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The LMS course is in another course run, or has answers in another version", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn link_lms_course(
    State(app): State<AppState>,
    ApiPrincipal(principal): ApiPrincipal,
    ApiId(id): ApiId,
    ApiJson(link): ApiJson<LinkRequest>,
) -> Result<Json<CourseRun>, ApiError> {
    let course = link.lms_course()?;
    cohorts::link(&app.db, &app.courses, &principal, id, course).await?;
    Ok(Json(view(cohorts::get(&app.db, &principal, id).await?)))
}
