//! Self-assessment aggregates of an LMS course (one organisation's cohort) for its instructors:
//! distribution and median per sub-area, baseline beside final, as a table, a chart and CSV.
//! Withheld entirely below k respondents.
use askama::Template;
use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{
    instructor::{Instructor, course_of},
    page::page_url,
};
use crate::web::page::{PageContext, page_template};
use crate::{
    course::{AssessmentRound, Framework},
    i18n::Lang,
    learning::{
        aggregates::{self, RoundFigures},
        assessment::{self},
    },
    session::Session,
    state::{App, AppState},
    web::error::{AppError, InLang, render},
};

struct RowView {
    label: String,
    distribution: String,
    baseline_median: String,
    current_median: String,
    target_median: String,
    current_width: usize,
    target_width: usize,
    y: usize,
}

struct RoundView {
    key: &'static str,
    title: &'static str,
    suppressed: bool,
    suppressed_text: String,
    respondents_text: String,
    compare: bool,
    rows: Vec<RowView>,
    chart_height: usize,
}

#[derive(Template)]
#[template(path = "instructor_assessments.html")]
struct AggregatesPage<'a> {
    page: PageContext,
    dashboard_url: String,
    csv_url: String,
    course_title: &'a str,
    organisation: Option<String>,
    intro: String,
    rounds: Vec<RoundView>,
}

/// A rating's words: its phase's label, "not started", "not relevant", or "unanswered".
pub(super) fn value_label(framework: &Framework, lang: Lang, value: &str) -> String {
    match value {
        "" => lang.t("assessment-unanswered").to_owned(),
        assessment::NOT_STARTED => lang.t("assessment-not-started").to_owned(),
        assessment::NOT_RELEVANT => lang.t("assessment-not-relevant").to_owned(),
        slug => framework
            .phases
            .iter()
            .find(|p| p.slug == slug)
            .map(|p| p.label.get(lang).to_owned())
            .unwrap_or_else(|| slug.to_owned()),
    }
}

fn level_label(framework: &Framework, lang: Lang, level: usize) -> String {
    if level == 0 {
        lang.t("assessment-not-started").to_owned()
    } else {
        framework
            .phases
            .get(level - 1)
            .map(|p| p.label.get(lang).to_owned())
            .unwrap_or_default()
    }
}

/// A median as words: a phase, or "between two phases" for a half step; "–" when none.
pub(crate) fn median_label(framework: &Framework, lang: Lang, median: Option<f64>) -> String {
    match median {
        None => "–".into(),
        Some(m) if m.fract() == 0.0 => level_label(framework, lang, m as usize),
        Some(m) => format!(
            "{}–{}",
            level_label(framework, lang, m.floor() as usize),
            level_label(framework, lang, m.ceil() as usize)
        ),
    }
}

async fn figures(
    app: &App,
    session: &Session,
) -> Result<
    (
        crate::learning::context::ContextCourse,
        Vec<(AssessmentRound, RoundFigures)>,
    ),
    AppError,
> {
    let lang = session.page_language();
    let course = course_of(app, session).await?;
    let rounds = aggregates::of_course(&app.db, &course, app.config.aggregate_min_respondents)
        .await
        .in_lang(lang)?;
    Ok((course, rounds))
}

/// `GET /instructor/assessments`.
pub async fn show_aggregates(
    State(app): State<AppState>,
    Instructor {
        session,
        token,
        lang,
        ..
    }: Instructor,
) -> Result<Response, AppError> {
    let (course, rounds) = figures(&app, &session).await?;
    let organisation = crate::learning::feedback::organisation_of(&app.db, Some(&session))
        .await
        .in_lang(lang)?;
    let k = app.config.aggregate_min_respondents;
    let page = AggregatesPage {
        page: PageContext::launched(&app, lang, &token),
        dashboard_url: page_url(&app, "instructor", &token),
        csv_url: page_url(&app, "instructor/assessments.csv", &token),
        course_title: course.package.title.get(lang),
        organisation,
        intro: lang.tf("aggregates-intro", &[("k", &k.to_string())]),
        rounds: round_views(lang, &course.package.framework, k, &rounds),
    };
    Ok(render(&page, StatusCode::OK))
}

/// Each round's table and chart; a final round beside the baseline's medians.
fn round_views(
    lang: Lang,
    framework: &Framework,
    k: usize,
    rounds: &[(AssessmentRound, RoundFigures)],
) -> Vec<RoundView> {
    let baseline_medians: Vec<Option<f64>> = match rounds.first() {
        Some((_, RoundFigures::Shown { subareas, .. })) => {
            subareas.iter().map(|s| s.current_median).collect()
        }
        _ => Vec::new(),
    };
    rounds
        .iter()
        .map(|(round, figures)| {
            let (key, title) = match round {
                AssessmentRound::Baseline => ("baseline", lang.t("assessment-baseline")),
                AssessmentRound::Final => ("final", lang.t("assessment-final")),
            };
            let mut view = RoundView {
                key,
                title,
                suppressed: true,
                suppressed_text: String::new(),
                respondents_text: String::new(),
                compare: false,
                rows: Vec::new(),
                chart_height: 0,
            };
            match figures {
                RoundFigures::Suppressed { respondents } => {
                    view.suppressed_text = lang.tf(
                        "aggregates-suppressed",
                        &[("count", &respondents.to_string()), ("k", &k.to_string())],
                    );
                }
                RoundFigures::Shown {
                    respondents,
                    subareas,
                } => {
                    view.suppressed = false;
                    view.compare = *round == AssessmentRound::Final && !baseline_medians.is_empty();
                    view.respondents_text = lang.tf(
                        "aggregates-respondents",
                        &[("count", &respondents.to_string())],
                    );
                    view.rows = subareas
                        .iter()
                        .enumerate()
                        .map(|(index, figures)| {
                            let baseline = baseline_medians.get(index).copied().flatten();
                            row_view(lang, framework, index, figures, baseline)
                        })
                        .collect();
                    view.chart_height = view.rows.len() * 50 + 8;
                }
            }
            view
        })
        .collect()
}

fn row_view(
    lang: Lang,
    framework: &Framework,
    index: usize,
    figures: &aggregates::SubareaFigures,
    baseline_median: Option<f64>,
) -> RowView {
    let width = |median: Option<f64>| median.map_or(0, |m| 30 + (m * 120.0) as usize);
    // In the order of the scale, not of the alphabet.
    let distribution = aggregates::scale(framework)
        .into_iter()
        .filter_map(|value| {
            figures
                .current
                .get(value)
                .map(|count| format!("{} {count}", value_label(framework, lang, value)))
        })
        .collect::<Vec<_>>()
        .join(", ");
    RowView {
        label: framework
            .subareas
            .iter()
            .find(|s| s.slug == figures.subarea)
            .map(|s| s.label.get(lang).to_owned())
            .unwrap_or_default(),
        distribution,
        baseline_median: median_label(framework, lang, baseline_median),
        current_median: median_label(framework, lang, figures.current_median),
        target_median: median_label(framework, lang, figures.target_median),
        current_width: width(figures.current_median),
        target_width: width(figures.target_median),
        y: index * 50 + 4,
    }
}

/// `GET /instructor/assessments.csv`: the same figures, one line per round, sub-area and value.
pub async fn download_aggregates(
    State(app): State<AppState>,
    Instructor { session, .. }: Instructor,
) -> Result<Response, AppError> {
    let (course, rounds) = figures(&app, &session).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sjalvskattning.csv\"",
            ),
        ],
        aggregates::csv(&course.package.framework, &rounds),
    )
        .into_response())
}

page_template!(AggregatesPage<'a>);

/// The run's figures for its course leader: (page, CSV) of every participant, or of one
/// organisation's (`organisation`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct RunFiguresQuery {
    run: Option<i64>,
    organisation: Option<String>,
}

async fn run_figures(
    app: &App,
    launched: &crate::web::launched::Launched,
    query: &RunFiguresQuery,
) -> Result<
    (
        entity::cohort::Model,
        crate::learning::context::ContextCourse,
        Vec<(AssessmentRound, RoundFigures)>,
    ),
    AppError,
> {
    let lang = launched.lang;
    crate::learning::leader::run_aggregates(
        &app.db,
        &app.courses,
        &launched.session,
        query.run,
        query.organisation.as_deref().filter(|o| !o.is_empty()),
        app.config.aggregate_min_respondents,
    )
    .await
    .map_err(|err| match err {
        crate::learning::leader::LeaderError::Course(error) => AppError::Course { error, lang },
        _ => AppError::Forbidden { lang },
    })
}

/// `GET /leader/assessments`: the run's self-assessment figures.
pub async fn show_run_aggregates(
    State(app): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<RunFiguresQuery>,
    launched: crate::web::launched::Launched,
) -> Result<Response, AppError> {
    let (lang, token) = (launched.lang, launched.token().to_owned());
    let (run, course, rounds) = run_figures(&app, &launched, &query).await?;
    let k = app.config.aggregate_min_respondents;
    let scope = format!("&run={}", run.id);
    let page = AggregatesPage {
        page: launched.page(&app),
        dashboard_url: format!("{}{scope}", page_url(&app, "leader", &token)),
        csv_url: format!(
            "{}{scope}",
            page_url(&app, "leader/assessments.csv", &token)
        ),
        course_title: course.package.title.get(lang),
        organisation: Some(query.organisation.clone().unwrap_or(run.name)),
        intro: lang.tf("aggregates-intro", &[("k", &k.to_string())]),
        rounds: round_views(lang, &course.package.framework, k, &rounds),
    };
    Ok(render(&page, StatusCode::OK))
}

/// `GET /leader/assessments.csv`.
pub async fn download_run_aggregates(
    State(app): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<RunFiguresQuery>,
    launched: crate::web::launched::Launched,
) -> Result<Response, AppError> {
    let (_, course, rounds) = run_figures(&app, &launched, &query).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sjalvskattning-kursomgang.csv\"",
            ),
        ],
        aggregates::csv(&course.package.framework, &rounds),
    )
        .into_response())
}
