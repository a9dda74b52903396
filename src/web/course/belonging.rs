//! The question a participant of a regional LMS course answers once, before the course: which of
//! the cohort's organisations (municipalities) they belong to. Their group and their contact
//! person follow from it.
use askama::Template;
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    learning::organisation::{self, ChoiceError},
    state::{App, AppState},
    web::{
        error::{AppError, InLang, form_or_400, render},
        launched::Launched,
        page::{PageContext, page_template, page_url},
    },
};

#[derive(Template)]
#[template(path = "course_organisation.html")]
struct ChoicePage {
    page: PageContext,
    action: String,
    organisations: Vec<String>,
    missing: bool,
}
page_template!(ChoicePage);

/// `GET /course/organisation`: the question.
pub async fn show_choice(
    State(app): State<AppState>,
    launched: Launched,
) -> Result<Response, AppError> {
    let organisations = organisation::offered_to(&app.db, &launched.session)
        .await
        .in_lang(launched.lang)?;
    Ok(choice_page(&app, &launched, organisations, false))
}

/// The answer.
#[derive(Debug, Deserialize)]
pub struct ChoiceForm {
    organisation: Option<String>,
}

/// `POST /course/organisation`: records the answer and goes on to the course.
pub async fn choose(
    State(app): State<AppState>,
    launched: Launched,
    form: Result<Form<ChoiceForm>, FormRejection>,
) -> Result<Response, AppError> {
    let form = form_or_400(form, launched.lang)?;
    let chosen = form.organisation.unwrap_or_default();
    let now = app.clock.now_unix();
    match organisation::choose(&app.db, &launched.session, &chosen, now).await {
        Ok(()) => {
            let next = page_url(&app, "course", launched.token());
            Ok(Redirect::to(&next).into_response())
        }
        Err(ChoiceError::NotOffered) => {
            tracing::info!(
                code = "organisation.choice_refused",
                "no offered organisation chosen"
            );
            let organisations = organisation::offered_to(&app.db, &launched.session)
                .await
                .in_lang(launched.lang)?;
            Ok(choice_page(&app, &launched, organisations, true))
        }
        Err(ChoiceError::Db(err)) => Err(AppError::Internal(err.into())),
    }
}

fn choice_page(
    app: &App,
    launched: &Launched,
    organisations: Vec<String>,
    missing: bool,
) -> Response {
    let page = ChoicePage {
        page: launched.page(app),
        action: page_url(app, "course/organisation", launched.token()),
        organisations,
        missing,
    };
    let status = if missing {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(&page, status)
}
