//! The workshop calendar as iCalendar (RFC 5545): a download from the course overview, and a feed
//! address a calendar app subscribes to, which reads the occasions as the course leaders change
//! them.
use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
};
use icalendar::{Calendar, Component, EventLike};

use crate::{
    i18n::Lang,
    learning::calendar::{self, Workshop},
    state::{App, AppState},
    web::{
        error::{AppError, InLang},
        launched::Launched,
    },
};

/// `GET /course/calendar.ics`: the participant's LMS course's workshops, to open once.
pub async fn download(
    State(app): State<AppState>,
    Launched { session, lang }: Launched,
) -> Result<Response, AppError> {
    let course = app
        .courses
        .for_session(&app.db, &session)
        .await
        .in_lang(lang)?;
    let (title, workshops) = calendar::workshops(&app.db, &course, lang)
        .await
        .in_lang(lang)?;
    let body = ics(&app, course.context_id, &title, &workshops, lang);
    Ok(calendar_response(body, Some("workshops.ics")))
}

/// `GET /calendar/{feed}/workshops.ics`: the same, for a calendar app, by the feed address.
pub async fn feed(
    State(app): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let lang = Lang::Sv;
    let read = (token.as_str(), app.clock.now_unix());
    let found = calendar::feed_course(&app.db, &app.courses, &app.sessions, read).await;
    let Some((course, lang)) = found.in_lang(lang)? else {
        return Err(AppError::NotFound { lang });
    };
    let (title, workshops) = calendar::workshops(&app.db, &course, lang)
        .await
        .in_lang(lang)?;
    let body = ics(&app, course.context_id, &title, &workshops, lang);
    Ok(calendar_response(body, None))
}

fn calendar_response(body: String, download: Option<&str>) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response();
    if let Some(name) = download
        && let Ok(value) = format!("attachment; filename=\"{name}\"").parse()
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The calendar: one event per workshop, its identity the LMS course and module, so a calendar
/// app moves an event when its occasion moves instead of adding another.
fn ics(app: &App, context_id: i64, title: &str, workshops: &[Workshop], lang: Lang) -> String {
    let host = app.url("").host_str().unwrap_or("coursebridge").to_owned();
    let stamp = chrono::DateTime::from_timestamp(app.clock.now_unix(), 0).unwrap_or_default();
    let mut calendar = Calendar::new();
    calendar.name(&lang.tf("calendar-name", &[("course", title)]));
    for workshop in workshops {
        let Some(starts) = chrono::DateTime::from_timestamp(workshop.starts_at, 0) else {
            continue;
        };
        let mut event = icalendar::Event::new();
        event
            .uid(&format!(
                "workshop-{context_id}-{}@{host}",
                workshop.module_slug
            ))
            .timestamp(stamp)
            .summary(&format!("{} – {title}", workshop.name))
            .description(&lang.tf("calendar-prepare", &[("module", &workshop.module_title)]))
            .starts(starts);
        if !workshop.place.is_empty() {
            event.location(&workshop.place);
        }
        calendar.push(event.done());
    }
    calendar.done().to_string()
}
