//! `GET /course/comparison`: the self-assessment medians of organisations beside their course
//! run's, as a table and a chart. A participant sees their own organisation beside the run;
//! course leaders and contact persons see every organisation. The k rule is the use case's
//! (`learning::comparison`): a side with too few respondents shows no figures.
use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};

use crate::{
    course::{AssessmentRound, Framework},
    i18n::Lang,
    learning::{
        aggregates::RoundFigures,
        comparison::{self, ComparedRound},
    },
    lti::claims::ToolRole,
    state::AppState,
    web::{
        aggregates::median_label,
        error::{AppError, InLang, render},
        launched::Launched,
        page::{PageContext, page_template, page_url},
    },
};

/// One sub-area: its label and, per column, "now / goal" (empty when that column is withheld).
struct RowView {
    label: String,
    cells: Vec<String>,
    /// Per column: the bar's width for the current median, and its label.
    bars: Vec<(usize, String)>,
    y: usize,
}

struct RoundView {
    key: &'static str,
    title: &'static str,
    /// The column heads: organisations, then the run.
    columns: Vec<String>,
    /// Columns withheld under the k rule, said in words.
    withheld: Vec<String>,
    rows: Vec<RowView>,
    chart_height: usize,
    shown: bool,
}

#[derive(Template)]
#[template(path = "course_comparison.html")]
struct ComparisonPage {
    page: PageContext,
    overview_url: String,
    course_title: String,
    intro: String,
    rounds: Vec<RoundView>,
}

page_template!(ComparisonPage);

fn round_view(lang: Lang, framework: &Framework, k: usize, compared: &ComparedRound) -> RoundView {
    let (key, title) = match compared.round {
        AssessmentRound::Baseline => ("baseline", lang.t("assessment-baseline")),
        AssessmentRound::Final => ("final", lang.t("assessment-final")),
    };
    let run_name = lang.t("comparison-run").to_owned();
    let mut columns: Vec<(&str, &RoundFigures)> = compared
        .organisations
        .iter()
        .map(|(name, figures)| (name.as_str(), figures))
        .collect();
    columns.push((run_name.as_str(), &compared.run));
    let withheld = columns
        .iter()
        .filter_map(|(name, figures)| match figures {
            RoundFigures::Suppressed { respondents } => Some(lang.tf(
                "comparison-withheld",
                &[
                    ("name", name),
                    ("count", &respondents.to_string()),
                    ("k", &k.to_string()),
                ],
            )),
            RoundFigures::Shown { .. } => None,
        })
        .collect();
    let rows: Vec<RowView> = framework
        .subareas
        .iter()
        .map(|subarea| {
            let medians: Vec<Option<(Option<f64>, Option<f64>)>> = columns
                .iter()
                .map(|(_, figures)| match figures {
                    RoundFigures::Shown { subareas, .. } => subareas
                        .iter()
                        .find(|s| s.subarea == subarea.slug)
                        .map(|s| (s.current_median, s.target_median)),
                    RoundFigures::Suppressed { .. } => None,
                })
                .collect();
            let label = |m: Option<f64>| median_label(framework, lang, m);
            RowView {
                label: subarea.label.get(lang).to_owned(),
                cells: medians
                    .iter()
                    .map(|m| match m {
                        Some((now, goal)) => format!(
                            "{}: {} · {}: {}",
                            lang.t("assessment-short-current"),
                            label(*now),
                            lang.t("assessment-short-target"),
                            label(*goal)
                        ),
                        None => "–".to_owned(),
                    })
                    .collect(),
                bars: medians
                    .iter()
                    .zip(&columns)
                    .filter_map(|(m, (name, _))| {
                        let (now, _) = (*m)?;
                        Some((
                            now.map_or(0, |m| 30 + (m * 100.0) as usize),
                            format!("{name}: {}", label(now)),
                        ))
                    })
                    .collect(),
                y: 0,
            }
        })
        .collect();
    let mut y = 4;
    let rows = rows
        .into_iter()
        .map(|mut row| {
            row.y = y;
            y += 22 + row.bars.len() * 14;
            row
        })
        .collect::<Vec<_>>();
    RoundView {
        key,
        title,
        shown: matches!(compared.run, RoundFigures::Shown { .. }),
        columns: columns.iter().map(|(name, _)| (*name).to_owned()).collect(),
        withheld,
        rows,
        chart_height: y + 4,
    }
}

/// Course leaders and contact persons compare every organisation; a participant their own.
async fn sees_every_organisation(
    app: &crate::state::App,
    session: &crate::session::Session,
) -> Result<bool, sea_orm::DbErr> {
    Ok(session.role == ToolRole::Instructor
        || !crate::web::course::contact_organisations(app, session.uid)
            .await?
            .is_empty())
}

fn back_path(session: &crate::session::Session) -> &'static str {
    if session.role == ToolRole::Instructor {
        "instructor"
    } else {
        "course"
    }
}

/// `GET /course/comparison`.
pub async fn show_comparison(
    State(app): State<AppState>,
    launched: Launched,
) -> Result<Response, AppError> {
    let (lang, session) = (launched.lang, &launched.session);
    let course = app
        .courses
        .for_session(&app.db, session)
        .await
        .in_lang(lang)?;
    let k = app.config.aggregate_min_respondents;
    let rounds = if sees_every_organisation(&app, session).await.in_lang(lang)? {
        comparison::all_organisations(&app.db, &app.courses, &course, k).await
    } else {
        comparison::for_participant(&app.db, &app.courses, (&course, session), k)
            .await
            .map(|found| found.map(|(_, rounds)| rounds).unwrap_or_default())
    }
    .in_lang(lang)?;
    let framework = &course.package.framework;
    let page = ComparisonPage {
        page: launched.page(&app),
        overview_url: page_url(&app, back_path(session), launched.token()),
        course_title: course.package.title.get(lang).to_owned(),
        intro: lang.tf("comparison-intro", &[("k", &k.to_string())]),
        rounds: rounds
            .iter()
            .map(|r| round_view(lang, framework, k, r))
            .collect(),
    };
    Ok(render(&page, StatusCode::OK))
}
