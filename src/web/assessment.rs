//! The self-assessment pages: the form (current and target per sub-area), then the participant's
//! own result as a table and a chart, with the baseline beside the final round.
use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State, rejection::FormRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};

use super::launched::{Launched, PageQuery, course_error, page_url, require_session};
use crate::web::page::{PageContext, page_template};
use crate::{
    course::{AssessmentRound, Block},
    error::{AppError, InLang, form_or_400, render},
    i18n::Lang,
    learning::{
        assessment::{self, Ratings},
        context::CourseError,
        standing::Standing,
    },
    state::AppState,
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

fn ratings_of(row: Option<&entity::self_assessment::Model>) -> Ratings {
    row.and_then(|r| serde_json::from_str(&r.ratings).ok())
        .unwrap_or_default()
}

/// `GET /course/assessment/{round}`.
pub async fn show_assessment(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(round): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, AppError> {
    let notice = match query.notice.as_deref() {
        Some("saved") => Some(Notice {
            kind: "info",
            text: "task-saved",
        }),
        Some("submitted") => Some(Notice {
            kind: "info",
            text: "assessment-submitted",
        }),
        _ => None,
    };
    page(
        &app,
        &headers,
        &round,
        query.session.as_deref(),
        None,
        notice,
        StatusCode::OK,
    )
    .await
}

async fn page(
    app: &AppState,
    headers: &HeaderMap,
    round_name: &str,
    token: Option<&str>,
    typed: Option<(Ratings, Vec<(String, &'static str)>)>,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let session = require_session(app, token, headers).await?;
    let token = session.link_token.as_str();
    let lang = session.page_language();
    let round = checked_round(app, &session, round_name, lang).await?;
    let course = app
        .courses
        .for_session(&app.db, &session)
        .await
        .in_lang(lang)?;
    let standing = Standing::load(&app.db, &course, &session)
        .await
        .in_lang(lang)?;
    let framework = &course.package.framework;
    let submitted = standing.assessment_submitted(round);
    let baseline = (round == AssessmentRound::Final)
        .then(|| standing.assessment(AssessmentRound::Baseline))
        .flatten()
        .filter(|row| row.submitted_at.is_some());
    let baseline_ratings = ratings_of(baseline);
    let (ratings, missing) = match typed {
        Some(typed) => typed,
        None => (ratings_of(standing.assessment(round)), Vec::new()),
    };
    let value_text = |value: &str| -> String {
        match value {
            "" => lang.t("assessment-unanswered").to_owned(),
            assessment::NOT_STARTED => lang.t("assessment-not-started").to_owned(),
            assessment::NOT_RELEVANT => lang.t("assessment-not-relevant").to_owned(),
            slug => framework
                .phases
                .iter()
                .find(|p| p.slug == slug)
                .map(|p| p.label.get(lang).to_owned())
                .unwrap_or_default(),
        }
    };
    // Bars: 30 px for "not started", then 120 px per phase; not relevant draws none.
    let width =
        |value: &str| assessment::level(framework, value).map_or(0, |level| 30 + level * 120);
    let rows = framework
        .subareas
        .iter()
        .enumerate()
        .map(|(index, subarea)| {
            let rating = ratings.get(&subarea.slug).cloned().unwrap_or_default();
            let base = baseline_ratings
                .get(&subarea.slug)
                .cloned()
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
                y: index * 56 + 4,
            }
        })
        .collect::<Vec<_>>();
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
    let chart_height = rows.len() * 56 + 8;
    let page = AssessmentPage {
        page: PageContext::launched(app, lang, token),
        overview_url: page_url(app, "course", token),
        action_url: page_url(app, &format!("course/assessment/{round_name}"), token),
        course_title: course.package.title.get(lang),
        framework_title: framework.title.get(lang),
        title: lang.t(match round {
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
        submitted,
        show_baseline: baseline.is_some(),
        rows,
        chart_height,
    };
    Ok(render(&page, status))
}

/// The round, when the context's course has it.
async fn checked_round(
    app: &AppState,
    session: &crate::session::Session,
    name: &str,
    lang: Lang,
) -> Result<AssessmentRound, AppError> {
    let not_found = || course_error(CourseError::NoModule(name.chars().take(32).collect()), lang);
    let round = assessment::parse_round(name).ok_or_else(not_found)?;
    let course = app
        .courses
        .for_session(&app.db, session)
        .await
        .in_lang(lang)?;
    let offered = course
        .package
        .modules
        .iter()
        .flat_map(|m| &m.blocks)
        .any(|block| matches!(block, Block::SelfAssessment { round: r } if *r == round));
    if offered { Ok(round) } else { Err(not_found()) }
}

/// `POST /course/assessment/{round}`.
pub async fn save_assessment(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(round_name): Path<String>,
    Launched { session, lang }: Launched,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, AppError> {
    let token = session.link_token.clone();
    let fields = form_or_400(form, lang)?;
    let round = checked_round(&app, &session, &round_name, lang).await?;
    let course = app
        .courses
        .for_session(&app.db, &session)
        .await
        .in_lang(lang)?;
    let framework = &course.package.framework;
    let mut ratings = Ratings::new();
    let mut submit = false;
    for (name, value) in fields {
        if name == "action" {
            submit = value == "submit";
            continue;
        }
        let Some((part, slug)) = name.split_once('_') else {
            continue;
        };
        if !framework.subareas.iter().any(|s| s.slug == slug) {
            continue;
        }
        if !assessment::valid_value(framework, &value) {
            return Err(AppError::BadRequest {
                detail: format!("{name}: not a value of the scale"),
                lang,
            });
        }
        let rating = ratings.entry(slug.to_owned()).or_default();
        match part {
            "current" => rating.current = value,
            "target" => rating.target = value,
            _ => {}
        }
    }
    let missing = if submit {
        assessment::missing(framework, &ratings)
    } else {
        Vec::new()
    };
    let json = serde_json::to_string(&ratings).unwrap_or_else(|_| "{}".into());
    let stored = assessment::save_round(
        &app.db,
        &course,
        session.uid,
        round,
        json,
        submit && missing.is_empty(),
        app.clock.now_ms(),
    )
    .await
    .in_lang(lang)?;
    if !stored {
        let notice = Some(Notice {
            kind: "warning",
            text: "assessment-locked",
        });
        return page(
            &app,
            &headers,
            &round_name,
            Some(&token),
            None,
            notice,
            StatusCode::CONFLICT,
        )
        .await;
    }
    if !missing.is_empty() {
        let notice = Some(Notice {
            kind: "warning",
            text: "assessment-incomplete",
        });
        return page(
            &app,
            &headers,
            &round_name,
            Some(&token),
            Some((ratings, missing)),
            notice,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let mut target = app.url(&format!("course/assessment/{round_name}"));
    target
        .query_pairs_mut()
        .append_pair("session", &token)
        .append_pair("notice", if submit { "submitted" } else { "saved" });
    Ok(Redirect::to(target.as_str()).into_response())
}

page_template!(AssessmentPage<'a>);
