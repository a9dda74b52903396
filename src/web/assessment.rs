//! The self-assessment pages: the form (current and target per sub-area), then the participant's
//! own result as a table and a chart, with the baseline beside the final round.
use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State, rejection::FormRejection},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use super::launched::{Launched, PageQuery, course_error};
use crate::web::page::page_url;
use crate::web::page::{PageContext, page_template};
use crate::{
    course::{AssessmentRound, Framework},
    i18n::Lang,
    learning::assessment::{self, Ratings, RoundError, RoundSaved, RoundStanding},
    state::{App, AppState},
    web::error::{AppError, InLang, form_or_400, render},
};

struct FieldView {
    id: String,
    name: String,
    label: &'static str,
    value: String,
    error: bool,
}

struct RowView {
    label: String,
    description: String,
    fields: Vec<FieldView>,
    current_text: String,
    target_text: String,
    baseline_text: String,
    current_width: usize,
    target_width: usize,
    baseline_width: usize,
    y: usize,
}

struct PhaseView {
    label: String,
    description: String,
}

struct Notice {
    kind: &'static str,
    text: &'static str,
}

#[derive(Template)]
#[template(path = "course_assessment.html")]
struct AssessmentPage<'a> {
    page: PageContext,
    overview_url: String,
    action_url: String,
    course_title: &'a str,
    framework_title: &'a str,
    title: &'static str,
    notice: Option<Notice>,
    phases: Vec<PhaseView>,
    options: Vec<(String, String)>,
    submitted: bool,
    show_baseline: bool,
    rows: Vec<RowView>,
    chart_height: usize,
}

/// `GET /course/assessment/{round}`.
pub async fn show_assessment(
    State(app): State<AppState>,
    Path(round): Path<String>,
    Query(query): Query<PageQuery>,
    launched: Launched,
) -> Result<Response, AppError> {
    let notice = match query.notice.as_deref() {
        Some("saved") => Some(notice("info", "task-saved")),
        Some("submitted") => Some(notice("info", "assessment-submitted")),
        _ => None,
    };
    let standing = assessment::round_standing(&app.db, &app.courses, &launched.session, &round)
        .await
        .in_lang(launched.lang)?;
    let page = assessment_page(&app, &launched, &round, &standing, None, notice);
    Ok(render(&page, StatusCode::OK))
}

/// `POST /course/assessment/{round}`.
pub async fn save_assessment(
    State(app): State<AppState>,
    Path(round): Path<String>,
    launched: Launched,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, AppError> {
    let (session, lang) = (&launched.session, launched.lang);
    let fields = form_or_400(form, lang)?;
    let now_ms = app.clock.now_ms();
    let (saved, typed) =
        assessment::save_answers(&app.db, &app.courses, session, &round, fields, now_ms)
            .await
            .map_err(|err| round_error(err, lang))?;
    let (status, notice_key, missing) = match saved {
        RoundSaved::Saved => return Ok(back_to_round(&app, &launched, &round, "saved")),
        RoundSaved::Submitted => return Ok(back_to_round(&app, &launched, &round, "submitted")),
        RoundSaved::Locked => (StatusCode::CONFLICT, "assessment-locked", None),
        RoundSaved::Incomplete(missing) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "assessment-incomplete",
            Some((typed, missing)),
        ),
    };
    let standing = assessment::round_standing(&app.db, &app.courses, session, &round)
        .await
        .in_lang(lang)?;
    let notice = Some(notice("warning", notice_key));
    let page = assessment_page(&app, &launched, &round, &standing, missing, notice);
    Ok(render(&page, status))
}

fn notice(kind: &'static str, text: &'static str) -> Notice {
    Notice { kind, text }
}

fn round_error(err: RoundError, lang: Lang) -> AppError {
    match err {
        RoundError::Course(err) => course_error(err, lang),
        RoundError::NotOnScale(name) => AppError::BadRequest {
            detail: format!("{name}: not a value of the scale"),
            lang,
        },
    }
}

fn back_to_round(app: &App, launched: &Launched, round: &str, notice: &str) -> Response {
    let mut target = app.url(&format!("course/assessment/{round}"));
    target
        .query_pairs_mut()
        .append_pair("session", launched.token())
        .append_pair("notice", notice);
    Redirect::to(target.as_str()).into_response()
}

/// The round's page: the form (with what was typed and the fields missing, after a refused
/// submit), or the submitted answers as a table and a chart.
fn assessment_page<'a>(
    app: &App,
    launched: &Launched,
    round_name: &str,
    standing: &'a RoundStanding,
    typed: Option<(Ratings, Vec<(String, &'static str)>)>,
    notice: Option<Notice>,
) -> AssessmentPage<'a> {
    let (lang, token) = (launched.lang, launched.token());
    let framework = &standing.course.package.framework;
    let (ratings, missing) = typed.unwrap_or_else(|| (standing.ratings.clone(), Vec::new()));
    let rows = rows(
        lang,
        framework,
        &ratings,
        standing.baseline.as_ref(),
        &missing,
    );
    let mut options: Vec<(String, String)> = framework
        .phases
        .iter()
        .map(|p| (p.slug.clone(), p.label.get(lang).to_owned()))
        .collect();
    options.insert(
        0,
        (
            assessment::NOT_STARTED.into(),
            lang.t("assessment-not-started").into(),
        ),
    );
    options.push((
        assessment::NOT_RELEVANT.into(),
        lang.t("assessment-not-relevant").into(),
    ));
    AssessmentPage {
        page: launched.page(app),
        overview_url: page_url(app, "course", token),
        action_url: page_url(app, &format!("course/assessment/{round_name}"), token),
        course_title: standing.course.package.title.get(lang),
        framework_title: framework.title.get(lang),
        title: lang.t(match standing.round {
            AssessmentRound::Baseline => "assessment-baseline",
            AssessmentRound::Final => "assessment-final",
        }),
        notice,
        phases: framework
            .phases
            .iter()
            .map(|p| PhaseView {
                label: p.label.get(lang).to_owned(),
                description: p.description.get(lang).to_owned(),
            })
            .collect(),
        options,
        submitted: standing.submitted,
        show_baseline: standing.baseline.is_some(),
        chart_height: rows.len() * 64 + 8,
        rows,
    }
}

/// One row per sub-area: the form's fields, and the chart's bars.
fn rows(
    lang: Lang,
    framework: &Framework,
    ratings: &Ratings,
    baseline: Option<&Ratings>,
    missing: &[(String, &'static str)],
) -> Vec<RowView> {
    let value_text = |value: &str| super::aggregates::value_label(framework, lang, value);
    // Bars: 30 px for "not started", then 120 px per phase; not relevant draws none. Under its
    // subarea's name, each bar leaves 200 of the chart's 600 px for its label.
    let width =
        |value: &str| assessment::level(framework, value).map_or(0, |level| 30 + level * 120);
    framework
        .subareas
        .iter()
        .enumerate()
        .map(|(index, subarea)| {
            let rating = ratings.get(&subarea.slug).cloned().unwrap_or_default();
            let base = baseline
                .and_then(|b| b.get(&subarea.slug).cloned())
                .unwrap_or_default();
            let field = |part: &'static str, label: &'static str, value: &str| FieldView {
                id: format!("{part}-{}", subarea.slug),
                name: format!("{part}_{}", subarea.slug),
                label: lang.t(label),
                value: value.to_owned(),
                error: missing
                    .iter()
                    .any(|(slug, p)| *slug == subarea.slug && *p == part),
            };
            RowView {
                label: subarea.label.get(lang).to_owned(),
                description: subarea.description.get(lang).to_owned(),
                fields: vec![
                    field("current", "assessment-current", &rating.current),
                    field("target", "assessment-target", &rating.target),
                ],
                current_text: value_text(&rating.current),
                target_text: value_text(&rating.target),
                baseline_text: value_text(&base.current),
                current_width: width(&rating.current),
                target_width: width(&rating.target),
                baseline_width: width(&base.current),
                y: index * 64 + 4,
            }
        })
        .collect()
}

page_template!(AssessmentPage<'a>);
