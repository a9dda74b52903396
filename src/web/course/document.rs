//! `GET /course/my-answers`: the participant's own answers and self-assessment results on one
//! page, for their development plan: it prints cleanly (the print stylesheet leaves out the
//! navigation), and the browser's "save as PDF" makes a PDF of it.
use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};

use crate::{
    course::{AssessmentRound, Block, CoursePackage, completion::SubmissionStatus},
    i18n::Lang,
    learning::{assessment, participant, standing::Standing},
    state::AppState,
    web::{
        error::{AppError, InLang, render},
        launched::Launched,
        page::{PageContext, page_template, page_url},
    },
};

struct TaskAnswers {
    heading: String,
    status: &'static str,
    answers: Vec<(String, String)>,
}

struct ModuleAnswers {
    title: String,
    tasks: Vec<TaskAnswers>,
}

struct RoundResult {
    heading: &'static str,
    /// (sub-area, where it stands, where it should be)
    rows: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "course_my_answers.html")]
struct MyAnswersPage {
    page: PageContext,
    overview_url: String,
    course_title: String,
    who: Option<String>,
    modules: Vec<ModuleAnswers>,
    rounds: Vec<RoundResult>,
}

/// `GET /course/my-answers`.
pub async fn show_my_answers(
    State(app): State<AppState>,
    launched: Launched,
) -> Result<Response, AppError> {
    let lang = launched.lang;
    let session = &launched.session;
    let course = app
        .courses
        .for_session(&app.db, session)
        .await
        .in_lang(lang)?;
    let standing = Standing::load(&app.db, &course, session)
        .await
        .in_lang(lang)?;
    let package = &course.package;
    let page = MyAnswersPage {
        page: launched.page(&app),
        overview_url: page_url(&app, "course", launched.token()),
        course_title: package.title.get(lang).to_owned(),
        who: session.name.clone(),
        modules: module_answers(lang, package, &standing),
        rounds: round_results(lang, package, &standing),
    };
    Ok(render(&page, StatusCode::OK))
}

fn status_key(status: Option<SubmissionStatus>) -> &'static str {
    match status {
        None => "status-not-started",
        Some(SubmissionStatus::Draft) => "status-draft",
        Some(SubmissionStatus::Submitted) => "status-submitted",
        Some(SubmissionStatus::Returned) => "status-returned",
        Some(SubmissionStatus::Approved) => "status-approved",
    }
}

page_template!(MyAnswersPage);

/// Every task of every module with what the participant answered.
fn module_answers(lang: Lang, package: &CoursePackage, standing: &Standing) -> Vec<ModuleAnswers> {
    package
        .modules
        .iter()
        .map(|module| ModuleAnswers {
            title: module.title.get(lang).to_owned(),
            tasks: module
                .tasks()
                .enumerate()
                .map(|(index, task)| {
                    let row = standing.submission(&module.slug, &task.slug);
                    let texts = row.map(participant::answers_of).unwrap_or_default();
                    TaskAnswers {
                        heading: lang.tf("task-heading", &[("n", &(index + 1).to_string())]),
                        status: lang.t(status_key(
                            row.and_then(|r| SubmissionStatus::parse(&r.status)),
                        )),
                        answers: task
                            .prompts
                            .iter()
                            .enumerate()
                            .map(|(i, prompt)| {
                                let text = texts.get(i).cloned().unwrap_or_default();
                                (prompt.get(lang).to_owned(), text)
                            })
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect()
}

/// The submitted self-assessment rounds, each sub-area with where it stands and should be.
fn round_results(lang: Lang, package: &CoursePackage, standing: &Standing) -> Vec<RoundResult> {
    let offered = |round: AssessmentRound| {
        package
            .modules
            .iter()
            .flat_map(|m| &m.blocks)
            .any(|block| matches!(block, Block::SelfAssessment { round: r } if *r == round))
    };
    let framework = &package.framework;
    let label = |value: &str| crate::web::aggregates::value_label(framework, lang, value);
    [
        (AssessmentRound::Baseline, "assessment-baseline"),
        (AssessmentRound::Final, "assessment-final"),
    ]
    .into_iter()
    .filter(|(round, _)| offered(*round))
    .filter_map(|(round, key)| {
        let ratings = assessment::submitted_ratings(standing, round)?;
        let rows = framework
            .subareas
            .iter()
            .map(|subarea| {
                let rating = ratings.get(&subarea.slug).cloned().unwrap_or_default();
                (
                    subarea.label.get(lang).to_owned(),
                    label(&rating.current),
                    label(&rating.target),
                )
            })
            .collect();
        Some(RoundResult {
            heading: lang.t(key),
            rows,
        })
    })
    .collect()
}
