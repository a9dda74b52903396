//! The instructor's changes to the LMS course: workshop occasions, roster sync, groups and who is
//! in them, the course version.
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{Instructor, back_to_dashboard, course_of};
use crate::{
    learning::{
        cohort::{self, JoinError},
        review::{self},
    },
    state::AppState,
    web::error::{AppError, InLang, form_or_400},
};

/// The workshop occasion form.
#[derive(Debug, Deserialize)]
pub struct OccasionForm {
    module: Option<String>,
    date: Option<String>,
    time: Option<String>,
    place: Option<String>,
}

/// `POST /instructor/occasions`.
pub async fn set_occasion(
    State(app): State<AppState>,
    instructor: Instructor,
    form: Result<Form<OccasionForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = instructor.lang;
    let form = crate::web::error::form_or_400(form, lang)?;
    let course = course_of(&app, &instructor.session).await?;
    let (date, time) = (form.date.unwrap_or_default(), form.time.unwrap_or_default());
    let starts_at = crate::i18n::parse_local(&date, &time);
    let (module, place) = (
        form.module.unwrap_or_default(),
        form.place.unwrap_or_default(),
    );
    let now_ms = app.clock.now_ms();
    match review::set_occasion(&app.db, &course, &module, starts_at, &place, now_ms).await {
        Ok(()) => {}
        Err(review::OccasionError::Course(error)) => return Err(AppError::Course { error, lang }),
        Err(err) => {
            let detail = err.to_string();
            return Err(AppError::BadRequest { detail, lang });
        }
    }
    app.occasions.remove(&course.context_id);
    Ok(back_to_dashboard(&app, &instructor.token, "occasion"))
}

/// `POST /instructor/roster`: reads the roster from the platform now.
pub async fn sync_roster(
    State(app): State<AppState>,
    Instructor { session, token, .. }: Instructor,
) -> Result<Response, AppError> {
    let context_id = session.cid.unwrap_or_default();
    let outcome: Vec<(&str, String)> =
        match crate::learning::roster::sync(app.roster_reach(), context_id).await {
            Ok(count) => vec![("notice", "synced".into()), ("count", count.to_string())],
            Err(crate::learning::roster::SyncError::NotOffered) => {
                vec![("notice", "not-offered".into())]
            }
            Err(err) => {
                tracing::warn!(context = context_id, error = %err, "roster sync failed");
                vec![("notice", "sync-failed".into())]
            }
        };
    let mut target = app.url("instructor");
    target
        .query_pairs_mut()
        .append_pair("session", &token)
        .extend_pairs(outcome);
    Ok(Redirect::to(target.as_str()).into_response())
}

/// The new-group form.
#[derive(Debug, Deserialize)]
pub struct GroupForm {
    name: Option<String>,
}

/// `POST /instructor/groups`: makes a group in this LMS course.
pub async fn create_group(
    State(app): State<AppState>,
    Instructor {
        session,
        token,
        lang,
        ..
    }: Instructor,
    form: Result<Form<GroupForm>, FormRejection>,
) -> Result<Response, AppError> {
    let form = form_or_400(form, lang)?;
    let name: String = form
        .name
        .unwrap_or_default()
        .trim()
        .chars()
        .take(100)
        .collect();
    if name.is_empty() {
        return Err(AppError::BadRequest {
            detail: "a group needs a name".into(),
            lang,
        });
    }
    let course = course_of(&app, &session).await?;
    review::create_group(&app.db, &course, &name, app.clock.now_ms())
        .await
        .in_lang(lang)?;
    Ok(back_to_dashboard(&app, &token, "group-created"))
}

/// The move form.
#[derive(Debug, Deserialize)]
pub struct MoveForm {
    person: Option<i64>,
    group: Option<String>,
}

/// `POST /instructor/groups/move`: places a participant in a group (or back in the municipality's).
pub async fn move_member(
    State(app): State<AppState>,
    Instructor {
        session,
        token,
        lang,
        ..
    }: Instructor,
    form: Result<Form<MoveForm>, FormRejection>,
) -> Result<Response, AppError> {
    let form = form_or_400(form, lang)?;
    let course = course_of(&app, &session).await?;
    let person = form.person.unwrap_or(-1);
    let group = match form.group.as_deref().unwrap_or_default() {
        "" => None,
        id => Some(id.parse::<i64>().map_err(|_| AppError::NotFound { lang })?),
    };
    crate::learning::review::place_member(&app.db, &course, person, group, app.clock.now_ms())
        .await
        .map_err(|err| match err {
            crate::learning::review::PlaceError::NotInCourse => AppError::NotFound { lang },
            crate::learning::review::PlaceError::Db(err) => AppError::Course {
                error: err.into(),
                lang,
            },
        })?;
    Ok(back_to_dashboard(&app, &token, "moved"))
}

/// The version form.
#[derive(Debug, Deserialize)]
pub struct VersionForm {
    version: Option<i64>,
}

/// `POST /instructor/version`: moves this LMS course to another version of the same course.
/// Answers stay: modules and tasks keep their slugs across versions.
pub async fn move_version(
    State(app): State<AppState>,
    Instructor {
        session,
        token,
        lang,
        ..
    }: Instructor,
    form: Result<Form<VersionForm>, FormRejection>,
) -> Result<Response, AppError> {
    let form = form_or_400(form, lang)?;
    let course = course_of(&app, &session).await?;
    let target = form.version.unwrap_or(-1);
    let moved = review::move_to_version(&app.db, &app.courses, &course, target, app.clock.now_ms())
        .await
        .in_lang(lang)?;
    if !moved {
        return Err(AppError::NotFound { lang });
    }
    tracing::info!(
        context = course.context_id,
        version = target,
        instructor = session.uid,
        "course version moved"
    );
    Ok(back_to_dashboard(&app, &token, "version-moved"))
}

/// The cohort code form.
#[derive(Debug, Deserialize)]
pub struct CohortCodeForm {
    code: Option<String>,
}

/// `POST /instructor/cohort`: joins the LMS course to the cohort whose code the instructor typed.
pub async fn join_cohort(
    State(app): State<AppState>,
    instructor: Instructor,
    form: Result<Form<CohortCodeForm>, FormRejection>,
) -> Result<Response, AppError> {
    let lang = instructor.lang;
    let typed = form_or_400(form, lang)?.code.unwrap_or_default();
    let now = app.clock.now_unix();
    let notice = match cohort::join_with_code(
        &app.db,
        &app.courses,
        &instructor.session,
        &typed,
        now,
    )
    .await
    {
        Ok(_) => "cohort-joined",
        Err(JoinError::Db(err)) => return Err(AppError::Internal(err.into())),
        Err(JoinError::UnknownCode) => "cohort-unknown",
        Err(JoinError::OtherVersion) => "cohort-other-version",
        Err(refused) => {
            tracing::info!(code = "cohort.join_refused", reason = %refused, "cohort code refused");
            "cohort-refused"
        }
    };
    Ok(back_to_dashboard(&app, &instructor.token, notice))
}
